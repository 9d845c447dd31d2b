"""Every LLMClient method against a real `qide serve`."""

from __future__ import annotations

import dataclasses
import http.server
import json
import socket
import threading
import time
from typing import Any, Dict, Iterator, List, Tuple

import pytest

import qide_client
from qide_client import (
    BuildList,
    BuildSummary,
    LLMClient,
    QIDEConnectionError,
    QIDEError,
    QIDEWaitTimeout,
)

SEED_SUMMARY_FIELDS = [
    "id", "status", "trigger", "commit", "branch", "dirty", "created_at", "started_at",
    "finished_at", "duration_ms", "exit_code", "failure_kind", "failure_category",
    "error_count", "warning_count", "report_count",
]


# ----------------------------------------------------------------------
# health, construction
# ----------------------------------------------------------------------

def test_health(client: LLMClient) -> None:
    h = client.health()
    assert h["status"] == "ok"
    assert isinstance(h["version"], str) and h["version"]


def test_default_base_url_comes_from_qide_url(monkeypatch: pytest.MonkeyPatch, server) -> None:
    monkeypatch.delenv("QIDE_URL", raising=False)
    assert LLMClient().base_url == "http://localhost:8000"
    monkeypatch.setenv("QIDE_URL", server.url + "/")
    c = LLMClient()
    assert c.base_url == server.url
    assert c.health()["status"] == "ok"
    # An explicit base_url wins over the environment.
    assert LLMClient("http://example.invalid:1").base_url == "http://example.invalid:1"
    assert LLMClient("127.0.0.1:9").base_url == "http://127.0.0.1:9"


def test_context_manager(server) -> None:
    with LLMClient(server.url) as c:
        assert c.health()["status"] == "ok"


# ----------------------------------------------------------------------
# get_builds
# ----------------------------------------------------------------------

def test_get_builds_types_and_fields(client: LLMClient, failed_build, ok_build) -> None:
    page = client.get_builds()
    assert isinstance(page, BuildList)
    assert page.total >= 2 and page.skip == 0 and page.limit == 50
    assert all(isinstance(b, BuildSummary) for b in page.builds)
    ids = [b.id for b in page.builds]
    assert ids == sorted(ids, reverse=True), "newest first"
    by_id = {b.id: b for b in page.builds}
    failed = by_id[failed_build["id"]]
    for name in SEED_SUMMARY_FIELDS:
        assert hasattr(failed, name), name
    assert failed.status == "failed"
    assert failed.trigger == "api"
    assert failed.exit_code == 1
    assert failed.failure_kind == "exit_non_zero"
    assert failed.error_count == 1
    assert isinstance(failed.duration_ms, int)
    assert failed.created_at and failed.created_at.endswith("Z")
    assert failed.is_finished
    # Fields beyond the seed's are kept too.
    assert failed.tree_hash and failed.tree_hash.startswith("b3:")
    assert failed.log_line_count and failed.log_line_count >= 2
    assert by_id[ok_build["id"]].status == "success"
    # The typed item round-trips to the server's JSON.
    assert failed.to_dict()["id"] == failed.id


def test_get_builds_paging_and_status_filter(client: LLMClient, failed_build, ok_build) -> None:
    total = client.get_builds().total
    page = client.get_builds(skip=1, limit=1)
    assert (page.skip, page.limit, page.total) == (1, 1, total)
    assert len(page.builds) == 1
    only_failed = client.get_builds(status="failed")
    assert only_failed.builds and all(b.status == "failed" for b in only_failed.builds)
    only_ok = client.get_builds(status="success")
    assert all(b.status == "success" for b in only_ok.builds)
    assert list(only_ok) == only_ok.builds and len(only_ok) == len(only_ok.builds)


@pytest.mark.parametrize("kwargs, field", [
    ({"limit": 0}, "limit"),
    ({"limit": 501}, "limit"),
    ({"skip": -1}, "skip"),
    ({"status": "exploded"}, "status"),
])
def test_get_builds_invalid_arguments(client: LLMClient, kwargs: Dict[str, Any], field: str) -> None:
    with pytest.raises(QIDEError) as info:
        client.get_builds(**kwargs)
    e = info.value
    assert (e.status, e.code, e.field) == (422, "invalid_field", field)
    assert e.detail
    assert field in str(e)


