"""A stand-in candidate agent for trying `notion-feedback evaluate` on the demo's workspace: it answers every
question with a short, specific reply (your own agent goes in its place: ``--target your.module:function``)."""

from __future__ import annotations

from typing import Any


def answer(inputs: dict[str, Any]) -> dict[str, str]:
    """The candidate's answer to one question (the inputs of a low-rated run)."""
    question = str(inputs.get("question") or next(iter(inputs.values()), ""))
    return {"answer": f"Here is what to do about “{question[:200]}”: see the steps in your account's help page."}
