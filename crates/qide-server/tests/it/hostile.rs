//! Hostile paths against the routes that take a build id or a path-like
//! parameter other than the file endpoint (which `files.rs` covers): the
//! log, build, failure-packet, dashboard and codebase routes. Every one is
//! refused with a client error, and nothing outside the project is read.

use reqwest::StatusCode;

use crate::harness::{spawn_app_with, step, test_limits};

const OUTSIDE_MARKER: &str = "OUTSIDE-THE-ROOT-c0ffee51";

#[tokio::test]
async fn hostile_ids_and_paths_are_refused_on_log_build_and_codebase_routes() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), OUTSIDE_MARKER).unwrap();
    let outside_file = outside.path().canonicalize().unwrap().join("secret.txt");
    let app = spawn_app_with(test_limits(), |root| {
        std::fs::write(root.join("lib.rs"), "pub fn f() {}\n").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("out")).unwrap();
    })
    .await;
    // A real build, so a route that ignored the hostile part and read
    // build 1 would be caught answering 200.
    app.run(vec![step("ok", "echo hello")]).await;

    let absolute = outside_file.to_str().unwrap().replace('/', "%2F");
    // (A bare `..` in a URL path is resolved by the client before it is
    // sent, so only encoded forms reach the server.)
    let hostile = [
        "..%2F..%2Fetc%2Fpasswd".to_owned(),
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd".to_owned(),
        "%252e%252e%252f".to_owned(),
        absolute.clone(),
        "C:%5CWindows%5Cwin.ini".to_owned(),
        "..%5C..%5Cwin.ini".to_owned(),
        "1%00".to_owned(),
        "1%2F..%2F2".to_owned(),
        "out%2Fsecret.txt".to_owned(),
        "-1".to_owned(),
        "99999999999999999999999".to_owned(),
        "1.0".to_owned(),
        "0x1".to_owned(),
    ];
    let mut urls = Vec::new();
    for h in &hostile {
        for template in [
            "/build/{}/log",
            "/build/{}/log?grep=.",
            "/build/{}",
            "/build/{}/events",
            "/llm/learning/build/{}",
            "/builds/{}",
            "/builds/{}/log",
            "/llm/learning/codebase?mode=map&build={}",
            "/llm/learning/codebase?mode=pack&build={}",
        ] {
            urls.push(template.replace("{}", h));
        }
    }
    for url in &urls {
        let response = app
            .http
            .get(format!("{}{url}", app.base))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(
            status.is_client_error(),
            "{url}: {status} {}",
            &body[..body.len().min(300)]
        );
        assert_ne!(status, StatusCode::UNAUTHORIZED, "{url}");
        assert!(
            !body.contains(OUTSIDE_MARKER),
            "{url} read outside the root"
        );
        // (An error may echo the id it was given, the absolute path among
        // them; what matters is that nothing there was read.)
        assert!(!body.contains("hello"), "{url} answered build 1's log");
    }
    // The log's grep and the codebase's budget are parameters, not paths:
    // hostile values there are refused or harmless, never a file read.
    for query in [
        format!("/build/1/log?grep={absolute}"),
        "/build/1/log?grep=%00".to_owned(),
        "/build/1/log?from=..%2F..".to_owned(),
        "/llm/learning/codebase?mode=..%2F..%2Fetc".to_owned(),
        "/llm/learning/codebase?mode=pack&budget_tokens=..%2F".to_owned(),
    ] {
        let response = app
            .http
            .get(format!("{}{query}", app.base))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(
            status.is_success() || status.is_client_error(),
            "{query}: {status}"
        );
        assert!(
            !body.contains(OUTSIDE_MARKER),
            "{query} read outside the root"
        );
    }
    // The codebase never follows the symlink out of the project.
    let pack = app
        .http
        .get(format!(
            "{}/llm/learning/codebase?mode=pack&budget_tokens=100000",
            app.base
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!pack.contains(OUTSIDE_MARKER));
}
