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
