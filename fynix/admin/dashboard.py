"""Dashboard: Redis health, key counts, and hit ratio per namespace against its target."""

from __future__ import annotations

from flask import render_template

from fynix.admin import blp
from fynix.caching import manage
from fynix.caching.manager import Bypass

# Geometry of the server-rendered SVG bar chart (user units; the SVG scales to its box).
LABEL_WIDTH = 120
PLOT_WIDTH = 480
VALUE_WIDTH = 90
ROW_HEIGHT = 30
BAR_HEIGHT = 18
TOP = 24
TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _bar_class(ratio: float | None, target: float | None) -> str:
    if ratio is None:
        return "bar no-data"
    if target is None:
        return "bar no-target"
    return "bar meets-target" if ratio >= target else "bar below-target"


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
                "y": y,
                "text_y": y + BAR_HEIGHT / 2 + 4,
                "width": round((ratio or 0.0) * PLOT_WIDTH, 1),
                "target_x": None if target is None else round(LABEL_WIDTH + target * PLOT_WIDTH, 1),
            }
        )
    height = TOP + len(rows) * ROW_HEIGHT + 8
    ticks = [{"x": LABEL_WIDTH + tick * PLOT_WIDTH, "label": f"{tick:.0%}"} for tick in TICKS]
    return {
        "rows": rows,
        "ticks": ticks,
        "width": LABEL_WIDTH + PLOT_WIDTH + VALUE_WIDTH,
        "height": height,
        "label_width": LABEL_WIDTH,
        "plot_width": PLOT_WIDTH,
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
