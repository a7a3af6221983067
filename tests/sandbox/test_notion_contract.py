"""Replays every request of the real Notion recordings (`notion-cassettes`, see `contract_fixtures`) on the emulator.

Each cassette runs on a freshly reset workspace. Recorded ids are mapped to sandbox ids as responses reveal
them (the recorded root page is the sandbox root page), so later requests refer to the objects the sandbox
created. Each response must match the recording: same status (and error code), same keys, same value types,
same nesting, same list lengths and the same values except ids, timestamps (whose *format* must match),
URLs, request ids and names of users/workspaces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from notion_feedback.sandbox.server import Sandbox, SandboxOptions

RECORDED_ROOT = "393abc1e-edcd-80f3-813b-e205934558c6"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32}")
MINUTE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$")
MILLIS_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
MILLIS_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
IGNORED_VALUES = {
    "request_id",
    "url",
    "public_url",
    "upload_url",
    "complete_url",
    "href",
    "workspace_name",
    "resolved_name",
    "next_cursor",
}

# Interactions whose response deliberately differs from the recording, with the reason. Keep empty if possible.
DELIBERATE_MISMATCHES: dict[str, str] = {}


def _dashed(raw: str) -> str:
    raw = raw.lower().replace("-", "")
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


class Replayer:
    """Sends recorded requests to the sandbox with ids rewritten, and compares responses."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.http = httpx.Client(base_url=sb.notion_url, timeout=30)
        self.ids: dict[str, str] = {}

    def start_cassette(self) -> None:
        self.sb.notion.control.reset()
        self.ids = {RECORDED_ROOT: self.sb.notion.root_page_id}

    def rewrite(self, text: str) -> str:
        def swap(m: re.Match[str]) -> str:
            mapped = self.ids.get(_dashed(m.group(0)))
            if mapped is None:
                return m.group(0)
            return mapped if "-" in m.group(0) else mapped.replace("-", "")

        return UUID.sub(swap, text)

    def send(self, request: dict[str, Any], status: int) -> httpx.Response:
        url = httpx.URL(self.rewrite(request["uri"]))
        headers = {k: v[0] for k, v in request["headers"].items() if k.lower() in ("content-type", "notion-version")}
        headers["authorization"] = "Bearer ntn_..." if status == 401 else f"Bearer {self.sb.notion.token}"
        body = request.get("body") or ""
        if isinstance(body, str):
            body = self.rewrite(body).encode()
        return self.http.request(request["method"], url.raw_path.decode(), headers=headers, content=body)

    def learn(self, recorded: Any, actual: Any) -> None:
        """Map recorded ids to sandbox ids found at the same place in both responses."""
        if isinstance(recorded, dict) and isinstance(actual, dict):
            for k, v in recorded.items():
                if k in actual:
                    self.learn(v, actual[k])
        elif isinstance(recorded, list) and isinstance(actual, list):
            for r, a in zip(recorded, actual, strict=False):
                self.learn(r, a)
        elif (
            isinstance(recorded, str)
            and isinstance(actual, str)
            and UUID.fullmatch(recorded)
            and UUID.fullmatch(actual)
        ):
            self.ids.setdefault(_dashed(recorded), _dashed(actual))


