"""`notion-feedback demo`: the product end to end on the local sandbox, with synthetic agent traffic."""

from notion_feedback.demo.runner import Demo, DemoOptions, DemoResult

__all__ = ["Demo", "DemoOptions", "DemoResult"]
