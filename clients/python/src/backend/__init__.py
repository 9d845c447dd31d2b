"""Seed-compatibility package.

QIDE's seed design shipped its Python client as ``backend/llm_client.py`` and
its examples start with ``from backend.llm_client import LLMClient``. This
package makes that import work after ``pip install clients/python``; the code
lives in :mod:`qide_client`, which new code should import directly.
"""
