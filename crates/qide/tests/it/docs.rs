//! The guide in `docs/` stays true: its marked examples run here against a
//! real `qide serve` over the quickstart's project, and their output is
//! checked against the output the guide shows.
//!
//! Markers, in the info string of a fenced block:
//! - ```` ```sh setup ```` (quickstart.md only): makes the demo project,
//!   run in an empty folder before the server starts, for every page.
//! - ```` ```sh test ```` / ```` ```python test ````: run in the project with
//!   `QIDE_URL` and `QIDE_SERVER` naming the server and the `qide` under test
//!   first on `PATH`; `exit=N` says the exit code the example expects
//!   (default 0). Blocks of a page run in order against one server.
//! - ```` ```json output ```` right after a test block: the JSON it printed
//!   must have every field shown, of the same type, with the same value for
//!   booleans and strings (`…` in a string matches anything).
//!   ```` ```text output ````: every line shown must match a line printed
//!   (stdout or stderr), `…` matching anything.
//! - ```` ```json mcp-config ```` / ```` ```toml mcp-config ````: an MCP
//!   client's configuration; it must parse, run `qide mcp` (its flags are
//!   checked with `--help`) or name this server's `/mcp`, which must answer
//!   an MCP `initialize`.
//! - ```` ```rust test ```` (rust.md): must be the text of `guide_rust.rs`,
//!   which this test binary compiles and runs.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::{Value, json};

use crate::server::{Server, start};

/// One fenced block of a page.
#[derive(Debug)]
struct Block {
    /// Where it starts, for messages (`docs/rest.md:42`).
    place: String,
    lang: String,
    attrs: Vec<String>,
    text: String,
}

impl Block {
    fn has(&self, attr: &str) -> bool {
        self.attrs.iter().any(|a| a == attr)
    }

    fn expected_exit(&self) -> i32 {
        self.attrs
            .iter()
            .find_map(|a| a.strip_prefix("exit="))
            .map_or(0, |n| n.parse().expect("exit=N"))
    }
}

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

fn repo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The fenced blocks of a page, in order.
fn blocks(page: &str) -> Vec<Block> {
    let path = docs_dir().join(page);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut out = Vec::new();
    let mut open: Option<(String, Block)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                if trimmed.starts_with("```") {
                    let fence: String = trimmed.chars().take_while(|&c| c == '`').collect();
                    let mut words = trimmed[fence.len()..].split_whitespace();
                    let lang = words.next().unwrap_or("").to_owned();
                    let attrs = words.map(str::to_owned).collect();
                    open = Some((
                        fence,
                        Block {
                            place: format!("docs/{page}:{}", i + 1),
                            lang,
                            attrs,
                            text: String::new(),
                        },
                    ));
                }
            }
            Some((fence, block)) => {
                if trimmed.starts_with(fence.as_str()) && trimmed.trim_matches('`').is_empty() {
                    out.push(open.take().expect("open block").1);
                } else {
                    block.text.push_str(line);
                    block.text.push('\n');
                }
            }
        }
    }
    assert!(open.is_none(), "docs/{page}: a fenced block is not closed");
    out
}

/// What an example printed.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs a `sh` or `python` example in `cwd` against `server`.
async fn run_example(block: &Block, cwd: &Path, server: Option<&Server>) -> Ran {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_qide"))
        .parent()
        .expect("the binary's folder")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (program, args): (&str, Vec<String>) = match block.lang.as_str() {
        "sh" => (
            "bash",
            vec![
                "-euo".into(),
                "pipefail".into(),
                "-c".into(),
                block.text.clone(),
            ],
        ),
        "python" => ("python3", vec!["-c".into(), block.text.clone()]),
        other => panic!("{}: cannot run a {other} block", block.place),
    };
    #[allow(clippy::disallowed_methods)] // the guide's examples, not a build
    let mut command = tokio::process::Command::new(program);
    command
        .args(&args)
        .current_dir(cwd)
        .env("PATH", path)
        .env(
            "PYTHONPATH",
            repo_dir()
                .join("clients/python/src")
                .canonicalize()
                .unwrap(),
        )
        .env_remove("QIDE_TOKEN")
        .env_remove("QIDE_DATABASE")
        .env_remove("QIDE_BIND")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    match server {
        Some(server) => {
            command
                .env("QIDE_URL", &server.url)
                .env("QIDE_SERVER", &server.url);
        }
        None => {
            command.env_remove("QIDE_URL").env_remove("QIDE_SERVER");
        }
    }
    let out = tokio::time::timeout(std::time::Duration::from_secs(120), command.output())
        .await
        .unwrap_or_else(|_| panic!("{}: still running after 120 s", block.place))
        .unwrap_or_else(|e| panic!("{}: cannot start {program}: {e}", block.place));
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A folder holding the quickstart's demo project, made by its setup
/// blocks, and the project's path.
async fn demo_project() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let setup: Vec<Block> = blocks("quickstart.md")
        .into_iter()
        .filter(|b| b.has("setup"))
        .collect();
    assert!(!setup.is_empty(), "quickstart.md has no setup block");
    let mut cwd = dir.path().to_path_buf();
    for block in &setup {
        let ran = run_example(block, &cwd, None).await;
        assert_eq!(ran.code, 0, "{}: {}{}", block.place, ran.stdout, ran.stderr);
        // The setup says `cd demo`; later blocks run inside the project.
        if cwd.join("demo").is_dir() {
            cwd = cwd.join("demo");
        }
    }
    assert!(cwd.ends_with("demo"), "the setup makes no demo/ project");
    (dir, cwd)
}

