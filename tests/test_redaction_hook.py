"""A team's own redaction function, named in the settings, is applied wherever text leaves: the recorder's rows
and the learning job's examples use the same ``Redactor.from_settings``."""

from __future__ import annotations

import sys
import types

import pytest

from notion_feedback.config import Settings
from notion_feedback.errors import ConfigError
from notion_feedback.redaction import Redactor


@pytest.fixture()
def crm_module(monkeypatch: pytest.MonkeyPatch) -> str:
    module = types.ModuleType("crm_redact")
    module.hide_names = lambda text: text.replace("Ann Smith", "[name]")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "crm_redact", module)
    return "crm_redact:hide_names"


def test_a_hook_named_in_the_settings_runs_after_the_built_in_rules(crm_module: str) -> None:
    redact = Redactor.from_settings(Settings(redact_hook=crm_module))
    assert redact("Ann Smith, ann@example.com") == "[name], [email]"


def test_a_hook_passed_in_code_wins_over_the_setting(crm_module: str) -> None:
    redact = Redactor.from_settings(Settings(redact_hook=crm_module), hook=str.upper)
    assert redact("Ann Smith") == "ANN SMITH"


@pytest.mark.parametrize("ref", ["no_such_module_xyz:fn", "crm_redact:missing", "crm_redact", "crm_redact:"])
def test_a_hook_that_cannot_be_loaded_says_how_to_name_it(ref: str, crm_module: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Redactor.from_settings(Settings(redact_hook=ref))
    assert "NOTION_FEEDBACK_REDACT_HOOK" in str(caught.value)
    assert "package.module:function" in caught.value.fix  # and names the setting
