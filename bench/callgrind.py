"""Instructions per call of a Python callable, counted by valgrind's callgrind.

Timings on a shared 2-core box move by tens of percent; instruction counts barely move. The
callable's process starts under callgrind with instrumentation off (about 4x slower, not
50x), builds its case and warms up, then this process switches instrumentation on and
counts two segments, one of 0 calls and one of ``calls`` calls, with ``callgrind_control``:
their difference divided by ``calls`` leaves out the start, the warm-up and the handshake.
Only the instructions of that Python process count: a database or Redis server's are not.

Child side: ``python -m bench.callgrind module:factory WORKDIR [ARG]``, where
``factory(ARG)`` builds the case and returns the callable to count.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT

POLL = 0.02
TIMEOUT = 600.0


def available() -> bool:
    """True when valgrind and callgrind_control are installed."""
    return bool(shutil.which("valgrind") and shutil.which("callgrind_control"))


def instructions_per_call(factory: str, calls: int, arg: str = "", env: dict | None = None) -> int:
    """Instructions of one call of what ``factory`` (``module:function``) builds."""
    workdir = Path(tempfile.mkdtemp(prefix="fynix-callgrind-"))
    command = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no",
        f"--callgrind-out-file={workdir}/callgrind.out",
        sys.executable, "-m", "bench.callgrind", factory, str(workdir), arg,
    ]  # fmt: skip
    child_env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"}
    process = subprocess.Popen(
        command, cwd=ROOT, env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_for(workdir / "ready", process)
        _control(process.pid, "-i", "on")
        counts = [_segment(process, workdir, index, n) for index, n in enumerate((0, calls))]
        (workdir / "exit").touch()
        process.wait(timeout=TIMEOUT)
        return round((counts[1] - counts[0]) / calls)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _segment(process: subprocess.Popen, workdir: Path, index: int, calls: int) -> int:
    """Zero the counters, let the child make ``calls`` calls, dump; the instructions."""
    _control(process.pid, "-z")
    (workdir / f"go-{index}").write_text(str(calls))
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
            raise RuntimeError(f"callgrind child exited: {process.stderr.read()[-2000:]!r}")
        if time.monotonic() > deadline:
            raise RuntimeError("callgrind child did not answer in time")
        time.sleep(POLL)


def _dumped(workdir: Path, trigger: str) -> int:
    """The instruction total of the dump named ``trigger``."""
    for path in workdir.glob("callgrind.out*"):
        text = path.read_text(errors="replace")
        if f"desc: Trigger: Client Request: {trigger}" in text or f"dump {trigger}" in text:
            for line in text.splitlines():
                if line.startswith("summary:"):
                    return int(line.split()[1])
    raise RuntimeError(f"no callgrind dump named {trigger}")


def _child(factory: str, workdir: Path, arg: str) -> None:
    """Build the callable, warm it up, then run each segment the parent asks for."""
    module, _, name = factory.partition(":")
    call = getattr(importlib.import_module(module), name)(arg)
    for _ in range(3):
        call()
    (workdir / "ready").touch()
    index = 0
    while not (workdir / "exit").exists():
        go = workdir / f"go-{index}"
        if not go.exists():
            time.sleep(POLL)
            continue
        for _ in range(int(go.read_text())):
            call()
        (workdir / f"done-{index}").touch()
        index += 1


if __name__ == "__main__":
    _child(sys.argv[1], Path(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "")
