//! Diagnose throughput: reads a file in 64 KiB blocks, splits it into
//! lines at LF and feeds them to one [`LogDiagnoser`], as the server does
//! with stored log chunks. Prints bytes, seconds and MB/s (10^6 bytes).
//! Each block's complete lines are checked as UTF-8 at once; a block that
//! is not valid UTF-8 is fed line by line, lossily.
//!
//! ```text
//! cargo run --release -p qide-diagnose --example throughput -- FILE
//! ```

use std::{
    fs::File,
    io::{self, Read},
    process::ExitCode,
    time::Instant,
};

use qide_diagnose::LogDiagnoser;

const BLOCK: usize = 64 * 1024;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: throughput FILE");
        return ExitCode::from(2);
    };
    match run(&path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("throughput: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(path: &std::ffi::OsStr) -> io::Result<()> {
    let mut file = File::open(path)?;
    let started = Instant::now();
    let mut diagnoser = LogDiagnoser::new();
    let mut block = vec![0u8; BLOCK];
    // The start of a line cut by the block boundary.
    let mut carry: Vec<u8> = Vec::new();
    let mut n = 0u64;
    let mut bytes = 0u64;
    loop {
        let read = file.read(&mut block)?;
        if read == 0 {
            break;
        }
        bytes += read as u64;
        let data = &block[..read];
        // The block's lines end at its last LF; what follows waits for the
        // next block.
        let Some(last) = memchr::memrchr(b'\n', data) else {
            carry.extend_from_slice(data);
            continue;
        };
        let (mut whole, rest) = data.split_at(last + 1);
        if !carry.is_empty()
            && let Some(i) = memchr::memchr(b'\n', whole)
        {
            carry.extend_from_slice(&whole[..i]);
            n += 1;
            push(&mut diagnoser, n, &carry);
            carry.clear();
            whole = &whole[i + 1..];
        }
        // One UTF-8 check for the block's lines instead of one per line:
        // an LF never falls inside a character.
        match std::str::from_utf8(whole) {
            Ok(text) => {
                // memchr's search: `str::split` uses core's slower one.
                let mut start = 0;
                for end in memchr::memchr_iter(b'\n', whole) {
                    n += 1;
                    diagnoser.push_line(n, &text[start..end]);
                    start = end + 1;
                }
            }
            Err(_) => {
                for line in whole[..whole.len().saturating_sub(1)].split(|&b| b == b'\n') {
                    n += 1;
                    push(&mut diagnoser, n, line);
                }
            }
        }
        carry.extend_from_slice(rest);
    }
    if !carry.is_empty() {
        n += 1;
        push(&mut diagnoser, n, &carry);
    }
    let diagnosis = diagnoser.finish();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{bytes} bytes, {n} lines, {} diagnostics in {seconds:.3} s: {:.0} MB/s",
        diagnosis.diagnostics.len(),
        bytes as f64 / seconds / 1e6
    );
    Ok(())
}

fn push(diagnoser: &mut LogDiagnoser, n: u64, line: &[u8]) {
    match std::str::from_utf8(line) {
        Ok(text) => diagnoser.push_line(n, text),
        Err(_) => diagnoser.push_line(n, &String::from_utf8_lossy(line)),
    }
}
