//! The security commands and flags of the real binary: `qide user`,
//! `qide audit`, `qide serve`'s refusals of unsafe or wrong settings, and
//! client commands over HTTPS.

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

#[test]
fn client_commands_reach_an_https_server_that_trusts_its_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = qide()
        .args(["serve", d, "--bind", &format!("127.0.0.1:{port}")])
        .args(["--tls-cert", cert, "--tls-key", key])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = crate::server::Server {
        child,
        url: format!("https://localhost:{port}"),
    };
    let url = format!("https://localhost:{port}");

    // Trusting the certificate, `qide builds` answers once the server is up.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let listed = loop {
        let (code, out, err) = run_with_stdin(
            &["builds", "--server", &url, "--ca-cert", cert, "--json"],
            "",
        );
        if code == 0 {
            break out;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never answered: {err}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed["total"], 0);

    // The same through the environment variable.
    let out = qide()
        .args(["builds", "--server", &url, "--json"])
        .env("QIDE_CA_CERT", cert)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    // Without it, the self-signed certificate is refused, and the message
    // says why rather than only that the request failed.
    let (code, _, err) = run_with_stdin(&["builds", "--server", &url], "");
    assert_ne!(code, 0);
    assert!(err.to_lowercase().contains("certificate"), "{err}");

    // A file that is not PEM is named in the error.
    let (code, _, err) = run_with_stdin(&["builds", "--server", &url, "--ca-cert", d], "");
    assert_ne!(code, 0);
    assert!(err.contains("--ca-cert"), "{err}");
    let (code, _, err) = run_with_stdin(&["builds", "--server", &url, "--ca-cert", key], "");
    assert_ne!(code, 0);
    assert!(err.contains("no PEM certificate"), "{err}");
}

#[tokio::test]
async fn qide_toml_sets_how_many_builds_run_at_once() {
    // Two builds that each wait for the other's marker: they finish only
    // if both run at the same time.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("qide.toml"),
        "[build]\nmax_concurrent_builds = 2\n",
    )
    .unwrap();
    let server = crate::server::start(dir.path()).await;
    let client = server.client();
    let meet = |me: &str, other: &str| qide_api::RunRequest {
        steps: Some(vec![qide_api::StepRequest {
            name: Some(me.to_owned()),
            run: format!(
                "touch {me}.here; i=0; while [ ! -e {other}.here ]; do i=$((i+1)); \
                 [ $i -gt 100 ] && exit 1; sleep 0.1; done"
            ),
            timeout_s: None,
            env: Default::default(),
        }]),
        ..Default::default()
    };
    let a = client.run_build(&meet("a", "b")).await.unwrap();
    let b = client.run_build(&meet("b", "a")).await.unwrap();
    for id in [a.id, b.id] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let build = loop {
            let build = client.build(id, Some(30)).await.unwrap();
            if build.status.is_finished() {
                break build;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "build {id} never finished"
            );
        };
        assert_eq!(build.status, qide_api::BuildStatus::Success, "build {id}");
    }
    drop(server);

    // A cap of 0 would run nothing: refused, naming where it came from.
    std::fs::write(
        dir.path().join("qide.toml"),
        "[build]\nmax_concurrent_builds = 0\n",
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, _, err) = run_with_stdin(&["serve", d, "--bind", "127.0.0.1:0"], "");
    assert_ne!(code, 0);
    assert!(err.contains("max_concurrent_builds in qide.toml"), "{err}");
}
