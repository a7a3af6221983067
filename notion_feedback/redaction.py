"""Mask personal data and secrets in text before it leaves the process (to Notion, the local spool, a dataset).

On by default (``NOTION_FEEDBACK_REDACT``): e-mail addresses, phone numbers and API-key-like strings (the same
shapes ``masking.py`` masks in logs). Teams add their own regular expressions (``NOTION_FEEDBACK_REDACT_PATTERNS``)
or a function of their own for what regular expressions cannot see (names from a CRM, say).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from notion_feedback.errors import ConfigError
from notion_feedback.masking import MASK, SECRET_PATTERNS
from notion_feedback.references import load_callable

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"

# A match may start only where a run of local-part characters starts: without the look-behind, a long run with no
# "@" (a million "a"s) is rescanned from each of its characters, quadratic time on the agent's row.
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# A run of digits with the separators people type; kept only when it has as many digits as a phone number.
_PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d\s().\-]{6,}\d(?![\w])")
_PHONE_DIGITS = (9, 15)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

Hook = Callable[[str], str]


def _mask_phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(c.isdigit() for c in text)
    if not (_PHONE_DIGITS[0] <= digits <= _PHONE_DIGITS[1]) or _ISO_DATE.search(text):
        return text
    # Keep a trailing newline or space the candidate swallowed out of the mask.
    return PHONE_MASK


def load_hook(ref: str | None) -> Hook | None:
    """The function a "package.module:function" reference names (None for none)."""
    return load_callable(ref, "NOTION_FEEDBACK_REDACT_HOOK") if ref else None


class Redactor:
    """A text filter: built once, applied to each text field of a row."""

    def __init__(self, enabled: bool = True, extra_patterns: Iterable[str] = (), hook: Hook | None = None) -> None:
        self.enabled = enabled
        self.hook = hook
        try:
            self.extra = tuple(re.compile(p) for p in extra_patterns)
        except re.error as exc:
            raise ConfigError(
                f"a redaction pattern is not a valid regular expression: {exc}",
                "correct NOTION_FEEDBACK_REDACT_PATTERNS (a JSON list of Python regular expressions)",
            ) from None

    @classmethod
    def from_settings(cls, settings: object, hook: Hook | None = None) -> Redactor:
        """The settings' rules, with ``hook`` or else the settings' ``redact_hook`` reference."""
        ref = getattr(settings, "redact_hook", None)
        return cls(getattr(settings, "redact", True), getattr(settings, "redact_patterns", ()), hook or load_hook(ref))

    def __call__(self, text: str | None) -> str:
        if not text or not self.enabled:
            return text or ""
        for pattern in SECRET_PATTERNS:
            text = pattern.sub(MASK, text)
        text = EMAIL.sub(EMAIL_MASK, text)
        text = _PHONE_CANDIDATE.sub(_mask_phone, text)
        for pattern in self.extra:
            text = pattern.sub(MASK, text)
        if self.hook is not None:
            text = self.hook(text)
        return text
