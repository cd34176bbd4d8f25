"""Markdown helpers of the report: numbers, ratios, tables."""

from __future__ import annotations

VARIANTS = {
    "a": "uncached",
    "b": "Fynix cached",
    "c": "peer @cache.cached",
    "d": "ceiling (bytes)",
    "e": "floor (1 MGET)",
}


def fmt(value: object, digits: int = 2) -> str:
    """A cell: floats with thousands separators, None as a dash."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def times(value: float | None) -> str:
    """A ratio as 12.3x."""
    return "-" if value is None else f"{value:,.1f}x" if value < 1000 else f"{value:,.0f}x"


def table(header: list[str], rows: list[list]) -> list[str]:
    """A markdown table (lines, blank line after)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def status(ok: bool | None) -> str:
    """met / not met / - (no goal)."""
    return "-" if ok is None else ("met" if ok else "**not met**")
