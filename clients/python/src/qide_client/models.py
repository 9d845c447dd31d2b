"""Typed views of QIDE answers.

Only the build list is typed (the seed's examples read ``b.status`` and
``b.id`` off its items); other answers are plain dicts, exactly the JSON the
server sent. Parsing is lenient: fields the server adds later land in
``extra`` instead of breaking old clients, and missing optional fields are
``None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Dict, Iterator, List, Optional

__all__ = ["BuildSummary", "BuildList", "TERMINAL_STATUSES", "BUILD_STATUSES"]

#: Every build status, in life order.
BUILD_STATUSES = ("queued", "running", "success", "failed", "error")
#: Statuses after which a build never changes.
TERMINAL_STATUSES = frozenset({"success", "failed", "error"})


@dataclass
class BuildSummary:
    """One item of ``GET /llm/learning/builds`` (a build without its steps).

    ``status`` is one of ``queued, running, success, failed, error``;
    ``failure_kind`` says why a build stopped (``exit_non_zero``, ``timeout``,
    ``cancelled``, …) and ``failure_category`` what its diagnostics say
    (``compile_error``, ``test_failure``, …). Times are RFC 3339 UTC strings.
    Fields the client does not know are kept in ``extra``.
    """

    id: int
    status: str
    trigger: Optional[str] = None
    commit: Optional[str] = None
    branch: Optional[str] = None
    dirty: Optional[bool] = None
    created_at: Optional[str] = None
    started_at: Optional[str] = None
    finished_at: Optional[str] = None
    duration_ms: Optional[int] = None
    exit_code: Optional[int] = None
    failure_kind: Optional[str] = None
    failure_category: Optional[str] = None
    error_count: int = 0
    warning_count: int = 0
    report_count: int = 0
    tree_hash: Optional[str] = None
    log_line_count: Optional[int] = None
    log_dropped: Optional[Dict[str, Any]] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def is_finished(self) -> bool:
        """True once the build can no longer change."""
        return self.status in TERMINAL_STATUSES

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "BuildSummary":
        """Parses one JSON build object; unknown keys go to ``extra``."""
        known = {f.name for f in fields(cls)} - {"extra"}
        kwargs = {k: v for k, v in data.items() if k in known}
        extra = {k: v for k, v in data.items() if k not in known}
        if "extra" in data:
            # A server field literally called "extra" must not clobber ours.
            extra["extra"] = data["extra"]
        kwargs.setdefault("id", data.get("id"))
        kwargs.setdefault("status", data.get("status"))
        return cls(**kwargs, extra=extra)

    def to_dict(self) -> Dict[str, Any]:
        """The build as a JSON-like dict, unknown fields included."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        out.update(self.extra)
        return out


@dataclass
class BuildList:
    """``GET /llm/learning/builds``: a page of builds, newest first."""

    builds: List[BuildSummary]
    total: int
    skip: int
    limit: int
    extra: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Dict[str, Any]) -> "BuildList":
        """Parses the JSON answer; unknown keys go to ``extra``."""
        return cls(
            builds=[BuildSummary.from_dict(b) for b in data.get("builds") or []],
            total=int(data.get("total", 0)),
            skip=int(data.get("skip", 0)),
            limit=int(data.get("limit", 0)),
            extra={k: v for k, v in data.items() if k not in ("builds", "total", "skip", "limit")},
        )

    def __iter__(self) -> Iterator[BuildSummary]:
        return iter(self.builds)

    def __len__(self) -> int:
        return len(self.builds)
