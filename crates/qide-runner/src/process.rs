//! The one door through which QIDE starts processes, and the process-group
//! handling that lets it stop a step and everything the step started.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;
use std::process::Stdio;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// A command that runs in `cwd` with `env` added to the inherited
/// environment and stdin closed. Every process QIDE starts is built here.
pub fn command(
    program: impl AsRef<OsStr>,
    cwd: &Path,
    env: &BTreeMap<String, String>,
) -> tokio::process::Command {
    #[allow(clippy::disallowed_methods)] // this is the door
    let mut cmd = tokio::process::Command::new(program);
    cmd.current_dir(cwd)
        .envs(env)
        .stdin(Stdio::null())
        .kill_on_drop(false);
    cmd
}

/// A running process group; dropping the guard kills the whole group, so a
/// step abandoned for any reason (a panic, a dropped future) leaves nothing
/// behind.
#[derive(Debug)]
pub(crate) struct ProcessGroup {
    pgid: Option<Pid>,
}

impl ProcessGroup {
    /// Guards the group led by `pid` (a child started with `process_group(0)`).
    pub(crate) fn new(pid: u32) -> ProcessGroup {
        ProcessGroup {
            pgid: i32::try_from(pid).ok().map(Pid::from_raw),
        }
    }

    /// Sends `signal` to every process of the group; a group that is already
    /// gone is not an error.
    pub(crate) fn signal(&self, signal: Signal) {
        if let Some(pgid) = self.pgid {
            match killpg(pgid, signal) {
                Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
                Err(e) => tracing::warn!(pgid = pgid.as_raw(), %e, "signalling a process group"),
            }
        }
    }

    /// True while any process of the group is alive.
    pub(crate) fn is_alive(&self) -> bool {
        match self.pgid {
            Some(pgid) => killpg(pgid, None).is_ok(),
            None => false,
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.signal(Signal::SIGKILL);
    }
}

/// The conventional name of a signal number (`SIGSEGV`), or `SIG<n>`.
pub fn signal_name(signal: i32) -> String {
    Signal::try_from(signal)
        .map(|s| s.as_str().to_owned())
        .unwrap_or_else(|_| format!("SIG{signal}"))
}

/// Fields of `/proc/PID/stat` that identify a process across PID reuse:
/// its process group and its start time (clock ticks since boot).
fn proc_stat(pid: i32) -> Option<(i32, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain anything; the
    // fields after the last ')' are plain numbers.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let pgrp = fields.get(2)?.parse().ok()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((pgrp, start))
}

/// The start time of a live process, for [`kill_leftovers`].
pub(crate) fn start_ticks(pid: u32) -> Option<u64> {
    proc_stat(i32::try_from(pid).ok()?).map(|(_, start)| start)
}

/// Kills what is left of a process group that a server which died was
/// running: every process in group `pgid` that started no earlier than the
/// group's leader did (so a reused group id is never touched). Returns how
/// many processes were signalled.
pub(crate) fn kill_leftovers(pgid: i32, leader_start: u64) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut killed = 0;
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if let Some((pgrp, start)) = proc_stat(pid)
            && pgrp == pgid
            && start >= leader_start
            && nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL).is_ok()
        {
            killed += 1;
        }
    }
    killed
}
