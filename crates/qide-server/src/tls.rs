//! HTTPS: the same router served over TLS with rustls (through
//! `axum-server`), for a server reached over a network.
//!
//! Session cookies are marked `Secure` by the caller's
//! [`crate::SecurityOptions::secure_cookies`]; `serve_tls` sets it. The MCP
//! tools at `/mcp` call the server back over a second, plain-HTTP listener
//! on loopback (an ephemeral port, answering only local addresses with
//! the same access check), so they need no certificate of their own.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use tokio::net::TcpListener;

use crate::AppState;

/// Reads a PEM certificate chain and private key into a rustls
/// configuration, with a message that names the file when one is wrong.
pub async fn load_tls_config(cert: &Path, key: &Path) -> std::io::Result<RustlsConfig> {
    install_crypto_provider();
    RustlsConfig::from_pem_file(cert, key).await.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!(
                "reading the TLS certificate {} and key {}: {e}",
                cert.display(),
                key.display()
            ),
        )
    })
}

/// rustls needs one process-wide crypto provider; with more than one in
/// the dependency tree it will not pick, so pick aws-lc-rs here. A second
/// call finds it installed, which is fine.
fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Serves `state` over TLS on `listener` until `shutdown` completes, then
/// lets open requests finish (for up to ten seconds).
pub async fn serve_tls(
    listener: std::net::TcpListener,
    config: RustlsConfig,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut state = state;
    let options = crate::SecurityOptions {
        secure_cookies: true,
        ..state.security().clone()
    };
    state = state.with_security(options);
    let (callback, callback_done) = if state.self_url.is_none() {
        let loopback = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        state.self_url = Some(format!("http://{}", loopback.local_addr()?));
        let mut local = state.clone();
        local.allow_any_host = false;
        let stop = tokio_util::sync::CancellationToken::new();
        let token = stop.clone();
        let task = tokio::spawn(crate::serve(loopback, local, async move {
            token.cancelled().await
        }));
        (Some(stop), Some(task))
    } else {
        (None, None)
    };
    let handle: Handle<SocketAddr> = Handle::new();
    let signal = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        signal.graceful_shutdown(Some(Duration::from_secs(10)));
    });
    let result = axum_server::from_tcp_rustls(listener, config)?
        .handle(handle)
        .serve(crate::router(state).into_make_service_with_connect_info::<SocketAddr>())
        .await;
    if let Some(stop) = callback {
        stop.cancel();
    }
    if let Some(task) = callback_done {
        let _ = task.await;
    }
    result
}
