"""Errors raised by :class:`qide_client.LLMClient`.

Every failure surfaces as a :class:`QIDEError` (or a subclass), so an agent
can catch one exception type:

* :class:`QIDEError` — the server answered with an error. QIDE answers errors
  as ``application/problem+json`` (RFC 9457); ``status``, ``code``,
  ``detail`` and ``field`` are parsed from that body.
* :class:`QIDEConnectionError` — the server could not be reached (refused,
  DNS, TLS, reset) or did not answer within the client's timeout. ``status``
  is ``None``.
* :class:`QIDEWaitTimeout` — :meth:`LLMClient.wait_for_build` gave up before
  the build finished; ``build`` holds its last known state.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

__all__ = ["QIDEError", "QIDEConnectionError", "QIDEWaitTimeout"]


class QIDEError(Exception):
    """An error answer from the QIDE server (or an unusable answer).

    Attributes:
        status: HTTP status code (``404``, ``422``, …); ``None`` when no HTTP
            answer was received.
        code: The server's stable, machine-readable error code
            (``not_found``, ``invalid_field``, ``conflict``, …). When the body
            is not problem+json (a proxy's HTML page, say) it is
            ``"http_error"``; for a 2xx answer that is not JSON it is
            ``"invalid_response"``.
        detail: Human-readable explanation.
        field: For validation errors (422 ``invalid_field``), the offending
            field, e.g. ``"confidence"`` or ``"steps[0].timeout_s"``.
        title: The problem's short title.
        type: The problem's ``type`` URI reference.
        body: The parsed problem body (a dict) when there was one.
        method, url: The request that failed.
    """

    def __init__(
        self,
        message: Optional[str] = None,
        *,
        status: Optional[int] = None,
        code: str = "error",
        detail: str = "",
        field: Optional[str] = None,
        title: Optional[str] = None,
        type: Optional[str] = None,
        body: Optional[Dict[str, Any]] = None,
        method: Optional[str] = None,
        url: Optional[str] = None,
    ) -> None:
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.title = title
        self.type = type
        self.body = body
        self.method = method
        self.url = url
        if message is None:
            message = self._default_message()
        super().__init__(message)

    def _default_message(self) -> str:
        where = f"{self.method} {self.url}: " if self.method and self.url else ""
        status = f"{self.status} " if self.status is not None else ""
        field = f" (field {self.field!r})" if self.field else ""
        detail = self.detail or self.title or ""
        return f"{where}{status}{self.code}{field}: {detail}".rstrip(": ")

    @classmethod
    def from_problem(
        cls,
        status: int,
        body: Dict[str, Any],
        *,
        method: Optional[str] = None,
        url: Optional[str] = None,
    ) -> "QIDEError":
        """Builds an error from a parsed problem+json body."""
        field = body.get("field")
        return cls(
            status=status,
            code=str(body.get("code") or "http_error"),
            detail=str(body.get("detail") or ""),
            field=str(field) if field is not None else None,
            title=body.get("title"),
            type=body.get("type"),
            body=body,
            method=method,
            url=url,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"field={self.field!r}, detail={self.detail!r})"
        )


class QIDEConnectionError(QIDEError):
    """The QIDE server could not be reached or did not answer in time.

    ``status`` is ``None``; ``code`` is ``"connection_error"`` or
    ``"timeout"``; ``base_url`` is the server the client was pointed at.
    """

    def __init__(self, message: str, *, code: str = "connection_error",
                 base_url: Optional[str] = None, method: Optional[str] = None,
                 url: Optional[str] = None) -> None:
        self.base_url = base_url
        super().__init__(message, status=None, code=code, detail=message,
                         method=method, url=url)


class QIDEWaitTimeout(QIDEError):
    """:meth:`LLMClient.wait_for_build` timed out; the build is still going.

    ``build`` is the last state the server returned (a dict, status
    ``queued`` or ``running``).
    """

    def __init__(self, message: str, *, build: Dict[str, Any]) -> None:
        self.build = build
        super().__init__(message, status=None, code="wait_timeout", detail=message)
