"""Property tests of cache keys: distinct requests never share an entry, reorderings always do."""

from __future__ import annotations

import random
import re
from urllib.parse import urlencode

import pytest
from flask import jsonify, request
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fynix.auth.guard import login_required
from fynix.caching import keys
from fynix.caching.decorator import redis_cache
from fynix.caching.namespaces import NAMESPACES
from tests.conftest import AuthActions
from tests.factories import send_notification

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None)

# Characters that matter to a canonical form: separators, quotes, escapes, non-ASCII, NUL.
ALPHABET = 'ab1:{}[],"\\ =&%.é漢\x00'
names = st.text(ALPHABET, min_size=1, max_size=8)
texts = st.text(ALPHABET, max_size=12)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63), texts
)
values = st.one_of(scalars, st.lists(texts, max_size=4))
params = st.dictionaries(names, values, max_size=6)
headers = st.dictionaries(st.sampled_from(["accept-language", "x-currency"]), texts)
user_ids = st.one_of(st.none(), st.integers(min_value=1, max_value=2**31 - 1))
endpoints = st.sampled_from(
    ["portfolio.Summary", "portfolio.Positions", "users.Me", "notifications.Notifications"]
)
digests = st.text("0123456789abcdef", min_size=32, max_size=32)
HASH_TAG = re.compile(r"\{([^}]*)\}")


def shuffled(mapping: dict, seed: int) -> dict:
    """The same mapping, inserted in another order."""
    items = list(mapping.items())
    random.Random(seed).shuffle(items)
    return dict(items)


@SETTINGS
@given(view_args=params, query=params, vary=headers, seed=st.integers())
def test_the_same_request_in_any_order_has_one_digest(view_args, query, vary, seed):
    digest = keys.request_digest(view_args, query, vary)
    again = keys.request_digest(shuffled(view_args, seed), shuffled(query, seed + 1), vary)
    assert again == digest
    assert re.fullmatch(r"[0-9a-f]{32}", digest)


@st.composite
def perturbed(draw, base: st.SearchStrategy = params, new_values=values) -> tuple[dict, dict]:
    """A mapping and a near copy: one value changed (often to its own str()), added or dropped."""
    original = draw(base)
    copy = dict(original)
    kind = draw(st.sampled_from(["retype", "change", "add", "drop"]))
    if kind in {"retype", "change", "drop"} and copy:
        key = draw(st.sampled_from(sorted(copy)))
        old = copy[key]
        if kind == "drop":
            del copy[key]
        elif kind == "retype" and not isinstance(old, str):
            copy[key] = str(old)  # "None", "1", "True", "['a']": the same text, another value
        else:
            copy[key] = draw(new_values.filter(lambda new: new != old))
    else:
        copy[draw(names.filter(lambda name: name not in original))] = draw(new_values)
    assume(copy != original)
    return original, copy


@SETTINGS
@given(pair=perturbed(), other=params, vary=headers, where=st.sampled_from(["path", "query"]))
def test_different_params_never_share_a_digest(pair, other, vary, where):
    original, changed = pair
    if where == "path":
        before, after = (original, other, vary), (changed, other, vary)
    else:
        before, after = (other, original, vary), (other, changed, vary)
    assert keys.request_digest(*before) != keys.request_digest(*after)


@SETTINGS
@given(view_args=params, query=params, pair=perturbed(headers, texts))
def test_different_vary_headers_never_share_a_digest(view_args, query, pair):
    original, changed = pair
    first = keys.request_digest(view_args, query, original)
    assert first != keys.request_digest(view_args, query, changed)


@SETTINGS
@given(a=st.tuples(params, params, headers), b=st.tuples(params, params, headers))
def test_unrelated_requests_never_share_a_digest(a, b):
    assume(a != b)
    assert keys.request_digest(*a) != keys.request_digest(*b)


@SETTINGS
@given(name=names, value=values)
def test_a_path_argument_and_a_query_argument_are_not_confused(name, value):
    as_path = keys.request_digest({name: value}, {}, {})
    assert as_path != keys.request_digest({}, {name: value}, {})
    assert as_path != keys.request_digest({}, {}, {name: str(value)})