def test_unknown_fields_do_not_break_parsing() -> None:
    raw = {
        "id": 9, "status": "failed", "trigger": "api", "commit": None, "branch": None,
        "dirty": None, "created_at": "2026-01-01T00:00:00Z", "started_at": None,
        "finished_at": None, "duration_ms": None, "exit_code": None, "failure_kind": None,
        "failure_category": None, "error_count": 0, "warning_count": 0, "report_count": 0,
        "brand_new_field": {"x": 1}, "extra": "server's own extra",
    }
    b = BuildSummary.from_dict(raw)
    assert b.id == 9 and b.status == "failed"
    assert b.extra == {"brand_new_field": {"x": 1}, "extra": "server's own extra"}
    # Missing optional fields default instead of failing.
    minimal = BuildSummary.from_dict({"id": 1, "status": "queued"})
    assert minimal.error_count == 0 and minimal.commit is None and not minimal.is_finished
    page = BuildList.from_dict({"builds": [raw], "total": 1, "skip": 0, "limit": 5, "next": "x"})
    assert page.builds[0].extra["brand_new_field"] == {"x": 1}
    assert page.extra == {"next": "x"}
    assert dataclasses.is_dataclass(page) and dataclasses.is_dataclass(b)


# ----------------------------------------------------------------------
# get_build (the failure packet)
# ----------------------------------------------------------------------

def test_get_build_failure_packet(client: LLMClient, failed_build) -> None:
    data = client.get_build(failed_build["id"])
    for key in ("build", "log_summary", "reports", "known_issues", "truncated", "tokens"):
        assert key in data, key
    assert data["build"]["id"] == failed_build["id"]
    assert data["build"]["steps"][0]["name"] == "check"
    summary = data["log_summary"]
    assert summary["error_count"] == 1
    err = summary["errors"][0]
    assert (err["file"], err["line"], err["column"], err["message"]) == ("src/app.py", 3, 1, "boom")
    assert err["severity"] == "error" and err["fingerprint"]
    assert err["id"] in summary["root_causes"]
    assert any("boom" in line for line in summary["tail"])
    # The snippet comes from the project's source.
    assert any("greet(1)" in line for line in err["snippet"]["lines"])


def test_get_build_with_budget(client: LLMClient, failed_build) -> None:
    assert "log_summary" in client.get_build(failed_build["id"], budget_tokens=1000)
    with pytest.raises(QIDEError) as info:
        client.get_build(failed_build["id"], budget_tokens=1)
    assert (info.value.status, info.value.field) == (422, "budget_tokens")


@pytest.mark.parametrize("build_id", [999999, 0, -3, "abc", "../health"])
def test_get_build_unknown_is_404(client: LLMClient, build_id: Any) -> None:
    with pytest.raises(QIDEError) as info:
        client.get_build(build_id)
    e = info.value
    assert type(e) is QIDEError
    assert (e.status, e.code) == (404, "not_found")
    assert e.field is None
    assert e.detail


# ----------------------------------------------------------------------
# get_codebase
# ----------------------------------------------------------------------

def test_get_codebase(client: LLMClient, server) -> None:
    cb = client.get_codebase()
    s = cb["structure_summary"]
    for key in ("has_backend", "has_frontend", "has_tests", "languages", "file_count",
                "total_lines", "total_tokens"):
        assert key in s, key
    paths = {f["path"] for f in cb["files"]}
    assert {"src/app.py", "qide.toml"} <= paths
    assert ".qide" not in {p.split("/")[0] for p in paths}
    assert "qide.toml" in cb["key_files"]
    assert any(p["path"] == "src/app.py" for p in cb["source_previews"])
    assert "git" in cb and "root" in cb


# ----------------------------------------------------------------------
# submit_report
# ----------------------------------------------------------------------

