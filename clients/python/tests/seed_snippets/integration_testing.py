from backend.llm_client import LLMClient

client = LLMClient()

# These should all succeed
builds = client.get_builds()
assert builds.total >= 0

codebase = client.get_codebase()
assert "has_backend" in codebase["structure_summary"]

if builds.builds:
    build = client.get_build(builds.builds[0].id)
    assert "log_summary" in build
