"""Agent side: trace each interaction with LangSmith and record it as a rateable row in Notion.

from notion_feedback.capture import Recorder, interaction

recorder = Recorder(load_settings())
with interaction("support-agent", variant="A", model="gpt-4o-mini", user_id=user) as it:
    with it.tool("search", {"q": question}) as span:
        span.end({"hits": 3})
    it.llm("gpt-4o-mini", input_tokens=812, output_tokens=95).end({"answer": answer})
    it.end({"answer": answer})
recorder.record(it, question=question, answer=answer)   # returns at once

Rows wait in a spool on disk (NOTION_FEEDBACK_HOME) until a sender process has them in Notion; ``drain_spool``
lets the daemon send what a dead agent left.
"""

from notion_feedback.capture.recorder import Recorder, RecorderStats, sampled
from notion_feedback.capture.sender import drain_spool
from notion_feedback.capture.tracing import (
    Interaction,
    Span,
    configure_tracing,
    current_interaction,
    decision,
    interaction,
    llm_call,
    pseudonymous_user,
    tool,
)
from notion_feedback.capture.variants import assign_variant
from notion_feedback.redaction import Redactor

__all__ = [
    "Interaction",
    "Recorder",
    "RecorderStats",
    "Redactor",
    "Span",
    "assign_variant",
    "configure_tracing",
    "current_interaction",
    "decision",
    "drain_spool",
    "interaction",
    "llm_call",
    "pseudonymous_user",
    "sampled",
    "tool",
]
