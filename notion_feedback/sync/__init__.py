"""Sync: people's ratings on Feedback rows become LangSmith feedback, exactly (``engine.run_sync``; the decisions in
``decide``, with no I/O)."""
