# The board side of `posterm board sim`: runs inside the MicroPython unix port (never on
# CPython) as
#
#   micropython -X heapsize=H simside.py CONFIG.json
#
# It stands in for the board's hardware and then boots the real firmware exactly as a board
# does (`import main`: /main.py, /boards/*.mpy, /pos/*.mpy from the deploy tree that
# `posterm flash` sends, mounted as the filesystem root, or from a ROMFS image at /rom):
#
#   machine  Pin (the key matrix rows/columns), I2C (an SSD1306 that ACKs), SPI, UART (the
#            host link: a TCP connection to the bridge on loopback; the printer: ESC/POS
#            bytes collected, DLE EOT answered "paper present"), RTC (follows the sim clock),
#            PWM (the buzzer)
#   time     ticks_ms/sleep_ms on a simulated clock: a script runs as fast as the CPU allows
#            (sleep_ms only waits for real while the center has a request), the interactive
#            mode (-) follows the real clock
#
# Keys and cards come in on stdin, one JSON event per line (["key", "MENU"], ["card", PAN,
# YYMM]); a key is held down on the matrix for _HOLD_PASSES passes of the board loop and
# released for _GAP_PASSES, so the firmware's own scan and debounce see it. The next event
# is taken only when the terminal waits for input again. Cards go to the terminal as its
# card event (the boards have no card reader driver). Everything the parent needs goes to
# stdout as "\x02SIM:" + JSON + "\n", followed by `n` raw bytes when the record has "n"
# (the framebuffer, the printer bytes).
#
# The heap: the parent starts the VM with room for this file, then it holds the heap above
# the cap in one block, so that the firmware finds `cap` bytes free, as on the board.
import gc
import json
import select
import socket
import sys
import time as _rt
import vfs
import os
import micropython

gc.collect()
_CFG = None
# built at run time, not an interned name: qstr_info(1) (--measure) prints every interned name
_MARK = "".join(("\x02", "SIM:"))
_HOLD_PASSES = 4  # board loop passes a key is held down (10 ms each: 40 ms)
_GAP_PASSES = 4  # and released before the next


_HELD = []
_STUCK_MS = 300000  # a firmware not ready for the next key for 5 simulated minutes is stuck
_RESERVE = 8192
_reserve = None  # the sim's own heap, outside the cap: used only when the firmware's is full
_SPENT = [0]  # times the sim's work needed its reserve
_SHORT = [0]  # times the reserve could not be taken back after it (no block of its size)


def sim_work(fn, *args):
    # The sim's own work (a record, the link's bytes, an event read) uses the heap in
    # passing: it allocates from the firmware's free heap and has dropped everything when it
    # returns, so the firmware finds its free space as it left it. (Freeing a reserve for
    # the work and taking it back after would move it: a first-fit allocation puts it in a
    # hole of the firmware's heap and leaves its old place free, cutting the firmware's free
    # space up differently at every record.) Only when the firmware's heap is too full for
    # the work is the reserve given up for it, and taken back after.
    global _reserve
    if _reserve is not None and _reserved(_reserve) < _RESERVE:
        # the reserve came back short last time: topped up as soon as the firmware's heap
        # has room again (between its events), before the sim may need it
        _reserve.extend(_take_reserve(_RESERVE - _reserved(_reserve)))
    try:
        return fn(*args)
    except MemoryError:
        pass
    _SPENT[0] += 1
    _reserve = None
    gc.collect()
    try:
        return fn(*args)
    except MemoryError:
        # not even the reserve gave the sim room (the firmware holds the whole heap, the
        # reserve came back short): the sim itself cannot go on at this cap. Said as the
        # sim's, not as the firmware's: it must not reach the firmware's loop as an error
        raise SimShort()
    finally:
        gc.collect()
        _reserve = _take_reserve()


def _reserved(pieces):
    n = 0
    for p in pieces:
        n += len(p)
    return n


def _take_reserve(want=_RESERVE):
    # the reserve back, in one block when the firmware's heap has one that large, else in
    # smaller pieces (down to 256 B) adding up to the same: a sim that could not take its
    # reserve back raised its own MemoryError into the firmware's loop (which stopped the
    # board there), or went on with no heap of its own for the next record; `done` says how
    # often the reserve was short by any bytes
    pieces = []
    need = want
    size = want
    while need > 0 and size >= 256:
        try:
            pieces.append(bytearray(size if size < need else need))
            need -= len(pieces[-1])
        except MemoryError:
            size //= 2
    if need > 0:
        _SHORT[0] += 1
    return pieces