def test_submit_report_roundtrip(client: LLMClient, failed_build) -> None:
    bid = failed_build["id"]
    fp = client.get_build(bid)["log_summary"]["errors"][0]["fingerprint"]
    before = client.get_build(bid)["build"]["report_count"]
    stored = client.submit_report(
        build_id=bid, type="failure_analysis", analysis="greet() gets an int",
        recommendations=["pass a str", "add a type hint"], confidence=0.75,
        fingerprints=[fp], agent="pytest", model="none", ignored_when_none=None,
    )
    assert stored["id"] > 0 and stored["build_id"] == bid
    assert stored["type"] == "failure_analysis"
    assert stored["recommendations"] == ["pass a str", "add a type hint"]
    assert stored["confidence"] == 0.75
    assert (stored["fingerprints"], stored["agent"], stored["model"]) == ([fp], "pytest", "none")
    assert stored["created_at"].endswith("Z")
    after = client.get_build(bid)
    assert stored in after["reports"]
    assert after["build"]["report_count"] == before + 1


def test_submit_report_positional_and_empty_recommendations(client: LLMClient, failed_build) -> None:
    stored = client.submit_report(failed_build["id"], "other", "note", [], 0)
    assert stored["recommendations"] == [] and stored["confidence"] == 0


@pytest.mark.parametrize("override, field", [
    ({"confidence": 1.5}, "confidence"),
    ({"confidence": -0.1}, "confidence"),
    ({"type": "vibes"}, "type"),
    ({"analysis": "   "}, "analysis"),
    ({"recommendations": 42}, "recommendations"),
])
def test_submit_report_invalid_fields(client: LLMClient, failed_build,
                                      override: Dict[str, Any], field: str) -> None:
    args: Dict[str, Any] = dict(build_id=failed_build["id"], type="failure_analysis",
                                analysis="x", recommendations=["y"], confidence=0.5)
    args.update(override)
    with pytest.raises(QIDEError) as info:
        client.submit_report(**args)
    e = info.value
    assert (e.status, e.code, e.field) == (422, "invalid_field", field)


def test_submit_report_single_string_recommendation(client: LLMClient, failed_build) -> None:
    stored = client.submit_report(failed_build["id"], "other", "x", "just one", 0.2)
    assert stored["recommendations"] == ["just one"]


def test_submit_report_confidence_1_5_is_422_naming_confidence(client: LLMClient, failed_build) -> None:
    with pytest.raises(QIDEError) as info:
        client.submit_report(build_id=failed_build["id"], type="failure_analysis",
                             analysis="x", recommendations=[], confidence=1.5)
    assert info.value.status == 422
    assert info.value.field == "confidence"
    assert "confidence" in info.value.detail


def test_submit_report_unknown_extra_field_is_named(client: LLMClient, failed_build) -> None:
    with pytest.raises(QIDEError) as info:
        client.submit_report(failed_build["id"], "other", "x", [], 0.1, colour="blue")
    assert (info.value.status, info.value.field) == (422, "colour")


def test_submit_report_unknown_build_is_404(client: LLMClient) -> None:
    with pytest.raises(QIDEError) as info:
        client.submit_report(build_id=987654, type="failure_analysis", analysis="x",
                             recommendations=[], confidence=0.5)
    assert (info.value.status, info.value.code) == (404, "not_found")


# ----------------------------------------------------------------------
# run_build, wait_for_build, get_log, cancel_build
# ----------------------------------------------------------------------

def test_run_build_with_steps_and_env(client: LLMClient) -> None:
    accepted = client.run_build(
        steps=[{"name": "greet", "run": 'echo "hi $WHO"', "timeout_s": 60}, "echo second"],
        env={"WHO": "python"}, timeout_s=120,
    )
    assert accepted["status"] == "queued" and accepted["id"] > 0
    build = client.wait_for_build(accepted["id"], timeout=60)
    assert build["status"] == "success"
    assert [s["name"] for s in build["steps"]] == ["greet", "step2"]
    log = client.get_log(accepted["id"])
    texts = [line["text"] for line in log["lines"]]
    assert "hi python" in texts and "second" in texts


def test_run_build_profile(client: LLMClient, ok_build) -> None:
    assert ok_build["steps"][0]["name"] == "ok"


def test_run_build_trigger(client: LLMClient) -> None:
    accepted = client.run_build(profile="ok", trigger="agent")
    assert client.wait_for_build(accepted["id"], timeout=60)["trigger"] == "agent"