@SETTINGS
@given(first=user_ids, second=user_ids)
def test_scopes_of_different_users_differ(first, second):
    assume(first != second)
    assert keys.scope_of(first) != keys.scope_of(second)


@SETTINGS
@given(user_id=st.integers(min_value=1, max_value=2**31 - 1))
def test_a_scope_names_exactly_one_user(user_id):
    scope = keys.scope_of(user_id)
    assert scope != keys.scope_of(None)
    assert int(scope.removeprefix("u")) == user_id
    assert HASH_TAG.fullmatch(f"{{{scope}}}")


@SETTINGS
@given(
    namespace=st.sampled_from(sorted(NAMESPACES)),
    first=st.tuples(user_ids, endpoints, digests),
    second=st.tuples(user_ids, endpoints, digests),
)
def test_entry_keys_differ_unless_everything_matches(namespace, first, second):
    def entry(user_id, endpoint, digest):
        return keys.entry_key("fynix", namespace, keys.scope_of(user_id), endpoint, digest)

    if first == second:
        assert entry(*first) == entry(*second)
        return
    assert entry(*first) != entry(*second)
    # The hash tag is the scope: one user's entries share a slot with their generation only.
    tag = HASH_TAG.search(entry(*first)).group(1)
    assert tag == keys.scope_of(first[0])
    assert f"{{{tag}}}" in keys.gen_key("fynix", namespace, tag)


# -- through HTTP: the decorator builds the keys from the real request --------------------

NOTIFICATION_QUERY = [("type", "system"), ("unread", "true"), ("page", "1"), ("per_page", "5")]
junk = st.lists(
    st.tuples(st.sampled_from(["junk", "utm_source", "_", "callback", "x"]), st.text(max_size=5)),
    max_size=3,
)


@pytest.fixture
def http(redis_app):
    """The redis_app with a view varying on a header, and two users with notifications."""

    @redis_app.get("/_test/vary")
    @login_required
    @redis_cache(prefix="user", vary_on_headers=["Accept-Language"])
    def show_language():
        return jsonify(language=request.headers.get("Accept-Language", ""))

    auth = AuthActions(redis_app.test_client())
    (one, first), (two, second) = auth.new_user(), auth.new_user()
    _, admin = auth.new_user(admin=True)
    for user in (one, two):
        send_notification(auth.client, admin, user["id"], type="system", title=f"For {user['id']}")
    return auth.client, first, second


@pytest.mark.redis
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(order=st.permutations(NOTIFICATION_QUERY), extra=junk)
def test_reordered_and_junk_parameters_share_an_entry(http, order, extra):
    client, first, _ = http
    base = client.get(f"/api/notifications?{urlencode(NOTIFICATION_QUERY)}", headers=first)
    assert base.status_code == 200
    response = client.get(f"/api/notifications?{urlencode(order + extra)}", headers=first)
    assert response.headers["X-Cache"] == "HIT"
    assert response.get_json() == base.get_json()


@pytest.mark.redis
def test_other_users_params_and_headers_get_their_own_entries(http):
    client, first, second = http
    url = f"/api/notifications?{urlencode(NOTIFICATION_QUERY)}"
    mine = client.get(url, headers=first)
    theirs = client.get(url, headers=second)
    assert (mine.headers["X-Cache"], theirs.headers["X-Cache"]) == ("MISS", "MISS")
    assert mine.get_json()["items"][0]["title"] != theirs.get_json()["items"][0]["title"]
    read = client.get(url.replace("unread=true", "unread=false"), headers=first)
    assert read.headers["X-Cache"] == "MISS"
    assert read.get_json()["total"] == 0

    english = client.get("/_test/vary", headers={**first, "Accept-Language": "en"})
    french = client.get("/_test/vary", headers={**first, "Accept-Language": "fr"})
    assert (english.headers["X-Cache"], french.headers["X-Cache"]) == ("MISS", "MISS")
    assert french.get_json() == {"language": "fr"}
    again = client.get("/_test/vary", headers={**first, "Accept-Language": "en"})
    assert again.headers["X-Cache"] == "HIT"
    assert again.get_json() == {"language": "en"}