def emit(rec, data=None):
    # The records cost heap (json, the screen text); they must neither fail nor take the
    # firmware's heap for good (sim_work)
    sim_work(_emit, rec, data)


def _emit(rec, data):
    if data is not None:
        rec["n"] = len(data)
    frame = rec.get("frame")
    if frame is not None:
        rec["frame"] = None
        rec["screen"] = "|".join(frame.text())
        frame = None
    sys.stdout.write(_MARK + json.dumps(rec) + "\n")
    if data is not None:
        sys.stdout.buffer.write(data)


class SimShort(BaseException):
    # the sim's own work found no heap even with its reserve given up (see sim_work)
    pass


class SimDone(BaseException):
    # the script is over (stdin closed): leaves the firmware's loop, which catches Exception
    pass


# --- the clock -------------------------------------------------------------------------
class Clock:
    def __init__(self, realtime):
        self.realtime = realtime
        self.t0 = _rt.ticks_ms()
        self.v = 0

    def ticks_ms(self):
        if self.realtime:
            return _rt.ticks_diff(_rt.ticks_ms(), self.t0) & 0x3FFFFFFF
        return self.v & 0x3FFFFFFF


CLOCK = None


class SimTime:
    # the firmware's `time` module
    @staticmethod
    def ticks_ms():
        return CLOCK.ticks_ms()

    @staticmethod
    def ticks_diff(a, b):
        d = (a - b) & 0x3FFFFFFF
        return d - 0x40000000 if d & 0x20000000 else d

    @staticmethod
    def ticks_add(a, b):
        return (a + b) & 0x3FFFFFFF

    @staticmethod
    def sleep_ms(ms):
        SIM.idle(ms)

    @staticmethod
    def sleep(s):
        SIM.idle(int(s * 1000))

    @staticmethod
    def time():
        return _rt.time()


# --- machine ---------------------------------------------------------------------------
# A board's pins are C objects in its flash (esp32, rp2: machine.Pin(n) hands out the one
# object of GPIO n, no heap), its I2C, SPI and RTC static C objects: the sim makes its stand-ins
# before the cap is held (main), so that they are not in the firmware's heap, and hands them
# out. (They were made by the firmware's boot, in its heap: the 16 pins, each an instance with
# its dict, the dict of them, the I2C and RTC objects: ~2.3 KB x64 at the bottom of it.)
PINS = []


class Pin:
    OUT = 1
    IN = 0
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        self.v = 1 if value is None else value

    def __call__(self, id, mode=-1, pull=-1, value=None):
        # machine.Pin(id, ...): the pin made for `id` before the cap (one out of range of a
        # board's GPIOs, from a profile's override, is made now)
        p = PINS[id] if 0 <= id < len(PINS) else Pin(id)
        p.v = 1 if value is None else value
        return p

    def value(self, v=None):
        if v is None:
            return SIM.read_pin(self.id, self.v)
        self.v = 1 if v else 0

    def init(self, *a, **k):
        pass


class I2C:
    def __init__(self, id):
        self.id = id
        self.writes = 0

    def writeto(self, addr, data):
        if addr not in _CFG["i2c_devices"]:
            raise OSError(19)  # no ACK
        self.writes += 1
        return 1

    def scan(self):
        return list(_CFG["i2c_devices"])


class SPI:
    def __init__(self, id):
        self.id = id

    def write(self, data):
        pass


class PWM:
    def __init__(self, pin, **kw):
        self.pin = pin

    def freq(self, f=None):
        pass

    def duty_u16(self, d=None):
        pass


class _Fifo:
    # a UART's receive buffer: fixed, as the C buffer of a board's UART; read(n) allocates
    # only the bytes it returns, as machine.UART.read does
    def __init__(self, size):
        self.buf = bytearray(size)
        self.head = 0
        self.tail = 0

    def __len__(self):
        return self.tail - self.head

    def put(self, data, n):
        # data[:n] in (the sim calls this from its own work: sim_work)
        if self.head == self.tail:
            self.head = self.tail = 0
        room = len(self.buf) - self.tail
        if n > room:
            n = room  # overrun: the bytes are lost, as on a board
        b = self.buf
        t = self.tail
        for i in range(n):
            b[t + i] = data[i]
        self.tail = t + n

    def take(self, n=None):
        avail = self.tail - self.head
        if avail <= 0:
            return None
        if n is None or n > avail:
            n = avail
        out = bytearray(n)
        b = self.buf
        h = self.head
        for i in range(n):
            out[i] = b[h + i]
        self.head = h + n
        return bytes(out)


def _move(dst, at, src, start, n):
    # dst[at:at + n] = src[start:start + n] with no allocation (forwards: dst may be src,
    # at <= start)
    for i in range(n):
        dst[at + i] = src[start + i]


