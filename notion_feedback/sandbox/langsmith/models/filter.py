"""LangSmith's trace query language (``and(eq(run_type, "llm"), gt(latency, "5s"))``), parsed and evaluated
as numpy masks over the run columns, so the same filter costs the same on ten runs or a million.

Supported: comparators eq, neq, gt, gte, lt, lte, has, in, search (and like), combinators and, or, not;
fields id, trace_id, name, run_type, start_time, end_time, latency, first_token_time, total_tokens,
prompt_tokens, completion_tokens, total_cost, prompt_cost, completion_cost, error, status, tags, is_root,
session_id, metadata_key/metadata_value and feedback_key/feedback_score/feedback_value. Inside one ``and``,
``metadata_key``+``metadata_value`` conditions (and ``feedback_key``+``feedback_score``) apply to the same
pair, as in LangSmith: ``and(eq(metadata_key, "user"), eq(metadata_value, "ann"))`` means user == ann.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from notion_feedback.sandbox.langsmith.exceptions import ApiError, PayloadError
from notion_feedback.sandbox.langsmith.models.columns import Interner, meta_str
from notion_feedback.sandbox.langsmith.models.runs import as_uuid, parse_time
from notion_feedback.sandbox.langsmith.models.store import LangSmithStore

COMPARATORS = {"eq", "neq", "gt", "gte", "lt", "lte", "has", "in", "search", "like", "exists"}
COMBINATORS = {"and", "or", "not"}
META_FIELDS = {"metadata_key", "metadata_value"}
FEEDBACK_FIELDS = {"feedback_key", "feedback_score", "feedback_value"}
NUMERIC = {
    "total_tokens": "tt",
    "prompt_tokens": "pt",
    "completion_tokens": "ct",
    "total_cost": "tc",
    "prompt_cost": "pc",
    "completion_cost": "cc",
}


class FilterError(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(400, f"Invalid filter: {message}")


@dataclass(frozen=True)
class Call:
    fn: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Field:
    name: str


_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.]))|"""
    r"""(?P<ident>[A-Za-z_][\w.\-]*)|(?P<punct>[(),\[\]]))"""
)


