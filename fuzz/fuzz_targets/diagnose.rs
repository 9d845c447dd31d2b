//! Fuzzes the diagnose entry point: arbitrary bytes as a build log, split
//! at LF as the server splits stored logs, invalid UTF-8 replaced as the
//! server replaces it. The first byte chooses whether the input's first
//! half is also a green log to compare with. Asserts what callers rely
//! on: no panic, and every reported line range inside the log.

#![no_main]

use libfuzzer_sys::fuzz_target;
use qide_diagnose::{Baseline, LogDiagnoser};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else {
        return;
    };
    let mut diagnoser = LogDiagnoser::with_project_root("/work/project");
    if mode & 1 == 1 {
        let mut baseline = Baseline::new();
        for line in data[..data.len() / 2].split(|&b| b == b'\n') {
            baseline.push_line(&String::from_utf8_lossy(line));
        }
        diagnoser = diagnoser.with_baseline(baseline);
    }
    let mut lines = 0u64;
    for line in data.split(|&b| b == b'\n') {
        lines += 1;
        diagnoser.push_line(lines, &String::from_utf8_lossy(line));
    }
    let diagnosis = diagnoser.finish();
    for d in &diagnosis.diagnostics {
        let (first, last) = d.log_lines;
        assert!(1 <= first && first <= last && last <= lines, "{d:?} outside 1..={lines}");
        assert!(!d.message.contains('\n'), "{d:?}");
        assert!(d.fingerprint.starts_with("fp_"), "{d:?}");
    }
});
