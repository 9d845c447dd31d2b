//! Diagnose throughput: reads a file in 64 KiB blocks, splits it into
//! lines at LF and feeds them to one [`LogDiagnoser`], as the server does
//! with stored log chunks. Prints bytes, seconds and MB/s (10^6 bytes).
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
        let mut rest = &block[..read];
        while let Some(i) = memchr::memchr(b'\n', rest) {
            n += 1;
            if carry.is_empty() {
                push(&mut diagnoser, n, &rest[..i]);
            } else {
                carry.extend_from_slice(&rest[..i]);
                push(&mut diagnoser, n, &carry);
                carry.clear();
            }
            rest = &rest[i + 1..];
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
