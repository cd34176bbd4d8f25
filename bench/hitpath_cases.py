"""The WSGI apps of the hit path benchmark, driven in one process (bench/hitpath.py).

``wsgi_calls(ARG)`` builds one variant's app from the environment the parent set (the very
environment its gunicorn gets) and returns, per endpoint, a callable making one WSGI call
and returning the body: ``bench.callgrind`` counts their instructions. ``python -m
bench.hitpath_cases ARG OUT`` traces the same calls instead and writes the bytecodes each
package runs per request (Python functions are invisible to callgrind, which sees only the
interpreter's C functions; bytecodes per package say where the Python work goes).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from werkzeug.test import EnvironBuilder

from bench.common import ROOT
from bench.peer_app import ENDPOINTS

# variant -> where its endpoints live ("" is the real route of the Fynix app)
ROUTES = {"a": "", "b": "", "c": "peer", "d": "ceiling", "e": "floor"}
TRACED_CALLS = 20


def target(variant: str, name: str) -> str:
    """The path of endpoint ``name`` in ``variant``'s app."""
    prefix = ROUTES[variant]
    return ENDPOINTS[name][0] if not prefix else f"/bench/{prefix}/{name}"


def app_spec(variant: str) -> str:
    """The gunicorn application of ``variant``."""
    if variant in "ab":
        return "wsgi:app"
    return "bench.peer_app:build_app()" if variant == "c" else "bench.peer_app:bare_app()"


def build_app(variant: str) -> Flask:
    """What ``app_spec(variant)`` serves, built in this process."""
    from bench import peer_app

    if variant in "ab":
        from fynix import create_app

        return create_app()
    return peer_app.build_app() if variant == "c" else peer_app.bare_app()


def wsgi_calls(arg: str) -> dict[str, Callable[[], bytes]]:
    """Per endpoint, one WSGI GET of ``variant`` (ARG: {"variant", "token"} as JSON)."""
    spec = json.loads(arg)
    variant, token = spec["variant"], spec["token"]
    app = build_app(variant)
    calls = {}
    for name, (_, per_user) in ENDPOINTS.items():
        headers = {"Authorization": f"Bearer {token}"} if per_user else {}
        environ = EnvironBuilder(path=target(variant, name), headers=headers).get_environ()
        calls[name] = _checked_call(app, environ, variant == "b")
    return calls


def _checked_call(app: Flask, environ: dict, hit: bool) -> Callable[[], bytes]:
    """A WSGI call as gunicorn makes it (closing the iterable); a 200 (a HIT for Fynix's
    cached variant) is checked after two warm-up calls."""
    seen: list = []

    def start_response(status: str, headers: list, exc_info=None) -> None:
        seen[:] = [status, dict(headers)]

    def call() -> bytes:
        answer = app(dict(environ), start_response)
        try:
            return b"".join(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()

    call()
    call()
    status, headers = seen
    if status != "200 OK" or (hit and headers.get("X-Cache") != "HIT"):
        raise RuntimeError(f"{environ['PATH_INFO']}: {status} {headers.get('X-Cache')}")
    return call


def package_of(filename: str) -> str:
    """fynix.<subpackage>, a site-packages distribution, bench, or the standard library."""
    path = Path(filename)
    if "site-packages" in path.parts:
        name = path.parts[path.parts.index("site-packages") + 1]
        return name.removesuffix(".py")
    try:
        parts = path.resolve().relative_to(ROOT).parts
    except ValueError:
        return "stdlib"
    if parts[0] == "fynix" and len(parts) > 1:
        return "fynix." + parts[1].removesuffix(".py")
    return parts[0].removesuffix(".py")


def bytecodes_per_call(call: Callable[[], object], calls: int = TRACED_CALLS) -> dict[str, float]:
    """Bytecodes run per call, by package (sys.settrace's opcode events)."""
    counts: Counter[str] = Counter()

    def local(frame, event, _arg):
        if event == "opcode":
            counts[frame.f_code.co_filename] += 1
        return local

    def tracer(frame, event, _arg):
        frame.f_trace_opcodes, frame.f_trace_lines = True, False
        return local

    sys.settrace(tracer)
    try:
        for _ in range(calls):
            call()
    finally:
        sys.settrace(None)
    packages: Counter[str] = Counter()
    for filename, count in counts.items():
        packages[package_of(filename)] += count
    return {name: round(count / calls, 1) for name, count in packages.most_common()}


if __name__ == "__main__":
    traced = {name: bytecodes_per_call(call) for name, call in wsgi_calls(sys.argv[1]).items()}
    Path(sys.argv[2]).write_text(json.dumps(traced))
