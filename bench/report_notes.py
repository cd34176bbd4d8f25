"""The honest notes next to unmet goals: why a figure falls short, from what we measured."""

from __future__ import annotations

# (database or None for any, query, cohort) -> why it can fall short of 20x
QUERY_NOTES = {
    (None, "Holders of a symbol", "heavy"): (
        "the most-held symbols are held by thousands of users (several % of all positions): "
        "the index still has to visit every holder, so no index can give 20x over a scan."
    ),
    (None, "AI threads of a user, most recent first", "heavy"): (
        "the heaviest users own ~9% of all interactions; GROUP BY thread_id has to read every "
        "one of them. idx_ai_interactions_user_created finds them but is not covering; an index "
        "on (user_id, thread_id, created_at) would let the planner group from the index alone."
    ),
    (None, "Unread count", "heavy"): (
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


def workload_method(result: dict) -> list[str]:
    """How the session workload ran, what is compressed and what the columns mean."""
    from bench.workload_sessions import AFTER_WRITE, OPEN, POLLS, SESSION_MEAN, WRITE_EVERY

    c, ttls = result["compression"], result["ttls"]
    cached = result["runs"]["cached"]
    return [
        f"Method: {result['slots']} sessions at a time; each belongs to a user drawn with the "
        f"data's zipf(1.0) activity over {result['seeded_users']:,} seeded users, so popular "
        f"users come back; {result['sessions']} sessions of {result['session_users']} users "
        f"in all. A session opens the app ({', '.join(OPEN)}), polls "
        + ", ".join(f"{kind} every {every:g} s" for kind, every in POLLS.items())
        + f" (+-10%), lasts {SESSION_MEAN / 60:g} min on average (exponential, at least 1 "
        f"min) and writes about every {WRITE_EVERY / 60:g} min ("
        + ", ".join(f"{kind} then {' + '.join(reads)}" for kind, reads in AFTER_WRITE.items())
        + f"). Meanwhile the real `flask market feed --provider simulated --most-held "
        f"{result['feed_symbols']}` ticks every {result['feed_interval'] * c:g} s. **Time is "
        f"compressed {c:g}x**: every interval above, the feed's interval (so "
        f"{result['feed_interval']:g} s of wall time) and every TTL are divided by {c:g} "
        f"(portfolio {ttls['summary']:g} s, notification lists {ttls['notifications']:g} s, "
        f"unread count {ttls['unread_count']:g} s, user {ttls['me']:g} s, public "
        f"{ttls['public']:g} s, AI {ttls['threads']:g} s of wall time), so "
        f"{result['measured_seconds']:g} s of measurement stand for "
        f"{result['measured_seconds'] * c / 60:g} min. One gunicorn (shipped config, the "
        "bench app, whose only addition is an `X-Bench-SQL` header counting each request's "
        "statements) on PostgreSQL + Redis runs the plan twice: with the cache, then with "
        f"`CACHE_ENABLED=false`. The first {result['warmup_seconds']:g} s of each run are a "
        f"warm-up ({cached['warmup_requests']['requests']} requests in the cached run), not "
        f"counted; figures are over the next {result['measured_seconds']:g} s.",
        "",
        "`ceiling` is the best hit ratio of the measured phase if every miss but each entry's "
        "first read in the whole run were a hit (no write, no expiry). Misses by cause: `first "
        "read` (never read before), `expired` (its TTL ran out since it was last filled), "
        "`own write` (dropped before its TTL by a write of the entry's user in between), "
        "`quote batch` (no such write, but a quote batch in between: only answers derived "
        "from the price book), `other` (neither), `in flight` (an earlier read of the same "
        "entry had not finished filling it).",
        "",
    ]


def workload_note(row: dict, namespace: str, result: dict) -> str:
    """Why a namespace's hit ratio misses its target, from the measured phase's figures."""
    parts = []
    ceiling, target = row.get("ceiling"), row["target"]
    looked_up = row["hits"] + row["misses"]
    if ceiling is not None and target is not None and ceiling < target:
        parts.append(
            f"even a perfect cache could reach only {ceiling:.3f} on this request stream "
            f"(short of the target by {target - ceiling:.3f}): {row['first_read']} of "
            f"{looked_up} reads were the first of their entry, and a user's first visit must "
            "miss (zipf over the seeded users has a long tail of users seen once)."
        )
    if row["expired"]:
        parts.append(f"{row['expired']} misses were expiries{_expiry_reason(namespace)}.")
    if row["own_write"]:
        parts.append(
            f"{row['own_write']} misses followed a write of the same user (it drops that "
            "user's whole namespace)."
        )
    if row["quote_update"]:
        without = (row["hits"] + row["quote_update"]) / looked_up
        parts.append(
            f"{row['quote_update']} misses followed a quote batch: the read found a price-book "
            "generation without its stored book and loaded the book from the database itself "
            "(a write publishes the book with its generation in one script; only a publish "
            "that lost a race with another writer, or failed on Redis, leaves a bare "
            "generation); "
            f"without them the ratio would be {without:.3f}."
        )
    if row["other"] or row["in_flight"]:
        parts.append(
            f"{row['other']} misses had no write in flight (other) and {row['in_flight']} raced "
            "an earlier read filling the same entry."
        )
    return " ".join(parts)


def _expiry_reason(namespace: str) -> str:
    from bench.workload_sessions import POLLS

    if namespace == "notifications":
        return (
            f": the unread count is polled every {POLLS['unread_count']:g} s and lives "
            "CACHE_TTL_UNREAD_COUNT (60 s), so at most one poll in two can be a hit; a write "
            "already drops it at once, so a longer TTL would cost no staleness"
        )
    return " (the user came back after the TTL)"


def sql_note(cached: dict, uncached: dict) -> str:
    """Where the statements left with the cache come from, and what the goal would need."""
    total = cached["all"]["requests"]
    allowance = 0.1 * uncached["all"]["sql_per_request"]
    writes = cached.get("write", {"requests": 0, "sql_per_request": 0})
    by_writes = writes["requests"] * (writes["sql_per_request"] or 0) / total
    left = ", ".join(
        f"{name} {row['sql_per_request'] * row['requests']:.0f}"
        for name, row in cached.items()
        if name not in {"all", "all reads"} and row["sql_per_request"]
    )
    return (
        f"statements left with the cache, by kind of request: {left}. 90% fewer allows "
        f"{allowance:.2f} statements per request; the writes alone (which must reach the "
        f"database) use {by_writes:.2f} of it, which leaves the reads about "
        f"{max(0.0, allowance - by_writes):.2f}: with a miss costing about 2 statements (the "
        "account check and the read), nearly every read would have to hit, past the "
        "ceilings above."
    )
