//! Tests of the `qide` binary itself: crash safety across a SIGKILL of the
//! server, and the CLI commands against a running server.

mod cli;
mod crash;
mod help;
mod mcp;
mod server;
