//! A real QIDE server and runner over a fresh temporary project (as in
//! qide-server's tests), and an MCP client talking to `QideMcp` over an
//! in-memory duplex pipe.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use qide_client::Client;
use qide_mcp::QideMcp;
use qide_runner::{BuildLimits, Runner};
use qide_server::{AppState, LogSummarizer};
use qide_store::{SqlStore, Store};
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ClientConfig};
use rmcp::service::{RoleClient, RunningService};
use serde_json::Value;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub(crate) struct TestApp {
    pub(crate) client: Client,
    pub(crate) store: Arc<dyn Store>,
    _dir: TempDir,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A server over a fresh project that `prepare` fills first.
pub(crate) async fn spawn_app(prepare: impl FnOnce(&Path)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    prepare(dir.path());
    let root = dir.path().canonicalize().expect("canonical root");
    std::fs::create_dir_all(root.join(".qide")).expect("state dir");
    let store: Arc<dyn Store> = Arc::new(
        SqlStore::open_sqlite(&root.join(".qide/qide.db"))
            .await
            .expect("open store"),
    );
    let summarizer = Arc::new(LogSummarizer {
        store: store.clone(),
        root: root.clone(),
    });
    let limits = BuildLimits {
        kill_grace: Duration::from_secs(1),
        linger_after_exit: Duration::from_millis(500),
        ..BuildLimits::default()
    };
    let runner = Runner::new(store.clone(), root, limits, summarizer);
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let shutdown = CancellationToken::new();
    {
        let runner = runner.clone();
        let token = shutdown.clone();
        tokio::spawn(async move { runner.run(token).await });
    }
    {
        let token = shutdown.clone();
        let state = AppState::new(store.clone(), runner);
        tokio::spawn(qide_server::serve(listener, state, async move {
            token.cancelled().await
        }));
    }
    TestApp {
        client: Client::new(&format!("http://{addr}")).expect("client"),
        store,
        _dir: dir,
        shutdown,
    }
}

pub(crate) type McpClient = RunningService<RoleClient, ClientConfig>;

/// An MCP client connected to a `QideMcp` over `client`, initialised.
pub(crate) async fn connect(client: Client) -> McpClient {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        let running = QideMcp::new(client)
            .serve(server_io)
            .await
            .expect("MCP server initialises");
        let _ = running.waiting().await;
    });
    ClientConfig::default()
        .serve(client_io)
        .await
        .expect("MCP client initialises")
}

/// A tool's answer: whether it is an error, and its text.
pub(crate) struct Answer {
    pub(crate) is_error: bool,
    pub(crate) text: String,
}

impl Answer {
    /// The text as JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("answer is not JSON ({e}): {}", self.text))
    }
}

/// Calls `name` with `args`; panics on an MCP protocol error.
pub(crate) async fn call(mcp: &McpClient, name: &str, args: Value) -> Answer {
    try_call(mcp, name, args)
        .await
        .unwrap_or_else(|e| panic!("{name}: MCP error {e}"))
}

/// Calls `name` with `args`.
pub(crate) async fn try_call(
    mcp: &McpClient,
    name: &str,
    args: Value,
) -> Result<Answer, rmcp::ServiceError> {
    let args = args.as_object().cloned().unwrap_or_default();
    let result = mcp
        .call_tool(CallToolRequestParams::new(name.to_owned()).with_arguments(args))
        .await?;
    let text = result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Answer {
        is_error: result.is_error == Some(true),
        text,
    })
}
