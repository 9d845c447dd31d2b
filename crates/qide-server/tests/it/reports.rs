//! Reports, the build list and the failure packet, as the seed's client uses
//! them.

use qide_api as api;

use crate::harness::{spawn_app, step};

#[tokio::test]
async fn reports_are_stored_and_appear_with_their_build() {
    let app = spawn_app().await;
    let build = app
        .run(vec![step(
            "fail",
            "echo 'src/main.c:3:5: error: expected ;'; exit 1",
        )])
        .await;
    assert_eq!(build.status, api::BuildStatus::Failed);
    let report = app
        .client
        .submit_report(&api::ReportRequest {
            build_id: build.id,
            kind: "failure_analysis".to_owned(),
            analysis: "a missing semicolon".to_owned(),
            recommendations: vec!["add the semicolon".to_owned()],
            confidence: 0.8,
            fingerprints: vec![],
            agent: Some("test-agent".to_owned()),
            model: None,
        })
        .await
        .unwrap();
    assert_eq!(report.build_id, build.id);
    assert_eq!(report.kind, "failure_analysis");
    assert_eq!(report.confidence, 0.8);
    assert!(report.created_at.ends_with('Z'));

    let detail = app.client.build_detail(build.id).await.unwrap();
    assert_eq!(detail.reports, vec![report]);
    assert_eq!(detail.build.report_count, 1);
    let error = &detail.log_summary.errors[0];
    assert_eq!(
        (error.file.as_deref(), error.line, error.column),
        (Some("src/main.c"), Some(3), Some(5))
    );
    assert!(detail.tokens > 0);
}

#[tokio::test]
async fn build_list_pages_newest_first_and_filters_by_status() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let run = if i % 2 == 0 { "true" } else { "false" };
        ids.push(app.run(vec![step("s", run)]).await.id);
    }
    let page = app.client.builds(0, 2, None).await.unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(
        page.builds.iter().map(|b| b.id).collect::<Vec<_>>(),
        [ids[4], ids[3]]
    );
    assert!(page.builds[0].steps.is_none(), "lists carry no steps");
    let page = app.client.builds(4, 2, None).await.unwrap();
    assert_eq!(
        page.builds.iter().map(|b| b.id).collect::<Vec<_>>(),
        [ids[0]]
    );
    let failed = app
        .client
        .builds(0, 50, Some(api::BuildStatus::Failed))
        .await
        .unwrap();
    assert_eq!(failed.total, 2);
    assert!(
        failed
            .builds
            .iter()
            .all(|b| b.status == api::BuildStatus::Failed)
    );
    // Ids only grow.
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn codebase_describes_the_project() {
    let app = crate::harness::spawn_app_with(crate::harness::test_limits(), |dir| {
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::create_dir_all(dir.join("tests")).unwrap();
        std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
        std::fs::write(dir.join("tests/it.rs"), "#[test]\nfn t() {}\n").unwrap();
        std::fs::write(dir.join(".env"), "API_KEY=sk-live-123456\n").unwrap();
    })
    .await;
    let codebase = app.client.codebase().await.unwrap();
    let paths: Vec<&str> = codebase.files.iter().map(|f| f.path.as_str()).collect();
    assert!(
        paths.contains(&"src/main.rs") && paths.contains(&"Cargo.toml"),
        "{paths:?}"
    );
    assert!(!paths.iter().any(|p| p.starts_with(".qide")));
    assert!(codebase.key_files.contains_key("Cargo.toml"));
    assert!(codebase.structure_summary.has_backend);
    assert!(codebase.structure_summary.has_tests);
    let text = serde_json::to_string(&codebase).unwrap();
    assert!(!text.contains("sk-live-123456"));
}

#[tokio::test]
async fn health_and_metrics_answer() {
    let app = spawn_app().await;
    assert_eq!(app.client.health().await.unwrap().status, "ok");
    app.run(vec![step("s", "false")]).await;
    let text = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("qide_builds{status=\"failed\"} 1"), "{text}");
    assert!(text.contains("qide_http_requests_total"));
}

