"""Assistant threads and sessions: asking, continuing, listing, validation and the cache."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ACCOUNT_CHECK, AuthActions, captured_sql
from tests.factories import ASK, ask

THREADS = "/api/ai/threads"
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def thread_ids(client, headers, query: str = "") -> list[str]:
    """The thread ids the caller's listing shows, in order."""
    response = client.get(f"{THREADS}{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return [item["thread_id"] for item in response.get_json()["items"]]


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
