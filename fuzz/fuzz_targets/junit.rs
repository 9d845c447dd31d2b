//! Fuzzes the JUnit XML reader: arbitrary bytes never panic, and every
//! test it returns has a name.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let report = qide_diagnose::parse_junit(data);
    for test in &report.tests {
        assert!(!test.name.is_empty(), "{test:?}");
    }
});