#[tokio::test]
async fn failure_packet_fits_its_budget_and_pages_on() {
    let app = spawn_app().await;
    // 120 distinct compiler errors, then a failing exit.
    let run = "for i in $(seq 1 120); do echo \"src/f$i.c:$i:1: error: undeclared identifier 'value_$i' in this function\"; done; exit 1";
    let build = app.run(vec![step("many", run)]).await;
    assert_eq!(build.error_count, 120);

    let url = |query: &str| format!("{}/llm/learning/build/{}?{query}", app.base, build.id);
    let fetch = |query: String| {
        let http = app.http.clone();
        async move {
            let response = http.get(url(&query)).send().await.unwrap();
            assert_eq!(response.status(), 200);
            let text = response.text().await.unwrap();
            let detail: api::BuildDetail = serde_json::from_str(&text).unwrap();
            (text, detail)
        }
    };

    let (text, default) = fetch(String::new()).await;
    assert_eq!(default.budget_tokens, 2000);
    assert!(
        default.tokens <= 2000 && default.tokens > 500,
        "{}",
        default.tokens
    );
    assert!(default.truncated);
    assert!(
        text.len() < 2000 * 8,
        "the answer is about as big as its token count says"
    );

    let (_, small) = fetch("budget_tokens=600".to_owned()).await;
    assert!(small.tokens <= 600, "{}", small.tokens);
    assert!(
        !small.log_summary.errors.is_empty(),
        "root causes come first"
    );
    assert_eq!(small.log_summary.error_count, 120, "counts stay whole");
    let cursor = small.next_cursor.clone().expect("a cursor to the rest");
    assert_eq!(cursor, small.log_summary.errors.len().to_string());

    let (_, next) = fetch(format!("budget_tokens=600&cursor={cursor}")).await;
    let first_next = &next.log_summary.errors[0];
    assert_eq!(
        first_next.file.as_deref(),
        Some(format!("src/f{}.c", small.log_summary.errors.len() + 1).as_str())
    );

    let (_, all) = fetch("budget_tokens=100000".to_owned()).await;
    assert_eq!(all.log_summary.errors.len(), 120);
    assert!(!all.truncated);
    assert!(all.next_cursor.is_none());

    for bad in ["budget_tokens=10", "budget_tokens=-5", "cursor=abc"] {
        let response = app.http.get(url(bad)).send().await.unwrap();
        assert_eq!(response.status(), 422, "{bad}");
    }
}

