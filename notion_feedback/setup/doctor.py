"""Check every piece the product depends on, and say for each what is wrong and how to fix it.

Each check is independent: a wrong LangSmith key does not hide a missing Notion property. Nothing is changed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from notion_client import APIResponseError
from notion_client.errors import HTTPResponseError, RequestTimeoutError

from notion_feedback.config import Settings, env_name
from notion_feedback.errors import LangSmithAccessError, NotionFeedbackError
from notion_feedback.masking import mask_secrets
from notion_feedback.notion.access import TOKEN_FIX, access_error, data_source_of
from notion_feedback.notion.drift import verify_schema
from notion_feedback.notion.schema import FEEDBACK, FEEDBACK_TITLE, REPORTS, REPORTS_TITLE, SCALES
from notion_feedback.setup.state_check import NAME, mode_checks, state_checks

INIT_FIX = "run `notion-feedback init --parent <page URL> --write-env` to create the workspace and save its ids"


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _notion_failure(exc: Exception, settings: Settings) -> tuple[str, str]:
    """What a Notion failure means, in words, and what to do."""
    problem = access_error(exc, "check the integration", "the integration's workspace")
    if problem is not None:
        return problem.message, problem.fix
    if isinstance(exc, APIResponseError):
        return f"Notion answered {exc.status} {exc.code}", "see https://status.notion.so or try again later"
    if isinstance(exc, httpx.ConnectError | RequestTimeoutError | httpx.TimeoutException):
        return (
            f"Notion is not reachable at {settings.notion_base_url} ({type(exc).__name__})",
            f"check {env_name('notion_base_url')} (default https://api.notion.com) and your network",
        )
    if isinstance(exc, HTTPResponseError):
        return f"Notion answered {exc.status}", "try again later"
    if isinstance(exc, NotionFeedbackError):
        return exc.message, exc.fix
    return f"{type(exc).__name__}: {exc}", "run with NOTION_FEEDBACK_LOG_LEVEL=DEBUG for details"


def check_settings(settings: Settings) -> CheckResult:
    missing = [
        env_name(f)
        for f in ("notion_token", "langsmith_api_key", "feedback_data_source_id", "reports_data_source_id")
        if getattr(settings, f) in (None, "")
    ]
    if not missing:
        return CheckResult(
            "settings", True, f"complete (rating scale {settings.rating_scale}, key {settings.rating_key})"
        )
    fix = INIT_FIX
    if any(m in ("NOTION_TOKEN", "LANGSMITH_API_KEY") for m in missing):
        fix = "set them in your environment or .env (see .env.example)"
    return CheckResult("settings", False, "missing " + ", ".join(missing), fix)


def _notion_checks(settings: Settings) -> list[CheckResult]:
    from notion_feedback.notion.client import make_notion_client

    if settings.notion_token is None:
        return [CheckResult("notion token", False, f"{env_name('notion_token')} is not set", TOKEN_FIX)]
    client = make_notion_client(settings)
    results: list[CheckResult] = []
    try:
        me = client.users.me()
    except Exception as exc:  # noqa: BLE001 - every failure becomes a line with its fix
        detail, fix = _notion_failure(exc, settings)
        return [CheckResult("notion token", False, detail, fix)]
    workspace = (me.get("bot") or {}).get("workspace_name") or "?"
    results.append(
        CheckResult("notion token", True, f"the integration is {me.get('name')!r} in workspace {workspace!r}")
    )
    scale = SCALES[settings.rating_scale]
    for label, ds_id, expected, title, use_scale in (
        ("feedback data source", settings.feedback_data_source_id, FEEDBACK.all(), FEEDBACK_TITLE, scale),
        ("reports data source", settings.reports_data_source_id, REPORTS.all(), REPORTS_TITLE, None),
    ):
        if not ds_id:
            results.append(CheckResult(label, False, "no id in settings", INIT_FIX))
            continue
        field = "feedback_data_source_id" if title == FEEDBACK_TITLE else "reports_data_source_id"
        try:
            resolved, ds = data_source_of(client, settings, field)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a line with its fix
            detail, fix = _notion_failure(exc, settings)
            results.append(CheckResult(label, False, detail, fix))
            continue
        if resolved != ds_id:
            results.append(
                CheckResult(
                    label,
                    False,
                    f"{ds_id} is the {title!r} database's id, not its data source's ({resolved})",
                    f"set {env_name(field)}={resolved}",
                )
            )
        name = "".join(t.get("plain_text", "") for t in ds.get("title") or []) or title
        results.append(CheckResult(label, True, f"{name!r} is reachable"))
        drifts = verify_schema(ds.get("properties") or {}, expected, settings.property_map, scale=use_scale)
        schema_label = label.replace("data source", "schema")
        if not drifts:
            results.append(CheckResult(schema_label, True, "every property is there, with the right type"))
        for drift in drifts:
            results.append(CheckResult(schema_label, not drift.blocking, drift.message, drift.fix))
    return results


def _feedback_config_check(settings: Settings, client: Any) -> list[CheckResult]:
    """The rating key's feedback config in LangSmith against the rating scale (unknown when listing fails)."""
    import langsmith.utils as ls_utils

    results: list[CheckResult] = []
    wanted = SCALES[settings.rating_scale].feedback_config()
    try:
        configs = [
            c
            for c in client.list_feedback_configs(feedback_key=[settings.rating_key])
            if c.feedback_key == settings.rating_key
        ]
    except ls_utils.LangSmithError:
        configs = None
    if configs == []:
        results.append(
            CheckResult(
                "feedback config",
                False,
                f"no feedback config for {settings.rating_key!r}",
                "run `notion-feedback init` to create it",
            )
        )
    elif configs:
        have = dict(configs[0].feedback_config)
        same = have.get("type") == wanted["type"] and all(
            float(have.get(k) or 0) == float(wanted[k]) for k in ("min", "max")
        )
        results.append(
            CheckResult(
                "feedback config",
                True,
                f"{settings.rating_key!r}: {have.get('type')} {have.get('min')}..{have.get('max')}",
            )
            if same
            else CheckResult(
                "feedback config",
                False,
                f"{settings.rating_key!r} is configured as {have}, not the {settings.rating_scale} scale",
                "set NOTION_FEEDBACK_RATING_KEY to a new key, or NOTION_FEEDBACK_RATING_SCALE to match it",
            )
        )
    return results


