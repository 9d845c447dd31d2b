//! `GET /llm/learning/codebase`: the summary remembered by tree state, and
//! the modes.

use std::path::Path;

use qide_api as api;
use reqwest::StatusCode;

use crate::harness::{TestApp, spawn_app_with, test_limits};

fn write(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

async fn get(app: &TestApp, query: &str) -> (StatusCode, serde_json::Value) {
    let response = app
        .http
        .get(format!("{}/llm/learning/codebase?{query}", app.base))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn a_repeat_call_answers_the_same_and_a_change_shows_up() {
    let app = spawn_app_with(test_limits(), |root| {
        write(root, "src/main.rs", "fn main() {}\n");
        write(root, "Cargo.toml", "[package]\nname = \"demo\"\n");
    })
    .await;
    let first = app.client.codebase().await.unwrap();
    let second = app.client.codebase().await.unwrap();
    assert_eq!(first, second);
    assert!(first.tree_hash.as_deref().unwrap().starts_with("b3:"));

    write(app.dir.path(), "src/extra.rs", "pub fn extra() {}\n");
    write(
        app.dir.path(),
        "src/main.rs",
        "fn main() {\n    extra();\n}\n",
    );
    let third = app.client.codebase().await.unwrap();
    assert_ne!(third.tree_hash, first.tree_hash);
    let files: Vec<(&str, u64)> = third
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.lines))
        .collect();
    assert_eq!(
        files,
        [("Cargo.toml", 2), ("src/extra.rs", 1), ("src/main.rs", 3)]
    );
    assert_eq!(third.structure_summary.file_count, 3);
}

#[tokio::test]
async fn an_unknown_mode_names_the_field() {
    let app = spawn_app_with(test_limits(), |root| write(root, "a.txt", "a\n")).await;
    let (status, body) = get(&app, "mode=everything").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let problem: api::Problem = serde_json::from_value(body).unwrap();
    assert_eq!(problem.field.as_deref(), Some("mode"));
    let (status, body) = get(&app, "mode=summary").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["files"][0]["path"], "a.txt");
}

fn c_project(root: &Path) {
    write(
        root,
        "src/main.c",
        "#include \"util.h\"\n\nint main(void) {\n    return util();\n}\n",
    );
    write(root, "src/util.h", "int util(void);\n");
    write(
        root,
        "src/util.c",
        "#include \"util.h\"\n\nint util(void) {\n    return 1\n}\n",
    );
    write(root, "README.md", &"A small C program. ".repeat(40));
    write(
        root,
        "Makefile",
        "all:\n\tcc -o app src/main.c src/util.c\n",
    );
    write(root, "Cargo.lock", "# not really\n");
    write(root, ".env", "TOKEN=do-not-pack-me\n");
}

