"""The fault trial (bench/fault_trial.py): faults on both services, SIGKILLed agents and sync processes lose nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from fault_trial import trial  # noqa: E402


def _store(state_url: str) -> str | None:
    return None if state_url.startswith("sqlite") else state_url


@pytest.mark.slow
def test_fault_trial_small(state_url: str) -> None:
    result = trial(ratings=150, kills=4, rate=0.2, seed=11, rows=80, log=lambda _: None, state_url=_store(state_url))
    assert result["kills"] == 4 and result["faults_injected"] > 0 and result["reverts"] > 0
    assert result["frozen_leader_fenced"] is True  # it said it lost the lease and stopped; the standby went on
    assert (result["missing"], result["stale"], result["duplicated"], result["orphaned"]) == (0, 0, 0, 0), result
    assert result["refused_by_langsmith_422"] == 0  # malformed Run IDs never reach LangSmith
    assert result["recorder_kills"] == 3 and (result["recorder_missing"], result["recorder_duplicated"]) == (0, 0)
    assert result["exact"]


@pytest.mark.slow
@pytest.mark.timeout(1200)  # ~7 minutes on 2 cores: 2,000 edits, 20 kills, and the verification pass
def test_fault_trial_full(state_url: str) -> None:
    result = trial(ratings=2000, kills=20, rate=0.2, seed=1, log=lambda _: None, state_url=_store(state_url))
    assert result["kills"] >= 20 and result["trashed"] > 0 and result["reverts"] > 100
    assert result["frozen_leader_fenced"] is True
    # Incremental passes can leave only the feedback of trashed rows (they cannot see them); verification removes it.
    assert result["after_incremental"]["orphaned"] <= result["trashed"]
    assert result["exact"], result
    assert result["recorder_kills"] >= 3 and (result["recorder_missing"], result["recorder_duplicated"]) == (0, 0)
    assert result["refused_by_langsmith_422"] == 0
