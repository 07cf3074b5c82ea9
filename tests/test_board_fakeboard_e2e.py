"""End to end on the fake board: `posterm flash` puts the real firmware (.mpy) on the
MicroPython WebAssembly board (tools/posterm/flash/fakeboard.mjs), the board boots with fake
drivers (boards.fakes.Machine) and its link UART wired to the fake board's second TCP port,
`posterm bridge --serial socket://...` carries the link to a real host, and the seed's manual
sign-in (MENU 4 2 ENTER) runs on the board. The VM cannot block, so the board loop is driven
from here: one raw-REPL exec per step (`b.press(...)`, `b.step(now_ms)`); node moves the UART
bytes between execs."""

import datetime
import json
import os
import pty
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tty
from pathlib import Path

import pytest

from posterm import paths
from posterm.flash import build
from posterm.flash.device import Board
from posterm.flash.flasher import flash
from posterm.host.server import start_in_thread
from posterm.host.store import Store

ROOT = Path(__file__).resolve().parent.parent
FAKEBOARD = ROOT / "tools" / "posterm" / "flash" / "fakeboard.mjs"
HOST_NOW = datetime.datetime(2026, 11, 23, 9, 0, 0)

# Run on the board after the soft reset of the REPL (a fresh VM with the flashed files):
# what main.py does, except the forever loop. Every frame the display is asked to draw is
# recorded; _out() prints them (and the logs) as one JSON line and forgets them.
BOOT = """
import json, time, machine
from boards import boot, fakes
_frames = []
_logs = []
_m = fakes.Machine(printer_answer=fakes.printer_ok, uarts={0: machine.UART(0, 115200)})
_m.rtc.datetime((2026, 11, 23, 0, 8, 59, 0, 0))
b = boot.start(_m, time, None, lambda level, text: _logs.append([level, text]))
_draw = b.display.draw
def _rec(frame):
    _frames.append("|".join(frame.text()))
    _draw(frame)
b.display.draw = _rec
def _out():
    lit = sum(1 for v in b.display.panel.buf if v)
    print(json.dumps({"frames": _frames, "logs": _logs, "wait": b.t.waiting_for(),
                      "screen": "|".join(b.t.frame.text()), "lit": lit}))
    _frames.clear()
    _logs.clear()
_out()
"""


@pytest.fixture
def fakeboard():
    if shutil.which("node") is None or not (ROOT / "node_modules").is_dir():
        pytest.fail("the fake board needs node and `npm ci` (node_modules)")
    proc = subprocess.Popen(
        ["node", str(FAKEBOARD)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT
    )
    ports = json.loads(proc.stdout.readline())
    yield ports
    proc.stdin.close()
    proc.wait(timeout=10)


@pytest.fixture
def host(tmp_path):
    h = start_in_thread(str(tmp_path / "host.db"), paths.menu_file(), now=lambda: HOST_NOW)
    yield h
    h.stop()


@pytest.fixture
def bridge(fakeboard, host):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from posterm.cli import main; sys.exit(main(sys.argv[1:]))",
            "bridge",
            "--serial",
            f"socket://127.0.0.1:{fakeboard['uart']}",
            "--host",
            "%s:%d" % tuple(host.address),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    banner = proc.stdout.readline()  # printed once the serial port is open
    assert banner.startswith("bridge: socket://"), banner + proc.stderr.read()
    yield proc
    proc.terminate()
    proc.wait(timeout=10)


def _tree_with_fakes(mpy_version):
    # the deploy tree `posterm flash` sends, plus the fake machine parts (not deployed to a
    # real board) compiled the same way
    tree = build.deploy_tree("pico", mpy_version)
    with open(Path(paths.FIRMWARE_DIR) / "boards" / "fakes.py", "rb") as f:
        source = f.read()
    cache = Path(tempfile.gettempdir()) / "posterm-mpy-cache"
    args = build.mpy_cross_args(mpy_version)
    tree["/boards/fakes.mpy"] = build.compile_mpy(source, "boards/fakes.py", args, str(cache))
    return tree


class PtyRelay:
    """A pseudo-terminal wired to the fake board's REPL port. mpremote reads a pty with
    blocking reads; on socket:// it polls with a 10 ms sleep per wait, which makes flashing
    the whole firmware (~25 round trips a file) take 25 s instead of 7 s."""

    def __init__(self, port):
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)
        self.name = os.ttyname(self.slave)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.stop_r, self.stop_w = os.pipe()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        fds = [self.master, self.sock, self.stop_r]
        while True:
            ready, _, _ = select.select(fds, [], [])
            if self.stop_r in ready:
                return
            if self.master in ready:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                if data:
                    self.sock.sendall(data)
            if self.sock in ready:
                data = self.sock.recv(4096)
                if not data:
                    return
                os.write(self.master, data)

    def close(self):
        os.write(self.stop_w, b"x")
        self.thread.join(5)
        self.sock.close()
        for fd in (self.master, self.slave, self.stop_r, self.stop_w):
            os.close(fd)


