"""Redaction runs on the agent's row before it leaves the process: hostile text must cost time in proportion to its
length, never quadratic (a million identical characters once held the intake thread for over 40 s)."""

from __future__ import annotations

import time

import pytest

from notion_feedback.masking import MASK, mask_secrets
from notion_feedback.redaction import EMAIL_MASK, PHONE_MASK, Redactor

LENGTH = 1_000_000  # a million characters of one shape, as a hostile paste can be
# Generous for a loaded 2-core machine (linear redaction measures ~0.5 µs a character there); a quadratic pattern
# measures over 100 µs a character at this length.
MAX_SECONDS_PER_CHAR = 5e-6

HOSTILE = {
    "one character": "a" * LENGTH,
    "digits": "1" * LENGTH,
    "dashes": "-" * LENGTH,
    "pluses": "+" * LENGTH,
    "dots and letters": "a." * (LENGTH // 2),
    "dots and digits": "1." * (LENGTH // 2),
    "spaced digits": "1 " * (LENGTH // 2),
    "at signs": "a@" * (LENGTH // 2),
    "almost e-mails": "a@a." * (LENGTH // 4),
    "bidi controls": "\u202e\u2066x\u2069\u202c" * (LENGTH // 5),
    "nested markup": "<b><i>**_[" * (LENGTH // 10),
    "key prefixes": "sk-" * (LENGTH // 3),
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_text_redacts_in_linear_time(text: str) -> None:
    redact = Redactor()
    started = time.perf_counter()
    redact(text)
    mask_secrets(text)
    elapsed = time.perf_counter() - started
    assert elapsed <= MAX_SECONDS_PER_CHAR * len(text), f"{elapsed:.2f} s for {len(text):,} characters"


def test_what_must_be_masked_still_is_inside_hostile_text() -> None:
    filler = "a" * LENGTH
    text = f"{filler} mail me at jo.doe+x@example.co.uk or +44 20 7946 0958 {filler}.{filler} key sk-{'x' * 24}"
    out = Redactor()(text)
    assert "jo.doe" not in out and EMAIL_MASK in out
    assert "7946" not in out and PHONE_MASK in out
    assert "sk-xxx" not in out and MASK in out
    assert out.startswith(filler) and len(out) > 3 * LENGTH  # the rest of the text is kept