def shape_diff(recorded: Any, actual: Any, path: str = "$", parent: dict | None = None) -> list[str]:
    """Differences between a recorded and an actual JSON value, ignoring volatile values."""
    key = path.rsplit(".", 1)[-1]
    if isinstance(recorded, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected object, got {type(actual).__name__}"]
        diffs = []
        missing, extra = recorded.keys() - actual.keys(), actual.keys() - recorded.keys()
        if missing:
            diffs.append(f"{path}: missing keys {sorted(missing)}")
        if extra:
            diffs.append(f"{path}: extra keys {sorted(extra)}")
        for k in recorded.keys() & actual.keys():
            diffs += shape_diff(recorded[k], actual[k], f"{path}.{k}", recorded)
        return diffs
    if isinstance(recorded, list):
        if not isinstance(actual, list):
            return [f"{path}: expected array, got {type(actual).__name__}"]
        if len(recorded) != len(actual):
            return [f"{path}: expected {len(recorded)} items, got {len(actual)}"]
        return [
            d
            for i, (r, a) in enumerate(zip(recorded, actual, strict=True))
            for d in shape_diff(r, a, f"{path}[{i}]", parent)
        ]
    if recorded is None or isinstance(recorded, bool):
        return [] if recorded is actual or recorded == actual else [f"{path}: expected {recorded!r}, got {actual!r}"]
    if isinstance(recorded, int | float):
        ok = isinstance(actual, int | float) and not isinstance(actual, bool)
        return [] if ok else [f"{path}: expected a number, got {actual!r}"]
    if not isinstance(actual, str):
        return [f"{path}: expected a string, got {actual!r}"]
    if (
        key in IGNORED_VALUES
        or (key in ("id", "name") and (parent or {}).get("object") == "user")
        or (key == "id")
        or UUID.fullmatch(recorded)
        or recorded.startswith("http")
    ):
        return []
    for fmt in (MINUTE, MILLIS_Z, MILLIS_OFFSET):
        if fmt.match(recorded):
            return [] if fmt.match(actual) else [f"{path}: timestamp {actual!r} not in the format of {recorded!r}"]
    return [] if recorded == actual else [f"{path}: expected {recorded!r}, got {actual!r}"]


def seed_file_uploads(rp: Replayer, recorded: dict[str, Any]) -> None:
    """Recreate the uploads a recorded ``GET /v1/file_uploads`` lists, oldest first, expired ones first."""
    with Sandbox(SandboxOptions(langsmith=False, rate_limit=False)) as source:
        # Imported (external_url) files need a URL Notion can download: a second sandbox serves one.
        http = httpx.Client(
            base_url=source.notion_url,
            headers={"authorization": f"Bearer {source.notion.token}", "notion-version": "2025-09-03"},
        )
        up = http.post("/v1/file_uploads", json={"filename": "test_file.pdf", "content_type": "application/pdf"})
        http.post(
            f"/v1/file_uploads/{up.json()['id']}/send",
            files={"file": ("test_file.pdf", b"%PDF-1.4 sandbox", "application/pdf")},
        )
        pdf_url = f"{source.notion_url}/_files/{up.json()['id']}/test_file.pdf"
        api = httpx.Client(
            base_url=rp.sb.notion_url,
            headers={"authorization": f"Bearer {rp.sb.notion.token}", "notion-version": "2025-09-03"},
        )
        items = list(reversed(recorded["results"]))
        expired = [i for i in items if i["status"] == "expired"]
        for n, item in enumerate(items):
            if "file_import_result" in item:
                body = {"mode": "external_url", "filename": item["filename"], "external_url": pdf_url}
            else:
                body = {"filename": item["filename"], "content_type": item["content_type"]}
            made = api.post("/v1/file_uploads", json=body).json()
            if "file_import_result" in item:  # the import runs on a later read, while the source still serves
                api.get(f"/v1/file_uploads/{made['id']}")
            if item["content_length"] is not None and "file_import_result" not in item:
                api.post(
                    f"/v1/file_uploads/{made['id']}/send",
                    files={"file": (item["filename"], b"x" * item["content_length"], item["content_type"])},
                )
            if n == len(expired) - 1:
                rp.sb.notion.control.clock.advance(3700)


SEEDERS = {"test_file_uploads_list.yaml": seed_file_uploads}


def cassettes(directory: Path) -> list[Path]:
    found = sorted(directory.glob("*.yaml"))
    if not found:
        pytest.fail(f"no cassettes in {directory}")
    return found


@pytest.fixture(scope="module")
def replayer() -> Iterator[Replayer]:
    with Sandbox(SandboxOptions(langsmith=False, rate_limit=False)) as sb:
        rp = Replayer(sb)
        yield rp
        rp.http.close()


def replay_all(rp: Replayer, directory: Path) -> tuple[int, dict[str, list[str]]]:
    total, mismatches = 0, {}
    for path in cassettes(directory):
        rp.start_cassette()
        rp.sb.notion.control.clock.set(None)
        interactions = yaml.safe_load(path.read_text())["interactions"]
        for i, it in enumerate(interactions):
            recorded_body = it["response"]["body"]["string"]
            recorded = json.loads(recorded_body) if recorded_body else None
            if i == 0 and path.name in SEEDERS:
                SEEDERS[path.name](rp, recorded)
            status = it["response"]["status"]["code"]
            response = rp.send(it["request"], status)
            total += 1
            key = f"{path.name}#{i} {it['request']['method']} {httpx.URL(it['request']['uri']).path}"
            diffs = []
            if response.status_code != status:
                diffs.append(f"status {response.status_code} != {status}: {response.text[:300]}")
            else:
                actual = response.json()
                if status >= 400:
                    if actual.get("code") != recorded.get("code"):
                        diffs.append(f"code {actual.get('code')} != {recorded.get('code')}")
                    diffs += shape_diff(recorded, actual)
                else:
                    rp.learn(recorded, actual)
                    diffs += shape_diff(recorded, actual)
            if diffs:
                mismatches[key] = diffs
    return total, mismatches


def test_every_recorded_request_matches(replayer: Replayer, cassette_dir: Path) -> None:
    total, mismatches = replay_all(replayer, cassette_dir)
    unexpected = {k: v for k, v in mismatches.items() if k not in DELIBERATE_MISMATCHES}
    stale = set(DELIBERATE_MISMATCHES) - set(mismatches)
    matched = total - len(mismatches)
    print(
        f"\nNotion contract: {matched} of {total} recorded interactions matched; "
        f"{len(mismatches)} deliberate mismatches: {sorted(mismatches)}"
    )
    assert total >= 100, f"only {total} interactions replayed: cassettes missing?"
    assert not unexpected, "responses differ from the recordings:\n" + "\n".join(
        f"{k}:\n  " + "\n  ".join(v[:8]) for k, v in unexpected.items()
    )
    assert not stale, f"listed as deliberate mismatches but now matching: {sorted(stale)}"
