# Core tests in tests/core/ are collected twice: as usual for CPython, and as
# `test_x[micropython]` items that run on real MicroPython (tests/mp/plugin.py).
import gc
import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:  # `mp` is tests/mp; make it importable under any --import-mode
    sys.path.insert(0, _TESTS)
_CORE = str(Path(__file__).resolve().parent / "core")
if _CORE not in sys.path:  # the core's helpers (refframes: the reference's frames) for all tests
    sys.path.append(_CORE)

from mp.plugin import (  # noqa: F401, E402 - pytest finds hooks by name in conftest modules
    pytest_addoption,
    pytest_collect_file,
    pytest_configure,
    pytest_terminal_summary,
)


# The host tests' common fixtures: the center on loopback with its database in tmp_path, and a
# store on that database (a module that needs another host, e.g. on PostgreSQL, defines its own).
import pytest  # noqa: E402


@pytest.fixture
def host(tmp_path):
    from posterm.host.server import start_in_thread
    from test_host_support import NOW

    h = start_in_thread(str(tmp_path / "host.db"), now=lambda: NOW)
    yield h
    h.stop()


@pytest.fixture
def store(host):
    from posterm.host.store import Store

    s = Store(host.host.db_path)
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _core_modules_put_back():
    """The core's modules (pos.*) as they were before each test, if the test's overlays
    (pos.overlay, switched on for a CPython test as on a board) unloaded and imported some
    again: a test module that imported pos.menu at collection must keep meeting the MenuError
    the core raises, whichever test ran before it (pytest -p xdist runs another order)."""
    before = [(n, m) for n, m in sys.modules.items() if n.startswith("pos.")]
    yield
    if all(sys.modules.get(n) is m for n, m in before):
        return
    # a flow left inside an overlay scope ends now (its scope unloads what it loaded), not
    # when a later test's garbage collection closes it
    gc.collect()
    had = dict(before)
    for n in [n for n in sys.modules if n.startswith("pos.") and n not in had]:
        m = sys.modules.pop(n)  # imported against the modules unloaded since: imported again
        parent, _dot, name = n.rpartition(".")
        if getattr(sys.modules.get(parent), name, None) is m:
            delattr(sys.modules[parent], name)
    for n, m in before:
        sys.modules[n] = m
        parent, _dot, name = n.rpartition(".")
        setattr(sys.modules[parent], name, m)