#[tokio::test]
async fn the_pack_holds_its_budget_and_never_packs_secrets_or_lock_files() {
    let app = spawn_app_with(test_limits(), c_project).await;
    let bpe = tiktoken_rs::o200k_base().unwrap();
    for budget in [1, 10, 25, 60, 200, 100_000] {
        let (status, body) = get(&app, &format!("mode=pack&budget_tokens={budget}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let pack: api::CodebasePack = serde_json::from_value(body).unwrap();
        assert_eq!(pack.budget_tokens, budget);
        assert!(pack.tokens <= budget, "{budget}: {}", pack.tokens);
        let mut sum = 0;
        for file in &pack.files {
            assert_eq!(
                file.tokens,
                bpe.encode_ordinary(&file.content).len() as u64,
                "{}",
                file.path
            );
            sum += file.tokens;
        }
        assert_eq!(sum, pack.tokens);
        assert_eq!(pack.left_out_count, pack.left_out.len() as u64);
        assert_eq!(pack.files.len() + pack.left_out.len(), 7, "{budget}");
        let reason = |path: &str| {
            pack.left_out
                .iter()
                .find(|l| l.path == path)
                .map(|l| l.reason.as_str())
        };
        assert_eq!(reason(".env"), Some("secret"));
        assert_eq!(reason("Cargo.lock"), Some("lock_file"));
        if budget == 100_000 {
            let order: Vec<&str> = pack.files.iter().map(|f| f.path.as_str()).collect();
            assert_eq!(
                order,
                [
                    "src/main.c",
                    "Makefile",
                    "src/util.c",
                    "src/util.h",
                    "README.md"
                ]
            );
        }
    }
    let text = get(&app, "mode=pack&budget_tokens=100000")
        .await
        .1
        .to_string();
    assert!(!text.contains("do-not-pack-me"));
}

#[tokio::test]
async fn a_failing_build_puts_its_files_first() {
    let app = spawn_app_with(test_limits(), c_project).await;
    let build = app
        .run(vec![crate::harness::step(
            "build",
            "echo \"src/util.c:4:13: error: expected ';' before '}' token\" >&2; exit 1",
        )])
        .await;
    assert_eq!(build.status, api::BuildStatus::Failed);
    let (status, body) = get(
        &app,
        &format!("mode=pack&budget_tokens=60&build={}", build.id),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let pack: api::CodebasePack = serde_json::from_value(body).unwrap();
    assert_eq!(pack.build, Some(build.id));
    assert_eq!(pack.files[0].path, "src/util.c");
    assert_eq!(pack.files[0].reason, "failing");
    assert!(pack.tokens <= 60);

    for (query, status, field) in [
        (
            "mode=pack&budget_tokens=0",
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("budget_tokens"),
        ),
        (
            "mode=pack&budget_tokens=-5",
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("budget_tokens"),
        ),
        ("mode=pack&build=99999", StatusCode::NOT_FOUND, None),
        ("mode=pack&build=0", StatusCode::NOT_FOUND, None),
    ] {
        let (got, body) = get(&app, query).await;
        assert_eq!(got, status, "{query}: {body}");
        let problem: api::Problem = serde_json::from_value(body).unwrap();
        assert_eq!(problem.field.as_deref(), field, "{query}");
    }
}

#[tokio::test]
async fn the_map_ranks_definitions_within_budget_and_centres_on_a_build() {
    let app = spawn_app_with(test_limits(), c_project).await;
    let (status, body) = get(&app, "mode=map").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let map: api::CodebaseMap = serde_json::from_value(body).unwrap();
    assert_eq!(
        (map.mode.as_str(), map.method.as_str()),
        ("map", "tree_sitter")
    );
    // Three small files parse well within the deadline: the map is whole.
    assert_eq!(
        (map.partial, map.files_parsed, map.files_total, map.note),
        (false, 3, 3, None)
    );
    // main.c calls `util`, which the header declares and util.c defines.
    let order: Vec<(&str, u64)> = map
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.score))
        .collect();
    assert_eq!(
        order,
        [("src/util.c", 1), ("src/util.h", 1), ("src/main.c", 0)]
    );
    let util = &map.files[0];
    assert_eq!(
        util.definitions,
        [api::MapDefinition {
            kind: "function".to_owned(),
            name: "util".to_owned(),
            line: 3,
            signature: "int util(void) {".to_owned(),
            member: false,
        }]
    );
    assert_eq!(util.text, "src/util.c\n  3: int util(void) {\n");

    let bpe = tiktoken_rs::o200k_base().unwrap();
    for budget in [1, 8, 12, 30] {
        let (_, body) = get(&app, &format!("mode=map&budget_tokens={budget}")).await;
        let map: api::CodebaseMap = serde_json::from_value(body).unwrap();
        assert!(map.tokens <= budget, "{budget}");
        let counted: u64 = map
            .files
            .iter()
            .map(|f| bpe.encode_ordinary(&f.text).len() as u64)
            .sum();
        assert_eq!(counted, map.tokens, "{budget}");
        assert_eq!(map.files.len() as u64 + map.left_out_count, 3, "{budget}");
    }

    let build = app
        .run(vec![crate::harness::step(
            "build",
            "echo \"src/main.c:4:5: error: implicit declaration of function 'util'\" >&2; exit 1",
        )])
        .await;
    let (status, body) = get(&app, &format!("mode=map&build={}", build.id)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let map: api::CodebaseMap = serde_json::from_value(body).unwrap();
    let order: Vec<(&str, &str)> = map
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.reason.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("src/main.c", "failing"),
            ("src/util.c", "referenced_by_failing"),
            ("src/util.h", "referenced_by_failing")
        ]
    );
}

