"""Deterministic, zipf-shaped benchmark data: the plan (who is heavy) and the table rows."""

from __future__ import annotations

import itertools
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

SEED = 42
EPOCH = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())  # fixed: same rows every run
HISTORY_DAYS = 180
DAY = 86_400
# Timestamps are Unix seconds here; each loader turns them into its database's form.
TIME_COLUMNS = {"created_at", "updated_at", "last_login_at", "read_at"}
NOTIFICATION_TYPES = ["price_alert", "trade", "news", "system", "ai_insight", "dividend"]
TYPE_WEIGHTS = [30, 25, 20, 10, 10, 5]
UNREAD_SHARE = 0.30
PASSWORD = "bench-password-1"


@dataclass(frozen=True)
class Sizes:
    """Row counts at a scale (1.0 = the issue's default)."""

    users: int
    notifications: int
    positions: int
    symbols: int
    interactions: int

    @classmethod
    def at(cls, scale: float) -> Sizes:
        """Sizes at ``scale``, with small floors so a tiny scale still has a shape."""
        return cls(
            users=max(50, int(20_000 * scale)),
            notifications=max(500, int(1_000_000 * scale)),
            positions=max(200, int(100_000 * scale)),
            symbols=max(60, int(2_000 * scale)),
            interactions=max(200, int(200_000 * scale)),
        )


def zipf_cumulative(count: int, exponent: float) -> list[float]:
    """Cumulative zipf weights of ranks 1..count (for random.choices)."""
    return list(itertools.accumulate(1.0 / rank**exponent for rank in range(1, count + 1)))


def allocate(total: int, count: int, exponent: float, cap: int) -> list[int]:
    """Split ``total`` over ``count`` ranks in zipf proportion, none above ``cap``."""
    weights = [1.0 / rank**exponent for rank in range(1, count + 1)]
    counts = [0] * count
    remaining, open_ranks = total, list(range(count))
    while remaining > 0 and open_ranks:
        weight_sum = sum(weights[i] for i in open_ranks)
        share = {i: remaining * weights[i] / weight_sum for i in open_ranks}
        for i in open_ranks:
            counts[i] += int(share[i])
        remaining = total - sum(counts)
        for i in sorted(open_ranks, key=lambda i: -(share[i] % 1))[:remaining]:
            counts[i] += 1
        remaining = 0
        overflow = sum(max(0, c - cap) for c in counts)
        counts = [min(c, cap) for c in counts]
        remaining, open_ranks = overflow, [i for i in open_ranks if counts[i] < cap]
    return counts


