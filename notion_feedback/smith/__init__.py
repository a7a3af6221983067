"""Everything that speaks LangSmith (named so as not to shadow the ``langsmith`` package)."""
