//! `qide`: build intelligence for coding agents. This binary only parses
//! arguments and calls the crates; see ARCHITECTURE.md.

mod cli;
mod output;
mod rerun;
mod serve;
mod users;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("QIDE_LOG").unwrap_or_else(|_| {
        let default = if matches!(args.command, cli::Command::Serve(_)) {
            "info"
        } else {
            "warn"
        };
        // The TLS verifier logs each refused certificate as an error of its
        // own; the refusal reaches the user once, in the command's error.
        tracing_subscriber::EnvFilter::new(format!("{default},rustls_platform_verifier=off"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("qide: cannot start the async runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let code = match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("qide: {e:#}");
            ExitCode::from(3)
        }
    };
    // Work abandoned on blocking threads (a map of a huge tree whose request
    // timed out) must not hold the exit: dropping the runtime would wait
    // for it without end. Builds are not among it: the server has already
    // stopped them and recorded how they ended.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    code
}

/// How long blocking work may still run once the command is done.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);
