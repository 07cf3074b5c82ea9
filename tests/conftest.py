# Core tests in tests/core/ are collected twice: as usual for CPython, and as
# `test_x[micropython]` items that run on real MicroPython (tests/mp/plugin.py).
import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:  # `mp` is tests/mp; make it importable under any --import-mode
    sys.path.insert(0, _TESTS)

from mp.plugin import (  # noqa: F401, E402 - pytest finds hooks by name in conftest modules
    pytest_addoption,
    pytest_collect_file,
    pytest_configure,
    pytest_terminal_summary,
)
