"""A person in a browser: opens the viewer, sees a report's charts, changes a rating, and sees it synced.

Headless Chromium from Debian's packages (``scripts/install-browser``), driven by Playwright's Python package;
Playwright's own browser download is never used. Without Chromium this test fails with how to install it,
unless NOTION_FEEDBACK_SKIP_BROWSER=1 says this machine cannot run browsers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from notion_feedback.demo import Demo, DemoOptions, DemoResult

pytestmark = pytest.mark.browser

SCREENSHOTS = os.environ.get("NOTION_FEEDBACK_SCREENSHOTS")  # a folder to keep the screenshots in


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Demo, DemoResult]]:
    """A small demo workspace, kept running: two days of traffic, one daily report with its charts."""
    options = DemoOptions(
        data_dir=tmp_path_factory.mktemp("browser-demo"),
        once=True,
        days=2,
        per_day=5,
        rate_limit=False,
        daily_reports=1,
        weekly=False,
    )
    with Demo(options) as running:
        yield running, running.cycle()


def _shot(page: object, tmp_path: Path, name: str) -> Path:
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def test_report_page_shows_its_charts(demo: tuple[Demo, DemoResult], browser: object, tmp_path: Path) -> None:
    _, result = demo
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(result.viewer_url)
    page.get_by_role("link", name="Agent reports").click()
    page.locator("table.db a.title").first.click()
    page.wait_for_load_state("load")
    assert "Daily report" in page.locator("h1").inner_text()
    images = page.locator(".content img")
    assert images.count() >= 2, "the report shows its charts"
    page.wait_for_function("Array.from(document.querySelectorAll('.content img')).every(i => i.complete)")
    widths = page.eval_on_selector_all(".content img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : -1)")
    assert all(w > 0 for w in widths), f"every chart loaded (naturalWidth per image: {widths})"
    _shot(page, tmp_path, "report")
    page.close()


def test_a_person_rates_in_the_viewer_and_the_sync_takes_it(
    demo: tuple[Demo, DemoResult], browser: object, tmp_path: Path
) -> None:
    from notion_feedback.config import load_settings
    from notion_feedback.smith.client import make_langsmith_client
    from notion_feedback.sync.engine import run_sync

    _, result = demo
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page.goto(result.viewer_url)
    page.get_by_role("link", name="Agent feedback").click()
    _shot(page, tmp_path, "feedback-table")
    unrated = page.locator("table.db tbody tr").filter(
        has=page.locator('td[data-prop="Rating"] select option[value=""][selected]')
    )
    assert unrated.count() > 0, "the demo leaves some rows unrated"
    row = unrated.first
    row_id = row.get_attribute("data-page-id")
    row.locator("a.title").click()
    page.wait_for_load_state("load")
    run_id = page.locator('textarea[name="prop:Run ID"]').input_value().strip()
    page.select_option('select[name="prop:Rating"]', "2")
    page.fill('textarea[name="prop:Comment"]', "Slow and vague (rated in the browser test).")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state("load")
    assert page.get_by_role("status").inner_text() == "Saved."
    assert page.locator('select[name="prop:Rating"]').input_value() == "2"

    summary = run_sync(load_settings())  # what the daemon's next run does
    assert summary.created >= 1 and summary.errors == 0

    page.reload()
    assert page.locator('select[name="prop:Sync status"]').input_value() == "Synced"
    _shot(page, tmp_path, "rated-row")
    feedback = list(make_langsmith_client(load_settings()).list_feedback(run_ids=[run_id]))
    mine = [f for f in feedback if f.key == load_settings().rating_key]
    assert len(mine) == 1 and mine[0].score == 2
    assert mine[0].comment == "Slow and vague (rated in the browser test)."
    assert row_id
    page.close()
