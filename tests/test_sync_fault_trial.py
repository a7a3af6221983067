"""The fault trial (bench/fault_trial.py): faults on both services and SIGKILLed sync processes lose nothing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from fault_trial import trial  # noqa: E402


@pytest.mark.slow
def test_fault_trial_small() -> None:
    result = trial(ratings=150, kills=4, rate=0.2, seed=11, rows=80, log=lambda _: None)
    assert result["kills"] == 4 and result["faults_injected"] > 0
    assert (result["missing"], result["duplicated_or_orphan"], result["stale"]) == (0, 0, 0)
    assert result["equal"]


@pytest.mark.slow
def test_fault_trial_full() -> None:
    result = trial(ratings=2000, kills=20, rate=0.2, seed=1, log=lambda _: None)
    assert result["kills"] >= 20
    assert result["equal"], result
