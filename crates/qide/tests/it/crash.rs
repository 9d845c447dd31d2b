//! kill -9 of the server loses no acknowledged report and leaves no build
//! stuck in `running` or process left behind.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use qide_api as api;

use crate::server::{alive, start};

/// Starts a build whose step runs for two minutes and waits until it runs;
/// returns its id and the pid of the step's shell.
async fn start_long_build(client: &qide_client::Client, dir: &std::path::Path) -> (i64, i32) {
    let step = api::StepRequest {
        name: Some("long".to_owned()),
        run: "echo started; echo $$ > leader.pid; sleep 120".to_owned(),
        timeout_s: None,
        env: Default::default(),
    };
    let request = api::RunRequest {
        steps: Some(vec![step]),
        ..Default::default()
    };
    let build_id = client.run_build(&request).await.unwrap().id;
    let pid_file = dir.join("leader.pid");
    for _ in 0..200 {
        if pid_file.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let leader = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (build_id, leader)
}

#[tokio::test]
async fn sigkill_during_a_build_and_a_report_stream_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path()).await;
    let client = server.client();

    // A build that is running when the server dies.
    let (build_id, leader) = start_long_build(&client, dir.path()).await;

    // Reports stream in from four writers while the server is killed.
    let acknowledged = Arc::new(Mutex::new(Vec::<i64>::new()));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let client = client.clone();
        let acknowledged = acknowledged.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..10_000 {
                let report = api::ReportRequest {
                    build_id,
                    kind: "other".to_owned(),
                    analysis: format!("writer {writer} report {i}"),
                    recommendations: vec![],
                    confidence: 0.5,
                    fingerprints: vec![],
                    agent: None,
                    model: None,
                };
                match client.submit_report(&report).await {
                    Ok(stored) => acknowledged.lock().unwrap().push(stored.id),
                    Err(_) => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    server.kill_hard();
    for writer in writers {
        writer.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 10,
        "the writers got going ({} reports)",
        acknowledged.len()
    );

    let server = start(dir.path()).await;
    let client = server.client();
    // The default packet keeps only the newest reports; ask for room for all.
    let url = format!(
        "{}/llm/learning/build/{build_id}?budget_tokens=1000000",
        server.url
    );
    let detail: api::BuildDetail = reqwest::get(url).await.unwrap().json().await.unwrap();
    assert!(!detail.truncated, "every report fits in the big budget");
    let stored: std::collections::HashSet<i64> = detail.reports.iter().map(|r| r.id).collect();
    let lost: Vec<&i64> = acknowledged
        .iter()
        .filter(|id| !stored.contains(id))
        .collect();
    assert!(lost.is_empty(), "acknowledged reports lost: {lost:?}");

    let build = detail.build;
    assert_eq!(build.status, api::BuildStatus::Error);
    assert_eq!(build.failure_kind.as_deref(), Some("interrupted"));
    assert!(build.finished_at.is_some());
    let log = client.log(build_id, &Default::default()).await.unwrap();
    assert!(
        log.lines.iter().any(|l| l.text == "started"),
        "the log is kept"
    );
    for _ in 0..40 {
        if !alive(leader) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !alive(leader),
        "the dead server's build process was killed on restart"
    );
    let running = client
        .builds(0, 10, Some(api::BuildStatus::Running))
        .await
        .unwrap();
    assert_eq!(running.total, 0);
}

#[tokio::test]
async fn sigterm_stops_running_builds_cleanly_and_records_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(dir.path()).await;
    let client = server.client();
    let (build_id, leader) = start_long_build(&client, dir.path()).await;

    let pid = nix::unistd::Pid::from_raw(server.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let status = server.child.wait();
        (server, status)
    })
    .await
    .unwrap()
    .1
    .unwrap();
    assert!(status.success(), "a clean exit on SIGTERM: {status:?}");
    assert!(
        !alive(leader),
        "the build's processes were stopped before the server exited"
    );

    let server = start(dir.path()).await;
    let build = server.client().build(build_id, None).await.unwrap();
    assert_eq!(build.status, api::BuildStatus::Error);
    assert_eq!(build.failure_kind.as_deref(), Some("interrupted"));
    let log = server
        .client()
        .log(build_id, &Default::default())
        .await
        .unwrap();
    assert!(log.lines.iter().any(|l| l.text == "started"));
}
