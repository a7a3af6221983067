"""Local stand-ins for the Notion and LangSmith APIs.

The real SDKs (``notion_client.Client(base_url=...)``, ``langsmith.Client(api_url=...)``) talk to these over
loopback, so tests, benchmarks and the demo exercise the product exactly as it will run against the real
services. Nothing here imports the product: the sandbox must stay usable by any client.
"""

from notion_feedback.sandbox.server import Sandbox, SandboxOptions

__all__ = ["Sandbox", "SandboxOptions"]
