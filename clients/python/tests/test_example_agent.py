"""examples/python/agent.py, run as a script against a real `qide serve`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from qide_client import LLMClient

AGENT = Path(__file__).resolve().parents[3] / "examples" / "python" / "agent.py"

pytestmark = pytest.mark.skipif(not AGENT.is_file(), reason=f"{AGENT} not found (not a repo checkout)")


def run_agent(*args: str, url: str) -> "subprocess.CompletedProcess[str]":
    env = dict(os.environ, QIDE_URL=url)
    return subprocess.run([sys.executable, str(AGENT), *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_agent_once_reports_each_failed_build_once(server, failed_build) -> None:
    client = LLMClient(server.url)
    dry = run_agent("--once", "--dry-run", url=server.url)
    assert dry.returncode == 0, dry.stderr
    assert f"build #{failed_build['id']}: would report" in dry.stdout

    done = run_agent("--once", url=server.url)
    assert done.returncode == 0, done.stderr
    mine = [r for r in client.get_build(failed_build["id"])["reports"]
            if r["agent"] == "qide-example-agent"]
    assert len(mine) == 1
    report = mine[0]
    assert report["type"] == "failure_analysis"
    assert "src/app.py:3" in report["analysis"] and "boom" in report["analysis"]
    assert any(r.startswith("Fix src/app.py:3:1: boom") for r in report["recommendations"])
    errors = client.get_build(failed_build["id"])["log_summary"]["errors"]
    assert report["fingerprints"] == [errors[0]["fingerprint"]]
    assert 0 < report["confidence"] <= 1

    again = run_agent("--once", "--url", server.url, url="http://127.0.0.1:9")
    assert again.returncode == 0, again.stderr
    assert "0 build(s) analysed" in again.stdout
    assert len([r for r in client.get_build(failed_build["id"])["reports"]
                if r["agent"] == "qide-example-agent"]) == 1


def test_agent_without_a_server_fails_clearly() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = run_agent("--once", url=f"http://127.0.0.1:{port}")
    assert done.returncode == 1
    assert "cannot reach the QIDE server" in done.stderr