class PrinterUart:
    def __init__(self):
        self.out = bytearray(16384)  # what the printer got since the last record
        self.n = 0
        self.rx = _Fifo(16)

    def any(self):
        return len(self.rx)

    def read(self, n=None):
        return self.rx.take(n)

    def write(self, data):
        if data == b"\x10\x04\x04":  # DLE EOT 4: paper sensor
            self.rx.put(b"\x72" if _CFG.get("paper_out") else b"\x12", 1)
        else:
            k = len(data)
            room = len(self.out) - self.n
            if k > room:
                k = room
            o = self.out
            base = self.n
            for i in range(k):
                o[base + i] = data[i]
            self.n = base + k
        return len(data)


class LinkUart:
    # the board's link UART, carried to the bridge over TCP. Allocation-free on the board's
    # side: fixed buffers, ipoll, readinto; only whole frames reach the receive buffer, so
    # what the firmware reads does not depend on how TCP cut the bytes (runs repeat)
    def __init__(self):
        self.rx = _Fifo(4096)
        self.pend = bytearray(4096)
        self.np = 0
        self.chunk = bytearray(1024)
        self.sock = None
        self.poller = None
        self.waiting = False  # a request frame went out, its reply has not come in

    def connect(self):
        s = socket.socket()
        s.connect(socket.getaddrinfo("127.0.0.1", _CFG["link_port"])[0][-1])
        s.setblocking(False)
        self.sock = s
        self.poller = select.poll()
        self.poller.register(s, select.POLLIN)

    def pump(self, wait_ms):
        if self.sock is None:
            return
        ready = False
        for _ in self.poller.ipoll(wait_ms):
            ready = True
        if not ready:
            return
        sim_work(self._take_in)  # the copying is the sim's work, not the firmware's

    # The bytes are moved by loops, not slices: what the link's copying allocates in the
    # firmware's free heap (garbage when sim_work returns) must not depend on how TCP cut
    # the bytes, which a loaded machine changes (an ACK and a reply read together or
    # apart): a memoryview and a bytearray slice a read and a frame moved the collections,
    # and the files day at one cap ran out at key 34 in one run and key 81 in the next
    def _take_in(self):
        while True:
            try:
                k = self.sock.readinto(self.chunk)
            except OSError:
                break
            if not k:
                break
            room = len(self.pend) - self.np
            if k > room:
                k = room
            _move(self.pend, self.np, self.chunk, 0, k)
            self.np += k
        self._frames()

    def _frames(self):
        p = self.pend
        while self.np >= 7:
            if p[0] != 0x02:
                i = p.find(b"\x02", 0, self.np)
                if i < 0:
                    i = self.np
                _move(p, 0, p, i, self.np - i)
                self.np -= i
                continue
            end = 7 + ((p[3] << 8) | p[4])
            if self.np < end:
                return
            if p[1] in (0x44, 0x45, 0x52):
                # a data (D) or error (E) frame answers the request, an R frame the card's
                # command (an I frame)
                self.waiting = False
            self.rx.put(p, end)
            _move(p, 0, p, end, self.np - end)
            self.np -= end

    def any(self):
        # while a request is out, its answer comes in only in a sleep (Sim.idle waits for it
        # there): taken in here whenever it had arrived, it reached the firmware a board loop
        # pass sooner or later by how fast the center answered (a loaded machine), and the
        # day's heap moved with it
        if not self.waiting:
            self.pump(0)
        return len(self.rx)

    def read(self, n=None):
        return self.rx.take(n)

    def write(self, data):
        if len(data) > 1 and data[0] == 0x02 and data[1] in (0x44, 0x49):
            self.waiting = True
        self.sock.write(data)
        return len(data)


class RTC:
    def __init__(self):
        self.base = _CFG["now"]  # (Y, M, D, h, m, s)
        self.at = 0
        self.runs = 0 if _CFG.get("fixed_clock") else 1  # a replay: the clock stands still

    def datetime(self, dt=None):
        if dt is not None:
            self.base = (dt[0], dt[1], dt[2], dt[4], dt[5], dt[6])
            self.at = CLOCK.ticks_ms()
            return None
        secs = SimTime.ticks_diff(CLOCK.ticks_ms(), self.at) // 1000 * self.runs
        b = self.base
        t = _rt.localtime(_rt.mktime((b[0], b[1], b[2], b[3], b[4], b[5], 0, 0)) + secs)
        return (t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0)


