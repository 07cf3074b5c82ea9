"""emulator_start_s: `posterm emulator` start to its first idle frame, headless.

A fresh interpreter (imports count, as when a user types the command) builds the
emulator the way `posterm emulator` does (EmulatorDriver on a temporary data dir with
the embedded host, EmulatorApp) and runs it headless with App.run_test(); it prints a
line once the LCD widget shows the idle screen. The figure is the wall time from
spawning that process to the line, the best of `repeat` starts."""

import importlib.util
import subprocess
import sys
import time

_CHILD = r"""
import asyncio, sys, tempfile
from posterm.emulator.app import EmulatorApp
from posterm.emulator.frontdriver import EmulatorDriver

async def main(data):
    driver = EmulatorDriver(data, date=(2026, 11, 23, 9, 0, 0))
    app = EmulatorApp(driver, flash=False, tick_seconds=None)
    try:
        hint = driver.terminal.s("idle_hint")
        async with app.run_test(headless=True) as pilot:
            for _ in range(2000):
                if hint in "".join(app.lcd.grid_text()):
                    print("idle", flush=True)
                    return 0
                await pilot.pause(0.005)
            print("no idle frame: " + repr(app.lcd.grid_text()), flush=True)
            return 1
    finally:
        driver.close()

with tempfile.TemporaryDirectory() as d:
    sys.exit(asyncio.run(main(d)))
"""


def start_seconds(repeat=3):
    # -> (seconds or None, reason when None)
    if importlib.util.find_spec("posterm.emulator") is None:
        return None, "tools/posterm/emulator is not in this checkout"
    best = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = proc.stdout.readline()
        dt = time.perf_counter() - t0
        try:
            _out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
        if line.strip() != "idle":
            return None, "the emulator did not reach its idle frame: " + (line + err)[-400:]
        if best is None or dt < best:
            best = dt
    return best, None
