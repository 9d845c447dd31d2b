//! One step: a shell command in its own process group, its two pipes drained
//! concurrently into the log, stopped on timeout, silence or cancellation.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::Signal;
use qide_store::LogChunk;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;

use crate::FailureKind;
use crate::capture::{ChunkBuilder, LineSplitter, STDERR, STDOUT};
use crate::process::{ProcessGroup, command, signal_name, start_ticks};

/// How to run one step.
pub(crate) struct StepRun<'a> {
    pub(crate) name: &'a str,
    pub(crate) run: &'a str,
    pub(crate) root: &'a Path,
    pub(crate) env: &'a BTreeMap<String, String>,
    pub(crate) deadline: Instant,
    pub(crate) no_output_timeout: Duration,
    pub(crate) kill_grace: Duration,
    pub(crate) linger_after_exit: Duration,
    pub(crate) cancel: &'a CancellationToken,
    /// Where to record the process group while it runs, so a server that
    /// restarts after dying can end what this step left behind.
    pub(crate) group_file: Option<&'a Path>,
}

/// What stopped the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Its main process exited by itself (or could not start).
    Exited,
    Timeout,
    NoOutput,
    Cancelled,
}

/// The result of a step.
#[derive(Debug)]
pub(crate) struct StepOutcome {
    pub(crate) ended: Ended,
    pub(crate) exit_code: Option<i32>,
    pub(crate) signal: Option<String>,
    /// Set when the step exited by itself and did not succeed.
    pub(crate) failure: Option<FailureKind>,
}

async fn send_ready(chunks: &mut ChunkBuilder, tx: &mpsc::Sender<LogChunk>, force: bool) {
    for chunk in chunks.take_ready(force) {
        // The writer only goes away when the build is being torn down.
        let _ = tx.send(chunk).await;
    }
}

