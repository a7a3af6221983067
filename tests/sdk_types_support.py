"""Type-check recorded Notion exchanges against the official SDK, ``@notionhq/client``, with ``tsc --strict``.

Each exchange becomes two declarations in one TypeScript file: the request (path parameters, query and body
merged, as the SDK's ``*Parameters`` types take them) and the response (its full object type through ``Full<>``,
or ``ErrorBody`` for an error), both plain object literals so excess-property and literal checks apply. The SDK's
endpoint table (``tests/sdk_types/endpoints.cjs``) says which type an exchange has: ``getPage`` →
``GetPageParameters`` / ``GetPageResponse``. The pinned SDK and compiler live in ``tests/sdk_types``
(``npm ci --prefix tests/sdk_types`` installs them; ``.ci/run`` does).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from notion_feedback.sandbox.exchanges import Exchange

FOLDER = Path(__file__).resolve().parent / "sdk_types"
TSC = FOLDER / "node_modules" / ".bin" / "tsc"
INSTALL = "npm ci --prefix tests/sdk_types"
UNTYPED_KEYS = ("request_id",)
"""Top-level keys of a successful answer that the real API sends and the SDK does not type: every recorded answer
carries its ``request_id`` in the body (docs/sandbox.md, "Known differences"). Removed before the check, and only
they: anything else the emulator adds fails it."""
READ_BY_SDK = ("x-notion-request-id",)
PARAMETER_TYPES = {"createView": "CreateViewChecked"}
"""Request types the check takes from ``prelude.ts`` instead of the SDK's, each with its reason written there."""
"""Response headers the SDK reads on every answer (errors.js: ``getResponseHeader(headers, "x-notion-request-id")``)."""


def require_tools() -> None:
    """Skip with one line when Node.js or the pinned packages are missing; CI (which installs them) fails instead."""
    missing = shutil.which("node") is None or not TSC.exists()
    if not missing:
        return
    why = f"the SDK type check needs Node.js and the pinned @notionhq/client + typescript: run `{INSTALL}`"
    if os.environ.get("NOTION_FEEDBACK_REQUIRE_CONTRACT") == "1":
        pytest.fail(why)
    pytest.skip(why)


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    regex: re.Pattern[str]

    @property
    def type_name(self) -> str:
        return self.name[0].upper() + self.name[1:]


def sdk_endpoints() -> list[Endpoint]:
    """The SDK's endpoints, most literal path first (``/v1/users/me`` before ``/v1/users/{user_id}``)."""
    raw = subprocess.run(["node", str(FOLDER / "endpoints.cjs")], cwd=FOLDER, check=True, capture_output=True)
    out = []
    for e in json.loads(raw.stdout):
        pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(e["path"])) + "/?$"
        out.append(Endpoint(e["name"], e["method"], e["path"], re.compile(pattern)))
    return sorted(out, key=lambda e: e.path.count("{"))


def endpoint_of(endpoints: list[Endpoint], method: str, path: str) -> tuple[Endpoint, dict[str, str]] | None:
    for e in endpoints:
        if e.method == method and (found := e.regex.match(path)):
            return e, found.groupdict()
    return None


def _query_value(key: str, values: list[str]) -> Any:
    if len(values) > 1 or key == "filter_properties":
        return values
    value = values[0]
    if value.isdigit():
        return int(value)
    return {"true": True, "false": False}.get(value, value)


def request_value(exchange: Exchange, path_params: dict[str, str]) -> Any:
    """The request as the SDK's ``*Parameters`` type takes it, or None when its body is not an object."""
    body = exchange.request_json()
    if not isinstance(body, dict):
        return None
    if exchange.request_content_type.startswith("multipart/"):  # a file part: its bytes stand in as a string
        body = {
            k: ({"filename": v["filename"], "data": f"<{v['size']} bytes>"} if isinstance(v, dict) else v)
            for k, v in body.items()
        }
    query: dict[str, list[str]] = {}
    for key, value in exchange.query:
        query.setdefault(key.removesuffix("[]"), []).append(value)
    return {**path_params, **{k: _query_value(k, v) for k, v in query.items()}, **body}


