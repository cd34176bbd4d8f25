"""Rules every request input obeys before a schema or a service sees it.

Text is storable: no NUL (PostgreSQL's text types cannot hold it) and no lone surrogate
(JSON's ``"\\ud800"`` escape decodes to one, and no encoder can write it as UTF-8). A body
that an endpoint reads as JSON must say it is JSON, and be JSON that Python reads without
hitting one of its own limits (nesting, digits of an integer). Path ids are shaped by their
converter, so a malformed id never reaches SQL.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask import Request
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType
from werkzeug.routing import BaseConverter

# In a Python str every surrogate is a lone one: json.loads joins valid pairs.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
CLIENT_ID_PATTERN = r"[A-Za-z0-9_\-]{1,64}"
# Far deeper than any body of the API, and far below Python's recursion limit, which the
# decoder and every walk over the decoded value (unstorable_text, marshmallow) run into.
MAX_JSON_DEPTH = 32


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text (a NUL or a lone surrogate), else None."""
    found = UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "Must not contain NUL (\\u0000) characters."
    return "Must not contain lone surrogates (\\ud800-\\udfff): not valid Unicode text."


def _printable(name: str) -> str:
    """A field name fit for an error body and a log line, even when it is itself bad."""
    return name.encode("unicode_escape").decode("ascii") if text_problem(name) else name


def unstorable_text(data: Any, name: str = "") -> dict[str, list[str]]:
    """Field name (dotted for nested values) -> problem, for every string in ``data``.

    Keys are checked too: a bad key is named (escaped) with its own problem.
    """
    if isinstance(data, str):
        problem = text_problem(data)
        return {_printable(name) or "_schema": [problem]} if problem else {}
    if isinstance(data, Mapping):
        items = ((str(key), data[key]) for key in data)
    elif isinstance(data, list | tuple):
        items = ((str(index), value) for index, value in enumerate(data))
    else:
        return {}
    problems: dict[str, list[str]] = {}
    for key, value in items:
        path = f"{name}.{key}" if name else key
        key_problem = text_problem(key)
        if key_problem:
            problems[_printable(path)] = [f"Field name: {key_problem}"]
        else:
            problems.update(unstorable_text(value, path))
    return problems


def has_body(req: Request) -> bool:
    """True when the request carries a body (a length above 0, or chunked)."""
    if req.content_length:
        return True
    return "chunked" in req.headers.get("Transfer-Encoding", "").lower()


def json_depth(data: Any, limit: int) -> int:
    """How deep arrays and objects nest in ``data``, counted up to ``limit + 1``.

    Level by level, without recursion: the value may nest as deep as the decoder went.
    """
    containers = (dict, list)
    level = [data] if isinstance(data, containers) else []
    depth = 0
    while level and depth <= limit:
        depth += 1
        level = [
            child
            for value in level
            for child in (value.values() if isinstance(value, dict) else value)
            if isinstance(child, containers)
        ]
    return depth


def decode_json_body(raw: bytes) -> Any:
    """The decoded body; 400 for JSON that is invalid, too deep or has too long an integer.

    ``json.loads`` raises a plain ValueError for an integer over Python's digit limit and a
    RecursionError for deep nesting, neither of which webargs expects: both were a 500.
    """
    too_deep = f"The request body nests JSON deeper than {MAX_JSON_DEPTH} levels."
    try:
        data = core.parse_json(raw)
    except json.JSONDecodeError:
        raise BadRequest("The request body is not valid JSON.") from None
    except ValueError:  # int(): "Exceeds the limit (4300 digits) for integer string conversion"
        digits = sys.get_int_max_str_digits()
        raise BadRequest(
            f"The request body has a JSON number of more than {digits} digits."
        ) from None
    except RecursionError:
        raise BadRequest(too_deep) from None
    if json_depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise BadRequest(too_deep)
    return data


class FynixParser(FlaskParser):
    """webargs parser of every API argument: JSON bodies only, storable text only."""

    def load_json(self, req: Request, schema: ma.Schema) -> Any:
        """The JSON body, or missing when there is none; 415 for a body that is not JSON
        (webargs alone would treat it as missing), 400 for one that cannot be read."""
        if not is_json_request(req):
            if has_body(req):
                raise UnsupportedMediaType(
                    "The request body must be JSON: send it with Content-Type: application/json."
                )
            return core.missing
        raw = req.get_data(cache=True)
        return decode_json_body(raw) if raw else core.missing

    def pre_load(
        self, location_data: Mapping, *, schema: ma.Schema, req: Request, location: str
    ) -> Mapping:
        """Refuse NUL and lone surrogates in any string of the body or query, and a query
        parameter given twice (every one takes one value: which would win?): 422, by name."""
        problems = unstorable_text(location_data)
        if location == "query":
            for name in req.args:
                if len(req.args.getlist(name)) > 1 and name in schema.fields:
                    problems.setdefault(_printable(name), []).append("Give this parameter once.")
        if problems:
            raise ma.ValidationError(problems)
        return location_data


class ClientIdConverter(BaseConverter):
    """A client-chosen id in a path (``<client_id:thread_id>``): anything else is a 404."""

    regex = CLIENT_ID_PATTERN


def client_id_parameter_schema(_converter: ClientIdConverter) -> dict:
    """How the OpenAPI document describes a ``client_id`` path parameter."""
    return {"type": "string", "pattern": f"^{CLIENT_ID_PATTERN}$"}


class _CappedInput:
    """A chunked body's stream that raises 413 when it turns out longer than ``limit``.

    werkzeug reads such a body through a LimitedStream that stops at the limit and hands
    the first ``limit`` bytes on as if they were all (a truncated body, parsed). This
    stream sits under it and, when the limit is reached, peeks one byte further.
    """

    def __init__(self, stream: Any, limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.read_so_far = 0

    def read(self, size: int = -1) -> bytes:
        """Read like the server's stream; 413 once a byte beyond the limit exists."""
        data = self.stream.read(size)
        self.read_so_far += len(data)
        if self.read_so_far > self.limit or (
            self.read_so_far == self.limit and self.stream.read(1)
        ):
            raise RequestEntityTooLarge()
        return data


class ChunkedBodyLimit:
    """WSGI middleware: MAX_CONTENT_LENGTH also holds for a body without Content-Length.

    A body with a Content-Length over the limit is refused by werkzeug before it is read.
    """

    def __init__(self, wsgi_app: Any, limit: int | None) -> None:
        self.wsgi_app = wsgi_app
        self.limit = limit

    def __call__(self, environ: dict, start_response: Any) -> Any:
        """Cap the input stream of a server-terminated (chunked) body."""
        chunked = environ.get("wsgi.input_terminated") and not environ.get("CONTENT_LENGTH")
        if chunked and self.limit is not None:
            environ["wsgi.input"] = _CappedInput(environ["wsgi.input"], self.limit)
        return self.wsgi_app(environ, start_response)
