#!/usr/bin/env python3
"""Set up and run Fynix, or its checks, with nothing installed but Python 3.11+.

    python3 scripts/dev.py run [--feed]     # venv, deps, migrations, demo data, gunicorn
                                            # (--feed: and the simulated quote feed beside it)
    python3 scripts/dev.py test [ARGS...]   # venv, dev deps, ruff, pytest ARGS
    python3 scripts/dev.py lock [ARGS...]   # re-lock requirements*.txt from requirements*.in

Standard library only: it runs before any dependency is installed. The virtualenv is
.venv (FYNIX_VENV names another, e.g. CI's .venv-ci). The locks are installed with
``pip --require-hashes``, and again only when a lock file changes. ``lock`` passes ARGS to
``uv pip compile`` (``--upgrade``, ``--upgrade-package NAME``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import secrets
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / os.environ.get("FYNIX_VENV", ".venv")
BIN = VENV / "bin"
# (input, lock) in order: the dev lock is constrained by the runtime lock, the bench lock by
# the dev lock, so every package has one version across the three (CI installs dev + bench).
LOCKS = (
    ("requirements.in", "requirements.txt"),
    ("requirements-dev.in", "requirements-dev.txt"),
    ("requirements-bench.in", "requirements-bench.txt"),
)
LOCK_OPTIONS = (
    "--generate-hashes",
    "--universal",  # one lock for every OS and Python the app supports
    "--python-version=3.11",
    "--custom-compile-command=python3 scripts/dev.py lock",
    "--quiet",
)
# The demo's moving market: the seeded random walk of every quote, a batch every 3 s.
FEED_ARGS = ("market", "feed", "--provider", "simulated", "--interval", "3")
HAS_ADMIN = (
    "import sqlalchemy as sa\n"
    "from wsgi import app\n"
    "from fynix.extensions import db\n"
    "from fynix.users.models import User\n"
    "with app.app_context():\n"
    "    print(db.session.scalar(sa.select(sa.exists().where(User.is_admin))))\n"
)


def say(message: str) -> None:
    """Print a step of the script, visibly apart from the tools' own output."""
    print(f"==> {message}", flush=True)


