"""The flask commands: seed-demo, users create-admin, market load."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from fynix.extensions import db
from fynix.models import AIInteraction, Notification, Position, Quote, User
from tests.conftest import AuthActions


def seed(runner, *args: str):
    return runner.invoke(args=["seed-demo", "--users", "3", *args])


def passwords(output: str) -> tuple[str, str]:
    """(admin password, demo password) as printed by seed-demo."""
    admin = re.search(r"Admin login:\s+admin / (\S+)", output)
    demo = re.search(r"Demo logins:\s+demo001 \.\.\. demo\d+ / (\S+)", output)
    assert admin, output
    assert demo, output
    return admin.group(1), demo.group(1)


def demo_dataset(app) -> dict:
    """The seeded rows that the seed decides (ids and clock times left out)."""
    with app.app_context():
        names = dict(db.session.execute(sa.select(User.id, User.username)).all())

        def rows(*columns, owner=None):
            result = db.session.execute(sa.select(*columns)).all()
            return sorted((names[row[0]], *row[1:]) if owner else tuple(row) for row in result)

        return {
            "users": sorted(names.values()),
            "quotes": rows(Quote.symbol, Quote.price),
            "positions": rows(Position.user_id, Position.symbol, Position.quantity, owner=True),
            "notifications": rows(
                Notification.user_id, Notification.type, Notification.title, owner=True
            ),
            "ai": rows(AIInteraction.user_id, AIInteraction.prompt, owner=True),
        }


def empty_database(app) -> None:
    with app.app_context():
        for model in (AIInteraction, Notification, Position, Quote, User):
            db.session.execute(sa.delete(model))
        db.session.commit()


def test_seed_demo_fills_an_empty_database(app, runner, client):
    result = seed(runner)
    assert result.exit_code == 0, result.output
    admin_password, demo_password = passwords(result.output)

    admin = client.get("/api/users/me", headers=AuthActions(client).login("admin", admin_password))
    assert admin.get_json()["is_admin"] is True
    headers = AuthActions(client).login("demo002", demo_password)
    assert client.get("/api/users/me", headers=headers).get_json()["is_admin"] is False
    positions = client.get("/api/portfolio/positions?per_page=100", headers=headers).get_json()
    assert 5 <= positions["total"] <= 30
    summary = client.get("/api/portfolio/summary", headers=headers).get_json()
    assert summary["positions_count"] == positions["total"]
    assert all(holding.get("price_source") != "cost" for holding in summary["holdings"])
    notifications = client.get("/api/notifications", headers=headers).get_json()
    unread = client.get("/api/notifications/unread-count", headers=headers).get_json()
    assert 10 <= notifications["total"] <= 60
    assert 0 <= unread["unread_count"] < notifications["total"]
    assert client.get("/api/ai/threads", headers=headers).get_json()["total"] >= 1

    dataset = demo_dataset(app)
    assert dataset["users"] == ["admin", "demo001", "demo002", "demo003"]
    assert len(dataset["quotes"]) == 40


def test_seed_demo_is_deterministic(app, runner):
    assert seed(runner, "--seed", "7").exit_code == 0
    first = demo_dataset(app)
    empty_database(app)
    assert seed(runner, "--seed", "7").exit_code == 0
    assert demo_dataset(app) == first
    empty_database(app)
    assert seed(runner, "--seed", "8").exit_code == 0
    assert demo_dataset(app)["positions"] != first["positions"]


def test_seed_demo_refuses_a_database_with_users(app, runner):
    assert seed(runner).exit_code == 0
    before = demo_dataset(app)
    again = seed(runner)
    assert again.exit_code == 1
    assert "already has 4 users" in again.output
    assert demo_dataset(app) == before

    quiet = seed(runner, "--if-empty")
    assert quiet.exit_code == 0
    assert "Admin login" not in quiet.output
    assert demo_dataset(app) == before


def create_admin(runner, *args: str, **kwargs):
    return runner.invoke(args=["users", "create-admin", *args], **kwargs)


def test_create_admin_with_options(runner, client):
    result = create_admin(
        runner, "--email", "Root@Example.com", "--username", "root", "--password", "s3cret-pass"
    )
    assert result.exit_code == 0, result.output
    me = client.get(
        "/api/users/me", headers=AuthActions(client).login("root@example.com", "s3cret-pass")
    )
    assert me.get_json()["is_admin"] is True


def test_create_admin_prompts_for_a_hidden_password_twice(runner, client):
    result = create_admin(
        runner, "--email", "p@example.com", "--username", "prompted", input="typed-pass-1\n" * 2
    )
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert "typed-pass-1" not in result.output
    assert client.get(
        "/api/users/me", headers=AuthActions(client).login("prompted", "typed-pass-1")
    ).is_json


def test_create_admin_mismatched_confirmation_creates_nothing(runner, client):
    result = create_admin(
        runner,
        "--email",
        "m@example.com",
        "--username",
        "mism",
        input="first-pass-1\nother-pass-2\n",
    )
    assert result.exit_code != 0
    assert "do not match" in result.output
    response = client.post("/api/auth/login", json={"login": "mism", "password": "first-pass-1"})
    assert response.status_code == 401


def test_create_admin_conflict_changes_nothing(runner, client, auth):
    auth.register(username="taken", email="taken@example.com", password="user-pass-1")
    result = create_admin(
        runner, "--email", "new@example.com", "--username", "taken", "--password", "admin-pass-1"
    )
    assert result.exit_code == 1
    assert "username is already taken" in result.output
    me = client.get("/api/users/me", headers=AuthActions(client).login("taken", "user-pass-1"))
    assert me.get_json()["is_admin"] is False


@pytest.mark.parametrize(
    ("email", "username", "password", "field"),
    [
        ("not-an-email", "valid_name", "long-enough-1", "email"),
        ("v@example.com", "x", "long-enough-1", "username"),
        ("v@example.com", "valid_name", "short", "password"),
    ],
)
def test_create_admin_validates_like_registration(runner, client, email, username, password, field):
    result = create_admin(runner, "--email", email, "--username", username, "--password", password)
    assert result.exit_code == 1
    assert f"{field}:" in result.output
    response = client.post("/api/auth/login", json={"login": username, "password": password})
    assert response.status_code == 401


def load(runner, tmp_path, text: str, name: str = "quotes.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return runner.invoke(args=["market", "load", str(path)])


def quote(client, headers: dict, symbol: str):
    return client.get(f"/api/market/quotes/{symbol}", headers=headers)


def test_market_load_skips_bad_rows_with_line_numbers(runner, client, auth, tmp_path):
    _, headers = auth.new_user()
    text = (
        "symbol,price,currency\n"
        "aapl,190.25,USD\n"  # line 2: good, symbol upper-cased
        "MSFT,abc\n"  # line 3: price is not a number
        "ZZZ,-1\n"  # line 4: negative price
        "NEWCO,1.1234567\n"  # line 5: too many decimal places
        "BAD SYMBOL,5\n"  # line 6: not a symbol
        "EURCO,10.5,EUR\n"  # line 7: good
        "EXTRA,1,USD,more\n"  # line 8: too many fields
        "AAPL,191.00\n"  # line 9: good, replaces line 2
    )
    result = load(runner, tmp_path, text)
    assert result.exit_code == 1
    for line, field in [(3, "price"), (4, "price"), (5, "price"), (6, "symbol")]:
        assert f"line {line}: {field}:" in result.output
    assert "line 8: too many fields" in result.output
    assert "line 2:" not in result.output
    assert "Imported 2 quotes" in result.output

    assert quote(client, headers, "AAPL").get_json()["price"] == "191.00"
    eurco = quote(client, headers, "EURCO").get_json()
    assert (eurco["price"], eurco["currency"]) == ("10.50", "EUR")
    for symbol in ("MSFT", "ZZZ", "NEWCO"):
        assert quote(client, headers, symbol).status_code == 404


def test_market_load_all_good_exits_0_and_updates(runner, client, auth, tmp_path):
    _, headers = auth.new_user()
    assert load(runner, tmp_path, "symbol,price\nIBM,190.40\nKO,60.3\n").exit_code == 0
    assert quote(client, headers, "KO").get_json()["price"] == "60.30"
    result = load(runner, tmp_path, "Symbol , Price\nKO,61\n", name="update.csv")
    assert result.exit_code == 0, result.output
    assert quote(client, headers, "KO").get_json()["price"] == "61.00"
    assert quote(client, headers, "IBM").get_json()["price"] == "190.40"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"sym,price\nAAPL,1\n",
        b"symbol,price,volume\nAAPL,1,100\n",
        b"symbol,price\nAAPL,1\n\xff\xfe,2\n",
    ],
)
def test_market_load_unusable_file_writes_nothing(runner, client, auth, tmp_path, content):
    _, headers = auth.new_user()
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = runner.invoke(args=["market", "load", str(path)])
    assert result.exit_code == 2
    assert "CSV_FILE" in result.output
    assert quote(client, headers, "AAPL").status_code == 404


def test_market_load_missing_file_is_a_usage_error(runner, tmp_path):
    result = runner.invoke(args=["market", "load", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "does not exist" in result.output
