"""Fixtures: a real `qide serve` over a throwaway project.

The server binary comes from $QIDE_BIN, else the debug build at
${CARGO_TARGET_DIR:-<repo>/target}/debug/qide (build it with
`cargo build -p qide`). It listens on 127.0.0.1 on a port the OS picks; the
fixture reads the address from the server's "serving … on http://ADDR" line.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator

import pytest

from qide_client import LLMClient

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent.parent

#: The project's qide.toml: the default steps fail with one generic
#: `file:line:col: error:` diagnostic; profiles give passing and slow builds.
QIDE_TOML = """\
[[steps]]
name = "check"
run = "echo 'checking src/app.py'; echo 'src/app.py:3:1: error: boom'; exit 1"

[profiles.ok]
steps = [{ name = "ok", run = "echo all good" }]

[profiles.slow]
steps = [{ name = "slow", run = "sleep 30" }]
"""

APP_PY = """\
def greet(name):
    return "hello " + name
x = greet(1)
"""


def qide_bin() -> Path:
    explicit = os.environ.get("QIDE_BIN")
    if explicit:
        return Path(explicit)
    target = os.environ.get("CARGO_TARGET_DIR") or str(REPO / "target")
    return Path(target) / "debug" / "qide"


@dataclass
class Server:
    url: str
    project: Path
    log_path: Path
    proc: "subprocess.Popen[bytes]"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    binary = qide_bin()
    if not binary.is_file():
        pytest.fail(
            f"qide binary not found at {binary}: build it with `cargo build -p qide` "
            "or set QIDE_BIN",
            pytrace=False,
        )
    project = tmp_path_factory.mktemp("project")
    (project / "src").mkdir()
    (project / "src" / "app.py").write_text(APP_PY)
    (project / "qide.toml").write_text(QIDE_TOML)
    log_path = tmp_path_factory.mktemp("server") / "qide.log"
    env = dict(os.environ)
    env.pop("QIDE_BIND", None)
    env.pop("QIDE_DATABASE", None)
    env.setdefault("RUST_LOG", "info")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(binary), "serve", str(project), "--bind", "127.0.0.1:0"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
        )
    server = Server(url="", project=project, log_path=log_path, proc=proc)
    try:
        server.url = _wait_until_serving(server)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_until_serving(server: Server, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    url = None
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            pytest.fail(f"qide serve exited with {server.proc.returncode}:\n{server.log()}",
                        pytrace=False)
        if url is None:
            m = re.search(r"serving .* on (http://\S+)", server.log())
            if m:
                url = m.group(1)
        if url is not None:
            try:
                if LLMClient(url, timeout=2).health().get("status") == "ok":
                    return url
            except Exception:  # noqa: BLE001 - not up yet
                pass
        time.sleep(0.05)
    pytest.fail(f"qide serve did not answer /health within {timeout}s:\n{server.log()}",
                pytrace=False)


@pytest.fixture()
def client(server: Server) -> LLMClient:
    return LLMClient(server.url)


@pytest.fixture(scope="session")
def failed_build(server: Server) -> Dict[str, object]:
    """A finished build of the project's failing qide.toml steps."""
    c = LLMClient(server.url)
    accepted = c.run_build()
    build = c.wait_for_build(accepted["id"], timeout=60)
    assert build["status"] == "failed", build
    return build


@pytest.fixture(scope="session")
def ok_build(server: Server) -> Dict[str, object]:
    """A finished, successful build (profile `ok`)."""
    c = LLMClient(server.url)
    accepted = c.run_build(profile="ok")
    build = c.wait_for_build(accepted["id"], timeout=60)
    assert build["status"] == "success", build
    return build
