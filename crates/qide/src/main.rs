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
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("qide: {e:#}");
            ExitCode::from(3)
        }
    }
}