class Machine:
    def __init__(self):
        for i in range(48):  # GPIO 0-39 (ESP32), 0-29 (RP2040)
            PINS.append(Pin(i))
        self.Pin = Pin(-1)  # machine.Pin: Pin.__call__ hands out PINS
        self.rtc = RTC()
        self.i2c = [I2C(0), I2C(1)]  # the buses, made before the cap too (main)
        self.spi = [SPI(0), SPI(1), SPI(2)]
        self.PWM = PWM  # a PWM object is in the heap on a board too (esp32: mp_obj_malloc)

    # the buses' options as parameters: a call with keywords allocates no dict for them (a
    # board's C make_new parses them without the heap)
    def I2C(self, id, sda=None, scl=None, freq=400000):
        return self.i2c[id]

    def SPI(self, id, baudrate=0, polarity=0, phase=0, sck=None, mosi=None):
        return self.spi[id]

    def UART(self, id, baudrate=9600, **kw):
        if id == _CFG["link_uart"]:
            return SIM.link
        return SIM.printer

    def RTC(self):
        return self.rtc

    def reset(self):
        raise SimDone()


# --- the sim ---------------------------------------------------------------------------
class Sim:
    def __init__(self):
        self.link = LinkUart()
        self.printer = PrinterUart()
        self.board = None
        self.held = None  # (row pin, col pin) of the key down
        self.phase = 0  # 0 ready, 1 holding, 2 released (gap)
        self.left = 0  # loop passes left in the phase
        self.key = None  # the event being handled, for the MemoryError report
        self.keys = 0
        self.lastbuf = bytearray(1024)
        self.eof = False
        self.poll = select.poll()
        self.poll.register(sys.stdin, select.POLLIN)
        self.report_heap = _CFG.get("heap_report")
        self.in_step = False
        self.boot_shown = False
        self.busy_ms = 0  # simulated time the firmware has not been ready for a key
        self.largest_min = None
        self.card = None
        self.deck = None  # the hand at the bridge's reader (sim.py's _Deck): a socket

    def read_pin(self, pid, v):
        h = self.held
        if h is not None and pid == h[1] and PINS[h[0]].v == 0:
            return 0
        return v

    def ready(self):
        b = self.board
        if b is None or self.phase != 0:
            return False
        if b.link is not None and b.link.busy():
            return False
        return b.t.waiting_for() != "send"

    def next_event(self, wait_ms):
        # -> an event from stdin (the parent writes whole lines), or None
        while not self.eof:
            ready = False
            for _ in self.poll.ipoll(wait_ms):
                ready = True
            if not ready:
                return None
            ev = sim_work(self._read_event)  # reading and parsing the line: the sim's work
            if ev is not None or self.eof:
                return ev
            wait_ms = 0
        return None

    def _read_event(self):
        line = sys.stdin.readline()
        if not line:
            self.eof = True
            return None
        if line.strip():
            return json.loads(line)
        return None

    def present(self, ev):
        # the event to the parent's bridge (sim.py's _Deck), then its C frame in from the link
        if _CFG.get("record"):
            self.card = ev  # what the recording says was presented (the board's event holds
            # the bridge's card, boards.cardlink)
        d = self.deck
        d.write(json.dumps(ev).encode() + b"\n")
        if d.read(2) != b"1\n":
            emit({"ev": "error", "text": "the bridge could not present %s" % ev[0]})
            return
        t0 = _rt.ticks_ms()
        while not len(self.link.rx) and _rt.ticks_diff(_rt.ticks_ms(), t0) < 30000:
            self.link.pump(50)

    def settled(self):
        # after an event: what the parent shows (screen, slip, heap)
        b = self.board
        panel = getattr(b.display, "panel", None)
        buf = getattr(panel, "buf", None)
        if self.printer.n:
            emit({"ev": "print", "key": self.key}, memoryview(self.printer.out)[: self.printer.n])
            self.printer.n = 0
        free = largest = None
        if self.report_heap:
            gc.collect()
            free = gc.mem_free()
            largest = largest_free()
        rec = {"ev": "settled", "key": self.key, "n_keys": self.keys, "free": free}
        rec["largest"] = largest
        ov = sys.modules.get("pos.overlaycache")  # a board's memory policy keeps a cache
        if ov is not None and ov.KEEP:
            rec["cached"] = len(ov.CACHED)
            rec["evicted"] = ov.EVICTED[0] + ov.EVICTED[1]
        rec["frame"] = b.t.frame  # turned into text by emit()
        if buf is not None and buf != self.lastbuf:
            self.lastbuf[:] = buf
            emit(rec, buf)
        else:
            emit(rec)
        if _CFG.get("measure"):
            meminfo("key %d" % self.keys)

    def _drawn_alone(self):
        # on the real clock the screen changes without a key (the idle clock, 请顾客在手机上
        # 确认's countdown, a wait that timed out): shown as the display draws it
        panel = getattr(self.board.display, "panel", None)
        buf = getattr(panel, "buf", None)
        if buf is not None and buf != self.lastbuf:
            self.lastbuf[:] = buf
            emit({"ev": "drawn", "frame": self.board.t.frame}, buf)

    def idle(self, ms):
        # the firmware's sleep_ms: move the hardware on by `ms`
        realtime = CLOCK.realtime
        if self.link.waiting and not realtime:
            # the center has the request: wait for its whole answer (for real, up to 30 s)
            # within this one pass, so a run does not depend on how fast the center was
            t0 = _rt.ticks_ms()
            while self.link.waiting and _rt.ticks_diff(_rt.ticks_ms(), t0) < 30000:
                self.link.pump(50)
        elif self.link.waiting:
            self.link.pump(ms)  # interactive: the wait is real
        else:
            self.link.pump(0)
        if not realtime:
            CLOCK.v += ms
        if self.in_step:
            # a sleep inside the board's step (a beep): the clock moves on, the cashier
            # waits for the beep before the next key, as the keypad is not scanned meanwhile
            if realtime and not self.link.waiting:
                _rt.sleep_ms(ms)
            return
        # the key's phases are counted in passes of the board loop (each scans the keypad),
        # so a long step (a beep, a receipt) never swallows a press or a release
        if self.phase:
            self.left -= 1
            if self.left <= 0:
                if self.phase == 1:
                    self.held = None
                    self.phase = 2
                    self.left = _GAP_PASSES
                else:
                    self.phase = 0
        if not self.ready():
            if realtime and not self.link.waiting:
                _rt.sleep_ms(ms)
            elif not realtime:
                self.busy_ms += ms
                if self.busy_ms > _STUCK_MS:
                    emit({"ev": "stuck", "key": self.key, "n_keys": self.keys})
                    raise SimDone()
            return
        self.busy_ms = 0
        if self.key is not None or not self.boot_shown:
            self.boot_shown = True  # the idle screen after boot, then each event's result
            self.settled()
            self.key = None
        elif realtime:
            self._drawn_alone()  # interactive: what the display drew by itself (a clock, a count)
        ev = self.next_event(ms if realtime else 0)
        if ev is None:
            if self.eof:
                raise SimDone()
            if not realtime:
                ev = self.next_event(-1)  # a script waits for its next line
                if ev is None:
                    raise SimDone()
            else:
                return
        self.key = ev
        if ev[0] == "key":
            pos = _CFG["keypos"].get(ev[1])
            if pos is None:
                emit({"ev": "error", "text": "no key %s on this keypad" % ev[1]})
                return
            self.keys += 1
            self.held = (pos[0], pos[1])
            self.phase = 1
            self.left = _HOLD_PASSES
        elif ev[0] in ("chip", "tap", "removed"):
            # ("chip" | "tap", a virtual chip card's spec), ("removed",) the card pulled out:
            # into (out of) the bridge's reader, which presents it to the board over the link
            # as `posterm bridge --cards` does; the card answers the board's APDUs there
            # (boards.cardlink), outside the board's heap, as a real reader's chip does
            sim_work(self.present, ev)
        elif ev[0] in ("card", "scan"):
            # ("card", pan, expiry[, track 2, track 3]); ("scan", code): pos.card's reader port
            self.board.feed(tuple(ev))
        elif ev[0] == "heap":
            gc.collect()
            free = gc.mem_free()
            emit({"ev": "heap", "free": free, "largest": largest_free()})


