"""The contract tests skip with one line on a bare clone, and fail when CI requires them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from contract_fixtures import ENV_DIR, ENV_REQUIRE

REPO = Path(__file__).resolve().parents[1]


def _run_contract_test(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in (ENV_DIR, ENV_REQUIRE)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
         "tests/sandbox/test_notion_contract.py::test_every_recorded_request_matches"],
        cwd=REPO, env=clean | {ENV_DIR: str(tmp_path / "absent")} | env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_absent_material_skips_with_one_reason_line(tmp_path: Path) -> None:
    done = _run_contract_test(tmp_path)
    assert done.returncode == 0, done.stdout
    skips = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skips) == 1 and ENV_DIR in skips[0] and str(tmp_path / "absent") in skips[0], done.stdout


def test_ci_fails_when_the_material_is_required_but_absent(tmp_path: Path) -> None:
    done = _run_contract_test(tmp_path, **{ENV_REQUIRE: "1"})
    assert done.returncode != 0 and f"{ENV_REQUIRE}=1 requires them" in done.stdout, done.stdout


def test_ci_requires_the_contract_tests() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert f"export {ENV_REQUIRE}=1" in ci and "scripts/test" in ci
