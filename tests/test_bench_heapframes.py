# posterm.bench.heapframes: which functions MicroPython gives a heap frame (state > 11 words),
# read from mpy-cross's own output
import os
import tempfile

from posterm.bench import heapframes as frames
from posterm.flash import build

SRC = b"""
def small(a):
    return a + 1

def big(a, b, c):
    d = a + b
    e = d * c
    f = e - a
    g = f + b
    h = g * d
    i = h + e
    j = i - f
    k = j + g
    m = k * h
    return (a, b, c, d, e, f, g, h, i, j, k, m)

def guarded(a):
    try:
        with a:
            return a
    except OSError:
        return None
"""


def _rows(src):
    cache = os.path.join(tempfile.gettempdir(), "posterm-mpy-cache")
    os.makedirs(cache, exist_ok=True)
    mpy = build.compile_mpy(src, "t.py", build.mpy_cross_args(6), cache)
    return {p[-1]: (s, e) for p, s, e in frames.parse(mpy)}


def test_a_function_with_many_locals_is_a_heap_frame_a_small_one_is_not():
    rows = _rows(SRC)
    s, e = rows["small"]
    assert s + 2 * e <= 11, rows["small"]
    s, e = rows["big"]
    assert s >= 13 and s + 2 * e > 11, rows["big"]  # 12 locals and a 12-item tuple on the stack
    s, e = rows["guarded"]
    assert e == 2, rows["guarded"]  # a with inside a try: two exception-stack entries


def test_the_firmware_listing_names_functions_by_their_source_names(capsys):
    frames.main(["pos/screen.py"])
    out = capsys.readouterr().out
    assert "pos/screen.py" in out and " HEAP" in out and "functions listed" in out, out
    rows = frames.heap_frames(["pos/screen.py"], show_all=True)
    assert any(fn == "<module>" for _rel, fn, _s, _e, _w in rows), rows
    assert all(rel == "pos/screen.py" for rel, *_ in rows), rows
