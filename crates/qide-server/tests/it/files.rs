//! `GET /llm/learning/file`: line-numbered reads, ranges, and every way of
//! asking for something outside the project refused without reading it.

use std::path::Path;

use qide_api as api;
use reqwest::StatusCode;

use crate::harness::{TestApp, spawn_app_with, test_limits};

/// What the file planted outside the project holds; no answer may contain it.
const OUTSIDE_MARKER: &str = "OUTSIDE-THE-ROOT-7f3a9c";
/// What the project's secret and excluded files hold.
const INSIDE_SECRET: &str = "INSIDE-SECRET-41d2e8";

fn write(root: &Path, rel: &str, content: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn project(root: &Path) {
    write(
        root,
        "src/lib.rs",
        b"//! A library.\n\npub fn answer() -> u32 {\n    \x1b[31m42\x1b[0m\n}\n",
    );
    let long: String = (1..=2500).map(|n| format!("line {n}\n")).collect();
    write(root, "long.txt", long.as_bytes());
    write(root, "logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    write(root, ".env", format!("TOKEN={INSIDE_SECRET}\n").as_bytes());
    write(root, ".gitignore", b"ignored.txt\n");
    write(root, "ignored.txt", INSIDE_SECRET.as_bytes());
    write(root, ".git/config", INSIDE_SECRET.as_bytes());
}

async fn get(app: &TestApp, query: &str) -> (StatusCode, String) {
    let response = app
        .http
        .get(format!("{}/llm/learning/file?{query}", app.base))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

async fn problem(app: &TestApp, query: &str) -> (StatusCode, api::Problem) {
    let (status, body) = get(app, query).await;
    let problem: api::Problem =
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{query}: {e}: {body}"));
    assert_eq!(problem.status, status.as_u16(), "{query}");
    (status, problem)
}

fn numbered(file: &api::FileText) -> Vec<(u64, &str)> {
    file.lines.iter().map(|l| (l.n, l.text.as_str())).collect()
}

#[tokio::test]
async fn a_file_is_read_line_numbered_and_cleaned() {
    let app = spawn_app_with(test_limits(), project).await;
    let file = app.client.file("./src//lib.rs", None, None).await.unwrap();
    assert_eq!(
        file,
        api::FileText {
            path: "src/lib.rs".to_owned(),
            start: 1,
            end: 5,
            total_lines: 5,
            truncated: false,
            next_start: None,
            lines: [
                "//! A library.",
                "",
                "pub fn answer() -> u32 {",
                "    42",
                "}"
            ]
            .iter()
            .zip(1..)
            .map(|(text, n)| api::NumberedLine {
                n,
                text: (*text).to_owned()
            })
            .collect(),
        }
    );
}

#[tokio::test]
async fn ranges_apply_and_long_files_page() {
    let app = spawn_app_with(test_limits(), project).await;

    let middle = app
        .client
        .file("src/lib.rs", Some(2), Some(3))
        .await
        .unwrap();
    assert_eq!(
        numbered(&middle),
        [(2, ""), (3, "pub fn answer() -> u32 {")]
    );
    assert_eq!((middle.start, middle.end, middle.total_lines), (2, 3, 5));
    assert!(!middle.truncated);

    let tail = app
        .client
        .file("src/lib.rs", Some(4), Some(99))
        .await
        .unwrap();
    assert_eq!(numbered(&tail), [(4, "    42"), (5, "}")]);
    assert_eq!((tail.end, tail.next_start), (5, None));

    let past = app.client.file("src/lib.rs", Some(9), None).await.unwrap();
    assert!(past.lines.is_empty());
    assert_eq!((past.start, past.end, past.total_lines), (9, 8, 5));

    let long = app.client.file("long.txt", None, None).await.unwrap();
    assert_eq!(long.total_lines, 2500);
    assert_eq!(long.lines.len(), 2000);
    assert!(long.truncated);
    assert_eq!((long.end, long.next_start), (2000, Some(2001)));
    let rest = app
        .client
        .file("long.txt", long.next_start, None)
        .await
        .unwrap();
    assert_eq!(rest.lines.first().map(|l| l.n), Some(2001));
    assert_eq!(rest.lines.last().unwrap().text, "line 2500");
    assert_eq!((rest.truncated, rest.next_start), (false, None));

    for (query, field) in [
        ("path=src/lib.rs&start=0", "start"),
        ("path=src/lib.rs&start=3&end=2", "end"),
        ("path=src/lib.rs&start=x", "start"),
        ("start=1", "path"),
        ("path=src/lib.rs&bogus=1", "bogus"),
    ] {
        let (status, problem) = problem(&app, query).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(problem.field.as_deref(), Some(field), "{query}");
    }
}

#[tokio::test]
async fn missing_binary_secret_and_excluded_files_have_distinct_problems() {
    let app = spawn_app_with(test_limits(), project).await;
    for (query, status, code) in [
        ("path=src/missing.rs", StatusCode::NOT_FOUND, "not_found"),
        ("path=nowhere/x/y", StatusCode::NOT_FOUND, "not_found"),
        (
            "path=logo.png",
            StatusCode::UNPROCESSABLE_ENTITY,
            "binary_file",
        ),
        ("path=src", StatusCode::UNPROCESSABLE_ENTITY, "not_a_file"),
        ("path=.env", StatusCode::FORBIDDEN, "secret_file"),
        ("path=ignored.txt", StatusCode::FORBIDDEN, "excluded_file"),
        ("path=.git/config", StatusCode::FORBIDDEN, "excluded_file"),
    ] {
        let (got, problem) = problem(&app, query).await;
        assert_eq!((got, problem.code.as_str()), (status, code), "{query}");
        assert!(!problem.detail.contains(INSIDE_SECRET), "{query}");
    }
}

#[tokio::test]
async fn hostile_paths_are_refused_and_nothing_outside_is_read() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.txt", OUTSIDE_MARKER.as_bytes());
    let outside_dir = outside.path().canonicalize().unwrap();
    let outside_file = outside_dir.join("secret.txt");
    let outside_name = outside_dir
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let app = spawn_app_with(test_limits(), |root| {
        project(root);
        std::os::unix::fs::symlink(&outside_dir, root.join("link_dir")).unwrap();
        std::os::unix::fs::symlink(&outside_file, root.join("link_file.txt")).unwrap();
        std::os::unix::fs::symlink("../../", root.join("src/up")).unwrap();
    })
    .await;
    // The project and the planted file are siblings under the temp dir, so
    // `../NAME/secret.txt` from the root is the planted file.
    let up = format!("..%2F{outside_name}%2Fsecret.txt");
    let absolute = outside_file.to_str().unwrap().replace('/', "%2F");
    let once = format!("%2e%2e%2f{outside_name}%2fsecret.txt");
    let twice = format!("%252e%252e%252f{outside_name}%252fsecret.txt");
    let twice_slash = format!("..%252f{outside_name}%252fsecret.txt");
    let deep_up = format!("src/../../{outside_name}/secret.txt");
    let backslashes = format!("..%5C{outside_name}%5Csecret.txt");
    let mixed = format!("src/%2e%2e/%2e%2e/{outside_name}/secret.txt");
    let unc = format!(
        "//{}",
        outside_file.to_str().unwrap().trim_start_matches('/')
    );
    let via_up_link = format!("src/up/{outside_name}/secret.txt");

    // Syntax alone condemns these: 422 naming `path`.
    let malformed = [
        up.as_str(),
        absolute.as_str(),
        once.as_str(),
        twice.as_str(),
        twice_slash.as_str(),
        deep_up.as_str(),
        backslashes.as_str(),
        mixed.as_str(),
        unc.as_str(),
        "%2Fetc%2Fpasswd",
        "C:%2FWindows%2Fwin.ini",
        "C:%5CWindows%5Cwin.ini",
        "src%2Flib.rs%00..%2F..%2Fx",
        "..",
        "%2e%2e",
        "%252e%252e",
        "src%2F..%2Fsrc%2Flib.rs",
    ];
    for path in malformed {
        let query = format!("path={path}");
        let (status, problem) = problem(&app, &query).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {problem:?}"
        );
        assert_eq!(problem.field.as_deref(), Some("path"), "{path}");
    }
    // Well-formed paths that lead outside through symlinks: 403.
    for path in ["link_dir/secret.txt", "link_file.txt", via_up_link.as_str()] {
        let query = format!("path={path}");
        let (status, problem) = problem(&app, &query).await;
        assert_eq!(
            (status, problem.code.as_str()),
            (StatusCode::FORBIDDEN, "outside_root"),
            "{path}"
        );
    }
    // Look-alikes that name nothing: 404, never a file elsewhere.
    for path in [
        "....%2F....%2Fetc%2Fpasswd",
        "%C0%AE%C0%AE%2Fetc%2Fpasswd",
        "%EF%BC%8E%EF%BC%8E%2Fetc%2Fpasswd",
        "~%2F.bashrc",
    ] {
        let query = format!("path={path}");
        let (status, _) = problem(&app, &query).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }

    // Nothing outside the root (nor any secret inside) appears in any answer,
    // whatever the route did with it.
    let every: Vec<String> = malformed
        .iter()
        .map(|p| p.to_string())
        .chain(
            [
                "link_dir/secret.txt",
                "link_file.txt",
                ".env",
                ".git/config",
            ]
            .map(str::to_owned),
        )
        .chain([via_up_link.clone()])
        .collect();
    for path in &every {
        let (status, body) = get(&app, &format!("path={path}")).await;
        assert!(status.is_client_error(), "{path}: {status}");
        assert!(!body.contains(OUTSIDE_MARKER), "{path}: {body}");
        assert!(!body.contains(INSIDE_SECRET), "{path}: {body}");
        assert!(
            !body.contains(outside_dir.to_str().unwrap()),
            "{path} leaks a server path: {body}"
        );
    }
}