@dataclass(frozen=True)
class Check:
    """One declaration of the generated program and the exchange it comes from."""

    index: int
    part: str  # "request" or "response"
    exchange: Exchange


def program(exchanges: list[Exchange], endpoints: list[Endpoint]) -> tuple[str, dict[int, Check], list[str]]:
    """The TypeScript source, which check each line holds, and the problems found without the compiler."""
    lines = [(FOLDER / "prelude.ts").read_text()]
    at: dict[int, Check] = {}
    problems: list[str] = []
    line_no = lines[0].count("\n")

    def add(text: str, check: Check | None = None) -> None:
        nonlocal line_no
        lines.append(text + "\n")
        line_no += 1
        if check:
            at[line_no] = check

    for i, ex in enumerate(exchanges):
        found = endpoint_of(endpoints, ex.method, ex.path)
        add(f"// #{i} {ex.method} {ex.path} -> {ex.status}")
        response = ex.response_json()
        if ex.status < 400 and isinstance(response, dict):
            response = {k: v for k, v in response.items() if k not in UNTYPED_KEYS}
        if found is None and ex.status < 400:
            problems.append(f"#{i} {ex.method} {ex.path}: answered {ex.status}, but the SDK has no such endpoint")
        if found is not None and (request := request_value(ex, found[1])) is not None:
            name = PARAMETER_TYPES.get(found[0].name, f"N.{found[0].type_name}Parameters")
            declared = f"export const q{i}: {name} = {json.dumps(request)};"
            add(declared, Check(i, "request", ex))
        if response is None:
            problems.append(f"#{i} {ex.method} {ex.path}: the answer ({ex.status}) is not JSON")
        else:
            kind = "ErrorBody" if ex.status >= 400 else f"Full<N.{found[0].type_name}Response>" if found else None
            if kind:
                add(f"export const r{i}: {kind} = {json.dumps(response)};", Check(i, "response", ex))
        problems += header_problems(i, ex)
    return "".join(lines), at, problems


def header_problems(i: int, ex: Exchange) -> list[str]:
    """Headers the SDK reads: the request id on every answer (equal to the body's), Retry-After on a 429."""
    out = [f"#{i} {ex.method} {ex.path}: no {h} header" for h in READ_BY_SDK if h not in ex.response_headers]
    body = ex.response_json()
    sent = ex.response_headers.get("x-notion-request-id")
    if ex.status >= 400 and isinstance(body, dict) and sent and body.get("request_id") != sent:
        out.append(f"#{i} {ex.method} {ex.path}: x-notion-request-id differs from the body's request_id")
    if ex.status == 429 and "retry-after" not in ex.response_headers:
        out.append(f"#{i} {ex.method} {ex.path}: a 429 without Retry-After")
    return out


_DIAGNOSTIC = re.compile(r"^exchanges\.ts\((\d+),\d+\): (error TS\d+: .*)$")


def type_check(exchanges: list[Exchange], workdir: Path) -> list[str]:
    """Every problem with ``exchanges``: type errors, each named by exchange, and missing headers."""
    source, at, problems = program(exchanges, sdk_endpoints())
    (workdir / "exchanges.ts").write_text(source)
    (workdir / "tsconfig.json").write_text((FOLDER / "tsconfig.json").read_text())
    link = workdir / "node_modules"
    if not link.exists():
        link.symlink_to(FOLDER / "node_modules", target_is_directory=True)
    ran = subprocess.run(
        [str(TSC), "-p", str(workdir), "--pretty", "false"], cwd=workdir, capture_output=True, text=True
    )
    current: list[str] = []
    for line in ran.stdout.splitlines():
        found = _DIAGNOSTIC.match(line)
        if found:
            check = at.get(int(found.group(1)))
            where = f"#{check.index} {check.exchange.method} {check.exchange.path} {check.part}" if check else "?"
            current = [f"{where}: {found.group(2)}"]
            problems.append(current[0])
        elif current and line.strip():
            problems[-1] += " | " + line.strip()
    if ran.returncode != 0 and not any("error TS" in p for p in problems):
        problems.append(f"tsc failed: {ran.stdout[-2000:]}{ran.stderr[-2000:]}")
    return [p[:1500] for p in problems]
