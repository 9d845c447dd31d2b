from backend.llm_client import LLMClient

client = LLMClient()

# 1. Discover recent failed builds
builds = client.get_builds(limit=50)
failed_builds = [b for b in builds.builds if b.status == "failed"]

# 2. Get detailed error info
for build in failed_builds[:10]:
    data = client.get_build(build.id)
    errors = data["log_summary"]["errors"]
    
    # 3. Understand project context
    codebase = client.get_codebase()
    
    # 4. Analyze and learn (your LLM logic here)
    analysis = your_llm_analysis(errors, codebase)
    
    # 5. Submit findings
    client.submit_report(
        build_id=build.id,
        type="failure_analysis",
        analysis=analysis["text"],
        recommendations=analysis["recommendations"],
        confidence=analysis["confidence"]
    )
