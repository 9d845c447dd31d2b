//! HTTPS: the server over rustls with a certificate made for the test,
//! reached by a client that trusts only that certificate; session cookies
//! are `Secure` there.

use std::sync::Arc;

use qide_api as api;
use qide_runner::Runner;
use qide_server::{AppState, LogSummarizer, token_hash};
use qide_store::{SqlStore, Store};
use reqwest::StatusCode;
use tokio_util::sync::CancellationToken;

use crate::harness::test_limits;

struct TlsApp {
    base: String,
    client: reqwest::Client,
    store: Arc<dyn Store>,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

async fn spawn_tls_app() -> TlsApp {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join(".qide")).unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_path = root.join(".qide/cert.pem");
    let key_path = root.join(".qide/key.pem");
    std::fs::write(&cert_path, certified.cert.pem()).unwrap();
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).unwrap();

    let store: Arc<dyn Store> = Arc::new(
        SqlStore::open_sqlite(&root.join(".qide/qide.db"))
            .await
            .unwrap(),
    );
    let summarizer = Arc::new(LogSummarizer {
        store: store.clone(),
        root: root.clone(),
    });
    let runner = Runner::new(store.clone(), root.clone(), test_limits(), summarizer);
    let shutdown = CancellationToken::new();
    {
        let runner = runner.clone();
        let token = shutdown.clone();
        tokio::spawn(async move { runner.run(token).await });
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = qide_server::load_tls_config(&cert_path, &key_path)
        .await
        .unwrap();
    let state = AppState::new(store.clone(), runner);
    let token = shutdown.clone();
    let server = tokio::spawn(qide_server::serve_tls(
        listener,
        config,
        state,
        async move { token.cancelled().await },
    ));
    let trusted = reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([trusted])
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TlsApp {
        base: format!("https://localhost:{port}"),
        client,
        store,
        shutdown,
        server,
        _dir: dir,
    }
}

#[tokio::test]
async fn the_server_speaks_https_with_secure_session_cookies() {
    let app = spawn_tls_app().await;
    let health = app
        .client
        .get(format!("{}/health", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let health: api::Health = health.json().await.unwrap();
    assert_eq!(health.status, "ok");

    // Plain HTTP to the TLS port gets no answer it could read.
    let plain = reqwest::Client::new()
        .get(app.base.replace("https://", "http://") + "/health")
        .send()
        .await;
    assert!(
        plain.is_err() || !plain.unwrap().status().is_success(),
        "plain HTTP must not be served"
    );
    // A client that does not trust the certificate refuses it.
    let stranger = reqwest::Client::builder()
        .tls_certs_only([])
        .build()
        .unwrap()
        .get(format!("{}/health", app.base))
        .send()
        .await;
    assert!(stranger.is_err());

    // Signing in over TLS gives a Secure cookie, the pre-session one too.
    let token = qide_server::new_token().unwrap();
    app.store
        .create_token("ci", &token_hash(&token), &["read".to_owned()], 1)
        .await
        .unwrap();
    let form = app
        .client
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    let pre_cookie = form.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(pre_cookie.contains("; Secure"), "{pre_cookie}");
    let html = form.text().await.unwrap();
    let marker = r#"name="csrf" value=""#;
    let at = html.find(marker).unwrap() + marker.len();
    let csrf = html[at..].split('"').next().unwrap();
    let pre = pre_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1;
    let signed = app
        .client
        .post(format!("{}/login", app.base))
        .header("cookie", format!("qide_login={pre}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let session_cookie = signed
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("qide_session="))
        .unwrap();
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
        assert!(session_cookie.contains(flag), "{flag}: {session_cookie}");
    }
    let session = session_cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("qide_session=");
    let builds = app
        .client
        .get(format!("{}/llm/learning/builds", app.base))
        .header("cookie", format!("qide_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(builds.status(), StatusCode::OK);

    app.shutdown.cancel();
    app.server.await.unwrap().unwrap();
}
