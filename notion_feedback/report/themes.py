"""What users complain about: the comments of low-rated rows grouped into themes by their words.

The method is meant to be explained in one paragraph and checked by hand (docs/analytics.md): each comment becomes
a set of key phrases (single words and pairs of neighbouring words, once markup, punctuation and common English
words are removed); the phrase found in the most comments becomes a theme and takes those comments; the next
theme is the phrase found in the most of the comments left, and so on, up to ``max_themes`` themes of at least
``min_size`` comments. Ties go to the two-word phrase (it says more), then to the alphabetically first one, so
the same comments always give the same themes. What no theme took is "other".

Last period's comments are counted with this period's phrases by the same rule (each goes to the first theme,
in this period's order, whose phrase it contains), so the two counts compare like with like.

Nothing here makes a request: ``publish`` reads the rows, this module only counts.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from notion_feedback.notion.schema import RatingScale
from notion_feedback.words import STOPWORDS

MAX_COMMENT_CHARS = 2_000  # a comment is cut to this before anything else: a huge paste costs what a long one does
EXAMPLE_CHARS = 160
MAX_THEMES = 5
MIN_SIZE = 2


_BIDI_AND_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_TAG = re.compile(r"<[^<>]{0,200}>")
_LINK = re.compile(r"!?\[([^\[\]]{0,500})\]\([^\s]{0,2000}?\)")
_MARKS = re.compile(r"[*_`~#>|\[\]()!\\]+")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


@dataclass(frozen=True)
class Comment:
    """One low-rated row's comment, with what the page needs to link to it."""

    text: str
    url: str
    run_id: str | None = None


@dataclass
class Theme:
    """A key phrase and the comments it took, this period and last."""

    label: str
    count: int
    previous: int
    example: str
    url: str

    @property
    def trend(self) -> str:
        """▲ / ▼ with the difference, = when equal, "new" when last period had none."""
        diff = self.count - self.previous
        if not self.previous:
            return "new"
        return "=" if not diff else f"{'▲' if diff > 0 else '▼'} {abs(diff)}"


@dataclass
class Themes:
    """The section: its themes, what is left over, and the review-queue share when the queue is known."""

    total: int
    themes: list[Theme] = field(default_factory=list)
    other: int = 0
    previous_total: int = 0
    in_queue: int | None = None

    @property
    def queue_share(self) -> float | None:
        return None if self.in_queue is None or not self.total else self.in_queue / self.total


def low_options(scale: RatingScale, at_most: float | None = None) -> list[str]:
    """The option names that count as a low rating on ``scale``: at or below ``at_most`` (the setting
    NOTION_FEEDBACK_LEARN_LOW_RATING), else the scale's own bound (≤ 2 on 1-5, ≤ 4 on 1-10, 👎 on thumbs)."""
    at_most = scale.low if at_most is None else at_most
    return [name for name, score, _ in scale.options if score <= at_most]


def clean(text: str, limit: int = MAX_COMMENT_CHARS) -> str:
    """``text`` cut to ``limit`` characters, without markup, bidi or invisible controls, on one line."""
    text = unicodedata.normalize("NFKC", str(text)[:limit])
    text = _BIDI_AND_INVISIBLE.sub("", text)
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    text = _LINK.sub(r"\1", _TAG.sub(" ", text))
    return " ".join(_MARKS.sub(" ", text.replace("\u2019", "'")).split())


def words(text: str) -> list[str]:
    """The comment's words, lowercased, without the common ones."""
    return [w for w in _WORD.findall(clean(text).lower()) if w not in STOPWORDS and len(w) > 1]


def phrases(text: str) -> set[str]:
    """Candidate theme labels of one comment: its words and each pair of neighbouring words."""
    ws = words(text)
    return set(ws) | {f"{a} {b}" for a, b in zip(ws, ws[1:], strict=False) if a != b}


def _rank(item: tuple[str, int]) -> tuple[int, int, str]:
    phrase, n = item
    return (-n, -phrase.count(" "), phrase)


def cluster(
    texts: Sequence[str], max_themes: int = MAX_THEMES, min_size: int = MIN_SIZE
) -> list[tuple[str, list[int]]]:
    """Greedy themes: (phrase, indices of the comments it took), largest first; the rest is "other"."""
    sets = [phrases(t) for t in texts]
    left = set(range(len(texts)))
    found: list[tuple[str, list[int]]] = []
    while left and len(found) < max_themes:
        counts = Counter(p for i in left for p in sets[i])
        if not counts:
            break
        phrase, n = min(counts.items(), key=_rank)
        if n < min_size:
            break
        taken = sorted(i for i in left if phrase in sets[i])
        found.append((phrase, taken))
        left.difference_update(taken)
    return found


def assign(texts: Iterable[str], labels: Sequence[str]) -> Counter[str]:
    """How many of ``texts`` each label takes when each text goes to the first label it contains."""
    out: Counter[str] = Counter()
    for text in texts:
        have = phrases(text)
        first = next((label for label in labels if label in have), None)
        if first is not None:
            out[first] += 1
    return out


def example(text: str) -> str:
    """A comment as the page quotes it: cleaned and cut to ``EXAMPLE_CHARS``."""
    short = clean(text, EXAMPLE_CHARS + 1)
    return short if len(short) <= EXAMPLE_CHARS else short[: EXAMPLE_CHARS - 1].rstrip() + "…"


def summarise(
    current: Sequence[Comment],
    previous: Sequence[Comment],
    queue: set[str] | None = None,
    max_themes: int = MAX_THEMES,
    min_size: int = MIN_SIZE,
) -> Themes | None:
    """The section for this period's comments against last period's; None when there is nothing to say.

    ``current`` comes in the order examples are picked from (the first comment of a theme is its example).
    ``queue`` is the set of run ids in the review queue, or None when it is not known (no share is shown).
    """
    texts = [c.text for c in current if c.text.strip()]
    kept = [c for c in current if c.text.strip()]
    if not kept:
        return None
    found = cluster(texts, max_themes, min_size)
    before = assign((c.text for c in previous), [label for label, _ in found])
    themes = [
        Theme(label, len(idx), before[label], example(kept[idx[0]].text), kept[idx[0]].url) for label, idx in found
    ]
    in_queue = None if queue is None else sum(1 for c in kept if c.run_id and c.run_id in queue)
    other = len(kept) - sum(t.count for t in themes)
    return Themes(len(kept), themes, other, sum(1 for c in previous if c.text.strip()), in_queue)
