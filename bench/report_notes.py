"""The honest notes next to unmet goals: why a figure falls short, from what we measured."""

from __future__ import annotations

# (database or None for any, query, cohort) -> why it can fall short of 20x
QUERY_NOTES = {
    (None, "holders of a symbol", "heavy"): (
        "the most-held symbols are held by thousands of users (several % of all positions): "
        "the index still has to visit every holder, so no index can give 20x over a scan."
    ),
    (None, "user's threads", "heavy"): (
        "the heaviest users own ~9% of all interactions; GROUP BY thread_id has to read every "
        "one of them. idx_ai_interactions_user_created finds them but is not covering; an index "
        "on (user_id, thread_id, created_at) would let the planner group from the index alone."
    ),
    (None, "unread count", "heavy"): (
        "the heaviest users have tens of thousands of unread notifications; counting them is "
        "proportional to that number even from the partial index."
    ),
}


def http_note(ratio_name: str, result: dict, endpoint: str = "summary") -> str:
    """Why (b) misses a throughput ratio, in the measured numbers of ``endpoint``."""
    summary = result["figures"][endpoint]
    b, e, c = summary["b"], summary["e"], summary["c"]
    if ratio_name == "b/a":
        return (
            f"uncached {endpoint} answers in {summary['a']['p50_ms']} ms (p50) at this scale; "
            f"the cached one in {b['p50_ms']} ms."
        )
    if ratio_name == "b/e":
        extra = b["p50_ms"] - e["p50_ms"]
        return (
            f"a hit costs {extra:.2f} ms more than the bare MGET at p50 on {endpoint}: token "
            "verification, query validation, the generation check, ETag and headers and the "
            "stats counter all run in Python on a 2-core box shared with the load generator."
        )
    return (
        f"the peer serves a pickled Response with no auth check, no validation and no "
        f"generation check ({c['p50_ms']} ms p50 vs {b['p50_ms']} ms); Fynix's extra work buys "
        "read-your-writes invalidation and per-user isolation the peer does not have."
    )


def workload_note(row: dict, namespace: str = "") -> str:
    """Why a namespace's hit ratio misses its target."""
    repeat = row.get("repeat_misses") or 0
    why_repeat = (
        f" {repeat} of the misses were on entries read before: "
        + (
            "a quote write (PUT /api/market/quotes, 0.5% of requests, on the 20 most-held "
            "symbols) invalidates the portfolio of every holder of that symbol, thousands of "
            "users at a time, on top of the users' own position writes."
            if namespace == "portfolio"
            else "each write by a user bumps that user's whole namespace."
        )
        if repeat
        else ""
    )
    return _workload_reason(row) + why_repeat


def _workload_reason(row: dict) -> str:
    ceiling = row.get("cold_ceiling")
    if ceiling is not None and row["target"] is not None and ceiling < row["target"]:
        return (
            f"even a perfect cache could reach only {ceiling:.3f} here: the zipf tail brings "
            "users never seen before, whose first read must miss (a longer run or warming "
            "raises it)."
        )
    return (
        "misses beyond the first read of each entry come from invalidations by writes "
        "(5% of requests, each bumping a whole namespace of that user) and from TTL expiry."
    )
