//! Times repo maps of a directory with one `MapCache`, counting tokens with
//! o200k_base, as the server makes them: each call within a time limit
//! (default `MAP_DEADLINE`; `none` parses everything however long it takes),
//! repeated until the map is complete, then once more:
//! `cargo run --release -p qide-codebase --example map_speed -- PATH [BUDGET] [LIMIT_S|none]`.

use std::time::{Duration, Instant};

/// Calls after which the example gives up waiting for a complete map.
const MAX_CALLS: usize = 60;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let root = args.next().unwrap_or_else(|| ".".to_owned());
    let budget: u64 = args.next().map_or(Ok(4096), |b| b.parse())?;
    let limit = match args.next().as_deref() {
        None => Some(qide_codebase::MAP_DEADLINE),
        Some("none") => None,
        Some(secs) => Some(Duration::from_secs_f64(secs.parse()?)),
    };
    let bpe = tiktoken_rs::o200k_base()?;
    let count = |text: &str| bpe.encode_ordinary(text).len() as u64;
    let cache = qide_codebase::MapCache::new();
    let focus = qide_codebase::MapFocus::default();
    let root = std::path::Path::new(&root);
    let mut complete_calls = 0;
    for call in 1..=MAX_CALLS {
        let started = Instant::now();
        let map = match limit {
            Some(limit) => cache.repo_map_within(root, budget, &focus, count, limit)?,
            None => cache.repo_map(root, budget, &focus, count)?,
        };
        println!(
            "call {call}: {:?}, {} of {} files parsed{}, {} files shown, {} of {budget} tokens, \
             {} parsed now, {} reused, {} rankings, {} parsed in the background so far",
            started.elapsed(),
            map.files_parsed,
            map.files_total,
            if map.partial { " (partial)" } else { "" },
            map.files.len(),
            map.tokens,
            map.parsed,
            map.reused,
            cache.rankings(),
            cache.background_parsed(),
        );
        if !map.partial {
            complete_calls += 1;
            if complete_calls == 2 {
                break;
            }
        }
    }
    Ok(())
}