def _langsmith_checks(settings: Settings) -> list[CheckResult]:
    import langsmith.utils as ls_utils

    from notion_feedback.smith import projects
    from notion_feedback.smith.client import make_langsmith_client

    if settings.langsmith_api_key is None:
        return [
            CheckResult("langsmith key", False, "LANGSMITH_API_KEY is not set", "set it in your environment or .env")
        ]
    client = make_langsmith_client(settings)
    endpoint = settings.langsmith_endpoint
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            project_id = projects.project(client, settings.langsmith_project, fresh=True).id
        except ls_utils.LangSmithAuthError:
            return [
                CheckResult("langsmith endpoint", True, f"{endpoint} answers"),
                CheckResult(
                    "langsmith key",
                    False,
                    "LangSmith rejected the API key (401/403)",
                    "set LANGSMITH_API_KEY to a key of your workspace (LangSmith → Settings → API Keys); an "
                    "org-scoped key also needs LANGSMITH_WORKSPACE_ID",
                ),
            ]
        except ls_utils.LangSmithConnectionError:
            return [
                CheckResult(
                    "langsmith endpoint",
                    False,
                    f"LangSmith is not reachable at {endpoint}",
                    "check LANGSMITH_ENDPOINT (default https://api.smith.langchain.com; EU: "
                    "https://eu.api.smith.langchain.com) and your network",
                )
            ]
        except LangSmithAccessError:  # no such project
            return [
                CheckResult("langsmith endpoint", True, f"{endpoint} answers"),
                CheckResult("langsmith key", True, "accepted"),
                CheckResult(
                    "langsmith project",
                    False,
                    f"no project named {settings.langsmith_project!r}",
                    "set LANGSMITH_PROJECT to the project your agent traces to, or run `notion-feedback init` to "
                    "create it",
                ),
            ]
        except ls_utils.LangSmithError as exc:
            return [CheckResult("langsmith endpoint", False, mask_secrets(str(exc))[:300], "try again later")]
        results = [
            CheckResult("langsmith endpoint", True, f"{endpoint} answers"),
            CheckResult("langsmith key", True, "accepted"),
            CheckResult("langsmith project", True, f"{settings.langsmith_project!r} ({project_id})"),
        ]
        results += _feedback_config_check(settings, client)
        results += _dashboard_check(settings, client)
        if settings.learn:
            results += _learning_checks(settings, client)
    return results


