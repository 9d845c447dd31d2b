//! Times the secret detectors over a file: `mask_speed FILE`.

fn main() {
    let path = std::env::args().nth(1).expect("a file");
    let bytes = std::fs::read(path).expect("readable");
    let text = String::from_utf8_lossy(&bytes);
    let start = std::time::Instant::now();
    let mut changed = 0;
    for block in text.as_bytes().chunks(1 << 20) {
        // As the capture path does: lossy only when the block is not UTF-8.
        let block = match std::str::from_utf8(block) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(block),
        };
        if let std::borrow::Cow::Owned(_) = qide_runner::mask_secrets(&block) {
            changed += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:.0} MB/s, {changed} blocks changed",
        bytes.len() as f64 / secs / 1e6
    );
}
