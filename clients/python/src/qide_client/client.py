"""The QIDE HTTP client, standard library only."""

from __future__ import annotations

import json
import math
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Union

from . import __version__
from .errors import QIDEConnectionError, QIDEError, QIDEWaitTimeout
from .models import TERMINAL_STATUSES, BuildList

__all__ = ["LLMClient", "DEFAULT_BASE_URL", "ENV_URL"]

#: Where ``qide serve`` listens by default.
DEFAULT_BASE_URL = "http://localhost:8000"
#: Environment variable that overrides the default base URL.
ENV_URL = "QIDE_URL"
#: Longest wait the server grants one ``GET /build/{id}?wait=`` request.
_MAX_WAIT_S = 300

StepLike = Union[str, Mapping[str, Any]]


class LLMClient:
    """Client for a QIDE server: build history, failure packets, the
    codebase, reports, and running builds.

    Compatible with the seed design's ``backend.llm_client.LLMClient``: the
    seed's examples (``get_builds``, ``get_build``, ``get_codebase``,
    ``submit_report``) run unchanged.

    Args:
        base_url: The server, e.g. ``"http://localhost:8000"``. When ``None``
            (the default) the ``QIDE_URL`` environment variable is used if
            set, else ``http://localhost:8000``.
        token: An API token, sent as ``Authorization: Bearer <token>``.
        session_id: A dashboard session id, sent as ``X-Session-Id``.
        timeout: Seconds to wait for each ordinary request.

    Every method raises :class:`~qide_client.QIDEError` when the server answers
    with an error (``status``, ``code``, ``detail``, ``field`` come from its
    problem+json body) and :class:`~qide_client.QIDEConnectionError` when it
    cannot be reached.
    """

    def __init__(
        self,
        base_url: Optional[str] = None,
        token: Optional[str] = None,
        session_id: Optional[str] = None,
        timeout: float = 30,
    ) -> None:
        if base_url is None:
            base_url = os.environ.get(ENV_URL) or DEFAULT_BASE_URL
        if "://" not in base_url:
            base_url = "http://" + base_url
        self.base_url: str = base_url.rstrip("/")
        self.token: Optional[str] = token
        self.session_id: Optional[str] = session_id
        self.timeout: float = timeout

    def __repr__(self) -> str:
        return f"LLMClient(base_url={self.base_url!r})"

    def __enter__(self) -> "LLMClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Releases resources. Each request uses its own connection, so this
        does nothing today; it exists so the client can be used in ``with``."""

    # ------------------------------------------------------------------
    # Seed endpoints
    # ------------------------------------------------------------------

    def get_builds(self, skip: int = 0, limit: int = 50, status: Optional[str] = None) -> BuildList:
        """``GET /llm/learning/builds``: a page of builds, newest first.

        Args:
            skip: Builds to skip (for paging).
            limit: Builds per page (1–500).
            status: Only builds with this status (``queued``, ``running``,
                ``success``, ``failed`` or ``error``).

        Returns:
            A :class:`~qide_client.BuildList` with ``.builds`` (a list of
            :class:`~qide_client.BuildSummary`), ``.total``, ``.skip`` and
            ``.limit``.
        """
        data = self._request("GET", "/llm/learning/builds",
                             query={"skip": skip, "limit": limit, "status": status})
        return BuildList.from_dict(data)

    def get_build(self, build_id: int, budget_tokens: Optional[int] = None) -> Dict[str, Any]:
        """``GET /llm/learning/build/{id}``: the failure packet.

        Returns the JSON as a dict: ``build`` (with ``steps``),
        ``log_summary`` (``errors``, ``warnings``, ``error_count``,
        ``warning_count``, ``failure_category``, ``root_causes``, ``tests``,
        ``tail``), ``reports``, ``known_issues``, ``suspect_changes``,
        ``truncated`` and ``tokens``.

        Args:
            build_id: The build.
            budget_tokens: Ask the server to fit the packet in this many
                tokens (100–1000000).

        Raises:
            QIDEError: ``status == 404``, ``code == "not_found"`` for an
                unknown build.
        """
        return self._request("GET", f"/llm/learning/build/{_id(build_id)}",
                             query={"budget_tokens": budget_tokens})

    def get_codebase(self, **params: Any) -> Dict[str, Any]:
        """``GET /llm/learning/codebase``: the project's files, key files,
        source previews, ``structure_summary`` and ``git`` state.

        Keyword arguments are passed as query parameters (e.g. a future
        ``mode="map"``); ``None`` values are left out.
        """
        return self._request("GET", "/llm/learning/codebase", query=params)

    def submit_report(
        self,
        build_id: int,
        type: str,
        analysis: str,
        recommendations: Sequence[str],
        confidence: float,
        **extra: Any,
    ) -> Dict[str, Any]:
        """``POST /llm/learning/report``: store an analysis of a build.

        Args:
            build_id: The build analysed.
            type: ``failure_analysis``, ``code_improvement``,
                ``test_coverage`` or ``other``.
            analysis: The analysis text (not empty).
            recommendations: What to do, one string each (a single string
                is sent as a one-item list).
            confidence: In [0, 1].
            **extra: Optional fields the server accepts: ``fingerprints``
                (list of diagnostic fingerprints the report is about),
                ``agent``, ``model``. ``None`` values are left out.

        Returns:
            The stored report (the 201 answer): ``id``, ``build_id``,
            ``type``, ``analysis``, ``recommendations``, ``confidence``,
            ``fingerprints``, ``agent``, ``model``, ``created_at``.

        Raises:
            QIDEError: 404 ``not_found`` for an unknown build; 422
                ``invalid_field`` with ``field`` naming the bad field (e.g.
                ``"confidence"`` for 1.5).
        """
        body: Dict[str, Any] = {
            "build_id": build_id,
            "type": type,
            "analysis": analysis,
            "recommendations": _recommendations(recommendations),
            "confidence": confidence,
        }
        body.update({k: v for k, v in extra.items() if v is not None})
        return self._request("POST", "/llm/learning/report", body=body)

    # ------------------------------------------------------------------
    # Builds
    # ------------------------------------------------------------------

    def run_build(
        self,
        steps: Optional[Iterable[StepLike]] = None,
        profile: Optional[str] = None,
        env: Optional[Mapping[str, str]] = None,
        timeout_s: Optional[int] = None,
        trigger: Optional[str] = None,
    ) -> Dict[str, Any]:
        """``POST /build/run``: queue a build.

        Args:
            steps: The steps to run, each a dict ``{"name"?, "run",
                "timeout_s"?, "env"?}`` or just the shell command as a string.
                ``None`` runs the project's ``qide.toml`` steps (or the
                detected ones).
            profile: A ``[profiles.NAME]`` of ``qide.toml``.
            env: Extra environment variables for every step.
            timeout_s: Limit for the whole build, in seconds.
            trigger: Who asks (``api`` by default on the server; e.g.
                ``agent``); shown as the build's ``trigger``.

        Returns:
            The 202 answer, ``{"id": 43, "status": "queued"}``.
        """
        body: Dict[str, Any] = {}
        if steps is not None:
            body["steps"] = [{"run": s} if isinstance(s, str) else dict(s) for s in steps]
        if profile is not None:
            body["profile"] = profile
        if env is not None:
            body["env"] = dict(env)
        if timeout_s is not None:
            body["timeout_s"] = timeout_s
        if trigger is not None:
            body["trigger"] = trigger
        return self._request("POST", "/build/run", body=body)

    def get_build_status(self, build_id: int, wait: Optional[int] = None) -> Dict[str, Any]:
        """``GET /build/{id}``: the build with its steps. With ``wait=N``
        the server answers as soon as the build finishes or after N seconds
        (at most 300)."""
        request_timeout = self.timeout + (wait or 0)
        return self._request("GET", f"/build/{_id(build_id)}", query={"wait": wait},
                             timeout=request_timeout)

    def wait_for_build(self, build_id: int, timeout: float = 600) -> Dict[str, Any]:
        """Waits until a build is ``success``, ``failed`` or ``error``.

        Long-polls ``GET /build/{id}?wait=N`` (no busy polling), so it returns
        as soon as the build finishes.

        Args:
            build_id: The build.
            timeout: Give up after this many seconds.

        Returns:
            The finished build (a dict with ``status``, ``failure_kind``,
            ``steps``, …).

        Raises:
            QIDEWaitTimeout: the build had not finished after ``timeout``
                seconds; its last state is in ``.build``.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            remaining = deadline - time.monotonic()
            wait = max(0, min(_MAX_WAIT_S, int(math.ceil(remaining))))
            build = self.get_build_status(build_id, wait=wait)
            if build.get("status") in TERMINAL_STATUSES:
                return build
            if time.monotonic() >= deadline:
                raise QIDEWaitTimeout(
                    f"build {build_id} still {build.get('status')} after {timeout:g}s",
                    build=build,
                )
            if wait == 0:
                # Deadline not reached but less than a second left: don't spin.
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))

    def get_log(
        self,
        build_id: int,
        from_: Optional[int] = None,
        limit: Optional[int] = None,
        tail: Optional[int] = None,
        grep: Optional[str] = None,
        context: Optional[int] = None,
    ) -> Dict[str, Any]:
        """``GET /build/{id}/log``: numbered log lines.

        Args:
            build_id: The build.
            from_: First line (lines count from 1); sent as ``from``.
            limit: Most lines to return (default 200 on the server).
            tail: The last N lines instead (not with ``from_`` or ``grep``).
            grep: A regular expression; only matching lines are returned.
            context: Lines of context around each ``grep`` match.

        Returns:
            ``{"lines": [{"n", "stream", "step", "text"}, …], "total_lines",
            "truncated", "next_from", "dropped"}``.
        """
        return self._request("GET", f"/build/{_id(build_id)}/log", query={
            "from": from_, "limit": limit, "tail": tail, "grep": grep, "context": context,
        })

    def cancel_build(self, build_id: int) -> Dict[str, Any]:
        """``POST /build/{id}/cancel``: stop a queued or running build.

        Returns the build (a queued build is cancelled at once; a running one
        is being stopped — :meth:`wait_for_build` to see it end).

        Raises:
            QIDEError: 409 ``conflict`` when the build had already finished;
                404 for an unknown build.
        """
        return self._request("POST", f"/build/{_id(build_id)}/cancel")

    # ------------------------------------------------------------------
    # Operations and learning
    # ------------------------------------------------------------------

    def health(self) -> Dict[str, Any]:
        """``GET /health``: ``{"status": "ok", "version": …}``."""
        return self._request("GET", "/health")

    def get_patterns(self, **params: Any) -> Dict[str, Any]:
        """``GET /llm/learning/patterns``: recurring failure fingerprints
        and category statistics.

        Note: the server does not implement this endpoint yet; until it does
        this raises :class:`~qide_client.QIDEError` with ``status == 404``
        and ``code == "not_found"``.
        """
        return self._request("GET", "/llm/learning/patterns", query=params)

    # ------------------------------------------------------------------
    # Transport
    # ------------------------------------------------------------------

    def _headers(self, has_body: bool) -> Dict[str, str]:
        headers = {
            "Accept": "application/json, application/problem+json",
            "User-Agent": f"qide-client-python/{__version__}",
        }
        if has_body:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.session_id:
            headers["X-Session-Id"] = self.session_id
        return headers

    def _url(self, path: str, query: Optional[Mapping[str, Any]]) -> str:
        url = self.base_url + path
        if query:
            pairs = [(k, _query_value(v)) for k, v in query.items() if v is not None]
            if pairs:
                url += "?" + urllib.parse.urlencode(pairs)
        return url

    def _request(
        self,
        method: str,
        path: str,
        *,
        query: Optional[Mapping[str, Any]] = None,
        body: Optional[Any] = None,
        timeout: Optional[float] = None,
    ) -> Dict[str, Any]:
        """Sends one request and returns the parsed JSON object it answers.

        Raises :class:`QIDEError` for an error status (parsed from
        problem+json when possible) and :class:`QIDEConnectionError` when the
        server cannot be reached.
        """
        url = self._url(path, query)
        data = json.dumps(body).encode("utf-8") if body is not None else None
        if data is None and method in ("POST", "PUT", "PATCH"):
            data = b""
        request = urllib.request.Request(url, data=data, method=method,
                                         headers=self._headers(body is not None))
        timeout = self.timeout if timeout is None else timeout
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status = response.status
                raw = response.read()
        except urllib.error.HTTPError as e:
            raw = _read_quietly(e)
            raise _error_from_answer(e.code, e.headers.get("Content-Type", ""), raw,
                                     method, url) from None
        except urllib.error.URLError as e:
            reason = e.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise self._timeout_error(method, url, timeout) from e
            raise QIDEConnectionError(
                f"cannot reach the QIDE server at {self.base_url} ({method} {url}): {reason}. "
                f"Is `qide serve` running there? Set base_url or {ENV_URL} to point elsewhere.",
                base_url=self.base_url, method=method, url=url,
            ) from e
        except (socket.timeout, TimeoutError) as e:
            raise self._timeout_error(method, url, timeout) from e
        except (ConnectionError, OSError) as e:
            raise QIDEConnectionError(
                f"connection to the QIDE server at {self.base_url} failed ({method} {url}): {e}",
                base_url=self.base_url, method=method, url=url,
            ) from e
        if not raw:
            return {}
        try:
            parsed = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            parsed = None
        if not isinstance(parsed, dict):
            raise QIDEError(
                status=status, code="invalid_response",
                detail=f"expected a JSON object, got {_preview(raw)!r}",
                method=method, url=url,
            )
        return parsed

    def _timeout_error(self, method: str, url: str, timeout: float) -> QIDEConnectionError:
        return QIDEConnectionError(
            f"the QIDE server at {self.base_url} did not answer {method} {url} "
            f"within {timeout:g}s (raise LLMClient(timeout=...) for slow calls)",
            code="timeout", base_url=self.base_url, method=method, url=url,
        )


def _id(build_id: Any) -> str:
    """A build id for a URL path, quoted so nothing can escape the path."""
    return urllib.parse.quote(str(build_id), safe="")


def _recommendations(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) or hasattr(value, "__iter__"):
        return list(value)
    return value  # let the server name the field


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _read_quietly(e: urllib.error.HTTPError) -> bytes:
    try:
        return e.read() or b""
    except Exception:  # noqa: BLE001 - a broken error body must not hide the status
        return b""


def _preview(raw: bytes, n: int = 200) -> str:
    text = raw[:n].decode("utf-8", errors="replace")
    return text + ("…" if len(raw) > n else "")


def _error_from_answer(status: int, content_type: str, raw: bytes,
                       method: str, url: str) -> QIDEError:
    body: Any = None
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError):
        body = None
    if isinstance(body, dict) and ("code" in body or "problem+json" in content_type):
        return QIDEError.from_problem(status, body, method=method, url=url)
    return QIDEError(
        status=status, code="http_error",
        detail=_preview(raw) if raw else f"HTTP {status}",
        body=body if isinstance(body, dict) else None,
        method=method, url=url,
    )
