"""The core (firmware/pos) never imports the UI: checked in a fresh interpreter."""

import json
import subprocess
import sys

_PROBE = r"""
import json, pkgutil, sys, importlib
import pos, pos.terminal
names = ["pos.terminal"]
for mod in pkgutil.walk_packages(pos.__path__, "pos."):
    importlib.import_module(mod.name)
    names.append(mod.name)
ui = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich"))
print(json.dumps({"modules": names, "ui": ui}))
"""


def test_core_package_never_imports_textual_or_rich():
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=True
    )
    result = json.loads(out.stdout)
    assert "pos.flows.purchase" in result["modules"]
    assert "pos.screen" in result["modules"]
    assert result["ui"] == []


def test_running_the_core_through_the_driver_does_not_import_textual(tmp_path):
    probe = (
        "import sys\n"
        "from posterm.driver import Driver\n"
        f"d = Driver({str(tmp_path)!r}, date=(2026, 11, 23, 9, 0, 0))\n"
        "d.start(); d.feed(('key', 'MENU')); d.close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "[]"