/// `*` of a glob, written `…` in the guide.
fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('…').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Checks that `actual` has everything `expected` shows; `path` names the
/// place for messages.
fn check_shape(expected: &Value, actual: &Value, path: &str, problems: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Null, _) => {}
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                match a.get(key) {
                    Some(found) => check_shape(value, found, &format!("{path}.{key}"), problems),
                    None => problems.push(format!("{path}.{key} is missing")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if a.len() < e.len() {
                problems.push(format!(
                    "{path} has {} items, the guide shows {}",
                    a.len(),
                    e.len()
                ));
            }
            for (i, (e, a)) in e.iter().zip(a).enumerate() {
                check_shape(e, a, &format!("{path}[{i}]"), problems);
            }
        }
        (Value::String(e), Value::String(a)) => {
            if !glob_match(e, a) {
                problems.push(format!("{path} is {a:?}, the guide shows {e:?}"));
            }
        }
        (Value::Bool(e), Value::Bool(a)) => {
            if e != a {
                problems.push(format!("{path} is {a}, the guide shows {e}"));
            }
        }
        (Value::Number(_), Value::Number(_)) => {}
        (e, a) => problems.push(format!("{path} is {a}, the guide shows {e}")),
    }
}

/// Every JSON value in `text`, in order.
fn json_values(text: &str) -> Result<Vec<Value>, serde_json::Error> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect()
}

fn check_output(example: &Block, ran: &Ran, output: &Block) {
    match output.lang.as_str() {
        "json" => {
            let expected = json_values(&output.text)
                .unwrap_or_else(|e| panic!("{}: not JSON: {e}", output.place));
            let actual = json_values(&ran.stdout).unwrap_or_else(|e| {
                panic!(
                    "{}: printed no JSON ({e}):\n{}{}",
                    example.place, ran.stdout, ran.stderr
                )
            });
            assert_eq!(
                expected.len(),
                actual.len(),
                "{}: printed {} JSON values, {} shows {}:\n{}",
                example.place,
                actual.len(),
                output.place,
                expected.len(),
                ran.stdout
            );
            let mut problems = Vec::new();
            for (e, a) in expected.iter().zip(&actual) {
                check_shape(e, a, "$", &mut problems);
            }
            assert!(
                problems.is_empty(),
                "{} differs from what {} printed: {problems:#?}\n{}",
                output.place,
                example.place,
                ran.stdout
            );
        }
        "text" => {
            let printed: Vec<&str> = ran
                .stdout
                .lines()
                .chain(ran.stderr.lines())
                .map(str::trim_end)
                .collect();
            for line in output.text.lines().map(str::trim_end) {
                assert!(
                    printed.iter().any(|p| glob_match(line, p)),
                    "{}: no printed line matches {line:?}; {} printed:\n{}\n{}",
                    output.place,
                    example.place,
                    ran.stdout,
                    ran.stderr
                );
            }
        }
        other => panic!(
            "{}: an output block must be json or text, not {other}",
            output.place
        ),
    }
}

