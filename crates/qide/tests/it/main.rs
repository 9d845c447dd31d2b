//! Tests of the `qide` binary itself: crash safety across a SIGKILL of the
//! server, the CLI commands against a running server, MCP over stdio, and
//! the guide's examples.

mod cli;
mod crash;
mod docs;
mod guide_rust;
mod help;
mod json;
mod mcp;
mod openapi;
mod rerun;
mod security;
mod server;