class Run:
    def __init__(self, dev):
        self.dev = dev
        self.frames = []  # every frame drawn, "|"-joined rows
        self.logs = []
        self.wait = None
        self.execs = 0

    def exec(self, code):
        out = self.dev.exec(code + "\n_out()\n").decode()
        self.execs += 1
        got = json.loads(out.strip().splitlines()[-1])
        self.frames += got["frames"]
        self.logs += got["logs"]
        self.wait = got["wait"]
        return got

    def seen(self, text):
        return any(text in f.replace("|", "") for f in self.frames)


def test_the_flashed_firmware_signs_in_on_the_fake_board_through_the_bridge(
    fakeboard, host, bridge, tmp_path
):
    relay = PtyRelay(fakeboard["port"])
    url = relay.name
    t0 = time.monotonic()
    res = flash(url, "pico", tree_fn=_tree_with_fakes, progress=False, out=lambda line: None)
    flash_s = time.monotonic() - t0
    assert "/main.py" in res.changed and "/boards/boot.mpy" in res.changed

    dev = Board(url)
    try:
        dev.enter()  # soft reset: a fresh VM with the flashed files (and main.py's _commit)
        run = Run(dev)
        t1 = time.monotonic()
        got = json.loads(dev.exec(BOOT).decode().strip().splitlines()[-1])
        run.frames += got["frames"]
        run.logs += got["logs"]
        assert not [e for e in run.logs if e[0] == "error"], run.logs  # font, display, ...
        assert got["lit"] > 50, "the idle screen is on the SSD1306 (fake I2C), font glyphs"
        assert "签到" in got["screen"] or "POS" in got["screen"].upper(), got["screen"]
        start = time.monotonic()

        def now_ms():
            return int((time.monotonic() - start) * 1000)

        for key in ("MENU", "4", "2"):
            run.exec("b.press(%r)\nb.step(%d)" % (key, now_ms()))
        assert run.seen("按确认键将为您签到!"), run.frames[-3:]
        run.exec("b.press('ENTER')\nb.step(%d)" % now_ms())
        assert run.seen("正在连接中心..."), run.frames[-3:]
        assert run.wait == "send"
        deadline = time.monotonic() + 15
        while run.wait == "send" and time.monotonic() < deadline:
            time.sleep(0.01)  # node moves the UART bytes; the bridge talks to the host
            run.exec("b.step(%d)" % now_ms())
        signin_s = time.monotonic() - t1
        assert run.seen("应答码:00"), run.frames[-3:]
        assert run.seen("签到成功"), run.frames[-3:]
        state = json.loads(
            dev.exec(
                "print(json.dumps({'date': b.t.state.signin_date, 'mak': b.t.state.mak, "
                "'rtc': list(_m.rtc.datetime()), 'resent': b.link.resent}))"
            )
            .decode()
            .strip()
            .splitlines()[-1]
        )
    finally:
        dev.close()
        relay.close()

    assert state["date"] == "20261123" and state["mak"]
    # the host's time (fields 12/13: MMDD hhmmss) set the RTC: 08:59 -> 09:00
    assert state["rtc"][:3] == [2026, 11, 23] and state["rtc"][4:6] == [9, 0]
    store = Store(str(tmp_path / "host.db"))
    try:
        terms = [t for t in store.list_terminals() if t["signed_in"]]
    finally:
        store.close()
    assert len(terms) == 1, "the host recorded the sign-in"
    assert terms[0]["signed_in"] == HOST_NOW.isoformat(timespec="seconds")
    print(
        f"\nfake board: flash {flash_s:.1f} s ({len(res.changed)} files, {res.bytes_sent} B); "
        f"boot + sign-in {signin_s:.1f} s in {run.execs} execs; "
        f"link frames resent {state['resent']}"
    )
