"""``flask --app wsgi seed-demo``: fill an empty database with realistic demo data."""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta
from decimal import Decimal

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from fynix.auth.passwords import hash_password
from fynix.caching import events
from fynix.caching.cli import writes_data
from fynix.common.clock import utcnow
from fynix.common.terminal import progress
from fynix.extensions import db
from fynix.models import AIInteraction, Notification, Position, Quote, User

# symbol:price pairs of the demo market (USD), separated by spaces.
DEMO_MARKET = (
    "AAPL:189.50 MSFT:415.20 GOOGL:152.10 AMZN:178.30 NVDA:880.00 META:495.60 TSLA:175.40 "
    "BRK.B:410.80 JPM:195.20 V:275.90 MA:460.10 UNH:490.30 XOM:118.40 JNJ:155.70 PG:162.20 "
    "HD:360.50 COST:720.00 ABBV:170.90 KO:60.30 PEP:168.40 AVGO:1290.00 ORCL:125.60 ADBE:480.20 "
    "CRM:300.10 NFLX:610.00 AMD:165.80 INTC:42.70 CSCO:48.90 QCOM:168.30 TXN:172.50 DIS:112.40 "
    "NKE:94.20 MCD:270.80 SBUX:88.10 BA:185.60 CAT:350.20 IBM:190.40 GS:410.70 SPY:520.30 "
    "QQQ:445.90"
)
NOTIFICATION_TEXTS = {
    "price_alert": ("{symbol} moved {move}% today", "{symbol} is now at {price} USD."),
    "market": ("New quote for {symbol}", "{symbol} last traded at {price} USD."),
    "portfolio": ("Your weekly portfolio digest", "You hold {count} positions."),
    "ai": ("Your assistant has an insight", "{symbol} is your largest holding by cost."),
    "system": ("New sign-in to your account", "If this was not you, change your password."),
}
COLUMNS = {
    User: ("username", "email", "password_hash", "is_admin", "created_at", "updated_at"),
    Position: ("user_id", "symbol", "quantity", "average_cost", "created_at", "updated_at"),
    Notification: ("user_id", "type", "title", "body", "is_read", "created_at", "read_at"),
    AIInteraction: ("user_id", "session_id", "thread_id", "prompt", "response", "created_at"),
}
AI_PROMPTS = (
    ("What is my largest holding?", "Your largest holding by cost is {symbol}."),
    ("How many positions do I have?", "You hold {count} positions."),
    ("What did I pay in total?", "Your positions cost {cost} USD in total."),
    ("Is my portfolio concentrated?", "{symbol} is your largest position; consider its weight."),
)


def _count_users() -> int:
    try:
        return db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        raise click.ClickException(
            "The schema is missing: run `flask --app wsgi db upgrade` first."
        ) from None


@click.command("seed-demo")
@click.option("--users", "user_count", default=50, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=42, show_default=True, help="Same seed, same data.")
@click.option("--if-empty", is_flag=True, help="Exit quietly (status 0) when users exist.")
@with_appcontext
@writes_data
def seed_demo(user_count: int, seed: int, if_empty: bool) -> None:
    """Fill an EMPTY database with demo users, quotes, positions, notifications and AI."""
    existing = _count_users()
    if existing:
        message = f"The database already has {existing} users; seed-demo only fills an empty one."
        if if_empty:
            click.echo(message)
            return
        raise click.ClickException(message)
    rng = random.Random(seed)  # noqa: S311 (demo data must be reproducible, not secret)
    now = utcnow().replace(microsecond=0)
    admin_password, demo_password = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    demo_hash = hash_password(demo_password)  # one hash for every demo account, by design
    users = [_user_row("admin", hash_password(admin_password), rng, now, admin=True)]
    users += [_user_row(f"demo{n:03d}", demo_hash, rng, now) for n in range(1, user_count + 1)]
    quotes = [_quote_row(pair, rng, now) for pair in DEMO_MARKET.split()]
    try:
        user_ids = db.session.scalars(
            sa.insert(User).returning(User.id, sort_by_parameter_order=True), users
        ).all()
        counts = _insert_demo_rows(rng, now, quotes, user_ids[1:])
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    events.accounts_created(user_ids)
    events.quotes_changed(row["symbol"] for row in quotes)
    click.echo(
        f"Demo data: {len(users)} users, {len(quotes)} quotes, {counts[Position]} positions, "
        f"{counts[Notification]} notifications, {counts[AIInteraction]} AI interactions."
    )
    click.echo(f"Admin login:  admin / {admin_password}")
    click.echo(f"Demo logins:  demo001 ... demo{user_count:03d} / {demo_password}")
    click.echo("These passwords are shown only once.")