@pytest.mark.parametrize("kwargs, field", [
    ({"profile": "nope"}, "profile"),
    ({"timeout_s": 0}, "timeout_s"),
    ({"steps": []}, "steps"),
    ({"steps": [{"run": "true", "timeout_s": 0}]}, "steps[0].timeout_s"),
    ({"steps": [{"run": "true", "shell": "zsh"}]}, "steps[0].shell"),
])
def test_run_build_invalid(client: LLMClient, kwargs: Dict[str, Any], field: str) -> None:
    with pytest.raises(QIDEError) as info:
        client.run_build(**kwargs)
    assert (info.value.status, info.value.code, info.value.field) == (422, "invalid_field", field)


def test_wait_for_build_long_polls(client: LLMClient) -> None:
    accepted = client.run_build(steps=["sleep 2; echo done"])
    started = time.monotonic()
    build = client.wait_for_build(accepted["id"], timeout=60)
    elapsed = time.monotonic() - started
    assert build["status"] == "success"
    assert build["finished_at"] and build["duration_ms"] >= 1500
    assert elapsed < 30


def test_wait_for_build_unknown_is_404(client: LLMClient) -> None:
    with pytest.raises(QIDEError) as info:
        client.wait_for_build(424242, timeout=5)
    assert (info.value.status, info.value.code) == (404, "not_found")


def test_wait_timeout_then_cancel(client: LLMClient) -> None:
    accepted = client.run_build(profile="slow")
    bid = accepted["id"]
    with pytest.raises(QIDEWaitTimeout) as info:
        client.wait_for_build(bid, timeout=1)
    assert isinstance(info.value, QIDEError)
    assert info.value.build["status"] in ("queued", "running")
    cancelled = client.cancel_build(bid)
    assert cancelled["id"] == bid
    build = client.wait_for_build(bid, timeout=60)
    assert build["status"] == "error" and build["failure_kind"] == "cancelled"
    # Cancelling a finished build is a conflict.
    with pytest.raises(QIDEError) as again:
        client.cancel_build(bid)
    assert (again.value.status, again.value.code) == (409, "conflict")


def test_cancel_unknown_build_is_404(client: LLMClient) -> None:
    with pytest.raises(QIDEError) as info:
        client.cancel_build(777777)
    assert (info.value.status, info.value.code) == (404, "not_found")


def test_get_log_modes(client: LLMClient, failed_build) -> None:
    bid = failed_build["id"]
    full = client.get_log(bid)
    assert full["total_lines"] >= 2 and not full["truncated"]
    numbers = [line["n"] for line in full["lines"]]
    assert numbers == list(range(1, len(numbers) + 1))
    assert all(set(line) >= {"n", "stream", "step", "text"} for line in full["lines"])
    boom = [line for line in full["lines"] if line["text"] == "src/app.py:3:1: error: boom"]
    assert boom and boom[0]["step"] == "check" and boom[0]["stream"] == "stdout"

    page = client.get_log(bid, from_=2, limit=1)
    assert [line["n"] for line in page["lines"]] == [2]
    assert page["truncated"] and page["next_from"] == 3

    tail = client.get_log(bid, tail=1)
    assert [line["n"] for line in tail["lines"]] == [numbers[-1]]

    grep = client.get_log(bid, grep=r"^src/app\.py:3:1: error: boo+m$")
    assert [line["text"] for line in grep["lines"]] == ["src/app.py:3:1: error: boom"]
    ctx = client.get_log(bid, grep=r"^src/app\.py:3:1: error: boom$", context=1)
    assert len(ctx["lines"]) > len(grep["lines"])


@pytest.mark.parametrize("kwargs, field", [
    ({"tail": 1, "grep": "x"}, "tail"),
    ({"from_": 0}, "from"),
    ({"grep": "("}, "grep"),
    ({"context": 999}, "context"),
])
def test_get_log_invalid(client: LLMClient, failed_build, kwargs: Dict[str, Any], field: str) -> None:
    with pytest.raises(QIDEError) as info:
        client.get_log(failed_build["id"], **kwargs)
    assert (info.value.status, info.value.field) == (422, field)


def test_get_log_unknown_build_is_404(client: LLMClient) -> None:
    with pytest.raises(QIDEError) as info:
        client.get_log(555555)
    assert info.value.status == 404


# ----------------------------------------------------------------------
# get_patterns
# ----------------------------------------------------------------------

