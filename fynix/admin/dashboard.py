"""Dashboard: Redis health, key counts, and hit ratio per namespace against its target."""

from __future__ import annotations

from flask import render_template

from fynix.admin import blp
from fynix.caching import manage
from fynix.caching.manager import Bypass

# Geometry of the server-rendered SVG bar chart. Horizontal positions are percentages of
# the chart's width and the SVG has no viewBox, so it stretches to any screen while its
# text keeps its CSS size: a phone gets narrower bars, never smaller labels.
ROW_HEIGHT = 40  # px per namespace: its label and value above, its bar below
LABEL_BASELINE = 14
BAR_TOP = 20
BAR_HEIGHT = 14
TOP = 22  # px of tick labels above the first row
TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _bar_class(ratio: float | None, target: float | None) -> str:
    if ratio is None:
        return "bar no-data"
    if target is None:
        return "bar no-target"
    return "bar meets-target" if ratio >= target else "bar below-target"


def _percent(fraction: float) -> str:
    return f"{round(fraction * 100, 1):g}%"


def _tick(value: float) -> dict:
    anchor = "start" if value == TICKS[0] else "end" if value == TICKS[-1] else "middle"
    return {"x": _percent(value), "label": f"{value:.0%}", "anchor": anchor}


def build_chart(namespaces: dict[str, dict]) -> dict:
    """Bars and target markers of the hit-ratio chart, one row per namespace."""
    rows = []
    for index, (name, stats) in enumerate(namespaces.items()):
        ratio, target = stats.get("hit_ratio"), stats.get("target_hit_ratio")
        y = TOP + index * ROW_HEIGHT
        rows.append(
            {
                "name": name,
                "ratio": ratio,
                "target": target,
                "css": _bar_class(ratio, target),
                "text_y": y + LABEL_BASELINE,
                "bar_y": y + BAR_TOP,
                "width": _percent(ratio or 0.0),
                "target_x": None if target is None else _percent(target),
            }
        )
    return {
        "rows": rows,
        "ticks": [_tick(value) for value in TICKS],
        "height": TOP + len(rows) * ROW_HEIGHT + 4,
        "bar_height": BAR_HEIGHT,
    }


@blp.get("/")
def show_dashboard():
    """Cache health, totals, breaker state, and the hit-ratio chart."""
    try:
        stats, cache_down = manage.get_stats(), False
    except Bypass:  # a degraded page: this process's own counters, the backend marked down
        stats, cache_down = manage.get_stats(strict=False), True
    chart = build_chart(stats["namespaces"])
    return render_template("admin/dashboard.html", stats=stats, chart=chart, cache_down=cache_down)
