//! The security commands and flags of the real binary: `qide user`,
//! `qide audit`, and `qide serve`'s refusals of unsafe or wrong settings.

use std::io::Write;
use std::process::Stdio;

use crate::server::qide;

fn run_with_stdin(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = qide()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run qide");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn users_are_added_listed_removed_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, _, err) = run_with_stdin(
        &[
            "user",
            "add",
            "alice",
            "--dir",
            d,
            "--scope",
            "read,report",
            "--password-stdin",
        ],
        "correct horse battery\n",
    );
    assert_eq!(code, 0, "{err}");
    // The same name twice, an unknown scope, a short password: refused.
    for (args, stdin, says) in [
        (vec!["user", "add", "alice"], "another long one\n", "exists"),
        (
            vec!["user", "add", "bob", "--scope", "root"],
            "long enough pw\n",
            "unknown scope",
        ),
        (vec!["user", "add", "bob"], "short\n", "at least 8"),
    ] {
        let mut args = args;
        args.extend(["--dir", d, "--password-stdin"]);
        let (code, _, err) = run_with_stdin(&args, stdin);
        assert_ne!(code, 0, "{args:?}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let (code, out, err) = run_with_stdin(&["user", "list", "--dir", d, "--json"], "");
    assert_eq!(code, 0, "{err}");
    let users: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(users[0]["name"], "alice");
    assert_eq!(users[0]["scopes"], serde_json::json!(["read", "report"]));
    assert!(!out.contains("correct horse"), "{out}");
    // The password is stored only as an argon2 hash.
    let db = std::fs::read(dir.path().join(".qide/qide.db")).unwrap();
    let wal = std::fs::read(dir.path().join(".qide/qide.db-wal")).unwrap_or_default();
    for bytes in [&db, &wal] {
        assert!(
            !String::from_utf8_lossy(bytes).contains("correct horse battery"),
            "the password is in the database"
        );
    }

    let (code, _, err) = run_with_stdin(&["user", "remove", "alice", "--dir", d], "");
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = run_with_stdin(&["user", "remove", "alice", "--dir", d], "");
    assert_ne!(code, 0);
    assert!(err.contains("not found"), "{err}");

    let (code, _, err) = run_with_stdin(
        &[
            "token", "create", "--name", "ci", "--dir", d, "--scope", "run",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run_with_stdin(&["audit", "--dir", d, "--json"], "");
    assert_eq!(code, 0, "{err}");
    let trail: serde_json::Value = serde_json::from_str(&out).unwrap();
    let actions: Vec<(String, String)> = trail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["target"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("token.create".to_owned(), "token:ci".to_owned()),
            ("user.remove".to_owned(), "user:alice".to_owned()),
            ("user.add".to_owned(), "user:alice".to_owned()),
        ]
    );
    let (code, text, _) = run_with_stdin(&["audit", "--dir", d], "");
    assert_eq!(code, 0);
    assert!(text.contains("user.add") && text.contains("cli"), "{text}");
}

#[test]
fn serve_refuses_unsafe_or_wrong_security_settings() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let missing = dir.path().join("missing.pem");
    let missing = missing.to_str().unwrap();
    for (args, says) in [
        (
            vec!["--max-concurrent-builds", "0"],
            "--max-concurrent-builds must be at least 1",
        ),
        (vec!["--cors-origin", "*"], "must be an origin"),
        (
            vec!["--cors-origin", "https://ci.example.com/path"],
            "must be an origin",
        ),
        (
            vec!["--tls-cert", missing, "--tls-key", missing],
            "missing.pem",
        ),
        (vec!["--tls-cert", missing], "--tls-key"),
        (vec!["--session-idle", "soon"], "session-idle"),
    ] {
        let mut full = vec!["serve", d, "--bind", "127.0.0.1:0"];
        full.extend(args.iter().copied());
        let (code, _, err) = run_with_stdin(&full, "");
        assert_ne!(code, 0, "{args:?} started");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    // A user, like a token, lets a server bind beyond loopback: without
    // either it refuses.
    let (code, _, err) = run_with_stdin(&["serve", d, "--bind", "0.0.0.0:0"], "");
    assert_ne!(code, 0);
    assert!(err.contains("no tokens or users"), "{err}");
}
