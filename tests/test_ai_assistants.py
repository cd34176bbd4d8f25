"""The portfolio assistant's answers: the local assistant and the OpenAI-compatible client."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.factories import ASK, ask, create_position, put_quote
from tests.services import free_port


@pytest.fixture
def portfolio(client, auth, admin_headers):
    """A user holding AAPL, MSFT (both quoted) and TSLA (no quote: valued at cost)."""
    user, headers = auth.new_user()
    for symbol, quantity, cost in [
        ("AAPL", "10", "150"),
        ("MSFT", "2", "300"),
        ("TSLA", "1.5", "200"),
    ]:
        create_position(client, headers, symbol, quantity, cost)
    for symbol, price in [("AAPL", "185.00"), ("MSFT", "290.50")]:
        put_quote(client, admin_headers, symbol, price)
    return user, headers


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
    assert client.get("/api/ai/threads", headers=headers).get_json()["items"] == []
