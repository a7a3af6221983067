"""Keep secrets out of anything we print, log or send: one place that knows what a secret looks like."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Tokens of the two services and common API-key shapes. Kept deliberately broad: a false positive costs a few
# characters in a log line, a false negative leaks a credential.
SECRET_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\b(?:ntn|secret)_[A-Za-z0-9_\-]{16,}"),
    re.compile(r"\blsv2_[A-Za-z0-9_\-]{16,}"),
    re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_\-]{16,}"),
    re.compile(r"\b(?:ghp|gho|github_pat|xox[abpr])_[A-Za-z0-9_\-]{16,}"),
    re.compile(r"(?i)\b(?:bearer)\s+[A-Za-z0-9._\-]{16,}"),
)
MASK = "[REDACTED]"


def mask_secrets(text: str, known: Iterable[str] = ()) -> str:
    """Replace secret-looking strings, and every known secret value, with a mask."""
    for value in known:
        if value and len(value) >= 6:
            text = text.replace(value, MASK)
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(MASK, text)
    return text