#[tokio::test]
async fn failures_are_known_across_builds_with_their_reports_until_resolved() {
    let app = spawn_app().await;
    let script = app.path("check.sh");
    let fail = "echo \"src/parse.c:$((40 + $(date +%N | cut -c1) % 5)):7: error: 'count' undeclared\"; exit 1\n";
    std::fs::write(&script, fail).unwrap();
    let steps = || vec![step("check", "sh check.sh")];

    let first = app.run(steps()).await;
    assert_eq!(first.status, api::BuildStatus::Failed);
    let detail = app.client.build_detail(first.id).await.unwrap();
    assert!(
        detail.known_issues.is_empty(),
        "nothing is known before the first failure"
    );
    let fingerprint = detail.log_summary.errors[0].fingerprint.clone();
    app.client
        .submit_report(&api::ReportRequest {
            build_id: first.id,
            kind: "failure_analysis".to_owned(),
            analysis: "count is used before it is declared".to_owned(),
            recommendations: vec!["declare count".to_owned()],
            confidence: 0.7,
            fingerprints: vec![],
            agent: None,
            model: None,
        })
        .await
        .unwrap();

    // The same failure (another line number) in the next build is known,
    // with what was written about it.
    let second = app.run(steps()).await;
    let detail = app.client.build_detail(second.id).await.unwrap();
    assert_eq!(detail.known_issues.len(), 1, "{:?}", detail.known_issues);
    let known = &detail.known_issues[0];
    assert_eq!(known.fingerprint, fingerprint);
    assert_eq!((known.first_build, known.occurrences), (first.id, 2));
    assert_eq!(known.reports.len(), 1);
    assert_eq!(
        known.reports[0].analysis,
        "count is used before it is declared"
    );

    let url = format!("{}/llm/learning/patterns", app.base);
    let patterns: api::PatternList = app
        .http
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patterns.total, 1);
    assert_eq!(patterns.patterns[0].status, "open");
    assert_eq!(patterns.patterns[0].report_count, 1);
    assert_eq!(patterns.categories[0].category, "compile_error");

    // Fixed: the next green build of the same steps resolves it.
    std::fs::write(&script, "echo all good\n").unwrap();
    let green = app.run(steps()).await;
    assert_eq!(green.status, api::BuildStatus::Success);
    let resolved: api::PatternList = app
        .http
        .get(format!("{url}?status=resolved"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(resolved.total, 1);
    assert_eq!(resolved.patterns[0].resolved_build, Some(green.id));
    // The report (confidence 0.7) was followed by a fix: Brier (0.7 - 1)².
    let calibration = &resolved.calibration[0];
    assert_eq!((calibration.reports, calibration.resolved), (1, 1));
    assert!((calibration.brier - 0.09).abs() < 1e-9, "{calibration:?}");
    let bad = app
        .http
        .get(format!("{url}?status=maybe"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn suspect_changes_rank_files_changed_since_the_last_green_build() {
    use crate::harness::{git, git_repo};
    let app = crate::harness::spawn_app_with(crate::harness::test_limits(), |dir| {
        std::fs::write(dir.join("a.c"), "int a;\n").unwrap();
        std::fs::write(dir.join("b.c"), "int b;\n").unwrap();
        std::fs::write(
            dir.join("check.sh"),
            "if [ -f broken ]; then echo 'b.c:1:5: error: conflicting types for b'; exit 1; fi\n",
        )
        .unwrap();
        git_repo(dir);
    })
    .await;
    let steps = || vec![step("check", "sh check.sh")];
    let green = app.run(steps()).await;
    assert_eq!(green.status, api::BuildStatus::Success);

    std::fs::write(app.path("b.c"), "float b;\n").unwrap();
    git(app.dir.path(), &["commit", "-qam", "change b"]);
    std::fs::write(app.path("broken"), "").unwrap();
    std::fs::write(app.path("new.c"), "int n;\n").unwrap();
    let failed = app.run(steps()).await;
    assert_eq!(failed.status, api::BuildStatus::Failed);

    let detail = app.client.build_detail(failed.id).await.unwrap();
    let suspects = detail.suspect_changes.expect("suspect changes");
    assert_eq!(suspects.base_build, Some(green.id));
    let files: Vec<(&str, i64)> = suspects
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.diagnostics))
        .collect();
    assert_eq!(files[0], ("b.c", 1), "{files:?}");
    assert!(
        files.contains(&("new.c", 0)) && files.contains(&("broken", 0)),
        "{files:?}"
    );
    assert!(
        !files.iter().any(|(p, _)| p.starts_with(".qide")),
        "{files:?}"
    );
    assert!(
        !files.iter().any(|(p, _)| *p == "a.c"),
        "unchanged files are not suspects"
    );
}

#[tokio::test]
async fn a_failure_on_code_that_also_built_green_is_flaky() {
    let app = spawn_app().await;
    // Fails every other run on the same, unchanged tree (the counter lives
    // outside the project, so the tree hash does not move).
    let counter = tempfile::NamedTempFile::new().unwrap();
    let run = format!(
        "n=$(cat {0} 2>/dev/null || echo 0); echo $((n + 1)) > {0}; \
         if [ $((n % 2)) -eq 1 ]; then echo '---- tests::racy stdout ----'; echo 'test tests::racy ... FAILED'; exit 101; fi",
        counter.path().display()
    );
    let green = app.run(vec![step("test", &run)]).await;
    assert_eq!(green.status, api::BuildStatus::Success);
    let red = app.run(vec![step("test", &run)]).await;
    assert_eq!(red.status, api::BuildStatus::Failed);
    assert_eq!(red.tree_hash, green.tree_hash);
    let detail = app.client.build_detail(red.id).await.unwrap();
    let flaky = detail.flaky.expect("labelled flaky");
    assert_eq!(flaky.passed_build, green.id);
    // A build of other steps on the same tree proves nothing.
    let other = app.run(vec![step("other", "exit 1")]).await;
    assert!(
        app.client
            .build_detail(other.id)
            .await
            .unwrap()
            .flaky
            .is_none()
    );
}
