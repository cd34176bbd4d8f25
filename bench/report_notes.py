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
    """How the workload ran: phases, users, rates, TTLs, and what that means for the ratios."""
    warmup, measured = result["warmup_requests"], result["measured_requests"]
    ttls = result["ttls"]
    return [
        f"Method: one seeded list of {warmup + measured} requests, users drawn with zipf(1.0) "
        f"activity over the {result['seeded_users']} seeded users (the data's activity shape), "
        f"each request a read ({1 - result['write_share']:.0%}) or a write "
        f"({result['write_share']:.0%}), run in order from {result['concurrency']} keep-alive "
        "connections against one gunicorn (shipped config) on PostgreSQL + Redis, with the "
        "benchmark's Redis keys deleted first. **Warm-up**: the first "
        f"{warmup} requests of that list (same distribution, same seed stream, "
        f"{result['warmup_users']} distinct users), not counted in the hit ratios: "
        f"{result['warmup_seconds']} s. **Measured phase**: the next {measured} requests "
        f"({result['measured_users']} distinct users, {result['measured_new_users']} of them "
        f"not seen during the warm-up): {result['measured_seconds']} s, "
        f"{result['measured_rps']} req/s. Every read of both phases is checked for staleness. "
        f"Statuses over the run: {result['statuses']}.",
        "",
        f"TTLs are the shipped ones on the wall clock (unread count {ttls['unread_count']} s, "
        f"market {ttls['quote']} s, notification lists {ttls['notifications']} s, portfolio "
        f"{ttls['summary']} s, user {ttls['me']} s, AI {ttls['threads']} s, public "
        f"{ttls['public']} s) and the whole run lasted {result['seconds']} s, so only TTLs "
        "shorter than that can run out between two visits of a user. How many requests fall "
        "within a TTL is set by this machine's throughput, not by real traffic: a site with "
        "fewer requests per TTL would see more expiries and a lower ratio for the same mix, "
        "one with more would see fewer. These ratios measure this mix at this rate; the "
        "seed's targets are not a property of the cache alone.",
        "",
        "`ceiling` is the best hit ratio of the phase if every miss but each entry's first "
        "read in the whole run were a hit (no write, no expiry). Misses by cause: `first read` "
        "(the entry had never been read), `expired` (its TTL had run out since it was last "
        "filled), `own write` (dropped before its TTL, and an accepted write of the entry's "
        "user that drops it ran between the entry's last fill and this read), `quote update` "
        "(dropped before its TTL, no such own write, but a quote update ran in between: "
        "portfolio, AI, market and public only; the only other event that drops them), "
        "`other` (dropped before its TTL with neither), `in flight` (an earlier read of the "
        "same entry had not finished filling it).",
        "",
    ]


def write_mix_text(result: dict) -> str:
    """The write mix of the measured phase in one paragraph, quote invalidations spelled out."""
    mix, measured = result["write_mix_measured"], result["measured_requests"]
    quotes = mix["quote update"].get("sent", 0)
    holders = mix["quote update"].get("holders", 0)
    hot = result["hot_holders"]
    sent = sum(c.get("sent", 0) for c in mix.values())
    parts = ", ".join(f"{c.get('sent', 0)} {name}s" for name, c in mix.items())
    return (
        f"Measured phase: {sent} writes in {measured} requests ({sent / measured:.1%}): "
        f"{parts}. Quote updates go to the {result['hot_symbols']} most-held symbols "
        f"({hot[0] if hot else '-'} to {hot[-1] if hot else '-'} holders each when the run "
        f"started), so each one dropped the portfolio and AI entries of "
        f"{holders / quotes if quotes else 0:,.0f} users on average ({holders:,} user "
        "portfolios in all); an accepted position write drops its own user's. A rejected "
        "write (4xx, e.g. 409 for a symbol the user already holds) changes nothing and drops "
        "nothing."
    )


def workload_note(row: dict, namespace: str, result: dict) -> str:
    """Why a namespace's hit ratio misses its target, from the measured phase's figures."""
    parts = []
    ceiling = row.get("ceiling")
    if ceiling is not None and row["target"] is not None and ceiling < row["target"]:
        parts.append(
            f"even a perfect cache could reach only {ceiling:.3f} in the measured phase: "
            f"after a {result['warmup_requests']}-request warm-up, "
            f"{result['measured_new_users']} of its {result['measured_users']} users were new "
            f"(zipf over {result['seeded_users']} users has a long tail) and "
            f"{row['first_read']} reads were an entry's first, which must miss."
        )
    if row["quote_update"] and namespace == "portfolio":
        parts.append(_quote_reason(row, result))
    elif row["quote_update"]:
        parts.append(f"{row['quote_update']} misses followed a quote update.")
    if row["own_write"]:
        parts.append(
            f"{row['own_write']} misses followed a write of the same user (each accepted write "
            "drops that user's whole namespace)."
        )
    if row["expired"]:
        parts.append(
            f"{row['expired']} misses were expiries (the user came back later than the TTL)."
        )
    if row["other"] or row["in_flight"]:
        parts.append(
            f"{row['other']} misses had no write in flight (other) and {row['in_flight']} raced "
            "an earlier read filling the same entry."
        )
    return " ".join(parts)


def _quote_reason(row: dict, result: dict) -> str:
    mix = result["write_mix_measured"]
    quote, position = mix["quote update"], mix["position write"]
    hot = result["hot_holders"] or [0]
    accepted = position.get("sent", 0) - position.get("rejected", 0)
    return (
        f"{row['quote_update']} misses followed a quote update: {quote.get('sent', 0)} quote "
        f"updates (PUT /api/market/quotes on the {result['hot_symbols']} most-held symbols) "
        "dropped the portfolio entries of every holder of the symbol, "
        f"{quote.get('holders', 0):,} user portfolios in all, against the accepted position "
        f"writes ({accepted} of {position.get('sent', 0)}) dropping their own user's. This is "
        "exact invalidation by design: the contract promises read-your-writes for quote "
        f"updates, so every cached valuation that shows the quote goes, and each hot symbol "
        f"had {hot[0]:,} to {hot[-1]:,} holders, so one quote update drops that many times "
        "the portfolio entries a position write drops."
    )
