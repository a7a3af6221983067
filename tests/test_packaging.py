"""The wheel carries the report template and the jobs inside the package, and nothing at the top level but it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

from notion_feedback.config import Settings
from notion_feedback.report import kpi
from notion_feedback.report import publish as report

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_ships_the_template_and_the_jobs_inside_the_package(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy: setuptools leaves build/ and *.egg-info beside the sources it builds
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("notion_feedback", "jobs", "templates"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "-q", "-w", tmp_path],
        check=True,
        capture_output=True,
        timeout=240,
    )
    [wheel] = tmp_path.glob("notion_feedback-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "notion_feedback/templates/report.md.j2" in names
    assert "notion_feedback/jobs/sync_ratings.py" in names
    tops = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"notion_feedback"}, "no top-level `jobs` or `templates` package"
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "notion_feedback").rglob("*.py")}
    sources |= {"notion_feedback/jobs/" + p.name for p in (ROOT / "jobs").glob("*.py")}
    assert sources <= names, f"packages missing from pyproject.toml: {sorted(sources - names)}"


def test_the_installed_template_renders_a_report_page(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, home=tmp_path, langsmith_project="agent")  # type: ignore[call-arg]
    day = date(2026, 12, 1)
    k = kpi.Kpis("day", day, day, runs=24, error_rate=0.0833, success_rate=0.9167)
    series = kpi.Series(points=[kpi.DayPoint(day=day, runs=24)], fetched=[], requests=0)
    data = report.ReportData("day", day, day, k, None, series, kpi.checks(k, settings))
    report.analyse(settings, data)
    template = report.load_template(settings)
    assert template.filename == "templates/report.md.j2"
    text = report.render_text(template, report.context(settings, data, [], datetime(2026, 12, 2, 8, tzinfo=UTC)))
    assert "**Tuesday 01 December 2026** · project `agent`" in text
    assert not (ROOT / "notion_feedback" / "templates").exists(), "one copy of the template: templates/"
