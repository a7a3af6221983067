"""Growable numpy columns and string interning: what lets stats scan a million runs in milliseconds."""

from __future__ import annotations

from typing import Any

import numpy as np

# name -> (dtype, fill value for fresh rows)
RUN_COLUMNS: dict[str, tuple[Any, Any]] = {
    "alive": (np.bool_, False),
    "has_doc": (np.bool_, False),
    "sess": (np.int32, -1),
    "name": (np.int32, -1),
    "rtype": (np.int16, -1),
    "trace": (np.int64, -1),
    "root": (np.bool_, False),
    "id_hi": (np.uint64, 0),
    "id_lo": (np.uint64, 0),
    "start": (np.float64, np.nan),
    "end": (np.float64, np.nan),
    "first_tok": (np.float64, np.nan),
    "err": (np.bool_, False),
    "stream": (np.bool_, False),
    # this run's own usage
    "own_pt": (np.int64, 0),
    "own_ct": (np.int64, 0),
    "own_tt": (np.int64, 0),
    "own_pc": (np.float64, 0.0),
    "own_cc": (np.float64, 0.0),
    "own_tc": (np.float64, 0.0),
    # own + descendants (what the legacy API reports on a run)
    "pt": (np.int64, 0),
    "ct": (np.int64, 0),
    "tt": (np.int64, 0),
    "pc": (np.float64, 0.0),
    "cc": (np.float64, 0.0),
    "tc": (np.float64, 0.0),
}

FEEDBACK_COLUMNS: dict[str, tuple[Any, Any]] = {
    "alive": (np.bool_, False),
    "run": (np.int64, -1),
    "sess": (np.int32, -1),
    "key": (np.int32, -1),
    "score": (np.float64, np.nan),
    "created": (np.float64, np.nan),
}


class Columns:
    """A set of equally long numpy arrays with amortised O(1) append."""

    def __init__(self, spec: dict[str, tuple[Any, Any]]) -> None:
        self.spec = spec
        self.n = 0
        self.cap = 0
        self.arr: dict[str, np.ndarray] = {k: np.empty(0, dtype=dt) for k, (dt, _) in spec.items()}

    def alloc(self, k: int) -> int:
        """Reserve ``k`` rows filled with defaults; returns the first new row index."""
        need = self.n + k
        if need > self.cap:
            cap = max(1024, self.cap * 2, need)
            for name, (dt, _fill) in self.spec.items():
                grown = np.empty(cap, dtype=dt)
                grown[: self.n] = self.arr[name][: self.n]
                self.arr[name] = grown
            self.cap = cap
        for name, (_dt, fill) in self.spec.items():
            self.arr[name][self.n : need] = fill
        first, self.n = self.n, need
        return first

    def __getitem__(self, name: str) -> np.ndarray:
        """A view of the live rows."""
        return self.arr[name][: self.n]

    def clear(self) -> None:
        self.__init__(self.spec)  # type: ignore[misc]


class Interner:
    """String <-> small int, so names and run types compare as integers in vectorised filters."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.values: list[str] = []

    def code(self, value: str) -> int:
        c = self.codes.get(value)
        if c is None:
            c = self.codes[value] = len(self.values)
            self.values.append(value)
        return c

    def get(self, value: str) -> int:
        return self.codes.get(value, -2)  # -2 never matches a row (rows hold -1 for "none")


class MetaColumn:
    """One metadata key across all runs: a code per row (-1 = key absent) and the interned values."""

    def __init__(self, cap: int) -> None:
        self.codes = np.full(max(cap, 1024), -1, dtype=np.int32)
        self.values = Interner()

    def set(self, row: int, value: str | None) -> None:
        if row >= len(self.codes):
            grown = np.full(max(row + 1, len(self.codes) * 2), -1, dtype=np.int32)
            grown[: len(self.codes)] = self.codes
            self.codes = grown
        self.codes[row] = -1 if value is None else self.values.code(value)

    def view(self, n: int) -> np.ndarray:
        if n > len(self.codes):
            self.set(n - 1, None)
        return self.codes[:n]


def meta_str(value: Any) -> str | None:
    """Metadata values compare as strings in LangSmith filters (``eq(metadata_value, "1")``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return None