_FILL = []  # the holes of the sim's own setup, taken for good (_fill_holes)


def _fill_holes():
    # The sim's setup (its imports, the config, the ROMFS image read) leaves free holes low
    # in the heap, among its own objects; a board's heap is one free region when main.py
    # starts. Every hole below the largest free block (the top of the heap) is taken here
    # for good, so that the cap the firmware finds free is one piece above the sim's
    # objects, as on the board, not spread over the sim's holes (2026-12-01, ROMFS at a
    # 126 KB cap: 73.6 KB of it was in 167 holes, the largest 6.5 KB). Filled with tuples
    # (one allocation each, any number of blocks) from large to one block, first fit.
    gc.collect()
    slots = [None] * 1024  # (before the top is held: the holes may have no 8 KB piece)
    top = bytearray(largest_free() - 64)  # the top region, held while the holes are filled
    n = 0
    k = 8192  # items: a tuple of k is 16 + 8k bytes on the x64 unix port (4 + 4k on 32-bit)
    while n < len(slots) and k >= 1:
        try:
            slots[n] = (0,) * k
            n += 1
        except MemoryError:
            k //= 2
    _FILL.append(slots)
    del top
    gc.collect()
    return n


def largest_free():
    # the largest block the heap can give now, by trying (a board's mem_info(1) shows it)
    gc.collect()
    lo = 0
    hi = gc.mem_free()
    while hi - lo > 64:
        mid = (lo + hi) // 2
        try:
            b = bytearray(mid)
            del b
            lo = mid
        except MemoryError:
            hi = mid
    gc.collect()
    return lo


