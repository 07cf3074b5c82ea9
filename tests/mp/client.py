"""CPython side of the MicroPython test runner: run tests/mp/run.mjs under node, parse its JSON.

Used by the pytest plugin (tests/mp/plugin.py) and by tests/test_mp_runner.py.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUN_MJS = Path(__file__).resolve().with_name("run.mjs")
PACKAGE = "@micropython/micropython-webassembly-pyscript"
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


def run_modules(paths, tests=None, timeout=DEFAULT_TIMEOUT, root=ROOT):
    """Run test modules on MicroPython; return {Path: ModuleReport}.

    `tests` optionally maps a module path to the test names to run (default: all).
    Raises RunnerUnavailable if node or the npm package is missing or the runner misbehaves.
    """
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
