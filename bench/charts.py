"""PNG charts of the benchmark results (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

COLORS = {"a": "#9e9e9e", "b": "#1565c0", "c": "#ef6c00", "d": "#2e7d32", "e": "#6a1b9a"}


def _save(fig, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def chart_query_speedups(queries: dict[str, dict], path: Path) -> str:
    """Speedup (log scale) of every query, per database and cohort, with the 20x goal."""
    fig, ax = plt.subplots(figsize=(11, 5))
    names = [row["query"] for row in next(iter(queries.values()))["rows"]]
    series = [(db, cohort) for db in queries for cohort in ("heavy", "median")]
    width = 0.8 / len(series)
    for i, (db, cohort) in enumerate(series):
        values = [max(row[f"{cohort}_speedup"] or 0.01, 0.01) for row in queries[db]["rows"]]
        positions = [x + i * width for x in range(len(names))]
        ax.bar(positions, values, width, label=f"{db} / {cohort} users")
    ax.axhline(20, color="red", linestyle="--", linewidth=1, label="goal 20x")
    ax.set_yscale("log")
    ax.set_ylabel("unindexed / indexed (median time)")
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(names))])
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_title("Index speedup per hot query (0002 vs 0001, same data)")
    ax.legend(fontsize=8)
    return _save(fig, path)


def chart_http(http: dict, variants: dict[str, str], metric: str, path: Path, title: str) -> str:
    """Grouped bars: one group per endpoint, one bar per variant."""
    fig, ax = plt.subplots(figsize=(10, 4.8))
    endpoints = list(http["figures"])
    width = 0.8 / len(variants)
    for i, (variant, label) in enumerate(variants.items()):
        values = [http["figures"][e][variant][metric] for e in endpoints]
        positions = [x + i * width for x in range(len(endpoints))]
        ax.bar(positions, values, width, label=f"({variant}) {label}", color=COLORS[variant])
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(endpoints))])
    ax.set_xticklabels(endpoints)
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(fig, path)


def chart_hit_ratios(table: dict[str, dict], path: Path, title: str) -> str:
    """Measured hit ratio, ceiling (first reads miss) and target per namespace."""
    fig, ax = plt.subplots(figsize=(9, 4.5))
    names = list(table)
    measured = [table[n]["hit_ratio"] or 0 for n in names]
    ceiling = [table[n]["ceiling"] or 0 for n in names]
    ax.bar([x - 0.2 for x in range(len(names))], measured, 0.4, label="measured", color="#1565c0")
    ax.bar([x + 0.2 for x in range(len(names))], ceiling, 0.4, label="ceiling (first reads miss)",
           color="#90caf9")  # fmt: skip
    for x, name in enumerate(names):
        if table[name]["target"] is not None:
            ax.plot([x - 0.4, x + 0.4], [table[name]["target"]] * 2, color="red", linewidth=2)
    ax.plot([], [], color="red", linewidth=2, label="target")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names)
    ax.set_ylim(0, 1)
    ax.set_ylabel("hit ratio")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return _save(fig, path)


def chart_outage(outage: dict, path: Path) -> str:
    """p50 and p99 of the summary: Redis healthy, Redis hung (breaker open), uncached."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    cases = [("healthy", "cached, Redis up"), ("hung", "Redis hung, breaker open"),
             ("uncached", "CACHE_ENABLED=false")]  # fmt: skip
    for i, metric in enumerate(("p50_ms", "p99_ms")):
        values = [outage[key][metric] for key, _ in cases]
        ax.bar([x + i * 0.4 for x in range(len(cases))], values, 0.4, label=metric)
    ax.set_xticks([x + 0.2 for x in range(len(cases))])
    ax.set_xticklabels([label for _, label in cases])
    ax.set_ylabel("ms")
    ax.set_title("GET /api/portfolio/summary latency during a Redis outage")
    ax.legend()
    return _save(fig, path)