def call(*args: str | Path, env: dict | None = None, capture: bool = False) -> str:
    """Run a program from the repository root; exit with its status when it fails."""
    result = subprocess.run(  # noqa: S603 (fixed programs from the venv, no shell)
        [str(arg) for arg in args],
        cwd=ROOT,
        env=env or tool_env(),
        text=True,
        stdout=subprocess.PIPE if capture else None,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(result.returncode)
    return result.stdout or ""


def tool_env() -> dict:
    """The environment with the virtualenv activated."""
    env = dict(os.environ, VIRTUAL_ENV=str(VENV))
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def ensure_venv(requirements: str) -> None:
    """Create the virtualenv if missing and install ``requirements`` if they changed."""
    if not (BIN / "python").exists():
        if importlib.util.find_spec("ensurepip") is None:
            sys.exit(
                "Python's venv support is missing. On Debian/Ubuntu run:\n"
                "    sudo apt-get install python3-venv\n"
                "then run this command again."
            )
        say(f"creating the virtualenv {VENV.relative_to(ROOT)}")
        venv.create(VENV, with_pip=True)
    stamp = BIN.parent / f".installed-{requirements}"
    digest = hashlib.sha256((ROOT / requirements).read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    say(f"installing {requirements}")
    call(
        BIN / "python",
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "-q",
        "--require-hashes",
        "-r",
        requirements,
    )
    stamp.write_text(digest)


def flask(*args: str, capture: bool = False) -> str:
    """Run ``flask --app wsgi ARGS`` in the virtualenv."""
    return call(BIN / "flask", "--app", "wsgi", *args, capture=capture)


def ensure_admin() -> None:
    """Create an admin with a random password when the database has none."""
    if call(BIN / "python", "-c", HAS_ADMIN, capture=True).strip() == "True":
        return
    password = secrets.token_urlsafe(12)
    say("creating an admin user")
    flask(
        "users",
        "create-admin",
        "--email",
        "admin@example.com",
        "--username",
        "admin",
        "--password",
        password,
    )
    print(f"Admin login:  admin / {password}   (shown only once)")


def run(args: list[str]) -> None:
    """Set everything up, then replace this process with gunicorn (or, with ``--feed``, run
    gunicorn and the simulated quote feed side by side)."""
    if set(args) - {"--feed"}:
        sys.exit(__doc__)
    ensure_venv("requirements.txt")
    say("migrating the database (flask db upgrade)")
    flask("db", "upgrade")
    say("adding demo data if the database is empty")
    flask("seed-demo", "--if-empty")
    ensure_admin()
    env = tool_env()
    bind = env.setdefault("GUNICORN_BIND", "127.0.0.1:8000")
    say(f"serving on http://{bind}  (Ctrl-C stops)")
    print(f"    API docs:  http://{bind}/api/docs\n    health:    http://{bind}/healthz")
    os.chdir(ROOT)
    gunicorn = str(BIN / "gunicorn")
    server = [gunicorn, "--config", "gunicorn.conf.py", "wsgi:app"]
    if "--feed" not in args:
        os.execve(gunicorn, server, env)  # noqa: S606
    print(f"    prices:    http://{bind}/api/public/market-overview  (they move every 3 s)")
    serve_with_feed(server, env)


def serve_with_feed(server: list[str], env: dict) -> None:
    """gunicorn and ``flask market feed`` until Ctrl-C, which reaches both (they share the
    terminal's process group) and stops each cleanly; if the server exits, so does the feed.
    Without Redis the server still sees the feed's prices: the in-process cache shares its
    generations with every process of this host."""
    say(f"starting the quote feed: flask --app wsgi {' '.join(FEED_ARGS)}")
    feed = subprocess.Popen([str(BIN / "flask"), "--app", "wsgi", *FEED_ARGS], cwd=ROOT, env=env)  # noqa: S603
    gunicorn = subprocess.Popen(server, cwd=ROOT, env=env)  # noqa: S603
    status, interrupted = 0, False
    try:
        status = gunicorn.wait()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        for process in (gunicorn, feed):
            stop(process, grace=30.0 if interrupted else 0.0)
    sys.exit(status)


def stop(process: subprocess.Popen, grace: float) -> None:
    """Give a process that got Ctrl-C ``grace`` seconds to finish, then SIGTERM it by PID
    (the feed finishes its batch), then SIGKILL."""
    for action in (None, process.terminate, process.kill):
        if action is not None:
            action()
        try:
            process.wait(timeout=grace if action is None else 30)
            return
        except subprocess.TimeoutExpired:
            continue


def ensure_spectral() -> None:
    """Install the pinned Spectral (package-lock.json) for the OpenAPI lint test, when npm
    exists and it is missing; without npm that test is skipped and says why."""
    if (ROOT / "node_modules" / ".bin" / "spectral").exists() or shutil.which("npm") is None:
        return
    say("npm ci (Spectral, for tests/test_openapi_tools.py)")
    call("npm", "ci", "--no-audit", "--no-fund")


def test(pytest_args: list[str]) -> None:
    """Lint, check formatting, then replace this process with pytest."""
    ensure_venv("requirements-dev.txt")
    ensure_spectral()
    say("ruff check . && ruff format --check .")
    call(BIN / "ruff", "check", ".")
    call(BIN / "ruff", "format", "--check", ".")
    say(f"python -m pytest {' '.join(pytest_args)}".rstrip())
    os.chdir(ROOT)
    python = str(BIN / "python")
    os.execve(python, [python, "-m", "pytest", *pytest_args], tool_env())  # noqa: S606


def lock(uv_args: list[str]) -> None:
    """Write each lock from its input with uv (pinned in requirements-dev.in)."""
    ensure_venv("requirements-dev.txt")
    for source, target in LOCKS:
        say(f"uv pip compile {source} -o {target} {' '.join(uv_args)}".rstrip())
        call(BIN / "uv", "pip", "compile", source, "-o", target, *LOCK_OPTIONS, *uv_args)
    say("locked: the next `dev.py run` or `dev.py test` installs the new locks")


def main(argv: list[str]) -> None:
    """Dispatch ``run``, ``test`` or ``lock``."""
    if not argv or argv[0] not in {"run", "test", "lock"}:
        sys.exit(__doc__)
    if sys.version_info < (3, 11):  # noqa: UP036 (runs on the system Python)
        sys.exit("Fynix needs Python 3.11 or newer.")
    if argv[0] == "run":
        run(argv[1:])
    elif argv[0] == "test":
        test(argv[1:])
    else:
        lock(argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
