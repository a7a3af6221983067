"""Number property values as Notion shows them: the property's ``format`` decides, the stored value never changes.

``number`` is the bare value (``1234.5``), ``number_with_commas`` groups thousands (``1,234.5``), ``percent``
shows the value times 100 (``0.0833`` is ``8.33%``), and a currency puts its symbol before the grouped value
with two decimals (``$1,234.50``; yen and won have none), as Notion's default decimal places do.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# format -> (symbol, decimals): the currencies the emulator accepts
CURRENCIES: dict[str, tuple[str, int]] = {
    "dollar": ("$", 2),
    "euro": ("€", 2),
    "pound": ("£", 2),
    "yen": ("¥", 0),
    "rupee": ("₹", 2),
    "won": ("₩", 0),
    "yuan": ("CN¥", 2),
}


def _digits(value: float, grouped: bool) -> str:
    """``value`` without float noise or trailing zeros, thousands grouped when asked."""
    rounded = round(float(value), 10)
    if rounded.is_integer():
        return f"{int(rounded):,}" if grouped else str(int(rounded))
    text = f"{rounded:,.10f}" if grouped else f"{rounded:.10f}"
    return text.rstrip("0").rstrip(".")


def number_format(config: dict[str, Any] | None) -> str:
    """The ``format`` of a number property's schema entry (``{"type": "number", "number": {"format": …}}``)."""
    return ((config or {}).get("number") or {}).get("format") or "number"


def format_number(value: Any, fmt: str) -> str:
    """One number as a Notion table cell shows it under ``fmt``; an empty cell for no value."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    if fmt == "percent":
        return f"{_digits(value * 100, grouped=True)}%"
    if fmt in CURRENCIES:
        symbol, decimals = CURRENCIES[fmt]
        sign = "-" if value < 0 else ""
        # half away from zero, as a browser's number formatting rounds (Python's own rounds half to even)
        shown = Decimal(repr(abs(float(value)))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        return f"{sign}{symbol}{shown:,}"
    return _digits(value, grouped=fmt == "number_with_commas")
