//! Starting and stopping the real `qide serve` process.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `qide serve` process on a free loopback port.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn qide() -> Command {
    #[allow(clippy::disallowed_methods)] // the binary under test
    Command::new(env!("CARGO_BIN_EXE_qide"))
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// Starts `qide serve DIR` and waits until it answers `/health`.
pub(crate) async fn start(dir: &Path) -> Server {
    let port = free_port();
    let child = qide()
        .args([
            "serve",
            dir.to_str().expect("utf-8 path"),
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start qide serve");
    // Owned by the guard at once, so every path kills and reaps it.
    let server = Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let client = server.client();
    for _ in 0..200 {
        if client.health().await.is_ok() {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("qide serve did not answer on {}", server.url);
}

impl Server {
    pub(crate) fn client(&self) -> qide_client::Client {
        qide_client::Client::new(&self.url).expect("client")
    }

    /// SIGKILL: the server gets no chance to clean up.
    pub(crate) fn kill_hard(&mut self) {
        self.child.kill().expect("SIGKILL the server");
        self.child.wait().expect("reap the server");
    }
}

/// True while a process exists and is not a zombie.
pub(crate) fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rfind(')').and_then(|i| stat[i + 2..].chars().next()) != Some('Z'),
        Err(_) => false,
    }
}
