//! Integration tests of the QIDE server: the real server on port 0 over a
//! temporary project, driven through the typed client and raw HTTP, running
//! real builds.

mod api_errors;
mod auth;
mod browser;
mod builds;
mod canary;
mod codebase;
mod dashboard;
mod files;
mod flaky;
mod harness;
mod hostile;
mod limits;
mod logs;
mod openapi;
mod planted;
mod reports;
mod scopes;
mod sessions;
mod summary;
mod tls;