@dataclass
class Plan:
    """Who is heavy, which symbols exist, what they cost: everything rows are drawn from."""

    scale: float
    sizes: Sizes
    ranked_users: list[int]  # user ids, heaviest first
    symbols: list[str]  # most popular first
    prices: dict[str, Decimal]
    quoted: set[str]
    positions_per_rank: list[int]
    admin_id: int = 0
    _user_cum: list[float] = field(default_factory=list, repr=False)

    @classmethod
    def build(cls, scale: float) -> Plan:
        """The plan at ``scale`` (same scale, same plan)."""
        sizes = Sizes.at(scale)
        rng = random.Random(SEED)
        ranked = list(range(1, sizes.users + 1))
        rng.shuffle(ranked)
        symbols = _make_symbols(rng, sizes.symbols)
        prices = {s: Decimal(rng.randint(100, 90_000)) / 100 for s in symbols}
        quoted = {s for s in symbols if rng.random() > 0.03}  # a few symbols lack a quote
        cap = min(sizes.symbols // 2, 1_000)
        per_rank = allocate(sizes.positions, sizes.users, 0.7, cap)
        plan = cls(scale, sizes, ranked, symbols, prices, quoted, per_rank, sizes.users + 1)
        plan._user_cum = zipf_cumulative(sizes.users, 1.0)
        return plan

    def draw_users(self, rng: random.Random, k: int) -> list[int]:
        """``k`` user ids drawn with zipf(1.0) activity."""
        ranks = rng.choices(range(len(self.ranked_users)), cum_weights=self._user_cum, k=k)
        return [self.ranked_users[r] for r in ranks]


def _make_symbols(rng: random.Random, count: int) -> list[str]:
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen[
            "".join(rng.choice(string.ascii_uppercase) for _ in range(rng.choice((2, 3, 3, 4, 4))))
        ] = None
    return list(seen)


def _moment(rng: random.Random) -> int:
    return EPOCH - rng.randrange(HISTORY_DAYS * DAY)


def user_rows(plan: Plan, password_hash: str) -> Iterator[tuple]:
    """(id, email, username, password_hash, is_admin, created_at, updated_at, last_login_at)."""
    rng = random.Random(SEED + 1)
    for user_id in range(1, plan.sizes.users + 1):
        created = _moment(rng) - HISTORY_DAYS * DAY
        yield (
            user_id,
            f"user{user_id}@example.com",
            f"user{user_id}",
            password_hash,
            False,
            created,
            created,
            None,
        )
    yield (plan.admin_id, "benchadmin@example.com", "benchadmin", password_hash, True,
           EPOCH, EPOCH, None)  # fmt: skip


def quote_rows(plan: Plan) -> Iterator[tuple]:
    """(symbol, price, currency, updated_at) of the quoted symbols."""
    for symbol in plan.symbols:
        if symbol in plan.quoted:
            yield (symbol, plan.prices[symbol], "USD", EPOCH)


def position_rows(plan: Plan) -> Iterator[tuple]:
    """(id, user_id, symbol, quantity, average_cost, created_at, updated_at)."""
    rng = random.Random(SEED + 2)
    symbol_cum = zipf_cumulative(len(plan.symbols), 0.9)
    next_id = 1
    for rank, user_id in enumerate(plan.ranked_users):
        for symbol in _pick_symbols(rng, plan.symbols, symbol_cum, plan.positions_per_rank[rank]):
            price = plan.prices[symbol]
            cost = (price * Decimal(rng.randint(60, 140)) / 100).quantize(Decimal("0.01"))
            quantity = Decimal(rng.randint(1, 40_000)) / 100
            created = _moment(rng)
            yield (next_id, user_id, symbol, quantity, max(cost, Decimal("0.01")), created, created)
            next_id += 1


def _pick_symbols(rng: random.Random, symbols: list[str], cum: list[float], k: int) -> list[str]:
    """``k`` distinct symbols, popular ones more likely (zipf without replacement)."""
    chosen: dict[str, None] = {}
    for _ in range(4):
        if len(chosen) == k:
            break
        for symbol in rng.choices(symbols, cum_weights=cum, k=2 * (k - len(chosen))):
            chosen[symbol] = None
            if len(chosen) == k:
                break
    if len(chosen) < k:
        rest = [s for s in symbols if s not in chosen]
        chosen.update(dict.fromkeys(rng.sample(rest, k - len(chosen))))
    return list(chosen)


def notification_rows(plan: Plan) -> Iterator[tuple]:
    """(id, user_id, type, title, body, is_read, created_at, read_at), oldest first."""
    rng = random.Random(SEED + 3)
    total = plan.sizes.notifications
    span = HISTORY_DAYS * DAY
    start = EPOCH - span
    type_cum = list(itertools.accumulate(TYPE_WEIGHTS))
    chunk = 20_000
    for offset in range(0, total, chunk):
        size = min(chunk, total - offset)
        users = plan.draw_users(rng, size)
        types = rng.choices(NOTIFICATION_TYPES, cum_weights=type_cum, k=size)
        for i in range(size):
            row_id = offset + i + 1
            created = start + span * row_id // total
            symbol = plan.symbols[rng.randrange(len(plan.symbols))]
            # Older notifications are more likely read, the newest mostly not.
            is_read = rng.random() < 1.0 - UNREAD_SHARE * 2 * row_id / total
            read_at = created + 60 * rng.randint(1, 4_000) if is_read else None
            yield (
                row_id,
                users[i],
                types[i],
                f"{symbol}: {types[i].replace('_', ' ')}",
                f"Update about {symbol}, event #{row_id}.",
                is_read,
                created,
                read_at,
            )


def interaction_rows(plan: Plan) -> Iterator[tuple]:
    """(id, user_id, session_id, thread_id, prompt, response, created_at), oldest first."""
    rng = random.Random(SEED + 4)
    rows: list[tuple] = []
    while len(rows) < plan.sizes.interactions:
        user_id = plan.draw_users(rng, 1)[0]
        session = f"s{rng.getrandbits(64):016x}"
        for _ in range(rng.randint(1, 3)):
            thread = f"t{rng.getrandbits(96):024x}"
            moment = _moment(rng)
            for turn in range(min(rng.randint(1, 12), plan.sizes.interactions - len(rows))):
                symbol = plan.symbols[rng.randrange(len(plan.symbols))]
                moment += rng.randint(20, 600)
                rows.append((user_id, session, thread, f"How is {symbol} doing? ({turn})",
                             f"{symbol} is a holding to watch; turn {turn}.", moment))  # fmt: skip
    rows.sort(key=lambda row: row[5])
    for row_id, row in enumerate(rows, start=1):
        yield (row_id, *row)


TABLES = {
    "users": ("id", "email", "username", "password_hash", "is_admin", "created_at",
              "updated_at", "last_login_at"),
    "market_quotes": ("symbol", "price", "currency", "updated_at"),
    "portfolio_positions": ("id", "user_id", "symbol", "quantity", "average_cost",
                            "created_at", "updated_at"),
    "notifications": ("id", "user_id", "type", "title", "body", "is_read", "created_at",
                      "read_at"),
    "ai_interactions": ("id", "user_id", "session_id", "thread_id", "prompt", "response",
                        "created_at"),
}  # fmt: skip


def table_rows(plan: Plan, password_hash: str) -> list[tuple[str, int, Iterator[tuple]]]:
    """(table, expected row count, rows) in foreign-key order."""
    sizes = plan.sizes
    return [
        ("users", sizes.users + 1, user_rows(plan, password_hash)),
        ("market_quotes", len(plan.quoted), quote_rows(plan)),
        ("portfolio_positions", sum(plan.positions_per_rank), position_rows(plan)),
        ("notifications", sizes.notifications, notification_rows(plan)),
        ("ai_interactions", sizes.interactions, interaction_rows(plan)),
    ]