SIM = None


def meminfo(tag):
    # --measure: the heap's block map and the interned names, printed by MicroPython itself
    # (the parent reads the lines between the two records: posterm.bench.boardheap_breakdown)
    import uctypes

    gc.collect()
    held = _HELD[-1]  # the heap above the cap: the firmware's heap is above this block
    emit(
        {
            "ev": "meminfo",
            "tag": tag,
            "free": gc.mem_free(),
            "alloc": gc.mem_alloc(),
            "held_end": uctypes.addressof(held) + len(held),
            "modules": [m for m in sys.modules if m.startswith(("pos", "boards"))],
        }
    )
    micropython.mem_info(1)
    micropython.qstr_info(1)
    emit({"ev": "meminfo_end", "tag": tag})


_IMPORT_DEPTH = [0]


def _trace_imports():
    # --measure: the heap each import keeps (gc.mem_alloc after a collection, before and
    # after; nested imports are counted in their parent too, with their depth)
    import builtins

    real = builtins.__import__

    def traced(name, globs=None, locs=None, fromlist=(), level=0):
        if name in sys.modules and not fromlist:
            return real(name, globs, locs, fromlist, level)
        had = list(sys.modules)
        gc.collect()
        before = gc.mem_alloc()
        _IMPORT_DEPTH[0] += 1
        try:
            return real(name, globs, locs, fromlist, level)
        finally:
            _IMPORT_DEPTH[0] -= 1
            if len(sys.modules) != len(had):
                gc.collect()
                kept = gc.mem_alloc() - before
                new = [m for m in sys.modules if m not in had]
                emit(
                    {
                        "ev": "import",
                        "name": name,
                        "depth": _IMPORT_DEPTH[0],
                        "kept": kept,
                        "before": before,
                        "key": SIM.keys if SIM else 0,
                        "modules": new,
                    }
                )

    builtins.__import__ = traced


class SimOs:
    # the firmware's `os`: the unix port's, except rename. VfsPosix mounted with a root
    # directory builds both paths of a rename in one buffer (MicroPython 1.29), so an
    # absolute rename fails with ENOENT; renaming inside the directory works.
    def __init__(self):
        for name in dir(os):
            if not name.startswith("__") and name != "rename":
                setattr(self, name, getattr(os, name))

    def rename(self, src, dst):
        a = src.rfind("/")
        b = dst.rfind("/")
        if a < 0 or b < 0 or src[:a] != dst[:b]:
            return os.rename(src, dst)
        cwd = os.getcwd()
        os.chdir(src[:a] or "/")
        try:
            os.rename(src[a + 1 :], dst[b + 1 :])
        finally:
            os.chdir(cwd)


class Seeded:
    # `posterm replay --runtime board`: the terminal's random bytes (pos.vault.random_bytes:
    # the chip's unpredictable number, IVs) from the recording's seed, the same stream as
    # tools/posterm/replay/player.py's Seeded (the chip recording's board replay checks it)
    def __init__(self, seed):
        self.s = (seed * 7919 + 1) & 0xFFFFFF

    def __call__(self, n):
        out = bytearray(n)
        s = self.s
        for i in range(n):
            s = (s * 1140671485 + 12820163) & 0xFFFFFF
            out[i] = (s >> 16) & 0xFF
        self.s = s
        return bytes(out)


def _record_json(event):
    # a core event as `posterm record` writes it (tools/posterm/replay/FORMAT.md)
    import binascii

    kind = event[0]
    if kind in ("chip", "tap"):
        return SIM.card or [kind]  # the card as presented: the board's holds the bridge's
    if kind == "reply":
        return ["reply", binascii.hexlify(bytes(event[1])).decode().upper()]
    if kind == "tick":
        return ["tick", list(event[1])]
    return list(event)


def _record_out(effects):
    import binascii

    for e in effects:
        kind = e[0]
        if kind == "show":
            emit({"ev": "rec", "out": {"show": e[1].text(), "inv": e[1].inverse}})
        elif kind == "send":
            emit({"ev": "rec", "out": {"send": binascii.hexlify(bytes(e[1])).decode().upper()}})
        elif kind == "print":
            emit({"ev": "rec", "out": {"print": [[st, tx] for st, tx in e[1]]}})
    return effects