def test_get_patterns_raises_cleanly_while_missing(client: LLMClient, failed_build) -> None:
    """GET /llm/learning/patterns is not implemented by the server yet: the
    client must raise QIDEError 404 not_found. When the server gains it, this
    test accepts the dict it returns."""
    try:
        patterns = client.get_patterns()
    except QIDEError as e:
        assert type(e) is QIDEError
        assert (e.status, e.code) == (404, "not_found")
        assert "/llm/learning/patterns" in str(e)
    else:
        assert isinstance(patterns, dict)


def test_unknown_route_is_a_clean_404(client: LLMClient) -> None:
    with pytest.raises(QIDEError) as info:
        client._request("GET", "/no/such/route")
    assert (info.value.status, info.value.code, info.value.title) == (404, "not_found", "Not found")
    assert info.value.body and info.value.body["type"] == "/problems/not-found"


# ----------------------------------------------------------------------
# transport: connection errors, timeouts, headers, odd answers
# ----------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_is_a_connection_error() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    c = LLMClient(url, timeout=5)
    for call in (c.health, c.get_builds, c.get_codebase, lambda: c.get_build(1),
                 lambda: c.submit_report(1, "other", "x", [], 0.5)):
        with pytest.raises(QIDEConnectionError) as info:
            call()
        e = info.value
        assert isinstance(e, QIDEError)
        assert e.status is None and e.code == "connection_error"
        assert url in str(e) and "qide serve" in str(e)


class _Stub(http.server.BaseHTTPRequestHandler):
    """A tiny server to observe request headers and send odd answers — the
    QIDE server does not (yet) check auth headers nor misbehave on cue."""

    seen: List[Dict[str, str]] = []

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _answer(self) -> None:
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        if self.path.startswith("/slow"):
            time.sleep(3)
        if self.path.startswith("/html"):
            body, ctype, status = b"<html>bad gateway</html>", "text/html", 502
        elif self.path.startswith("/notjson"):
            body, ctype, status = b"hello", "text/plain", 200
        elif self.path.startswith("/plainjsonerror"):
            body, ctype, status = b'{"message": "nope"}', "application/json", 400
        else:
            body, ctype, status = json.dumps({"status": "ok", "version": "stub"}).encode(), \
                "application/json", 200
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass

    do_GET = _answer
    do_POST = _answer


@pytest.fixture()
def stub() -> Iterator[Tuple[str, List[Dict[str, str]]]]:
    _Stub.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", _Stub.seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_auth_headers(stub) -> None:
    url, seen = stub
    LLMClient(url, token="tok-123", session_id="sess-9").health()
    assert seen[-1]["authorization"] == "Bearer tok-123"
    assert seen[-1]["x-session-id"] == "sess-9"
    assert seen[-1]["user-agent"].startswith("qide-client-python/")
    LLMClient(url).health()
    assert "authorization" not in seen[-1] and "x-session-id" not in seen[-1]


def test_post_sends_json(stub) -> None:
    url, seen = stub
    LLMClient(url).submit_report(1, "other", "x", [], 0.5)
    assert seen[-1]["content-type"] == "application/json"


def test_non_problem_error_bodies(stub) -> None:
    url, _ = stub
    c = LLMClient(url)
    with pytest.raises(QIDEError) as info:
        c._request("GET", "/html")
    assert (info.value.status, info.value.code) == (502, "http_error")
    assert "bad gateway" in info.value.detail
    with pytest.raises(QIDEError) as info:
        c._request("GET", "/plainjsonerror")
    assert (info.value.status, info.value.code, info.value.body) == (400, "http_error", {"message": "nope"})
    with pytest.raises(QIDEError) as info:
        c._request("GET", "/notjson")
    assert (info.value.status, info.value.code) == (200, "invalid_response")


def test_timeout_is_a_connection_error(stub) -> None:
    url, _ = stub
    with pytest.raises(QIDEConnectionError) as info:
        LLMClient(url, timeout=0.5)._request("GET", "/slow")
    assert info.value.code == "timeout" and "0.5s" in str(info.value)


def test_public_api_is_exported() -> None:
    for name in qide_client.__all__:
        assert hasattr(qide_client, name), name
