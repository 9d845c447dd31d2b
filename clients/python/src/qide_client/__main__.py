"""``python -m qide_client [URL]``: check that a QIDE server answers and show
its latest builds (the seed's ``python backend/llm_client.py`` smoke test)."""

from __future__ import annotations

import sys
from typing import List, Optional

from . import LLMClient, QIDEError


def main(argv: Optional[List[str]] = None) -> int:
    """Prints the server's health and its five latest builds; 1 on error."""
    args = sys.argv[1:] if argv is None else argv
    client = LLMClient(args[0] if args else None)
    try:
        health = client.health()
        print(f"{client.base_url}: {health.get('status')} (qide {health.get('version')})")
        page = client.get_builds(limit=5)
        print(f"{page.total} builds")
        for b in page.builds:
            print(f"  #{b.id:<5} {b.status:<8} {b.failure_category or '-':<20} "
                  f"errors={b.error_count} reports={b.report_count} {b.created_at}")
    except QIDEError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
