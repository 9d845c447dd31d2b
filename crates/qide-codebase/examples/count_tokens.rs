//! Counts the o200k_base tokens of files (or of stdin), the tokenizer QIDE
//! counts budgets with, so peers' outputs are measured the same way:
//! `cargo run --release -p qide-codebase --example count_tokens -- FILE...`.
//! Prints one `TOKENS PATH` line per input.

use std::io::Read;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bpe = tiktoken_rs::o200k_base()?;
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let count = |bytes: &[u8]| bpe.encode_ordinary(&String::from_utf8_lossy(bytes)).len();
    if paths.is_empty() {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes)?;
        println!("{} -", count(&bytes));
    }
    for path in paths {
        let bytes = std::fs::read(&path)?;
        println!("{} {path}", count(&bytes));
    }
    Ok(())
}
