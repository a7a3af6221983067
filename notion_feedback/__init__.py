"""notion-feedback: end users rate an LLM agent's answers in Notion; ratings become LangSmith feedback, and
daily KPI reports about the agent come back to Notion."""

__version__ = "0.1.0"