/// Runs a step to its end, writing its output into `chunks`.
pub(crate) async fn run_step(
    step: StepRun<'_>,
    chunks: &mut ChunkBuilder,
    tx: &mpsc::Sender<LogChunk>,
) -> StepOutcome {
    chunks.note(&format!("step {:?}: $ {}", step.name, step.run));
    let mut cmd = command("sh", step.root, step.env);
    cmd.arg("-c")
        .arg(step.run)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let started = std::time::Instant::now();
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            chunks.note(&format!("could not start the step: {e}"));
            send_ready(chunks, tx, true).await;
            return StepOutcome {
                ended: Ended::Exited,
                exit_code: None,
                signal: None,
                failure: Some(FailureKind::SpawnFailed),
            };
        }
    };
    let pid = child.id().unwrap_or(0);
    let group = ProcessGroup::new(pid);
    if let (Some(file), Some(start)) = (step.group_file, start_ticks(pid))
        && let Err(e) = std::fs::write(file, format!("{pid} {start}\n"))
    {
        tracing::warn!(file = %file.display(), %e, "recording a step's process group");
    }
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    // A bigger pipe lets a chatty step write more between our reads, so a
    // gigabyte costs thousands of wake-ups, not hundreds of thousands.
    let grown = [
        stdout.as_ref().map(grow_pipe),
        stderr.as_ref().map(grow_pipe),
    ];
    let mut pacer = Pacer::new(grown.iter().all(|g| g.unwrap_or(true)));
    let max_line = chunks.max_line_bytes();
    let mut out_lines = LineSplitter::new(STDOUT, max_line);
    let mut err_lines = LineSplitter::new(STDERR, max_line);
    let mut out_buf = vec![0u8; READ_BYTES];
    let mut err_buf = vec![0u8; READ_BYTES];

    let mut status = None;
    let mut ended = Ended::Exited;
    let mut silence_deadline = Instant::now() + step.no_output_timeout;
    // Set once the step is being stopped: when SIGKILL follows SIGTERM.
    let mut kill_at: Option<Instant> = None;
    // Set once the main process exited: when leftover pipe holders die.
    let mut linger_until: Option<Instant> = None;
    let far = Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600);
    let mut flush_tick = tokio::time::interval(Duration::from_millis(50));

    loop {
        if stdout.is_none() && stderr.is_none() && status.is_some() {
            break;
        }
        let stopping = kill_at.is_some();
        tokio::select! {
            read = read_some(&mut stdout, &mut out_buf) => match read {
                Some(n) => {
                    out_lines.push(&out_buf[..n], chunks);
                    silence_deadline = Instant::now() + step.no_output_timeout;
                    send_ready(chunks, tx, false).await;
                    pacer.after_read(n).await;
                }
                None => stdout = None,
            },
            read = read_some(&mut stderr, &mut err_buf) => match read {
                Some(n) => {
                    err_lines.push(&err_buf[..n], chunks);
                    silence_deadline = Instant::now() + step.no_output_timeout;
                    send_ready(chunks, tx, false).await;
                    pacer.after_read(n).await;
                }
                None => stderr = None,
            },
            exit = child.wait(), if status.is_none() => {
                status = Some(exit);
                linger_until = Some(Instant::now() + step.linger_after_exit);
            }
            () = sleep_until(step.deadline), if !stopping && status.is_none() => {
                ended = Ended::Timeout;
                chunks.note(&format!(
                    "step {:?} timed out after {:.1}s; stopping its processes",
                    step.name, started.elapsed().as_secs_f64()
                ));
                group.signal(Signal::SIGTERM);
                kill_at = Some(Instant::now() + step.kill_grace);
            }
            () = sleep_until(silence_deadline), if !stopping && status.is_none() => {
                ended = Ended::NoOutput;
                chunks.note(&format!(
                    "step {:?} printed nothing for {}s; stopping its processes",
                    step.name, step.no_output_timeout.as_secs()
                ));
                group.signal(Signal::SIGTERM);
                kill_at = Some(Instant::now() + step.kill_grace);
            }
            () = step.cancel.cancelled(), if !stopping && status.is_none() => {
                ended = Ended::Cancelled;
                chunks.note(&format!("step {:?} stopped: build cancelled", step.name));
                group.signal(Signal::SIGTERM);
                kill_at = Some(Instant::now() + step.kill_grace);
            }
            () = sleep_until(kill_at.unwrap_or(far)), if kill_at.is_some() && group.is_alive() => {
                chunks.note("processes still running after the grace period; sending SIGKILL");
                group.signal(Signal::SIGKILL);
                kill_at = Some(far);
            }
            () = sleep_until(linger_until.unwrap_or(far)), if linger_until.is_some() => {
                // The main process is gone but something it started still
                // holds the pipes open: the step is over, so end them.
                group.signal(Signal::SIGKILL);
                linger_until = None;
                drain_briefly(&mut stdout, &mut out_lines, &mut out_buf, chunks).await;
                drain_briefly(&mut stderr, &mut err_lines, &mut err_buf, chunks).await;
                stdout = None;
                stderr = None;
            }
            _ = flush_tick.tick() => send_ready(chunks, tx, false).await,
        }
    }
    // Whatever the step left behind in its group goes with it.
    group.signal(Signal::SIGKILL);
    if let Some(file) = step.group_file {
        let _ = std::fs::remove_file(file);
    }
    out_lines.finish(chunks);
    err_lines.finish(chunks);

    let elapsed = started.elapsed().as_secs_f64();
    let (exit_code, signal, failure) = match status {
        Some(Ok(status)) => classify(status),
        Some(Err(e)) => {
            chunks.note(&format!("could not wait for the step: {e}"));
            (None, None, Some(FailureKind::SpawnFailed))
        }
        None => (None, None, Some(FailureKind::SpawnFailed)),
    };
    let summary = match (exit_code, &signal) {
        (_, Some(sig)) => format!("step {:?} ended by {sig} after {elapsed:.1}s", step.name),
        (Some(code), None) => format!(
            "step {:?} exited with code {code} after {elapsed:.1}s",
            step.name
        ),
        (None, None) => format!("step {:?} ended after {elapsed:.1}s", step.name),
    };
    chunks.note(&summary);
    send_ready(chunks, tx, true).await;
    StepOutcome {
        ended,
        exit_code,
        signal,
        failure,
    }
}

/// Bytes read from a pipe at once. Together with the chunk size it bounds a
/// stored chunk (at most chunk size + one read).
const READ_BYTES: usize = 256 << 10;
/// The pipe size asked of the kernel.
const PIPE_BYTES: i32 = 1 << 20;

/// Asks the kernel for a 1 MiB pipe buffer; a refusal (an unprivileged
/// process over `/proc/sys/fs/pipe-max-size`) just keeps the default.
/// Returns whether the pipe now holds at least that much.
fn grow_pipe(pipe: &impl std::os::fd::AsFd) -> bool {
    nix::fcntl::fcntl(pipe, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_BYTES))
        .is_ok_and(|size| size >= PIPE_BYTES)
}

/// Output per [`FLOOD_WINDOW`] from which a step counts as flooding the log.
const FLOOD_BYTES: usize = 1 << 20;
/// How far back the output rate is judged.
const FLOOD_WINDOW: Duration = Duration::from_millis(100);
/// A read shorter than this, while the step floods, means the reader is
/// ahead of the writer: the pipe was emptied.
const SMALL_READ: usize = READ_BYTES / 4;
/// How long to let the pipes fill after such a read.
const FILL_PAUSE: Duration = Duration::from_millis(1);

