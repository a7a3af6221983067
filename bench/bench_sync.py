"""Incremental sync cost: requests, wall time and memory of a pass with N changed rows among M, on the sandbox at
its default Notion rate limit (3 requests/s), beside the floor and a naive baseline measured in the same run.

    python bench/bench_sync.py            # M = 20,000; N = 0, 50, 500, 5,000
    python bench/bench_sync.py --quick    # M = 2,000;  N = 0, 50, 500

Floor: ceil(N/100) query requests at 3 requests/s. Naive: query every row (no filter, all properties), create
feedback for each rated row, write the status back to each. Setup (rows, the previous pass's cursor, the people's
edits) goes through the emulator's bulk helper and the viewer's bypass header so it spends none of the budget.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import httpx

from notion_feedback.config import Settings
from notion_feedback.notion.client import make_notion_client, request_counts
from notion_feedback.notion.text import rich_text
from notion_feedback.sandbox.server import Sandbox, SandboxOptions
from notion_feedback.smith import client as smith_client
from notion_feedback.state import open_state
from notion_feedback.sync.engine import run_sync
from notion_feedback.sync.engine import store as sync_store
from notion_feedback.testing import World, make_world, sandbox_settings

NOTION_RATE = 3.0


def rate_rows(world: World, pages: list[str], rating: str) -> None:
    """People rate rows (through the API, with the bypass header: not counted, not limited)."""
    headers = {
        "Authorization": f"Bearer {world.notion_token}",
        "Notion-Version": "2025-09-03",
        "x-sandbox-actor": "person",
        "x-sandbox-bypass": "1",
    }
    with httpx.Client(base_url=world.notion_url, headers=headers, timeout=30) as http:
        for page in pages:
            body = {
                "properties": {
                    world.prop("rating"): {"select": {"name": rating}},
                    world.prop("comment"): {"rich_text": rich_text("bench")},
                }
            }
            http.patch(f"/v1/pages/{page}", json=body).raise_for_status()


def naive_pass(settings: Settings) -> dict[str, Any]:
    """Read everything, write everything: what a sync without a cursor or a store would cost."""
    notion = make_notion_client(settings)
    smith = smith_client.make_langsmith_client(settings)
    started = time.monotonic()
    cursor, rated = None, 0
    while True:
        kwargs: dict[str, Any] = {"data_source_id": settings.feedback_data_source_id, "page_size": 100}
        page = notion.data_sources.query(**kwargs, **({"start_cursor": cursor} if cursor else {}))
        for row in page["results"]:
            props = row["properties"]
            option = (props["Rating"].get("select") or {}).get("name")
            if not option:
                continue
            rated += 1
            run_id = "".join(t["plain_text"] for t in props["Run ID"]["rich_text"])
            project = "".join(t["plain_text"] for t in props["Project ID"]["rich_text"])
            smith.create_feedback(
                run_id,
                settings.rating_key,
                score=float(option),
                feedback_id=uuid.uuid4(),
                session_id=project,
                stop_after_attempt=1,
            )
            notion.pages.update(page_id=row["id"], properties={"Sync status": {"select": {"name": "Synced"}}})
        cursor = page.get("next_cursor")
        if not page.get("has_more"):
            break
    return {
        "wall": time.monotonic() - started,
        "notion": sum(request_counts(notion).values()),
        "notion_reads": request_counts(notion)["POST"],
        "langsmith": sum(smith_client.request_counts(smith).values()),
        "rated": rated,
    }


def bench(m: int, ns: list[int], naive_max: int) -> list[dict[str, Any]]:
    results = []
    with Sandbox(SandboxOptions(rate_limit=True)) as sb, tempfile.TemporaryDirectory() as tmp:
        env = sb.env()
        base = sandbox_settings(
            env,
            Path(tmp) / "home",
            langsmith_project="bench",
            notion_requests_per_second=NOTION_RATE,
            notion_burst=3,
        )
        sb.notion.control.set_limits(enabled=False)
        world = make_world(sb, base, langsmith_requests_per_second=200.0)
        runs = world.batch_runs(m + 1)  # one run per row, as the recorder writes them
        clock = sb.notion.control.clock

        def prepare(n: int, tag: str) -> tuple[World, list[str]]:
            """A fresh workspace of M rows, a previous pass's cursor, then people rate N rows."""
            sb.notion.control.reset()  # a fresh workspace (reset keeps a root page)
            sb.notion.control.set_limits(enabled=False)
            root = sb.env()["NOTION_SANDBOX_ROOT_PAGE_ID"]
            world = make_world(
                sb, base.model_copy(update={"parent_page_id": root}), langsmith_requests_per_second=200.0
            )
            world.settings = world.settings.model_copy(update={"home": Path(tmp) / f"home-{n}-{tag}"})
            rows = [world.row_properties(runs[i]) for i in range(m)]
            pages = sb.notion.bulk_create_pages(world.ds_id, rows, as_person=True)
            # Ten minutes later a new row arrives and the previous pass sees it: its cursor is that row's edit time.
            clock.advance(10 * 60)
            newest = sb.notion.bulk_create_pages(world.ds_id, [world.row_properties(runs[m])], as_person=True)[0]
            last = world.page(newest)["last_edited_time"]
            engine = open_state(world.settings.resolved_state_url)
            sync_store.set_cursor(engine, world.ds_id, world.settings.rating_key, last)
            clock.advance(10 * 60)  # later, people rate N rows
            rate_rows(world, pages[:n], "4")
            return world, pages

        for n in ns:
            # Timed pass (no tracing: tracemalloc slows Python several times over and would distort the wall time).
            world, _ = prepare(n, "timed")
            sb.notion.control.set_limits(enabled=True)
            sb.notion.control.clear_stats()
            time.sleep(1.0)  # the process's Notion budget was spent on the set-up: start the pass with it full
            s = run_sync(world.settings)
            sb.notion.control.set_limits(enabled=False)
            reads = sb.notion.control.count("POST /v1/data_sources") + sb.notion.control.count("GET /v1/data_sources")
            # The same pass again on a fresh workspace, for its peak Python memory only.
            world, pages = prepare(n, "memory")
            tracemalloc.start()
            run_sync(world.settings)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            sb.notion.control.set_limits(enabled=True)
            floor = math.ceil(n / 100) / NOTION_RATE
            row: dict[str, Any] = {
                "M": m,
                "N": n,
                "created": s.created,
                "notion_reads": reads,
                "read_goal": math.ceil(n / 100) + 2,
                "notion_writes": s.status_writes,
                "langsmith": s.langsmith_requests,
                "wall": s.duration,
                "floor": floor,
                "peak_mb": peak / 1e6,
            }
            if n <= naive_max:
                rate_rows(world, pages[:n], "5")  # give the naive pass the same N rated rows to handle
                naive = naive_pass(world.settings)
                row |= {
                    "naive_wall": naive["wall"],
                    "naive_notion": naive["notion"],
                    "naive_langsmith": naive["langsmith"],
                }
            results.append(row)
            print(_line(row), flush=True)
            sb.notion.control.set_limits(enabled=False)
    return results


