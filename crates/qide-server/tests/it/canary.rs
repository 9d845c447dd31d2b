//! The canary: secrets of many kinds planted in build output, the build's
//! environment, project files and report text never come back in an answer,
//! a stored log or the database file.

use futures_util::StreamExt;
use qide_api as api;

use crate::harness::{spawn_app_with, step, test_limits};
use crate::planted::planted;

#[tokio::test]
async fn planted_secrets_never_come_back() {
    let secrets = planted();
    assert!(secrets.len() >= 20);
    let env_secret = "ENV-canary-4f1d9c2e7b";
    let build_env_secret = "BUILDENV-canary-8e2a61c9d0";
    let file_text: String = secrets.iter().map(|(_, s, _)| format!("{s}\n")).collect();
    let app = spawn_app_with(test_limits(), |dir| {
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("src/settings.py"),
            format!("# settings\n{file_text}"),
        )
        .unwrap();
        std::fs::write(dir.join("Makefile"), "all:\n\techo ok\n").unwrap();
    })
    .await;

    // Build output: every secret printed, plus one from the environment.
    let mut s = step(
        "leak",
        "cat src/settings.py; echo \"token is $DEPLOY_TOKEN\"; echo 'src/settings.py:2:1: error: leaked'; exit 1",
    );
    s.env
        .insert("DEPLOY_TOKEN".to_owned(), env_secret.to_owned());
    // And one in the build's own environment, printed by the step.
    s.run = s
        .run
        .replacen("; exit 1", "; echo \"key is $SERVICE_API_KEY\"; exit 1", 1);
    let accepted = app
        .client
        .run_build(&api::RunRequest {
            steps: Some(vec![s]),
            env: [("SERVICE_API_KEY".to_owned(), build_env_secret.to_owned())].into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let build = app.wait(accepted.id).await;
    assert_eq!(build.status, api::BuildStatus::Failed);

    // Report text quoting them.
    let report = app
        .client
        .submit_report(&api::ReportRequest {
            build_id: build.id,
            kind: "failure_analysis".to_owned(),
            analysis: format!("the log shows {file_text}"),
            recommendations: secrets
                .iter()
                .map(|(_, s, _)| format!("rotate {s}"))
                .collect(),
            confidence: 0.5,
            fingerprints: vec![],
            agent: None,
            model: None,
        })
        .await
        .unwrap();

    let mut answers = vec![serde_json::to_string(&report).unwrap()];
    let base = &app.base;
    let id = build.id;
    for path in [
        "/llm/learning/builds".to_owned(),
        format!("/llm/learning/build/{id}?budget_tokens=1000000"),
        format!("/build/{id}"),
        format!("/build/{id}/log?limit=5000"),
        format!("/build/{id}/log?grep=.&context=2"),
        "/llm/learning/codebase".to_owned(),
        "/llm/learning/codebase?mode=pack&budget_tokens=100000".to_owned(),
        "/llm/learning/codebase?mode=map".to_owned(),
        "/llm/learning/file?path=src/settings.py".to_owned(),
        "/llm/learning/patterns".to_owned(),
        // The dashboard's pages and the audit trail.
        "/".to_owned(),
        format!("/builds/{id}"),
        format!("/builds/{id}/log"),
        "/patterns".to_owned(),
        "/stats".to_owned(),
        "/admin/audit".to_owned(),
    ] {
        let response = app.http.get(format!("{base}{path}")).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        answers.push(response.text().await.unwrap());
    }
    let mut events = Box::pin(app.client.events(id, None).await.unwrap());
    while let Some(event) = events.next().await {
        answers.push(serde_json::to_string(&event.unwrap()).unwrap());
    }
    // The planted lines did reach the log, masked.
    let log = app.log_text(id).await;
    assert!(log.iter().filter(|l| l.text.contains("[redacted]")).count() >= secrets.len());

    let db = std::fs::read(app.path(".qide/qide.db")).unwrap();
    let wal = std::fs::read(app.path(".qide/qide.db-wal")).unwrap_or_default();
    // Log chunks are stored compressed: read them back through the store too.
    let chunks = app.store.log_chunks_from(id, 1, 10_000).await.unwrap();
    let log_text: String = chunks
        .iter()
        .map(|c| String::from_utf8_lossy(&c.text).into_owned())
        .collect();
    let stored = [
        String::from_utf8_lossy(&db).into_owned(),
        String::from_utf8_lossy(&wal).into_owned(),
        log_text,
    ];
    let none = String::new();
    for (kind, _, core) in secrets.iter().map(|(k, s, c)| (k, s, c.as_str())).chain([
        (&"env", &none, env_secret),
        (&"build env", &none, build_env_secret),
    ]) {
        for (i, answer) in answers.iter().enumerate() {
            assert!(!answer.contains(core), "{kind} came back in answer {i}");
        }
        for (i, bytes) in stored.iter().enumerate() {
            assert!(!bytes.contains(core), "{kind} is in the database file {i}");
        }
    }
}