def _record(terminal_cls):
    # `posterm record --board`: every event into the board's Terminal and every effect out
    start = terminal_cls.start
    handle = terminal_cls.handle

    def rec_start(self):
        emit({"ev": "rec", "in": "start"})
        return _record_out(start(self))

    def rec_handle(self, event):
        emit({"ev": "rec", "in": _record_json(event)})
        return _record_out(handle(self, event))

    work = terminal_cls.work

    def rec_work(self):
        # the flow's work step the board's loop runs after an event (a slip built once the
        # screen before it is drawn): its effects are that event's, as on the desktop
        return _record_out(work(self))

    terminal_cls.start = rec_start
    terminal_cls.handle = rec_handle
    terminal_cls.work = rec_work


def _wrap(boot, runner):
    # boot.start runs once; the sim must not keep it (nor the boot module through it) once
    # it has: main.py drops boards.boot and boards.profiles after the boot, as a board does
    start = [boot.start]
    step = runner.Board.step

    def log(level, text):
        if "MemoryError" in text:
            where = "driver" if "in a driver" in text else "flow"
            emit({"ev": "memory_error", "key": SIM.key, "n_keys": SIM.keys, "where": where})
            if _CFG.get("stop_on_memory_error"):
                raise SimDone()
        emit({"ev": "log", "level": level, "text": text})

    def sim_start(machine, time, cfg=None, log_=None, storage=None):
        boot_start = start.pop()
        b = boot_start(machine, time, cfg, log, storage)
        boot_start = None
        SIM.board = b
        gc.collect()
        free = gc.mem_free()
        where = getattr(sys.modules.get("pos.terminal"), "__file__", None)
        emit({"ev": "booted", "free": free, "largest": largest_free(), "terminal": where})
        if _CFG.get("measure"):
            meminfo("boot")
        return b

    def sim_step(self, now_ms):
        SIM.in_step = True
        try:
            step(self, now_ms)
        except MemoryError:
            emit({"ev": "memory_error", "key": SIM.key, "n_keys": SIM.keys, "where": "driver"})
            raise
        finally:
            SIM.in_step = False

    boot.start = sim_start
    runner.Board.step = sim_step
    if _CFG.get("trace"):
        feed = runner.Board.feed

        def sim_feed(self, event):
            e = [x if isinstance(x, (str, int)) else len(x) for x in event]
            emit({"ev": "fed", "event": e, "v": CLOCK.v})
            feed(self, event)

        runner.Board.feed = sim_feed


