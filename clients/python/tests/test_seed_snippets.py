"""The seed design's "Example Usage Flow" and "Integration Testing" snippets,
run verbatim against a real `qide serve`.

The snippets live unchanged in tests/seed_snippets/. They call `LLMClient()`
with no arguments, which reads QIDE_URL (falling back to localhost:8000), so
the tests point QIDE_URL at the test server. The usage flow calls
`your_llm_analysis(errors, codebase)`, which the seed leaves to the reader;
the test provides it as a global.
"""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from qide_client import LLMClient

SNIPPETS = Path(__file__).resolve().parent / "seed_snippets"
EXAMPLE_USAGE_FLOW = SNIPPETS / "example_usage_flow.py"
INTEGRATION_TESTING = SNIPPETS / "integration_testing.py"
# The seed lives in the shared folder beside the repository checkout.
_DEFAULT_SEED = Path(__file__).resolve().parents[3].parent / "shared" / "seed" / "000_19c10bd44647620a.txt"
SEED = Path(os.environ.get("QIDE_SEED", str(_DEFAULT_SEED)))

ANALYSIS_TEXT = "seed-flow analysis: the check step reports boom at src/app.py:3"


def test_backend_shim_is_the_same_client() -> None:
    from backend.llm_client import LLMClient as SeedClient, QIDEError as SeedError

    import qide_client

    assert SeedClient is qide_client.LLMClient
    assert SeedError is qide_client.QIDEError


def test_example_usage_flow_verbatim(server, failed_build, ok_build,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QIDE_URL", server.url)
    client = LLMClient(server.url)
    failed_ids = [b.id for b in client.get_builds(limit=50).builds if b.status == "failed"][:10]
    assert failed_build["id"] in failed_ids
    reports_before = {bid: len(client.get_build(bid)["reports"]) for bid in failed_ids}

    calls: List[Dict[str, Any]] = []

    def your_llm_analysis(errors: List[Dict[str, Any]], codebase: Dict[str, Any]) -> Dict[str, Any]:
        calls.append({"errors": errors, "codebase": codebase})
        first = errors[0] if errors else {}
        return {
            "text": ANALYSIS_TEXT,
            "recommendations": [f"look at {first.get('file')}:{first.get('line')}"],
            "confidence": 0.6,
        }

    runpy.run_path(str(EXAMPLE_USAGE_FLOW), init_globals={"your_llm_analysis": your_llm_analysis},
                   run_name="__main__")

    # The flow analysed every failed build (at most 10) with real data …
    assert len(calls) == len(failed_ids)
    seen_boom = [c for c in calls if any(e["message"] == "boom" for e in c["errors"])]
    assert seen_boom, "the failing build's diagnostic reached the analysis"
    assert all("structure_summary" in c["codebase"] for c in calls)
    # … and its reports are stored, visible through the API.
    for bid in failed_ids:
        data = client.get_build(bid)
        assert len(data["reports"]) == reports_before[bid] + 1
        report = data["reports"][-1]
        assert report["type"] == "failure_analysis"
        assert report["analysis"] == ANALYSIS_TEXT
        assert report["confidence"] == 0.6
        assert data["build"]["report_count"] == len(data["reports"])
    # Successful builds were left alone.
    assert all(r["analysis"] != ANALYSIS_TEXT for r in client.get_build(ok_build["id"])["reports"])


def test_integration_testing_verbatim_in_process(server, failed_build,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QIDE_URL", server.url)
    namespace = runpy.run_path(str(INTEGRATION_TESTING), run_name="__main__")
    assert namespace["builds"].total >= 1
    assert "log_summary" in namespace["build"]


def test_integration_testing_verbatim_as_a_script(server, failed_build) -> None:
    env = dict(os.environ, QIDE_URL=server.url)
    done = subprocess.run([sys.executable, str(INTEGRATION_TESTING)], env=env,
                          capture_output=True, text=True, timeout=60, cwd=str(SNIPPETS.parent))
    assert done.returncode == 0, done.stderr


def test_integration_testing_on_an_empty_server(tmp_path: Path) -> None:
    """With no builds yet the snippet must pass too (`if builds.builds:`)."""
    from conftest import QIDE_TOML, qide_bin, Server, _wait_until_serving

    project = tmp_path / "empty"
    project.mkdir()
    (project / "qide.toml").write_text(QIDE_TOML)
    log_path = tmp_path / "qide.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(qide_bin()), "serve", str(project), "--bind", "127.0.0.1:0"],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        srv = Server(url="", project=project, log_path=log_path, proc=proc)
        srv.url = _wait_until_serving(srv)
        env = dict(os.environ, QIDE_URL=srv.url)
        done = subprocess.run([sys.executable, str(INTEGRATION_TESTING)], env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert LLMClient(srv.url).get_builds().total == 0
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _seed_block(seed: str, heading: str) -> str:
    start = seed.index(heading)
    m = re.compile(r"```python\n(.*?)```", re.S).search(seed, start)
    assert m, heading
    return m.group(1)


@pytest.mark.skipif(not SEED.is_file(), reason=f"seed document not found at {SEED} (set QIDE_SEED)")
def test_snippets_are_verbatim_copies_of_the_seed() -> None:
    seed = SEED.read_text()
    assert EXAMPLE_USAGE_FLOW.read_text() == _seed_block(seed, "### Example Usage Flow")
    assert INTEGRATION_TESTING.read_text() == _seed_block(seed, "### Integration Testing")