/// The summary as JSON, and its `Server-Timing` header.
async fn summary_bytes(app: &TestApp) -> (String, serde_json::Value) {
    let response = app
        .http
        .get(format!("{}/llm/learning/codebase", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let timing = response
        .headers()
        .get("server-timing")
        .expect("a summary says its server time")
        .to_str()
        .unwrap()
        .to_owned();
    (timing, response.json().await.unwrap())
}

#[tokio::test]
async fn git_s_view_moves_on_the_very_next_call_while_the_answer_is_remembered() {
    let app = spawn_app_with(test_limits(), |root| {
        write(root, "src/main.rs", "fn main() {}\n");
        write(root, ".gitignore", "build-output/\n");
        write(root, "vendor/node_modules/dep/index.js", "x\n");
        crate::harness::git(root, &["init", "-q", "-b", "main"]);
        crate::harness::git(root, &["add", "-A"]);
        crate::harness::git(root, &["commit", "-q", "-m", "first"]);
    })
    .await;
    let root = app.dir.path();
    let (timing, first) = summary_bytes(&app).await;
    assert!(timing.starts_with("summary;dur="), "{timing}");
    assert_eq!(first["git"]["branch"], "main");
    assert_eq!(first["git"]["dirty"], false);
    // Long enough for the watcher to start and its new directories to
    // settle; every call below must then be right on its own.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (_, again) = summary_bytes(&app).await;
    assert_eq!(again, first);

    // A tracked file in a directory the summary never walks: the tree hash
    // stands, git's dirty flag does not.
    write(root, "vendor/node_modules/dep/index.js", "y\n");
    let (_, dirty) = summary_bytes(&app).await;
    assert_eq!(dirty["tree_hash"], first["tree_hash"]);
    assert_eq!(dirty["git"]["dirty"], true);

    // A commit moves the head and cleans the tree, with no file changed.
    crate::harness::git(root, &["commit", "-q", "-am", "second"]);
    let (_, committed) = summary_bytes(&app).await;
    assert_ne!(committed["git"]["head"], first["git"]["head"]);
    assert_eq!(committed["git"]["dirty"], false);

    // A new branch at the same commit: only HEAD's text moves.
    crate::harness::git(root, &["switch", "-q", "-c", "topic"]);
    let (_, switched) = summary_bytes(&app).await;
    assert_eq!(switched["git"]["branch"], "topic");
    assert_eq!(switched["git"]["head"], committed["git"]["head"]);

    // An untracked file that only git sees, then one it ignores.
    write(root, "target/new.txt", "z\n");
    let (_, untracked) = summary_bytes(&app).await;
    assert_eq!(untracked["git"]["dirty"], true);
    assert_eq!(untracked["tree_hash"], first["tree_hash"]);
}

#[tokio::test]
async fn a_project_that_becomes_a_repository_shows_it_on_the_next_call() {
    let app = spawn_app_with(test_limits(), |root| {
        write(root, "src/main.rs", "fn main() {}\n");
    })
    .await;
    let root = app.dir.path();
    let (_, first) = summary_bytes(&app).await;
    assert!(first["git"]["head"].is_null());
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (_, again) = summary_bytes(&app).await;
    assert_eq!(again, first);

    crate::harness::git(root, &["init", "-q", "-b", "main"]);
    let (_, initialised) = summary_bytes(&app).await;
    assert_eq!(initialised["git"]["branch"], "main");
    crate::harness::git(root, &["add", "-A"]);
    crate::harness::git(root, &["commit", "-q", "-m", "first"]);
    let (_, committed) = summary_bytes(&app).await;
    assert!(committed["git"]["head"].is_string());
    assert_eq!(committed["git"]["dirty"], false);
}

#[tokio::test]
async fn a_change_to_git_s_settings_alone_moves_git_s_view_on_the_next_call() {
    let outside = tempfile::tempdir().unwrap();
    let excludes = outside.path().join("ignores");
    std::fs::write(&excludes, "notes.txt\n").unwrap();
    let app = spawn_app_with(test_limits(), |root| {
        write(root, "src/main.rs", "fn main() {}\n");
        crate::harness::git(root, &["init", "-q", "-b", "main"]);
        crate::harness::git(root, &["add", "-A"]);
        crate::harness::git(root, &["commit", "-q", "-m", "first"]);
        write(root, "notes.txt", "todo\n");
    })
    .await;
    let root = app.dir.path();
    let (_, first) = summary_bytes(&app).await;
    assert_eq!(first["git"]["dirty"], true, "notes.txt is untracked");
    // Long enough for the watcher to start and settle, as above.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (_, again) = summary_bytes(&app).await;
    assert_eq!(again, first);

    // Only `.git/config` changes: it now names an excludes file outside
    // the project that lists the untracked file.
    let excludes_file = excludes.to_str().unwrap();
    crate::harness::git(root, &["config", "core.excludesFile", excludes_file]);
    let (_, configured) = summary_bytes(&app).await;
    assert_eq!(configured["git"]["dirty"], false);
    assert_eq!(configured["tree_hash"], first["tree_hash"]);

    // Only that excludes file changes, outside the project.
    std::fs::write(&excludes, "# nothing\n").unwrap();
    let (_, unexcluded) = summary_bytes(&app).await;
    assert_eq!(unexcluded["git"]["dirty"], true);
    std::fs::write(&excludes, "notes.txt\n").unwrap();
    let (_, excluded) = summary_bytes(&app).await;
    assert_eq!(excluded["git"]["dirty"], false);
}
