"""One error hierarchy: every product error under one base, drawn in errors.py's docstring, each with its fix and a
``permanent`` flag that retry code reads; the CLI turns any of them into a cause and a fix, never a traceback."""

from __future__ import annotations

import inspect
import re
from types import SimpleNamespace

import httpx
import pytest
from notion_client.errors import APIResponseError
from typer.testing import CliRunner

from notion_feedback import errors
from notion_feedback.cli.app import app
from notion_feedback.notion.access import access_error
from notion_feedback.smith import feedback as fb
from notion_feedback.sync.retry import is_transient

CLASSES = {
    name: cls
    for name, cls in vars(errors).items()
    if inspect.isclass(cls) and issubclass(cls, BaseException) and cls.__module__ == errors.__name__
}


def _tree() -> dict[str, str | None]:
    """Name → parent name, read from the drawing in the module docstring (depth is the column of the name)."""
    doc = errors.__doc__ or ""
    drawing = doc.split("::", 1)[1].split("\n\n")[1]
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in drawing.splitlines():
        match = re.match(r"^([ │├└─]*)(\w+)", line)
        assert match, line
        column, name = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= column:
            stack.pop()
        parents[name] = stack[-1][1] if stack else None
        stack.append((column, name))
    return parents


def test_every_error_class_derives_from_the_one_base() -> None:
    assert len(CLASSES) == 19
    for name, cls in CLASSES.items():
        assert issubclass(cls, errors.NotionFeedbackError), name


def test_the_docstring_tree_names_every_class_under_its_real_parent() -> None:
    tree = _tree()
    assert set(tree) == set(CLASSES)
    for name, parent in tree.items():
        base = CLASSES[name].__bases__[0]
        assert base.__name__ == (parent or "Exception"), name


def test_errors_formerly_defined_elsewhere_are_the_same_classes() -> None:
    from notion_feedback.daemon import scheduler as daemon
    from notion_feedback.demo import runner
    from notion_feedback.report import uploads
    from notion_feedback.smith import stats
    from notion_feedback.sync import rows as rated_rows
    from notion_feedback.sync.retry import SyncIncompleteError

    assert fb.RunNotFoundError is errors.RunNotFoundError
    assert fb.FeedbackRejectedError is errors.FeedbackRejectedError
    assert fb.TransientLangSmithError is errors.TransientLangSmithError
    assert stats.SeriesUnavailable is errors.SeriesUnavailable
    assert rated_rows.QueryCapError is errors.QueryCapError
    assert uploads.UploadTooLargeError is errors.UploadTooLargeError
    assert daemon.DaemonError is errors.DaemonError
    assert runner.DemoError is errors.DemoError
    assert SyncIncompleteError is errors.SyncIncompleteError


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_every_error_has_a_fix_and_an_exit_code(name: str) -> None:
    cls = CLASSES[name]
    expected = 2 if name in ("ConfigError", "NotionAccessError", "LangSmithAccessError") else 1
    assert cls.exit_code == expected
    given = cls("cause", "do this")
    assert (given.message, given.fix) == ("cause", "do this")
    assert str(given) == "cause\n  fix: do this"


class _SdkError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.response = SimpleNamespace(status_code=status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422, 429, 500, 502, 503, 529])
def test_permanent_follows_the_status(status: int) -> None:
    permanent = status < 500 and status != 429
    assert errors.is_permanent_status(status) is permanent
    translated = fb._translate(_SdkError(status), "create feedback")
    assert isinstance(translated, errors.NotionFeedbackError)
    assert translated.permanent is permanent, translated
    assert is_transient(translated) is not permanent
    assert translated.fix, "every translated error says what to do"


def _notion_error(status: int, code: str) -> APIResponseError:
    return APIResponseError(code, status, "refused", httpx.Headers(), "{}")


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (401, "unauthorized", "token"),
        (403, "restricted_resource", "shared"),
        (404, "object_not_found", "shared"),
        (400, "object_not_found", "shared"),
        (400, "validation_error", None),
        (429, "rate_limited", None),
        (500, "internal_server_error", None),
        (503, "service_unavailable", None),
    ],
)
def test_one_mapping_of_notion_refusals(status: int, code: str, kind: str | None) -> None:
    exc = _notion_error(status, code)
    problem = access_error(exc, "read the data source", "the Feedback data source", "share it")
    if kind is None:
        assert problem is None
        assert is_transient(exc) is (status >= 429)
        return
    assert isinstance(problem, errors.NotionAccessError) and problem.permanent and problem.exit_code == 2
    assert not is_transient(problem)
    if kind == "token":
        assert "refused the token" in problem.message and "integrations" in problem.fix
    else:
        assert "the Feedback data source is not shared" in problem.message and problem.fix == "share it"
        assert str(status) in problem.message


@pytest.mark.parametrize(("status", "transient"), [(400, False), (404, False), (409, True), (429, True), (529, True)])
def test_the_sync_retries_a_notion_answer_by_its_status(status: int, transient: bool) -> None:
    assert is_transient(_notion_error(status, "x")) is transient


def test_permanent_can_be_set_per_instance() -> None:
    assert errors.TransientLangSmithError("x").permanent is False
    assert errors.TransientLangSmithError("x", permanent=True).permanent is True
    assert is_transient(errors.SchemaDriftError("x", permanent=False))


@pytest.mark.parametrize(
    "error",
    [
        errors.RunNotFoundError("LangSmith has no run 0b4c in project notion-feedback-tests"),
        errors.FeedbackRejectedError("LangSmith refused to create feedback (HTTP 422): score out of range"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_a_command_prints_cause_and_fix_without_a_traceback(error, monkeypatch, tmp_path) -> None:
    from notion_feedback.cli import sync_command

    def fail(*args, **kwargs):
        raise error

    settings = SimpleNamespace(secrets=lambda: [], resolved_state_url=f"sqlite:///{tmp_path / 'state.sqlite3'}")
    monkeypatch.setattr(sync_command, "settings_or_exit", lambda **kw: settings)
    monkeypatch.setattr(sync_command, "run_sync", fail)
    result = CliRunner().invoke(app, ["sync"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    output = result.output
    assert error.fix, "the error carries its fix"
    assert "Traceback" not in output, output
    cause, _, fix = output[output.index("error:") :].partition("\nfix:")
    assert output.count("error:") == 1 and error.message in " ".join(cause.split())
    assert output.count("fix:") == 1 and error.fix in " ".join(fix.split())
