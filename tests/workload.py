"""A closed-loop mixed read/write HTTP workload that checks every read it makes.

One thread per user; each thread writes its own position (PATCH quantity, optionally
POST new positions) and reads it back through three cached endpoints. A read is stale
when its quantity is not the user's last acknowledged write (or, after a write whose
answer was lost, the value before or after it). Figures go to artifacts/reliability.json.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "artifacts" / "reliability.json"
CLIENT_TIMEOUT = 10.0  # a request slower than this counts as a hang


@dataclass
class User:
    """What one simulated user has been told by the server."""

    headers: dict
    position_id: int
    symbol: str
    possible: set[Decimal]
    next_quantity: int = 2
    next_symbol: int = 1
    created: list[int] = field(default_factory=list)


@dataclass
class Outcome:
    """One request: when it finished, what it was, and how it went."""

    t: float
    op: str
    status: int | None  # None: the connection failed or timed out
    cache: str | None
    ms: float
    stale: bool = False
    retry_after: bool = False
    error: str = ""


class Workload:
    """Threads driving ``users`` against 127.0.0.1:``port`` until stopped."""

    def __init__(self, port: int, users: list[User], write_ratio=0.25, create_ratio=0.0):
        self.port = port
        self.users = users
        self.write_ratio = write_ratio
        self.create_ratio = create_ratio
        self.outcomes: list[Outcome] = []
        self.marks: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(user, n), daemon=True)
            for n, user in enumerate(users)
        ]

    def __enter__(self) -> Workload:
        self.marks["start"] = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(CLIENT_TIMEOUT + 5)
        self.marks["end"] = time.monotonic()

    def mark(self, label: str) -> float:
        """Remember when a phase began."""
        self.marks[label] = time.monotonic()
        return self.marks[label]

    def wait_for(self, predicate, after: float, timeout: float) -> float | None:
        """Seconds from ``after`` to the first outcome matching ``predicate`` (None: never)."""
        deadline = after + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [o.t for o in self.outcomes if o.t > after and predicate(o)]
            if found:
                return min(found) - after
            time.sleep(0.05)
        return None

    def hold(self, seconds: float) -> None:
        """Keep the load running for ``seconds``."""
        time.sleep(seconds)

    # -- the client threads ------------------------------------------------------------
    def _run(self, user: User, index: int) -> None:
        rng = random.Random(index)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=CLIENT_TIMEOUT)
        while not self._stop.is_set():
            roll = rng.random()
            if roll < self.create_ratio:
                outcome = self._create(connection, user)
            elif roll < self.create_ratio + self.write_ratio:
                outcome = self._write(connection, user)
            else:
                outcome = self._read(connection, user, rng.choice(("summary", "list", "item")))
            with self._lock:
                self.outcomes.append(outcome)
            if outcome.status is None:
                connection.close()
        connection.close()

    def _call(self, connection, op: str, method: str, path: str, headers, body=None):
        start = time.monotonic()
        try:
            payload = json.dumps(body).encode() if body is not None else None
            connection.request(
                method, path, body=payload, headers={**headers, "Content-Type": "application/json"}
            )
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            end = time.monotonic()
            return Outcome(
                end, op, None, None, (end - start) * 1000, error=type(exc).__name__
            ), None
        end = time.monotonic()
        outcome = Outcome(
            end,
            op,
            response.status,
            response.getheader("X-Cache"),
            (end - start) * 1000,
            retry_after=response.getheader("Retry-After") is not None,
        )
        try:
            return outcome, (json.loads(data) if data else None)
        except ValueError:  # e.g. gunicorn's own HTML error page
            outcome.error = f"{op}: {response.status} with a non-JSON body"
            return outcome, None

    def _write(self, connection, user: User) -> Outcome:
        quantity = user.next_quantity
        user.next_quantity += 1
        outcome, _ = self._call(
            connection,
            "write",
            "PATCH",
            f"/api/portfolio/positions/{user.position_id}",
            user.headers,
            {"quantity": str(quantity)},
        )
        if outcome.status == 200:
            user.possible = {Decimal(quantity)}
        elif outcome.status is None or outcome.status >= 500:
            user.possible = user.possible | {Decimal(quantity)}  # it may or may not have landed
        return outcome

    def _create(self, connection, user: User) -> Outcome:
        symbol = f"{user.symbol}X{user.next_symbol}"  # never reused, even after a lost answer
        user.next_symbol += 1
        body = {"symbol": symbol, "quantity": "1", "average_cost": "10"}
        outcome, data = self._call(
            connection, "create", "POST", "/api/portfolio/positions", user.headers, body
        )
        if outcome.status == 201:
            user.created.append(data["id"])
        return outcome

    def _read(self, connection, user: User, kind: str) -> Outcome:
        path = {
            "summary": "/api/portfolio/summary",
            "list": f"/api/portfolio/positions?symbol={user.symbol}",
            "item": f"/api/portfolio/positions/{user.position_id}",
        }[kind]
        outcome, data = self._call(connection, kind, "GET", path, user.headers)
        if outcome.status == 200:
            seen = _quantity(kind, data, user)
            outcome.stale = seen not in user.possible
            if outcome.stale:
                outcome.error = f"read {seen}, expected one of {sorted(user.possible)}"
        return outcome

    # -- figures -----------------------------------------------------------------------
    def summary(self, since: float | None = None, until: float | None = None) -> dict:
        """Counts and latency percentiles of the outcomes in [since, until)."""
        with self._lock:
            chosen = [
                o
                for o in self.outcomes
                if (since is None or o.t >= since) and (until is None or o.t < until)
            ]
        latencies = sorted(o.ms for o in chosen)
        statuses = Counter(str(o.status) for o in chosen)
        return {
            "requests": len(chosen),
            "statuses": dict(sorted(statuses.items())),
            "5xx": sum(1 for o in chosen if o.status is not None and o.status >= 500),
            "503_without_retry_after": sum(
                1 for o in chosen if o.status == 503 and not o.retry_after
            ),
            "connection_errors": sum(1 for o in chosen if o.status is None),
            "stale_reads": sum(1 for o in chosen if o.stale),
            "writes_acknowledged": sum(
                1 for o in chosen if (o.op, o.status) in {("write", 200), ("create", 201)}
            ),
            "x_cache": dict(Counter(o.cache or "-" for o in chosen)),
            "latency_ms": _percentiles(latencies),
            "examples": [o.error for o in chosen if o.error][:5],
        }


def make_users(server, count: int) -> list[User]:
    """Register ``count`` users through ``server`` (a tests.gunicorn_server.Gunicorn)."""
    users = []
    for n in range(count):
        _, headers = server.register_user(f"load{n}")
        symbol = f"L{n}{uuid.uuid4().hex[:4].upper()}"
        status, _, position = server.json(
            "POST",
            "/api/portfolio/positions",
            {"symbol": symbol, "quantity": "1", "average_cost": "10"},
            headers,
        )
        assert status == 201
        users.append(User(headers, position["id"], symbol, {Decimal(1)}))
    return users


def _quantity(kind: str, data: dict, user: User) -> Decimal | None:
    if kind == "summary":
        rows = [h for h in data["holdings"] if h["symbol"] == user.symbol]
    elif kind == "list":
        rows = [p for p in data["items"] if p["id"] == user.position_id]
    else:
        rows = [data]
    return Decimal(rows[0]["quantity"]) if len(rows) == 1 else None


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {}

    def at(q: float) -> float:
        return round(values[min(len(values) - 1, int(q * len(values)))], 1)

    return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": round(values[-1], 1)}


def record_result(name: str, database_url: str, figures: dict) -> None:
    """Merge ``figures`` under "name (dialect)" into artifacts/reliability.json (for the docs)."""
    dialect = database_url.split(":", 1)[0].split("+", 1)[0]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    existing[f"{name} ({dialect})"] = {**figures, "recorded_at": stamp}
    RESULTS.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")


def summarise(path: Path = RESULTS) -> str:
    """A Markdown table of the recorded runs (``python -m tests.workload``)."""
    lines = [
        "| fault | load | requests (during fault) | 5xx (of which 503) | conn. errors | stale "
        "| recovery s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, run in sorted(json.loads(path.read_text()).items()):
        whole, during = run["whole"], run["during"]
        recovery = run.get("recovery_s")
        lines.append(
            f"| {name} | {run['clients']} clients, {run['seconds']} s "
            f"| {whole['requests']} ({during['requests']}) "
            f"| {whole['5xx']} ({whole['statuses'].get('503', 0)}) "
            f"| {whole['connection_errors']} | {whole['stale_reads']} "
            f"| {'-' if recovery is None else round(recovery, 2)} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(summarise())
