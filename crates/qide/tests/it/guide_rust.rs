//! The Rust example of docs/rust.md, compiled and run by `docs.rs` (the
//! guide shows the text below this header; its `main` is the program's entry
//! point, the test calls `fix_loop`).
#![allow(dead_code)]

use qide_api as api;
use qide_client::{Client, LogQuery};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // QIDE_URL names the server (default http://127.0.0.1:8000); QIDE_TOKEN
    // is needed once the server has access tokens.
    let url = std::env::var("QIDE_URL").unwrap_or_else(|_| qide_client::DEFAULT_SERVER.into());
    let client = Client::new(&url)?.with_token(std::env::var("QIDE_TOKEN").ok());
    println!("{}", fix_loop(&client).await?);
    Ok(())
}

/// Runs the project's build, reads the failure the way a model would, and
/// stores an analysis; returns what it did, one line per step.
pub(crate) async fn fix_loop(client: &Client) -> anyhow::Result<String> {
    let mut said = Vec::new();

    // 1. Start a build of the project's own steps and wait for it
    //    (a long poll: the server answers when the build finishes).
    let accepted = client.run_build(&api::RunRequest::default()).await?;
    let build = loop {
        let build = client.build(accepted.id, Some(60)).await?;
        if build.status.is_finished() {
            break build;
        }
    };
    said.push(format!("build #{} {}", build.id, build.status.as_str()));
    if build.status == api::BuildStatus::Success {
        return Ok(said.join("\n"));
    }

    // 2. The failure packet, fitted to 1,500 tokens: root causes first.
    let packet = client.build_detail_budgeted(build.id, 1_500, None).await?;
    let summary = &packet.log_summary;
    for error in summary.errors.iter().filter(|e| e.root_cause) {
        said.push(format!(
            "{}:{} {}",
            error.file.as_deref().unwrap_or("?"),
            error.line.unwrap_or(0),
            error.message
        ));
    }

    // 3. More of the log only when the packet is not enough.
    let around = client
        .log(
            build.id,
            &LogQuery {
                grep: Some("Error".into()),
                context: Some(2),
                ..LogQuery::default()
            },
        )
        .await?;
    said.push(format!("{} log lines around the error", around.lines.len()));

    // 4. Send the analysis back; the next agent to meet this failure finds it
    //    under known_issues.
    let report = client
        .submit_report(&api::ReportRequest {
            build_id: build.id,
            kind: "failure_analysis".into(),
            analysis: format!("{} root-cause error(s)", summary.root_causes.len()),
            recommendations: vec!["convert the number with str() before greeting".into()],
            confidence: 0.7,
            fingerprints: summary
                .errors
                .iter()
                .map(|e| e.fingerprint.clone())
                .collect(),
            agent: Some("rust-example".into()),
            model: None,
        })
        .await?;
    said.push(format!("report #{} stored", report.id));
    Ok(said.join("\n"))
}
