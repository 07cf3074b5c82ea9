"""The board code (firmware/boards, firmware/main.py) and the core (firmware/pos) type-checked
with mypy against the MicroPython stubs of each board: micropython-rp2-rpi-pico-stubs and
micropython-esp32-stubs, at the versions pinned in pyproject.toml's test extra.

The two stub packages install the same files (machine.pyi, ...), so each goes into its own
directory with `pip install --target`, kept in pytest's cache (.pytest_cache) per version, and
mypy uses it as its typeshed (custom_typeshed_dir, mypy_path, no site-packages): a module or
attribute MicroPython lacks on that board is an error (shared/reference/micropython.md §3)."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from mypy import api as mypy_api

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"

# board -> (stub package, modules the board does not have that the code imports behind a guard)
BOARDS = {
    # the plain Pico has no network module; boot.py imports it only for a Wi-Fi board.json
    "rp2": ("micropython-rp2-rpi-pico-stubs", ("network",)),
    "esp32": ("micropython-esp32-stubs", ()),
}
# modules the core imports only on CPython (pos/flows/main.py: traceback when
# sys.print_exception is missing)
CPYTHON_ONLY = ("traceback",)
# On the core, mypy's inference on unannotated code (a list started as [None], a dict whose
# keys change type, a variable reused for another type) reports these codes on correct code;
# the core is checked for what the stubs are for: missing modules and attributes, wrong calls.
CORE_INFERENCE_NOISE = (
    "index",
    "var-annotated",
    "call-overload",
    "union-attr",
    "assignment",
    "operator",
    "misc",
    "no-redef",
)
# ... and an attribute of a value inferred too narrowly: pos/settlement.py totals() builds
# {"debit": [0, 0], "types": {}} (inferred dict[str, Collection[int]]), then out["types"].get
CORE_INFERENCE_NOISE_IN = {"pos.settlement": ("attr-defined",)}


def _pins():
    with open(ROOT / "pyproject.toml", "rb") as f:
        test = tomllib.load(f)["project"]["optional-dependencies"]["test"]
    out = {}
    for req in test:
        name, _, version = req.partition("==")
        out[name.strip().lower()] = version.strip()
    return out


def _typings(cache_root, board):
    """-> the directory holding the board's stubs (installed once per pinned version)."""
    package = BOARDS[board][0]
    pins = _pins()
    reqs = [f"{package}=={pins[package]}"]
    if "micropython-stdlib-stubs" in pins:
        reqs.append(f"micropython-stdlib-stubs=={pins['micropython-stdlib-stubs']}")
    key = re.sub(r"[^A-Za-z0-9.]+", "-", "-".join([board] + [r.split("==")[1] for r in reqs]))
    target = cache_root / key
    if (target / "stdlib" / "VERSIONS").is_file() and (target / "machine.pyi").is_file():
        return target
    tmp = cache_root / (key + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    cmd += ["--no-compile", "--target", str(tmp), *reqs]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        pytest.fail(f"installing {' '.join(reqs)} (PyPI) failed:\n{proc.stderr[-2000:]}")
    shutil.rmtree(target, ignore_errors=True)
    os.rename(tmp, target)
    return target


@pytest.fixture(scope="session")
def typings(request):
    root = Path(request.config.cache.mkdir("micropython-typings"))
    made = {}

    def get(board):
        if board not in made:
            made[board] = _typings(root, board)
        return made[board]

    return get


@pytest.fixture(scope="session")
def mypy_cache(request):
    # mypy's own cache, kept between runs (the stubs' typeshed is most of the work)
    root = Path(request.config.cache.mkdir("micropython-mypy"))

    def get(name):
        d = root / name
        d.mkdir(exist_ok=True)
        return d

    return get


def _config(path, typings_dir, missing=(), disable=(), per_module=None):
    lines = [
        "[mypy]",
        f"custom_typeshed_dir = {typings_dir}",
        f"mypy_path = {typings_dir}",
        "no_site_packages = True",
        "follow_imports = silent",
        "follow_imports_for_stubs = True",
        "check_untyped_defs = True",
        "platform = linux",
        "python_version = 3.11",
        "show_error_codes = True",
        "warn_unused_configs = False",
    ]
    if disable:
        lines.append("disable_error_code = " + ", ".join(disable))
    for mod in missing:
        lines += [f"[mypy-{mod}]", "ignore_missing_imports = True"]
    for mod, codes in sorted((per_module or {}).items()):
        lines += [f"[mypy-{mod}]", "disable_error_code = " + ", ".join(codes)]
    path.write_text("\n".join(lines) + "\n")
    return path


def run_mypy(typings_dir, targets, cwd, cache_dir, missing=(), disable=(), per_module=None):
    """-> (exit status, report lines). targets: paths relative to cwd (the import root)."""
    cfg = _config(Path(cache_dir) / "mypy.ini", typings_dir, missing, disable, per_module)
    old = os.getcwd()
    os.chdir(cwd)  # mypy maps the file paths to modules from here (boards.x, pos.y)
    try:
        out, err, status = mypy_api.run(
            ["--config-file", str(cfg), "--cache-dir", str(Path(cache_dir) / "cache"), *targets]
        )
    finally:
        os.chdir(old)
    return status, [line for line in (out + err).splitlines() if line.strip()]


def _board_targets(board):
    names = sorted(p.name for p in (FIRMWARE / "boards").glob("*.py"))
    if board == "rp2":
        # Wi-Fi is the Pico W (and ESP32): the plain Pico's stubs have no socket module
        names.remove("wifilink.py")
    return ["boards/" + n for n in names] + ["main.py"]


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_the_board_code_type_checks_against_the_boards_micropython_stubs(
    board, typings, mypy_cache
):
    work = mypy_cache(f"boards-{board}")
    status, lines = run_mypy(
        typings(board), _board_targets(board), FIRMWARE, work, missing=BOARDS[board][1]
    )
    assert status == 0, "\n".join(lines)
    assert lines[-1].startswith("Success: no issues found")


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_the_core_uses_only_what_micropython_has_on_the_board(board, typings, mypy_cache):
    work = mypy_cache(f"core-{board}")
    status, lines = run_mypy(
        typings(board),
        ["pos"],
        FIRMWARE,
        work,
        missing=BOARDS[board][1] + CPYTHON_ONLY,
        disable=CORE_INFERENCE_NOISE,
        per_module=CORE_INFERENCE_NOISE_IN,
    )
    assert status == 0, "\n".join(lines)


WRONG = """\
import machine
import dataclasses
import time


def open_link():
    uart = machine.UART(0, 115200)
    data = uart.read(4)
    return data + b"!"


def led():
    return machine.Pin(25, machine.Pin.OUTPUT)


def year():
    return time.localtime().tm_year
"""


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_the_check_reports_code_that_micropython_would_reject(board, typings, tmp_path):
    (tmp_path / "wrong.py").write_text(WRONG)
    (tmp_path / "cache").mkdir()
    status, lines = run_mypy(typings(board), ["wrong.py"], tmp_path, tmp_path / "cache")
    report = "\n".join(lines)
    assert status == 1, report
    assert re.search(r'wrong\.py:2: error: .*"dataclasses"', report), report
    assert re.search(r"wrong\.py:9: error: .*None", report), report  # UART.read() may be None
    assert re.search(r'wrong\.py:13: error: .*"OUTPUT"', report), report
    assert re.search(r'wrong\.py:17: error: .*"tm_year"', report), report