def _tokens(text: str) -> list[tuple[str, Any]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FilterError(f"unexpected input at {pos}: {text[pos : pos + 20]!r}")
        pos = m.end()
        if m.group("str") is not None:
            raw = m.group("str")[1:-1]
            out.append(("val", re.sub(r"\\(.)", r"\1", raw)))
        elif m.group("num") is not None:
            n = m.group("num")
            out.append(("val", float(n) if any(c in n for c in ".eE") else int(n)))
        elif m.group("ident") is not None:
            out.append(("ident", m.group("ident")))
        elif m.group("punct"):
            out.append(("p", m.group("punct")))
    return out


def parse(text: str) -> Call:
    toks = _tokens(text)
    pos = 0

    def peek() -> tuple[str, Any] | None:
        return toks[pos] if pos < len(toks) else None

    def expect(p: str) -> None:
        nonlocal pos
        t = peek()
        if t != ("p", p):
            raise FilterError(f"expected {p!r}")
        pos += 1

    def value() -> Any:
        nonlocal pos
        t = peek()
        if t is None:
            raise FilterError("unexpected end")
        if t == ("p", "["):
            pos += 1
            items = []
            while peek() != ("p", "]"):
                items.append(value())
                if peek() == ("p", ","):
                    pos += 1
            expect("]")
            return items
        if t[0] == "val":
            pos += 1
            return t[1]
        if t[0] == "ident":
            nxt = toks[pos + 1] if pos + 1 < len(toks) else None
            if nxt == ("p", "("):
                return call()
            pos += 1
            word = t[1]
            return {"null": None, "none": None, "true": True, "false": False}.get(word.lower(), Field(word))
        raise FilterError(f"unexpected {t[1]!r}")

    def call() -> Call:
        nonlocal pos
        t = peek()
        if not t or t[0] != "ident":
            raise FilterError("expected a function")
        fn = t[1].lower()
        if fn not in COMPARATORS | COMBINATORS:
            raise FilterError(f"unknown function {fn!r}")
        pos += 1
        expect("(")
        args = []
        while peek() != ("p", ")"):
            args.append(value())
            if peek() == ("p", ","):
                pos += 1
            elif peek() != ("p", ")"):
                raise FilterError("expected ',' or ')'")
        expect(")")
        return Call(fn, tuple(args))

    node = call()
    if pos != len(toks):
        raise FilterError("trailing input")
    return node


def _seconds(v: Any) -> float:
    if isinstance(v, int | float):
        return float(v)
    m = re.fullmatch(r"\s*(-?[\d.]+)\s*(ms|s|m|h)?\s*", str(v))
    if not m:
        raise FilterError(f"bad duration {v!r}")
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def _cmp(arr: np.ndarray, op: str, v: Any) -> np.ndarray:
    if op == "eq":
        return arr == v
    if op == "neq":
        return arr != v
    if op == "gt":
        return arr > v
    if op == "gte":
        return arr >= v
    if op == "lt":
        return arr < v
    if op == "lte":
        return arr <= v
    raise FilterError(f"{op} does not apply here")


def _pred(op: str, v: Any) -> Any:
    """A Python predicate on one (string) category value."""
    if op in ("in",):
        vals = {meta_str(x) if not isinstance(x, str) else x for x in (v if isinstance(v, list) else [v])}
        return lambda s: s in vals
    if op in ("search", "like"):
        needle = str(v).strip("%").lower()
        return lambda s: needle in s.lower()
    if op == "has":
        return lambda s: s == v
    target = v if isinstance(v, str) else meta_str(v)
    if op in ("eq", "neq"):
        return (lambda s: s == target) if op == "eq" else (lambda s: s != target)
    num = None
    with contextlib.suppress(TypeError, ValueError):
        num = float(v)

    def ordered(s: str) -> bool:
        try:
            a, b = (float(s), num) if num is not None else (s, target)
            return bool(_cmp(np.asarray(a), op, b))
        except (TypeError, ValueError):
            return False

    return ordered


class Evaluator:
    """Evaluates a parsed filter to a boolean mask over the store's first ``n`` runs."""

    def __init__(self, store: LangSmithStore) -> None:
        self.s = store
        self.n = store.runs.n

    def mask(self, node: Any) -> np.ndarray:
        if not isinstance(node, Call):
            raise FilterError("expected a condition")
        if node.fn == "and":
            return self._and(list(node.args))
        if node.fn == "or":
            out = np.zeros(self.n, dtype=bool)
            for a in node.args:
                out |= self.mask(a)
            return out
        if node.fn == "not":
            return ~self.mask(node.args[0])
        field, value = self._field_value(node)
        if field in META_FIELDS:
            return self._meta([node])
        if field in FEEDBACK_FIELDS:
            return self._feedback([node])
        return self._compare(node.fn, field, value)

    @staticmethod
    def _field_value(node: Call) -> tuple[str, Any]:
        if node.fn == "search" and len(node.args) == 1:
            return "__text__", node.args[0]
        if len(node.args) != 2:
            raise FilterError(f"{node.fn} takes a field and a value")
        f, v = node.args
        if isinstance(f, str) and not isinstance(v, Field):
            f = Field(f)
        if not isinstance(f, Field):
            raise FilterError(f"first argument of {node.fn} must be a field")
        return f.name.lower(), v.name if isinstance(v, Field) else v

    def _and(self, args: list[Any]) -> np.ndarray:
        out = np.ones(self.n, dtype=bool)
        meta, fb = [], []
        for a in args:
            if isinstance(a, Call) and a.fn in COMPARATORS and len(a.args) == 2:
                field = self._field_value(a)[0]
                if field in META_FIELDS:
                    meta.append(a)
                    continue
                if field in FEEDBACK_FIELDS:
                    fb.append(a)
                    continue
            out &= self.mask(a)
        if meta:
            out &= self._meta(meta)
        if fb:
            out &= self._feedback(fb)
        return out

    # -- plain fields -------------------------------------------------------------------------------------
    def _categorical(self, codes: np.ndarray, interner: Interner, op: str, v: Any) -> np.ndarray:
        pred = _pred(op, v)
        table = np.fromiter((bool(pred(x)) for x in interner.values), dtype=bool, count=len(interner.values))
        table = np.append(table, False)  # code -1 (absent) indexes the last slot
        return table[codes]

    def _compare(self, op: str, field: str, v: Any) -> np.ndarray:
        r = self.s.runs
        n = self.n
        if field == "__text__":
            return self._text(str(v))
        if field in ("name", "run_type"):
            codes, interner = (r["name"], self.s.names) if field == "name" else (r["rtype"], self.s.rtypes)
            return self._categorical(codes, interner, op, v)
        if field in ("id", "run_id", "trace_id", "trace"):
            vals = v if isinstance(v, list) else [v]
            hit = np.zeros(n, dtype=bool)
            for x in vals:
                try:
                    row = self.s.row_of(as_uuid(x))
                except PayloadError:
                    row = None
                if row is None:
                    continue
                if field in ("id", "run_id"):
                    hit[row] = True
                else:
                    hit |= r["trace"] == r["trace"][row]
            return ~hit if op == "neq" else hit
        if field in ("session", "session_id", "project_id"):
            vals = v if isinstance(v, list) else [v]
            codes = [self.s.sess_codes.get(str(x)) for x in vals]
            hit = np.isin(r["sess"], codes)
            return ~hit if op == "neq" else hit
        if field in ("start_time", "end_time"):
            t = parse_time(v)
            if t is None:
                raise FilterError(f"{field} needs a time")
            return _cmp(r["start" if field == "start_time" else "end"], op, t.timestamp())
        if field == "latency":
            with np.errstate(invalid="ignore"):
                return _cmp(r["end"] - r["start"], op, _seconds(v))
        if field in ("first_token_time", "first_token_latency"):
            with np.errstate(invalid="ignore"):
                return _cmp(r["first_tok"] - r["start"], op, _seconds(v))
        if field in NUMERIC:
            return _cmp(r[NUMERIC[field]], op, float(v))
        if field == "error":
            if op in ("search", "like"):
                return self._text(str(v), fields=("error",))
            want_error = v not in (None, False, "false", "null")
            res = r["err"] if want_error else ~r["err"]
            return ~res if op == "neq" else res
        if field == "status":
            end_known = ~np.isnan(r["end"])
            by = {"error": r["err"], "success": end_known & ~r["err"], "pending": ~end_known & ~r["err"]}
            vals = v if isinstance(v, list) else [v]
            hit = np.zeros(n, dtype=bool)
            for x in vals:
                hit |= by.get(str(x).lower(), np.zeros(n, dtype=bool))
            return ~hit if op == "neq" else hit
        if field == "is_root":
            res = r["root"] if v in (True, "true", 1) else ~r["root"]
            return ~res if op == "neq" else res
        if field == "tags":
            vals = v if isinstance(v, list) else [v]
            hit = np.zeros(n, dtype=bool)
            for x in vals:
                rows = self.s.tags.get(str(x))
                if rows:
                    hit[np.fromiter(rows, dtype=np.int64, count=len(rows))] = True
            return ~hit if op == "neq" else hit
        raise FilterError(f"unsupported field {field!r}")

    def _text(self, needle: str, fields: tuple[str, ...] = ("name", "inputs", "outputs", "error")) -> np.ndarray:
        import json

        hit = np.zeros(self.n, dtype=bool)
        low = needle.lower()
        for row in np.flatnonzero(self.s.runs["has_doc"]):
            doc = self.s.docs[row] or {}
            for f in fields:
                val = doc.get(f)
                if val and low in (val if isinstance(val, str) else json.dumps(val, default=str)).lower():
                    hit[row] = True
                    break
        return hit

    # -- paired conditions --------------------------------------------------------------------------------
    def _meta(self, conds: list[Call]) -> np.ndarray:
        keys: set[str] | None = None
        value_preds = []
        for c in conds:
            field, v = self._field_value(c)
            if field == "metadata_key":
                ks = {str(x) for x in (v if isinstance(v, list) else [v])}
                if c.fn == "neq":
                    ks = set(self.s.meta) - ks
                keys = ks if keys is None else keys & ks
            else:
                value_preds.append(_pred(c.fn, v))
        out = np.zeros(self.n, dtype=bool)
        for k in keys if keys is not None else list(self.s.meta):
            col = self.s.meta.get(k)
            if col is None:
                continue
            codes = col.view(self.n)
            table = np.fromiter(
                (all(p(x) for p in value_preds) for x in col.values.values), dtype=bool, count=len(col.values.values)
            )
            out |= np.append(table, False)[codes]
        return out

    def _feedback(self, conds: list[Call]) -> np.ndarray:
        fb = self.s.fb
        sel = fb["alive"] & (fb["run"] >= 0)
        for c in conds:
            field, v = self._field_value(c)
            if field == "feedback_key":
                sel &= self._categorical(fb["key"], self.s.fb_keys, c.fn, v)
            elif field == "feedback_score":
                with np.errstate(invalid="ignore"):
                    sel &= _cmp(fb["score"], c.fn, float(v))
            else:  # feedback_value: only documents carry values
                want = _pred(c.fn, v)
                ok = np.fromiter(
                    (d is not None and d.get("value") is not None and want(str(d["value"])) for d in self.s.fb_docs),
                    dtype=bool,
                    count=fb.n,
                )
                sel &= ok
        out = np.zeros(self.n, dtype=bool)
        rows = fb["run"][sel]
        out[rows[rows < self.n]] = True
        return out


def filter_mask(store: LangSmithStore, text: str | None) -> np.ndarray | None:
    """The mask of a filter string, or None when there is no filter."""
    if not text or not str(text).strip():
        return None
    return Evaluator(store).mask(parse(str(text)))