def _row(model: type, *values: object) -> dict:
    """A row for a bulk insert of ``model``, values in COLUMNS order."""
    return dict(zip(COLUMNS[model], values, strict=True))


def _user_row(
    name: str, password_hash: str, rng: random.Random, now: datetime, admin: bool = False
) -> dict:
    created = now - timedelta(days=rng.randint(90, 365))
    return _row(User, name, f"{name}@example.com", password_hash, admin, created, created)


def _quote_row(pair: str, rng: random.Random, now: datetime) -> dict:
    symbol, base = pair.split(":")
    cents = int(Decimal(base) * 100) * rng.randint(900, 1100) // 1000
    return {"symbol": symbol, "price": Decimal(cents) / 100, "currency": "USD", "updated_at": now}


def _insert_demo_rows(rng: random.Random, now: datetime, quotes: list, user_ids: list) -> dict:
    """Generate each user's rows, then bulk-insert them in batches with a progress bar."""
    rows: dict = {Quote: quotes, Position: [], Notification: [], AIInteraction: []}
    prices = {quote["symbol"]: quote["price"] for quote in quotes}
    for user_id in user_ids:
        positions = _positions(rng, now, user_id, prices)
        rows[Position] += positions
        rows[Notification] += _notifications(rng, now, user_id, positions, prices)
        rows[AIInteraction] += _ai_interactions(rng, now, user_id, positions)
    batches = [
        (model, model_rows[start : start + 500])
        for model, model_rows in rows.items()
        for start in range(0, len(model_rows), 500)
    ]
    with progress(batches, "Writing demo data") as bar:
        for model, batch in bar:
            db.session.execute(sa.insert(model), batch)
    return {model: len(model_rows) for model, model_rows in rows.items()}


def _positions(rng: random.Random, now: datetime, user_id: int, prices: dict) -> list[dict]:
    rows = []
    for symbol in rng.sample(sorted(prices), rng.randint(5, 30)):
        opened = now - timedelta(days=rng.randint(1, 365))
        cost = (prices[symbol] * rng.randint(70, 130) / 100).quantize(Decimal("0.01"))
        quantity = Decimal(rng.randint(1, 40000)) / 100
        rows.append(_row(Position, user_id, symbol, quantity, cost, opened, opened))
    return rows


def _largest(positions: list[dict]) -> tuple[str, Decimal]:
    """The symbol with the largest cost basis, and the total cost basis."""
    costs = {row["symbol"]: row["quantity"] * row["average_cost"] for row in positions}
    return max(costs, key=costs.__getitem__), sum(costs.values(), Decimal(0))


def _notifications(
    rng: random.Random, now: datetime, user_id: int, positions: list[dict], prices: dict
) -> list[dict]:
    largest, _ = _largest(positions)
    rows = []
    for _ in range(rng.randint(10, 60)):
        kind = rng.choice(sorted(NOTIFICATION_TEXTS))
        symbol = largest if kind == "ai" else rng.choice(positions)["symbol"]
        values = {
            "symbol": symbol,
            "price": prices[symbol],
            "move": f"{rng.choice('+-')}{rng.randint(2, 90) / 10}",
            "count": len(positions),
        }
        title, body = (text.format(**values) for text in NOTIFICATION_TEXTS[kind])
        created = now - timedelta(minutes=rng.randint(1, 60 * 24 * 90))
        unread = rng.random() < 0.3
        read_at = None if unread else created + timedelta(minutes=rng.randint(1, 600))
        rows.append(_row(Notification, user_id, kind, title, body, not unread, created, read_at))
    return rows


def _ai_interactions(
    rng: random.Random, now: datetime, user_id: int, positions: list[dict]
) -> list[dict]:
    largest, cost = _largest(positions)
    values = {"symbol": largest, "count": len(positions), "cost": cost.quantize(Decimal("0.01"))}
    rows = []
    for _ in range(rng.randint(1, 3)):
        session_id = f"{rng.getrandbits(128):032x}"
        for _ in range(rng.randint(1, 3)):
            thread_id = f"{rng.getrandbits(128):032x}"
            at = now - timedelta(minutes=rng.randint(60, 60 * 24 * 60))
            for _ in range(rng.randint(1, 5)):
                prompt, answer = rng.choice(AI_PROMPTS)
                at += timedelta(seconds=rng.randint(20, 600))
                response = answer.format(**values)
                rows.append(
                    _row(AIInteraction, user_id, session_id, thread_id, prompt, response, at)
                )
    return rows
