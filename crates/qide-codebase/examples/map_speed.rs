//! Times a cold and two warm repo maps of a directory with one `MapCache`,
//! counting tokens with o200k_base:
//! `cargo run --release -p qide-codebase --example map_speed -- PATH [BUDGET]`.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let root = args.next().unwrap_or_else(|| ".".to_owned());
    let budget: u64 = args.next().map_or(Ok(4096), |b| b.parse())?;
    let bpe = tiktoken_rs::o200k_base()?;
    let cache = qide_codebase::MapCache::new();
    let focus = qide_codebase::MapFocus::default();
    for call in ["cold", "warm", "warm"] {
        let started = Instant::now();
        let map = cache.repo_map(std::path::Path::new(&root), budget, &focus, |text| {
            bpe.encode_ordinary(text).len() as u64
        })?;
        println!(
            "{call}: {:?}, {} files shown, {} of {budget} tokens, {} parsed, {} reused, {} rankings",
            started.elapsed(),
            map.files.len(),
            map.tokens,
            map.parsed,
            map.reused,
            cache.rankings()
        );
    }
    Ok(())
}