/// The MCP servers a client configuration names: `mcpServers` (Claude Code,
/// Cursor, Windsurf), `servers` (VS Code), `context_servers` (Zed),
/// `mcp_servers` (Codex).
fn configured_servers(block: &Block) -> Vec<(String, Value)> {
    let config: Value = match block.lang.as_str() {
        "json" => serde_json::from_str(&block.text)
            .unwrap_or_else(|e| panic!("{}: not JSON: {e}", block.place)),
        "toml" => {
            let table: toml::Table = toml::from_str(&block.text)
                .unwrap_or_else(|e| panic!("{}: not TOML: {e}", block.place));
            serde_json::to_value(table).unwrap()
        }
        other => panic!(
            "{}: an mcp-config block must be json or toml, not {other}",
            block.place
        ),
    };
    let servers = ["mcpServers", "servers", "context_servers", "mcp_servers"]
        .iter()
        .find_map(|key| config.get(*key).and_then(Value::as_object))
        .unwrap_or_else(|| panic!("{}: names no MCP servers", block.place));
    servers
        .iter()
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

async fn check_mcp_config(block: &Block, server: &Server, project: &Path) {
    let servers = configured_servers(block);
    assert!(!servers.is_empty(), "{}: no servers", block.place);
    for (name, entry) in servers {
        assert_eq!(name, "qide", "{}", block.place);
        if let Some(command) = entry.get("command") {
            assert_eq!(command, "qide", "{}: {entry}", block.place);
            let args: Vec<String> = entry["args"]
                .as_array()
                .unwrap_or_else(|| panic!("{}: args must be a list", block.place))
                .iter()
                .map(|a| {
                    a.as_str()
                        .expect("string args")
                        .replace("${workspaceFolder}", project.to_str().unwrap())
                        .replace("/path/to/project", project.to_str().unwrap())
                })
                .collect();
            assert_eq!(
                args.first().map(String::as_str),
                Some("mcp"),
                "{}",
                block.place
            );
            // clap checks every flag before it prints help: a misspelt flag
            // or command fails here.
            let out = crate::server::qide()
                .args(&args)
                .arg("--help")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}: qide {args:?} is not a valid command: {}",
                block.place,
                String::from_utf8_lossy(&out.stderr)
            );
        } else {
            let url = entry
                .get("url")
                .or_else(|| entry.get("serverUrl"))
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{}: neither command nor url", block.place));
            let path = url
                .strip_prefix("http://127.0.0.1:8000")
                .unwrap_or_else(|| panic!("{}: {url} is not the default server", block.place));
            assert_eq!(path, "/mcp", "{}", block.place);
            if let Some(kind) = entry.get("type") {
                assert_eq!(kind, "http", "{}", block.place);
            }
            let answer: Value = reqwest::Client::new()
                .post(format!("{}{path}", server.url))
                .header("accept", "application/json, text/event-stream")
                .json(&json!({
                    "jsonrpc": "2.0", "id": 1, "method": "initialize",
                    "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                               "clientInfo": {"name": "docs-test", "version": "1"}}
                }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap_or_else(|e| panic!("{}: {url} answered no JSON: {e}", block.place));
            assert_eq!(
                answer["result"]["serverInfo"]["name"], "qide",
                "{}: {answer}",
                block.place
            );
        }
    }
}

/// Runs every marked example of `page`, in order, against a fresh server
/// over a fresh demo project; returns how many ran.
async fn run_page(page: &str) -> usize {
    let (_dir, project) = demo_project().await;
    let server = start(&project).await;
    let blocks = blocks(page);
    let mut ran_count = 0;
    let mut i = 0;
    while i < blocks.len() {
        let block = &blocks[i];
        i += 1;
        if block.has("test") && block.lang != "rust" {
            let ran = run_example(block, &project, Some(&server)).await;
            assert_eq!(
                ran.code,
                block.expected_exit(),
                "{} exited with {}:\n{}\n{}",
                block.place,
                ran.code,
                ran.stdout,
                ran.stderr
            );
            if let Some(next) = blocks.get(i)
                && next.has("output")
            {
                check_output(block, &ran, next);
                i += 1;
            }
            ran_count += 1;
        } else if block.has("mcp-config") {
            check_mcp_config(block, &server, &project).await;
            ran_count += 1;
        } else if block.has("output") {
            panic!("{}: an output block must follow a test block", block.place);
        }
    }
    ran_count
}

#[tokio::test]
async fn quickstart_examples_run() {
    assert!(run_page("quickstart.md").await >= 5);
}

#[tokio::test]
async fn rest_examples_run() {
    assert!(run_page("rest.md").await >= 10);
}

/// rest.md documents every operation of the server's OpenAPI document,
/// with its `operationId`, so a new route cannot go unexplained.
#[tokio::test]
async fn rest_reference_covers_every_openapi_operation() {
    let (_dir, project) = demo_project().await;
    let server = start(&project).await;
    let spec: Value = reqwest::get(format!("{}/openapi.json", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let reference = std::fs::read_to_string(docs_dir().join("rest.md")).unwrap();
    let mut missing = Vec::new();
    let paths = spec["paths"].as_object().expect("paths");
    assert!(paths.len() >= 15, "{} paths", paths.len());
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().expect("operations") {
            let id = operation["operationId"].as_str().unwrap_or("?");
            let row = format!("`{} {path}`", method.to_uppercase());
            if !reference
                .lines()
                .any(|l| l.starts_with('|') && l.contains(&row) && l.contains(&format!("`{id}`")))
            {
                missing.push(format!("{row} ({id})"));
            }
        }
    }
    assert!(missing.is_empty(), "rest.md's table lacks {missing:?}");
}

#[tokio::test]
async fn python_examples_run() {
    assert!(run_page("python.md").await >= 3);
}

#[tokio::test]
async fn troubleshooting_examples_run() {
    assert!(run_page("troubleshooting.md").await >= 5);
}

#[tokio::test]
async fn mcp_configs_parse_and_name_qide() {
    let configs = blocks("mcp.md")
        .iter()
        .filter(|b| b.has("mcp-config"))
        .count();
    // Claude Code, Cursor, VS Code, Codex, Windsurf and Zed, stdio and HTTP.
    assert!(configs >= 12, "{configs} configurations");
    run_page("mcp.md").await;
}

#[tokio::test]
async fn rust_example_is_the_compiled_one_and_runs() {
    let blocks = blocks("rust.md");
    let shown: Vec<usize> = (0..blocks.len())
        .filter(|&i| blocks[i].lang == "rust" && blocks[i].has("test"))
        .collect();
    assert_eq!(shown.len(), 1, "rust.md shows one tested program");
    let (program, output) = (&blocks[shown[0]], &blocks[shown[0] + 1]);
    assert!(
        output.has("output"),
        "{}: no output after it",
        program.place
    );
    let source = include_str!("guide_rust.rs");
    assert!(
        source.contains(&program.text),
        "{} is not the text of crates/qide/tests/it/guide_rust.rs",
        program.place
    );
    let (_dir, project) = demo_project().await;
    let server = start(&project).await;
    let printed = crate::guide_rust::fix_loop(&server.client())
        .await
        .expect("the guide's Rust example");
    let ran = Ran {
        code: 0,
        stdout: printed,
        stderr: String::new(),
    };
    check_output(program, &ran, output);
}

#[test]
fn every_page_is_listed_in_the_index() {
    let index = std::fs::read_to_string(docs_dir().join("README.md")).unwrap();
    for entry in std::fs::read_dir(docs_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".md") && name != "README.md" {
            assert!(
                index.contains(&format!("]({name})")),
                "README.md lacks {name}"
            );
        }
    }
}

#[test]
fn glob_and_shape_checks_catch_differences() {
    assert!(glob_match(
        "qide: build #1 failed in …ms",
        "qide: build #1 failed in 12ms"
    ));
    assert!(!glob_match(
        "qide: build #1 failed in …ms",
        "qide: build #2 failed in 12ms"
    ));
    assert!(glob_match("…", ""));
    let mut problems = Vec::new();
    check_shape(
        &json!({"id": 1, "status": "failed", "steps": [{"name": "run"}], "at": "2026-…Z"}),
        &json!({"id": 7, "status": "failed", "steps": [{"name": "run", "x": 1}], "at": "2026-11-26T08:00:00Z", "more": true}),
        "$",
        &mut problems,
    );
    assert!(problems.is_empty(), "{problems:?}");
    check_shape(
        &json!({"status": "failed", "steps": [{}, {}], "gone": 1, "n": 1}),
        &json!({"status": "success", "steps": [{}], "n": "1"}),
        "$",
        &mut problems,
    );
    assert_eq!(problems.len(), 4, "{problems:#?}");
}
