"""The portfolio assistant: threads, sessions, the local answers and the OpenAI client."""

from __future__ import annotations

import json
import re
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import ACCOUNT_CHECK, captured_sql
from tests.services import free_port

ASK = "/api/ai/interactions"
THREADS = "/api/ai/threads"
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def ask(client, headers, prompt="What is my largest holding?", **fields):
    """POST a prompt; returns the created interaction."""
    response = client.post(ASK, json={"prompt": prompt, **fields}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def thread_ids(client, headers, query: str = "") -> list[str]:
    response = client.get(f"{THREADS}{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [item["thread_id"] for item in response.get_json()["items"]]


@pytest.fixture
def portfolio(client, auth):
    """A user holding AAPL, MSFT (both quoted) and TSLA (no quote: valued at cost)."""
    user, headers = auth.new_user()
    _, admin = auth.new_user(admin=True)
    for symbol, quantity, cost in [
        ("AAPL", "10", "150"),
        ("MSFT", "2", "300"),
        ("TSLA", "1.5", "200"),
    ]:
        body = {"symbol": symbol, "quantity": quantity, "average_cost": cost}
        created = client.post("/api/portfolio/positions", json=body, headers=headers)
        assert created.status_code == 201, created.get_json()
    for symbol, price in [("AAPL", "185.00"), ("MSFT", "290.50")]:
        quoted = client.put(f"/api/market/quotes/{symbol}", json={"price": price}, headers=admin)
        assert quoted.status_code in {200, 201}, quoted.get_json()
    return user, headers


# -- threads and sessions ----------------------------------------------------------------


def test_new_interaction_starts_a_thread(client, auth):
    _, headers = auth.new_user()
    body = ask(client, headers, "  What is my total P&L?  ")
    assert set(body) == {"id", "session_id", "thread_id", "prompt", "response", "created_at"}
    assert HEX32.match(body["thread_id"])
    assert HEX32.match(body["session_id"])
    assert body["prompt"] == "What is my total P&L?"
    assert body["response"]
    assert body["created_at"].endswith("+00:00")
    other = ask(client, headers)
    assert other["thread_id"] != body["thread_id"]
    assert other["session_id"] != body["session_id"]


def test_client_session_id_is_kept(client, auth):
    _, headers = auth.new_user()
    body = ask(client, headers, session_id="browser-tab_7")
    assert body["session_id"] == "browser-tab_7"
    detail = client.get(f"{THREADS}/{body['thread_id']}", headers=headers).get_json()
    assert detail["session_id"] == "browser-tab_7"


def test_continue_thread_reuses_its_session(client, auth):
    _, headers = auth.new_user()
    first = ask(client, headers, "help", session_id="s1")
    second = ask(client, headers, "How many positions?", thread_id=first["thread_id"])
    third = ask(client, headers, "And my P&L?", thread_id=first["thread_id"], session_id="s1")
    assert second["thread_id"] == third["thread_id"] == first["thread_id"]
    assert second["session_id"] == third["session_id"] == "s1"
    detail = client.get(f"{THREADS}/{first['thread_id']}", headers=headers)
    assert detail.status_code == 200
    body = detail.get_json()
    assert body["thread_id"] == first["thread_id"]
    assert body["session_id"] == "s1"
    assert [item["id"] for item in body["interactions"]] == [first["id"], second["id"], third["id"]]
    assert body["interactions"][1] == second


def test_continue_thread_with_another_session_is_409(client, auth):
    _, headers = auth.new_user()
    first = ask(client, headers, session_id="s1")
    response = client.post(
        ASK,
        json={"prompt": "hi", "thread_id": first["thread_id"], "session_id": "s2"},
        headers=headers,
    )
    assert response.status_code == 409
    assert "s1" in response.get_json()["message"]


def test_other_users_or_unknown_thread_is_404(client, auth):
    _, owner = auth.new_user()
    _, intruder = auth.new_user()
    thread = ask(client, owner)["thread_id"]
    for thread_id in (thread, "0" * 32):
        continued = client.post(
            ASK, json={"prompt": "hi", "thread_id": thread_id}, headers=intruder
        )
        assert continued.status_code == 404
        assert continued.get_json()["message"] == "Thread not found."
        assert client.get(f"{THREADS}/{thread_id}", headers=intruder).status_code == 404
    assert thread_ids(client, intruder) == []
    detail = client.get(f"{THREADS}/{thread}", headers=owner).get_json()
    assert len(detail["interactions"]) == 1


def test_threads_most_recently_active_first(client, auth):
    _, headers = auth.new_user()
    _, other = auth.new_user()
    long_prompt = "Tell me everything about my portfolio " + "please " * 20
    a = ask(client, headers, long_prompt)
    b = ask(client, headers, "How many positions do I have?")
    c = ask(client, headers, "help")
    ask(client, other, "help")
    follow_up = ask(client, headers, "And the P&L?", thread_id=a["thread_id"])
    assert thread_ids(client, headers) == [a["thread_id"], c["thread_id"], b["thread_id"]]
    page = client.get(THREADS, headers=headers).get_json()
    assert (page["page"], page["per_page"], page["total"]) == (1, 20, 3)
    top = page["items"][0]
    assert top == {
        "thread_id": a["thread_id"],
        "session_id": a["session_id"],
        "started_at": a["created_at"],
        "last_activity_at": follow_up["created_at"],
        "interactions_count": 2,
        "title": long_prompt.strip()[:80],
    }
    assert len(top["title"]) == 80
    assert page["items"][1]["title"] == "help"
    assert page["items"][1]["interactions_count"] == 1


def test_threads_pagination_and_range(client, auth):
    _, headers = auth.new_user()
    made = [ask(client, headers, f"question {i}")["thread_id"] for i in range(5)][::-1]
    assert thread_ids(client, headers, "?page=2&per_page=2") == made[2:4]
    assert client.get(f"{THREADS}?per_page=500", headers=headers).status_code == 422
    largest = client.get(f"{THREADS}?per_page=100", headers=headers).get_json()
    assert (largest["per_page"], largest["total"], len(largest["items"])) == (100, 5, 5)
    assert thread_ids(client, headers, "?page=4&per_page=2") == []
    bad = client.get(f"{THREADS}?page=0", headers=headers)
    assert bad.status_code == 422
    assert "page" in bad.get_json()["errors"]


def test_threads_list_is_three_queries_whatever_the_size(app_factory, auth):
    """The count, one GROUP BY page and one query for the titles: no N+1 (after the
    account check)."""
    app = app_factory(CACHE_ENABLED=False)
    client = app.test_client()
    _, headers = auth.new_user()
    for i in range(4):
        ask(auth.client, headers, f"q{i}")
    with captured_sql(app) as statements:
        assert len(thread_ids(client, headers)) == 4
    assert len(statements) == ACCOUNT_CHECK + 3
    assert "GROUP BY" in statements[ACCOUNT_CHECK + 1][0]


VALID_PROMPT = {"prompt": "How diversified am I?"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "prompt"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "   \n"}, "prompt"),
        ({"prompt": "x" * 4001}, "prompt"),
        ({"prompt": 42}, "prompt"),
        ({"prompt": None}, "prompt"),
        ({**VALID_PROMPT, "session_id": "has space"}, "session_id"),
        ({**VALID_PROMPT, "session_id": "s" * 65}, "session_id"),
        ({**VALID_PROMPT, "session_id": ""}, "session_id"),
        ({**VALID_PROMPT, "session_id": 7}, "session_id"),
        ({**VALID_PROMPT, "thread_id": "../etc"}, "thread_id"),
        ({**VALID_PROMPT, "thread_id": "t" * 65}, "thread_id"),
        ({**VALID_PROMPT, "mood": "happy"}, "mood"),
    ],
)
def test_interaction_validation_is_422_with_field(client, auth, body, field):
    _, headers = auth.new_user()
    response = client.post(ASK, json=body, headers=headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    assert thread_ids(client, headers) == []


def test_prompt_of_4000_characters_is_accepted(client, auth):
    _, headers = auth.new_user()
    assert len(ask(client, headers, "p" * 4000)["prompt"]) == 4000


def test_malformed_json_is_400(client, auth):
    _, headers = auth.new_user()
    response = client.post(ASK, data="{prompt:", content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert response.get_json()["message"]


@pytest.mark.parametrize(
    ("method", "path"), [("post", ASK), ("get", THREADS), ("get", f"{THREADS}/{'a' * 32}")]
)
def test_anonymous_is_401(client, method, path):
    response = getattr(client, method)(path, json={"prompt": "hi"} if method == "post" else None)
    assert response.status_code == 401


@pytest.mark.redis
def test_cached_threads_are_fresh_after_a_new_interaction(redis_app):
    """Stale-then-fresh on Redis: thread reads HIT until the user asks something new."""
    from tests.conftest import AuthActions

    client = redis_app.test_client()
    _, headers = AuthActions(client).new_user()
    first = ask(client, headers, "help")

    def read(path: str):
        response = client.get(path, headers=headers)
        assert response.status_code == 200
        return response.headers["X-Cache"], response.get_json()

    detail_url = f"{THREADS}/{first['thread_id']}"
    cache_state, listed = read(THREADS)
    assert cache_state == "MISS"
    assert read(THREADS) == ("HIT", listed)
    assert read(detail_url)[0] == "MISS"
    assert len(read(detail_url)[1]["interactions"]) == 1
    second = ask(client, headers, "How many positions?")
    assert [item["thread_id"] for item in read(THREADS)[1]["items"]] == [
        second["thread_id"],
        first["thread_id"],
    ]
    ask(client, headers, "And now?", thread_id=first["thread_id"])
    assert len(read(detail_url)[1]["interactions"]) == 2
    assert read(THREADS)[1]["items"][0]["thread_id"] == first["thread_id"]


# -- the local assistant -----------------------------------------------------------------


def test_local_assistant_names_largest_holding_and_exact_pnl(client, portfolio):
    _, headers = portfolio
    summary = client.get("/api/portfolio/summary", headers=headers).get_json()
    assert summary["unrealized_pnl"] == "331.00"
    largest = ask(client, headers, "What is my largest holding?")["response"]
    assert "AAPL" in largest
    assert "1850.00" in largest
    assert "MSFT" not in largest
    pnl = ask(client, headers, "What's my total profit or loss?")["response"]
    assert "+331.00" in pnl
    assert f"{summary['unrealized_pnl_pct']}%" in pnl
    assert "2400.00" in pnl  # total cost
    assert "AAPL +350.00" in pnl  # best
    assert "MSFT -19.00" in pnl  # worst


def test_local_assistant_concentration_count_symbol_and_help(client, portfolio):
    _, headers = portfolio
    summary = client.get("/api/portfolio/summary", headers=headers).get_json()
    weights = [Decimal(holding["weight"]) for holding in summary["holdings"]]
    concentration = ask(client, headers, "Am I diversified enough?")["response"]
    assert "highly concentrated" in concentration
    hhi = sum(weight * weight for weight in weights).quantize(Decimal("0.0001"))
    assert f"index of your weights is {hhi}" in concentration
    assert "AAPL is the top weight at 67.74%" in concentration
    count = ask(client, headers, "How many positions do I have?")["response"]
    assert "You hold 3 positions: AAPL, MSFT, TSLA." in count
    symbol = ask(client, headers, "how is tsla doing?")["response"]
    assert "TSLA" in symbol
    assert "valued at cost" in symbol
    assert "300.00" in symbol
    helped = ask(client, headers, "help")["response"]
    assert "largest holding" in helped
    fallback = ask(client, headers, "Good morning")["response"]
    assert "You hold 3 positions" in fallback
    assert "+331.00" in fallback


def test_local_assistant_with_no_positions_is_helpful(client, auth):
    _, headers = auth.new_user()
    answer = ask(client, headers, "What is my largest holding?")["response"]
    assert "no positions" in answer
    assert "/api/portfolio/positions" in answer


def test_local_assistant_sees_portfolio_changes(client, portfolio):
    _, headers = portfolio
    positions = client.get("/api/portfolio/positions?symbol=AAPL", headers=headers).get_json()
    aapl = positions["items"][0]["id"]
    assert client.delete(f"/api/portfolio/positions/{aapl}", headers=headers).status_code == 204
    answer = ask(client, headers, "What is my largest holding?")["response"]
    assert "Your largest holding is MSFT" in answer


def test_unknown_provider_name_fails_at_call():
    from fynix.ai.providers import LocalPortfolioAssistant, get_provider

    assert isinstance(get_provider({"AI_PROVIDER": "local"}), LocalPortfolioAssistant)
    with pytest.raises(RuntimeError, match="AI_PROVIDER"):
        get_provider({"AI_PROVIDER": "skynet"})


# -- the OpenAI-compatible provider against a local HTTP server --------------------------


class FakeChatServer:
    """A tiny OpenAI-compatible server on 127.0.0.1 that records what it receives."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = 200
        self.reply: bytes = b""
        self.delay = 0.0
        self.release = threading.Event()
        self.answer_with("The assistant says hi.")
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def answer_with(self, content) -> None:
        self.reply = json.dumps({"choices": [{"message": {"content": content}}]}).encode()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                fake.requests.append(
                    {
                        "path": self.path,
                        "authorization": self.headers.get("Authorization"),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                if fake.delay:
                    fake.release.wait(fake.delay)
                try:
                    self.send_response(fake.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(fake.reply)))
                    self.end_headers()
                    self.wfile.write(fake.reply)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, *args):
                pass

        return Handler

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def chat_server():
    server = FakeChatServer()
    yield server
    server.stop()


@pytest.fixture
def openai_client(app_factory, chat_server, portfolio):
    """A client of an app configured for the OpenAI-compatible provider (same database)."""
    app = app_factory(
        AI_PROVIDER="openai",
        AI_API_BASE=chat_server.base,
        AI_API_KEY="test-key",
        AI_MODEL="tiny-model",
        AI_TIMEOUT=0.5,
    )
    return app.test_client(), portfolio[1]


def test_openai_provider_posts_prompt_and_portfolio(openai_client, chat_server):
    client, headers = openai_client
    body = ask(client, headers, "Should I rebalance?")
    assert body["response"] == "The assistant says hi."
    (received,) = chat_server.requests
    assert received["path"] == "/v1/chat/completions"
    assert received["authorization"] == "Bearer test-key"
    assert received["body"]["model"] == "tiny-model"
    system, user = received["body"]["messages"]
    assert (system["role"], user["role"]) == ("system", "user")
    assert user["content"] == "Should I rebalance?"
    context = json.loads(system["content"][system["content"].index("{") :])
    assert context["unrealized_pnl"] == "331.00"
    assert [holding["symbol"] for holding in context["holdings"]] == ["AAPL", "MSFT", "TSLA"]
    assert context["holdings"][0]["market_value"] == "1850.00"


@pytest.mark.parametrize(
    "failure",
    ["http_500", "not_json", "no_choices", "null_content", "empty_content", "timeout", "refused"],
)
def test_openai_provider_failure_is_503_and_records_nothing(
    app_factory, openai_client, chat_server, failure
):
    client, headers = openai_client
    if failure == "http_500":
        chat_server.status = 500
    elif failure == "not_json":
        chat_server.reply = b"<html>oops</html>"
    elif failure == "no_choices":
        chat_server.reply = b'{"choices": []}'
    elif failure == "null_content":
        chat_server.answer_with(None)
    elif failure == "empty_content":
        chat_server.answer_with("   ")
    elif failure == "timeout":
        chat_server.delay = 5.0
    else:
        app = app_factory(AI_PROVIDER="openai", AI_API_BASE=f"http://127.0.0.1:{free_port()}")
        client = app.test_client()
    response = client.post(ASK, json={"prompt": "Hello?"}, headers=headers)
    assert response.status_code == 503
    assert response.get_json()["message"] == "The assistant is unavailable."
    assert thread_ids(client, headers) == []
