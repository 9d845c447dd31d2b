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
