"""Python client for QIDE, build intelligence for coding agents.

    from qide_client import LLMClient, QIDEError

    client = LLMClient()                      # $QIDE_URL or http://localhost:8000
    failed = client.get_builds(status="failed").builds
    packet = client.get_build(failed[0].id)   # the failure packet, a dict
    client.submit_report(build_id=failed[0].id, type="failure_analysis",
                         analysis="...", recommendations=["..."], confidence=0.7)

Standard library only. ``backend.llm_client`` re-exports this module for code
written against the seed design (``from backend.llm_client import LLMClient``).
"""

__version__ = "0.1.0"

from .client import DEFAULT_BASE_URL, ENV_URL, LLMClient  # noqa: E402
from .errors import QIDEConnectionError, QIDEError, QIDEWaitTimeout  # noqa: E402
from .models import BUILD_STATUSES, TERMINAL_STATUSES, BuildList, BuildSummary  # noqa: E402

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