/// Paces reads while a step floods the log. Tools write a few KiB at a time
/// (`head` and most stdio buffers 4-8 KiB), and a reader that keeps up is
/// woken for every write: a gigabyte then costs over a hundred thousand
/// wake-ups, reads and passes of the line splitter and the secret scan, each
/// with its fixed cost. A millisecond's pause after a short read lets the
/// next read take hundreds of KiB at once. Lines reach readers at most that
/// much later (they are published every `flush_interval` anyway), and a
/// writer is never blocked by it: at the flood rates where pausing applies, a
/// millisecond of output is far below the 1 MiB pipe. With pipes that could
/// not be grown, there is no such room, and reads are never paced.
struct Pacer {
    enabled: bool,
    window_start: std::time::Instant,
    window_bytes: usize,
}

impl Pacer {
    fn new(pipes_grown: bool) -> Pacer {
        Pacer {
            enabled: pipes_grown,
            window_start: std::time::Instant::now(),
            window_bytes: 0,
        }
    }

    /// After a read of `n` bytes: pauses when the step floods and the read
    /// found the pipe nearly empty.
    async fn after_read(&mut self, n: usize) {
        if self.should_pause(n, std::time::Instant::now()) {
            tokio::time::sleep(FILL_PAUSE).await;
        }
    }

    /// Counts a read of `n` bytes at `now`; true when the next read should
    /// wait for the pipes to fill.
    fn should_pause(&mut self, n: usize, now: std::time::Instant) -> bool {
        if !self.enabled {
            return false;
        }
        if now.duration_since(self.window_start) > FLOOD_WINDOW {
            self.window_start = now;
            self.window_bytes = 0;
        }
        self.window_bytes += n;
        self.window_bytes >= FLOOD_BYTES && n < SMALL_READ
    }
}

/// Exit code, signal name and failure kind of a finished process. A shell
/// reports a child killed by signal N as exit code 128 + N.
fn classify(
    status: std::process::ExitStatus,
) -> (Option<i32>, Option<String>, Option<FailureKind>) {
    if let Some(sig) = status.signal() {
        return (None, Some(signal_name(sig)), Some(FailureKind::Signal));
    }
    let code = status.code();
    let failure = match code {
        Some(0) => None,
        Some(127) => Some(FailureKind::CommandNotFound),
        Some(126) => Some(FailureKind::CommandNotExecutable),
        Some(c) if (129..=159).contains(&c) => {
            return (code, Some(signal_name(c - 128)), Some(FailureKind::Signal));
        }
        _ => Some(FailureKind::ExitNonZero),
    };
    (code, None, failure)
}

/// Reads once from a pipe; `None` at end of stream or on error. A closed
/// pipe (`None`) never completes, so `select!` stops polling it.
async fn read_some<R: tokio::io::AsyncRead + Unpin>(
    pipe: &mut Option<R>,
    buf: &mut [u8],
) -> Option<usize> {
    match pipe {
        Some(p) => match p.read(buf).await {
            Ok(0) | Err(_) => None,
            Ok(n) => Some(n),
        },
        None => std::future::pending().await,
    }
}

/// Reads what is already buffered in a pipe, for at most 200 ms.
async fn drain_briefly<R: tokio::io::AsyncRead + Unpin>(
    pipe: &mut Option<R>,
    lines: &mut LineSplitter,
    buf: &mut [u8],
    chunks: &mut ChunkBuilder,
) {
    let Some(p) = pipe else { return };
    let deadline = Instant::now() + Duration::from_millis(200);
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, p.read(buf)).await {
        if n == 0 {
            break;
        }
        lines.push(&buf[..n], chunks);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_paced_only_while_a_step_floods_and_reads_come_up_short() {
        let start = std::time::Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut pacer = Pacer::new(true);
        pacer.window_start = start;
        // A chatty but not flooding step: small reads, never paced.
        for i in 0..100 {
            assert!(!pacer.should_pause(8 << 10, at(i)));
        }
        // Past 1 MiB within the window (800 KiB so far), a short read
        // pauses, a long one (the reader is behind, the pipe was full) does
        // not.
        assert!(!pacer.should_pause(READ_BYTES, at(100)));
        assert!(pacer.should_pause(8 << 10, at(100)));
        assert!(!pacer.should_pause(READ_BYTES, at(100)));
        assert!(pacer.should_pause(8 << 10, at(100)));
        // A new window starts the count again.
        assert!(!pacer.should_pause(8 << 10, at(201)));
        // Pipes that could not be grown have no room to fill: never paced.
        let mut small_pipes = Pacer::new(false);
        small_pipes.window_bytes = FLOOD_BYTES;
        assert!(!small_pipes.should_pause(1, std::time::Instant::now()));
    }
}
