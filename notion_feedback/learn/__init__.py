"""Learning from ratings: the datasets, the review queue and the examples the agent learns from.

The fourth stage, beside capture, sync and report: it reads what the sync made of the ratings (LangSmith feedback)
and turns it into improvement on the LangSmith side. Like the other stages it imports none of them.
"""

from notion_feedback.learn.datasets import LearnResult, run_learn
from notion_feedback.learn.fewshot import FewShot, FewShotExamples, examples

__all__ = ["FewShot", "FewShotExamples", "LearnResult", "examples", "run_learn"]