HEADER = (
    f"{'M':>7} {'N':>6} {'reads':>6} {'goal':>5} {'writes':>6} {'LS req':>6} {'wall s':>8} {'floor s':>8} "
    f"{'wall/floor':>10} {'peak MB':>8} {'naive s':>8} {'naive Notion':>12} {'naive LS':>8}"
)


def _line(r: dict[str, Any]) -> str:
    ratio = f"{r['wall'] / r['floor']:.2f}" if r["floor"] else "-"
    naive = (
        f"{r['naive_wall']:8.1f} {r['naive_notion']:12d} {r['naive_langsmith']:8d}"
        if "naive_wall" in r
        else f"{'-':>8} {'-':>12} {'-':>8}"
    )
    return (
        f"{r['M']:7d} {r['N']:6d} {r['notion_reads']:6d} {r['read_goal']:5d} {r['notion_writes']:6d} "
        f"{r['langsmith']:6d} {r['wall']:8.2f} {r['floor']:8.2f} {ratio:>10} {r['peak_mb']:8.1f} {naive}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="M = 2,000 and N up to 500")
    parser.add_argument("--m", type=int, default=None)
    parser.add_argument("--naive-max", type=int, default=500, help="largest N with a naive pass (-1: none)")
    args = parser.parse_args()
    m = args.m or (2_000 if args.quick else 20_000)
    ns = [0, 50, 500] if args.quick else [0, 50, 500, 5_000]
    print(HEADER, flush=True)
    bench(m, ns, args.naive_max)


if __name__ == "__main__":
    main()
