"""Seed-compatibility module: ``from backend.llm_client import LLMClient``.

Re-exports :mod:`qide_client` under the module path the seed design's
examples use, so they run unchanged against a QIDE server. New code should
``from qide_client import LLMClient``; both names are the same class.
"""

from qide_client import (
    BUILD_STATUSES,
    DEFAULT_BASE_URL,
    ENV_URL,
    TERMINAL_STATUSES,
    BuildList,
    BuildSummary,
    LLMClient,
    QIDEConnectionError,
    QIDEError,
    QIDEWaitTimeout,
    __version__,
)

__all__ = [
    "LLMClient",
    "QIDEError",
    "QIDEConnectionError",
    "QIDEWaitTimeout",
    "BuildList",
    "BuildSummary",
    "BUILD_STATUSES",
    "TERMINAL_STATUSES",
    "DEFAULT_BASE_URL",
    "ENV_URL",
    "__version__",
]


if __name__ == "__main__":
    # The seed's manual check, `python backend/llm_client.py`.
    import sys

    from qide_client.__main__ import main

    sys.exit(main())