def main():
    global _CFG, CLOCK, SIM, _reserve
    if sys.argv[1] == "--pools":
        # sim.sim_name_pools: the interned names as the sim has them before the firmware
        micropython.qstr_info()
        return
    with open(sys.argv[1]) as f:
        _CFG = json.loads(f.read())
    _CFG["keypos"] = dict((k, tuple(v)) for k, v in _CFG["keypos"].items())
    CLOCK = Clock(_CFG.get("realtime", False))
    SIM = Sim()
    SIM.link.connect()
    SIM.deck = socket.socket()
    SIM.deck.connect(socket.getaddrinfo("127.0.0.1", _CFG["deck_port"])[0][-1])
    img = None
    if _CFG.get("romfs"):
        # the board's ROM partition: read before the cap is set, so that its bytes (flash on
        # a board, memory-mapped) are not counted in the firmware's heap
        with open(_CFG["romfs"], "rb") as f:
            img = f.read()
    vfs.umount("/")
    vfs.mount(vfs.VfsPosix(_CFG["root"]), "/")
    os.chdir("/")
    # A VfsPosix with a root joins it and each absolute path in a buffer of the mount's own
    # (extmod/vfs_posix.c: a vstr grown to the longest root + path so far, and kept): grown
    # here, before the cap is held, so that it never grows in the firmware's heap, which a
    # board's filesystem (no root) does not spend. It did: a block sized by the workdir's
    # length (TMPDIR's) plus the longest path, reallocated as longer paths came, and the
    # files day's N moved with TMPDIR (2026-12-03: at 163,840 the day ran out with TMPDIR
    # unset and completed under a 48-character one; after boot 32,608-32,768 B free)
    try:
        os.stat("/x" * 512)
    except OSError:
        pass
    sys.path[:] = ["", ".frozen", "/lib"]
    if img is not None:
        _HELD.append(img)
        vfs.mount(vfs.VfsRom(memoryview(img)), "/rom")
        sys.path[:] = ["", ".frozen", "/rom", "/rom/lib", "/lib"]  # as rp2/esp32 with ROMFS
    sys.modules["machine"] = Machine()
    sys.modules["os"] = SimOs()
    sys.modules["time"] = SimTime
    gc.collect()
    cap = _CFG["cap"]
    hold = gc.mem_free() - cap
    if hold < 0:
        emit(
            {
                "ev": "fatal",
                "text": "the sim itself left only %d B for a cap of %d B" % (gc.mem_free(), cap),
            }
        )
        return
    _fill_holes()
    _reserve = _take_reserve()
    gc.collect()
    hold = gc.mem_free() - cap
    _HELD.append(bytearray(hold))  # the heap beyond the board's, held for good
    gc.collect()
    short = cap - gc.mem_free()  # the block's own header and rounding
    if short > 0:
        _HELD.pop()
        gc.collect()
        _HELD.append(bytearray(hold - short))
        gc.collect()
    hold = _CFG.get("name_pools") or 0
    emit({"ev": "heap_start", "free": gc.mem_free(), "cap": cap, "name_pools": hold})
    # The interned-name pools. MicroPython makes a pool for new names whenever the last is
    # full, each twice the last (20, 40, 80 ... entries; qstr_info: the pools' heap is its
    # n_total_bytes less n_str_data_bytes). The sim's own names (this file's: its stand-ins
    # for a board's C modules, whose names are in ROM on a board, and its own code) fill the
    # first pools before the cap is held, so the firmware's names went on in pools made
    # outside its heap; on a board every pool its names fill is in its heap. So the pools
    # the sim made for itself (measured by the parent: sim.sim_name_pools) are taken from
    # the firmware's heap here, first, where a board's names module puts them. Right while
    # the firmware's names need the same number of pools with the sim's names and without
    # them (six on a board: 621-1,260 names; the six-pools guard,
    # tests/test_flash_names.py, keeps the firmware's and the sim's within six).
    # One tuple (one allocation of 16 + 8 k bytes on the x64 unix port) in _HELD (room for
    # it: a list's first allocation holds 4), with no name of its own: each name of this
    # file takes an entry of the pools the firmware's names fill (1,259 of 1,260 after a
    # chip purchase, the sim's 236 included)
    if hold > 16:
        _HELD.insert(0, (0,) * ((hold - 16) // 8))  # (_HELD[-1] stays the held block)
    if _CFG.get("measure"):
        _trace_imports()
        meminfo("start")
    try:
        # main.py interns every name first (/qnames.mpy, see firmware/main.py); the sim
        # imports boards.boot and boards.runner before main.py runs (to wrap them), so it
        # does that first too, as the board would
        try:
            import qnames  # noqa: F401

            del sys.modules["qnames"]
            # and the module itself let go, as main.py's (imported in a function) is when
            # that returns: this local held it all day, with its qstr table (2 B a name:
            # 2.6 KB x64, at the bottom of the firmware's heap; until 2026-12-02 05:00)
            del qnames
        except ImportError:
            pass
        from boards import boot, runner

        if _CFG.get("seed") is not None:
            import pos

            pos.random_source = Seeded(_CFG["seed"])
        if _CFG.get("record"):
            from pos.terminal import Terminal

            _record(Terminal)
        _wrap(boot, runner)
        boot = runner = None  # main.py imports them itself (and drops boot after the boot)
        import main  # noqa: F401 - the board's main.py: commit, boot, loop

        emit({"ev": "stopped", "text": "the firmware's loop returned"})
    except SimShort:
        gc.collect()
        emit(
            {
                "ev": "sim_short",
                "n_keys": SIM.keys,
                "text": "the board sim itself ran out of heap at this cap (not the firmware)",
            }
        )
    except SimDone:
        # the name pools as the day left them (a firmware output line: "qstr pool: n_pool=6,
        # n_qstr=..."; tests/test_chip_board.py checks a chip purchase's headroom)
        micropython.qstr_info()
        emit(
            {
                "ev": "done",
                "n_keys": SIM.keys,
                "reserve_used": _SPENT[0],
                "reserve_short": _SHORT[0],
            }
        )
    except MemoryError as e:
        sys.print_exception(e)  # where the boot ran out (shown with --log)
        emit({"ev": "memory_error", "key": SIM.key, "n_keys": SIM.keys, "where": "boot"})
        emit({"ev": "stopped", "text": "MemoryError"})
    except BaseException as e:  # noqa: BLE001 - tell the parent, whatever it was
        sys.print_exception(e)
        emit({"ev": "stopped", "text": repr(e)})


main()
