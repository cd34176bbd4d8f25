"""Instructions per call of a Python callable, counted by valgrind's callgrind.

Timings on a shared 2-core box move by tens of percent; instruction counts barely move. The
callable's process starts under callgrind with instrumentation off (about 4x slower, not
50x), builds its case and warms up, then this process switches instrumentation on and
counts two segments, one of 0 calls and one of ``calls`` calls, with ``callgrind_control``:
their difference divided by ``calls`` leaves out the start, the warm-up and the handshake.
Only the instructions of that Python process count: a database or Redis server's are not.

Child side: ``python -m bench.callgrind module:factory WORKDIR [ARG]``, where
``factory(ARG)`` builds the case and returns the callable to count, or a dict of named
callables: ``count_calls`` then counts each in its own segment of one process (one start-up
under valgrind for all of them) and keeps what each returned (bytes) and, with ``annotate``,
callgrind_annotate's top functions of its segment.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import ROOT

POLL = 0.02
TIMEOUT = 600.0


def available() -> bool:
    """True when valgrind and callgrind_control are installed."""
    return bool(shutil.which("valgrind") and shutil.which("callgrind_control"))


def instructions_per_call(factory: str, calls: int, arg: str = "", env: dict | None = None) -> int:
    """Instructions of one call of what ``factory`` (``module:function``) builds."""
    return count_calls(factory, calls, arg, env).instructions[""]


@dataclass
class Counted:
    """Per named callable: instructions per call, what it returned, its top functions."""

    instructions: dict[str, int] = field(default_factory=dict)
    results: dict[str, bytes] = field(default_factory=dict)
    top: dict[str, list[tuple[int, str, str]]] = field(default_factory=dict)


def count_calls(
    factory: str,
    calls: int,
    arg: str = "",
    env: dict | None = None,
    annotate: int = 0,
    repeats: int = 1,
) -> Counted:
    """Instructions per call of each callable ``factory`` builds (one or a dict of them);
    ``repeats`` segments of ``calls`` calls each, the median kept (a rare costly event, such
    as a garbage collection, then cannot move a short run's figure); ``annotate``: keep
    that many top functions (instructions, function, object) of the median segment."""
    workdir = Path(tempfile.mkdtemp(prefix="fynix-callgrind-"))
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no",
        f"--callgrind-out-file={workdir}/callgrind.out",
        sys.executable, "-m", "bench.callgrind", factory, str(workdir), arg,
    ]  # fmt: skip
    child_env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"}
    # stderr goes to a file: a pipe nobody reads would stall a chatty child
    with (workdir / "stderr").open("wb") as stderr:
        process = subprocess.Popen(
            command, cwd=ROOT, env=child_env, stdout=subprocess.DEVNULL, stderr=stderr
        )
    counted = Counted()
    try:
        _wait_for(workdir / "ready", process)
        names = json.loads((workdir / "names").read_text())
        _control(process.pid, "-i", "on")
        base, _ = _segment(process, workdir, 0, names[0], 0)
        segment = 1
        for position, name in enumerate(names):
            runs = []
            for _ in range(repeats):
                total, dump = _segment(process, workdir, segment, name, calls)
                runs.append((total - base, dump))
                segment += 1
            middle, dump = sorted(runs)[len(runs) // 2]
            counted.instructions[name] = round(middle / calls)
            result = workdir / f"result-{position}"
            if result.exists():
                counted.results[name] = result.read_bytes()
            if annotate:
                counted.top[name] = top_functions(dump, annotate)
        (workdir / "exit").touch()
        process.wait(timeout=TIMEOUT)
        return counted
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


ANNOTATED = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(\S+?):(\S+)(?:\s+\[(.*)\])?\s*$")


def top_functions(dump: Path, limit: int) -> list[tuple[int, str, str]]:
    """(instructions, function, object file) of the ``limit`` costliest functions (self cost)
    in one dump, as ``callgrind_annotate`` lists them."""
    output = subprocess.run(
        ["callgrind_annotate", "--threshold=100", str(dump)],
        capture_output=True, text=True, check=True, timeout=TIMEOUT,
    ).stdout  # fmt: skip
    found = []
    for line in output.splitlines():
        match = ANNOTATED.match(line)
        if match and match.group(2) != "PROGRAM":
            cost, _file, function, obj = match.groups()
            found.append((int(cost.replace(",", "")), function, Path(obj or "?").name))
    return sorted(found, reverse=True)[:limit]


def _segment(
    process: subprocess.Popen, workdir: Path, index: int, name: str, calls: int
) -> tuple[int, Path]:
    """Zero the counters, let the child make ``calls`` calls of ``name``, dump; the
    instructions and the dump file."""
    _control(process.pid, "-z")
    ready = workdir / f"go-{index}.tmp"
    ready.write_text(json.dumps([name, calls]))
    ready.rename(workdir / f"go-{index}")  # whole, never half written
    _wait_for(workdir / f"done-{index}", process)
    _control(process.pid, "-d", f"segment-{index}")
    return _dumped(workdir, f"segment-{index}")


def _control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True,
                   timeout=TIMEOUT)  # fmt: skip


def _wait_for(path: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not path.exists():
        if process.poll() is not None:
            tail = (path.parent / "stderr").read_bytes()[-2000:]
            raise RuntimeError(f"callgrind child exited: {tail!r}")
        if time.monotonic() > deadline:
            raise RuntimeError("callgrind child did not answer in time")
        time.sleep(POLL)


def _dumped(workdir: Path, trigger: str) -> tuple[int, Path]:
    """The instruction total of the dump named ``trigger``, and its file."""
    for path in workdir.glob("callgrind.out*"):
        text = path.read_text(errors="replace")
        if f"desc: Trigger: Client Request: {trigger}" in text or f"dump {trigger}" in text:
            for line in text.splitlines():
                if line.startswith("summary:"):
                    return int(line.split()[1]), path
    raise RuntimeError(f"no callgrind dump named {trigger}")


def _child(factory: str, workdir: Path, arg: str) -> None:
    """Build the callables, warm them up, then run each segment the parent asks for."""
    module, _, name = factory.partition(":")
    built = getattr(importlib.import_module(module), name)(arg)
    calls = built if isinstance(built, dict) else {"": built}
    for index, call in enumerate(calls.values()):
        for _ in range(3):
            result = call()
        if isinstance(result, bytes):
            (workdir / f"result-{index}").write_bytes(result)
    (workdir / "names").write_text(json.dumps(list(calls)))
    (workdir / "ready").touch()
    index = 0
    while not (workdir / "exit").exists():
        go = workdir / f"go-{index}"
        if not go.exists():
            time.sleep(POLL)
            continue
        name, count = json.loads(go.read_text())
        call = calls[name]
        for _ in range(count):
            call()
        (workdir / f"done-{index}").touch()
        index += 1


if __name__ == "__main__":
    _child(sys.argv[1], Path(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "")
