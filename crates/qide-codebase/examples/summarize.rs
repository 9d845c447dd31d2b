//! Summarises and hashes a directory, printing counts and timings:
//! `cargo run --release -p qide-codebase --example summarize -- PATH`.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::env::args().nth(1).unwrap_or_else(|| ".".to_owned());
    let root = std::path::Path::new(&root);

    let started = Instant::now();
    let entries = qide_codebase::walk(root)?;
    println!("walk: {} entries in {:?}", entries.len(), started.elapsed());

    let started = Instant::now();
    let summary = qide_codebase::summarize(root)?;
    let structure = &summary.structure;
    println!(
        "summarize: {} files, {} lines, {} tokens, {} key files, {} previews in {:?}",
        structure.file_count,
        structure.total_lines,
        structure.total_tokens,
        summary.key_files.len(),
        summary.source_previews.len(),
        started.elapsed()
    );
    for language in structure.languages.iter().take(5) {
        println!(
            "  {:<12} {:>6} files {:>9} lines",
            language.name, language.files, language.lines
        );
    }

    let started = Instant::now();
    let hash = qide_codebase::tree_hash(root)?;
    println!("tree_hash: {hash} in {:?}", started.elapsed());

    let cache = qide_codebase::TreeHashCache::new();
    qide_codebase::tree_hash_cached(root, &cache)?;
    let started = Instant::now();
    let cached = qide_codebase::tree_hash_cached(root, &cache)?;
    assert_eq!(cached, hash);
    println!("tree_hash_cached, warm: {:?}", started.elapsed());
    Ok(())
}
