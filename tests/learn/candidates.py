"""Candidate agents and judges the evaluation tests name by reference ("candidates:better")."""

from __future__ import annotations

from typing import Any


def better(inputs: dict[str, Any]) -> dict[str, str]:
    return {"answer": f"A new, complete answer to {inputs['question']}"}


def unchanged(inputs: dict[str, Any]) -> dict[str, str]:
    """The answer production gave (the sandbox's traced runs answer q<i> with a<i>)."""
    return {"answer": "a" + inputs["question"][1:]}


def broken(inputs: dict[str, Any]) -> dict[str, str]:
    raise RuntimeError("the order service timed out")


def length_judge(run: Any, example: Any) -> dict[str, Any]:
    return {"key": "long_enough", "score": float(len((run.outputs or {}).get("answer", "")) > 20)}