def _dashboard_check(settings: Settings, client: Any) -> list[CheckResult]:
    """The observation dashboard exists (``init`` creates it); found by its title, nothing created."""
    import langsmith.utils as ls_utils

    from notion_feedback.smith import dashboard

    name = dashboard.title(settings)
    try:
        found = dashboard.find_dashboard(client, settings)
    except (NotionFeedbackError, ls_utils.LangSmithError) as exc:
        return [CheckResult("dashboard", False, mask_secrets(str(exc))[:300], "try again later")]
    if found is None:
        return [CheckResult("dashboard", False, f"no dashboard {name!r}", "run `notion-feedback init` to create it")]
    if not found.complete:
        detail = f"{name!r} has {found.charts} of its {len(dashboard.CHARTS)} charts"
        return [CheckResult("dashboard", False, detail, "run `notion-feedback init` to add the missing ones")]
    return [CheckResult("dashboard", True, f"{name!r}" + (f" ({found.url})" if found.url else ""))]


def _learning_checks(settings: Settings, client: Any) -> list[CheckResult]:
    """The datasets and the review queue the learning job keeps exist (``init`` creates them)."""
    from notion_feedback.learn.datasets import DESCRIPTIONS
    from notion_feedback.smith import datasets, queues

    fix = "run `notion-feedback init` to create it (or NOTION_FEEDBACK_LEARN=false to go without)"
    results = []
    try:
        for kind in DESCRIPTIONS:
            name = settings.dataset_name(kind)
            found = datasets.find_dataset(client, name)
            ok = found is not None
            detail = repr(name) if ok else f"no dataset {name!r}"
            results.append(CheckResult(f"{kind}-rated dataset", ok, detail, "" if ok else fix))
        ok = queues.find_queue(client, settings.review_queue_name) is not None
        name = settings.review_queue_name
        detail = repr(name) if ok else f"no annotation queue {name!r}"
        results.append(CheckResult("review queue", ok, detail, "" if ok else fix))
    except NotionFeedbackError as exc:
        results.append(CheckResult("learning", False, mask_secrets(str(exc))[:300], exc.fix or "try again later"))
    return results


def _spool_check(settings: Settings) -> list[CheckResult]:
    from notion_feedback.capture.spool import SPOOL_FILE, read_summary
    from notion_feedback.daemon.status import ago

    path: Path = settings.home / SPOOL_FILE
    if (spool := read_summary(path)) is None:
        return []
    oldest = f", the oldest recorded {ago(spool.oldest_age_seconds)}" if spool.oldest_age_seconds is not None else ""
    waiting = f"{spool.waiting} rows waiting to be written{oldest}"
    if spool.dropped:
        return [
            CheckResult(
                "recorder spool",
                False,
                f"{spool.dropped} rows dropped: the recorder's memory was full and {path} could not be written; "
                f"{waiting}",
                f"keep NOTION_FEEDBACK_HOME on a disk with free space (the count covers this spool's life: "
                f"delete {path} once it is empty to start again)",
            )
        ]
    if spool.failed:
        why = "; ".join(f"{n} × {reason}" for reason, n in spool.reasons)
        return [
            CheckResult(
                "recorder spool",
                False,
                f"{spool.failed} rows parked, refused by Notion ({why}); {waiting} ({path})",
                "fix the cause (the schema problems above, if any), then `notion-feedback spool --retry` sends them",
            )
        ]
    return [CheckResult("recorder spool", True, f"{waiting} ({path})")]


def _state_check(settings: Settings) -> list[CheckResult]:
    checks = state_checks(settings)
    files = [CheckResult("file modes", ok, detail, fix) for ok, detail, fix in mode_checks(settings)]
    return [CheckResult(NAME, ok, detail, fix) for ok, detail, fix in checks] + files


def run_checks(settings: Settings) -> list[CheckResult]:
    """All checks, in the order a user fixes things."""
    results = [check_settings(settings)]
    sections: list[Callable[[Settings], list[CheckResult]]] = [
        _notion_checks,
        _langsmith_checks,
        _state_check,
        _spool_check,
    ]
    for section in sections:
        try:
            results.extend(section(settings))
        except NotionFeedbackError as exc:
            results.append(CheckResult(section.__name__.strip("_").replace("_", " "), False, exc.message, exc.fix))
    return [
        CheckResult(r.name, r.ok, mask_secrets(r.detail, settings.secrets()), mask_secrets(r.fix, settings.secrets()))
        for r in results
    ]


def summary(results: list[CheckResult]) -> dict[str, Any]:
    return {"ok": all(r.ok for r in results), "problems": sum(not r.ok for r in results)}
