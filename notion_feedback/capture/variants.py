"""A/B variant assignment: the same user always lands in the same arm, with no state to keep."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence


def assign_variant(user_id: str, variants: Sequence[str] | Mapping[str, float], *, experiment: str = "") -> str:
    """Pick an arm for ``user_id``: uniform over a list, or by weight (``{"A": 0.9, "B": 0.1}``).

    A hash of experiment and user, so reassignment needs no storage and a new experiment reshuffles users.
    """
    weights = dict(variants) if isinstance(variants, Mapping) else {name: 1.0 for name in variants}
    if not weights or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError("variants must name at least one arm with a positive weight")
    digest = hashlib.sha256(f"{experiment}\x00{user_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64 * sum(weights.values())
    for name, weight in weights.items():
        point -= weight
        if point < 0:
            return name
    return next(reversed(weights))
