# The board loop: boot.build with fake machine parts shows the idle screen on the
# panel, and the manual sign-in (MENU 4 2 ENTER) goes over the serial link to a
# scripted center; the host's time sets the RTC.
import sys

import pos

_fw = pos.__file__.replace("\\", "/").rsplit("/", 2)[0]
if _fw not in sys.path:
    sys.path.append(_fw)

import fakecenter  # noqa: E402
from boards import boot, fakes, framing  # noqa: E402
from pos.memstorage import MemoryStorage  # noqa: E402
from rig import menus_dir  # noqa: E402
from mptest import eq, true  # noqa: E402


class _Time:
    def sleep_ms(self, ms):
        pass


class _Bridge:
    # the desktop end of the serial link, in-process: ACK, ask the center, reply
    def __init__(self, center):
        self.center = center
        self.parser = framing.Parser()
        self.seq = 0
        self.requests = 0

    def answer(self, data):
        out = b""
        for kind, seq, payload in self.parser.feed(data):
            if kind == framing.DATA:
                self.requests += 1
                out += framing.encode(framing.ACK, seq)
                ev = self.center.answer(payload, 30)
                self.seq += 1
                if ev[0] == "reply":
                    out += framing.encode(framing.DATA, self.seq, ev[1])
                else:
                    out += framing.encode(framing.ERROR, self.seq, b"T")
        return out


def _board(center=None):
    m = fakes.Machine(printer_answer=fakes.printer_ok)
    logs = []
    cfg = {"board": "pico", "menus": menus_dir()}
    b = boot.build(m, _Time(), cfg, lambda lv, tx: logs.append((lv, tx)), MemoryStorage())
    bridge = _Bridge(center or fakecenter.Center())
    m.made["uart0"].answer = bridge.answer
    return m, b, bridge, logs


def _keys(b, t, *names):
    # press each key on the fake matrix, hold it past the debounce time, release it
    kp = b.keypad
    for name in names:
        pos_ = None
        for i in range(len(kp.keymap)):
            for j in range(len(kp.keymap[i])):
                if kp.keymap[i][j] == name:
                    pos_ = (i, j)
        _hold(kp, pos_, True)
        for _ in range(4):
            t += 10
            b.step(t)
        _hold(kp, pos_, False)
        for _ in range(4):
            t += 10
            b.step(t)
    return t


def _hold(kp, rc, down):
    # the board's pins are plain fakes.Pin: wire a KeyMatrix-like reader into the columns
    m = kp._fake
    if down:
        m.down.append(rc)
    else:
        m.down.remove(rc)


def _wire(b):
    kp = b.keypad
    mx = fakes.KeyMatrix(0, 0)
    mx.rows = kp.rows
    mx.cols = kp.cols
    for c in kp.cols:
        c.matrix = mx
    kp._fake = mx


def test_boot_shows_the_idle_screen_on_the_panel_and_logs_missing_parts():
    m, b, bridge, logs = _board()
    _wire(b)
    b.start(0)
    panel = b.display.panel
    lit = 0
    for byte in panel.buf:
        while byte:
            lit += byte & 1
            byte >>= 1
    true(lit > 100, "the idle screen lights pixels (%d)" % lit)
    true(b.t.waiting_for() == "input", "idle, waiting for keys")
    eq(b.display.redrawn > 0, True)
    eq(m.made["i2c"].writes[0][0], 0x3C)


def test_manual_sign_in_goes_over_the_serial_link_and_sets_the_rtc():
    m, b, bridge, logs = _board()
    _wire(b)
    b.start(0)
    t = _keys(b, 0, "MENU", "4", "2", "ENTER")
    for _ in range(20):
        t += 10
        b.step(t)
    eq(bridge.requests, 1, "one sign-in request over the UART")
    true(b.t.state.signin_date != "", "signed in")
    true(b.t.state.mak != "", "MAK loaded")
    # fields 12/13 carry hhmmss and MMDD; the year stays the terminal's own
    eq(m.rtc.dt[1:3], (11, 23), "RTC date from the host reply")
    eq(m.rtc.dt[4:6], (9, 30), "RTC time from the host reply")


def test_a_board_without_a_display_falls_back_to_the_console():
    m = fakes.Machine(i2c_devices=())
    logs = []
    shown = []
    b = boot.build(
        m,
        _Time(),
        {"board": "esp32", "menus": menus_dir()},
        lambda lv, tx: logs.append(tx),
        MemoryStorage(),
    )
    b.display.out = shown.append
    b.start(0)
    true(len(shown) > 0, "frames printed on the console")
    true(any("display does not answer" in x for x in logs), repr(logs))


def test_a_link_that_runs_out_of_memory_ends_the_exchange_instead_of_hanging():
    # the fault at the wire: the link UART's write fails as a board's allocation does
    m, b, bridge, logs = _board()
    _wire(b)
    b.start(0)
    uart = m.made["uart0"]

    def full(data):
        raise MemoryError("memory allocation failed, allocating 512 bytes")

    uart.write = full
    t = _keys(b, 0, "MENU", "4", "2", "ENTER")
    for _ in range(20):
        t += 10
        b.step(t)
    eq(bridge.requests, 0, "nothing went out")
    eq(b.out_of_memory, 1, "the board survived one MemoryError")
    true(("error", "MemoryError in a driver") in logs, repr(logs))
    eq(b.t.waiting_for(), "input", "the sign-in ended: the terminal waits for keys again")


def test_an_answer_the_link_cannot_take_for_heap_leaves_the_loop_running():
    # the bytes in from the UART need the frame parser's buffer: short of heap there
    # (board sim, ESP32 ROMFS at 91 KB, the sign-in's answer) the MemoryError came out of
    # the board's step and the firmware's loop stopped. Now the loop goes on: the frame is
    # lost, the link's ACK timer sends the request again and its answer is taken
    m, b, bridge, logs = _board()
    _wire(b)
    b.start(0)
    feed = framing.Parser.feed
    short = [1]

    def feed_short(self, data):
        if data and short[0] and self is not bridge.parser:  # the board's end only
            short[0] = 0
            raise MemoryError("memory allocation failed, allocating 486 bytes")
        return feed(self, data)

    framing.Parser.feed = feed_short
    try:
        t = _keys(b, 0, "MENU", "4", "2", "ENTER")
        for _ in range(200):
            t += 10
            b.step(t)
    finally:
        framing.Parser.feed = feed
    eq(short[0], 0, "the answer's bytes ran out of heap once")
    eq(b.out_of_memory, 1, "the board survived it")
    true(("error", "MemoryError in a driver") in logs, repr(logs))
    eq(bridge.requests, 2, "the request went again (its ACK was in the lost bytes)")
    true(b.t.signed_in_today(), "and the sign-in ended with the second answer")


def test_a_scanner_on_a_uart_of_its_own_feeds_each_code_it_reads():
    m = fakes.Machine(printer_answer=fakes.printer_ok)
    logs = []
    cfg = {"board": "pico", "menus": menus_dir(),
           "profile": {"scanner": {"uart": 5, "tx": 12, "rx": 13, "baudrate": 9600}}}
    b = boot.build(m, _Time(), cfg, lambda lv, tx: logs.append((lv, tx)), MemoryStorage())
    true(b.scanner is not None, logs)
    seen = []
    handle = b.t.handle

    def spy(ev):
        seen.append(ev)
        return handle(ev)

    b.t.handle = spy
    b.start(0)
    m.made["uart5"].push(b"134567890000000029\r")
    b.step(10)
    eq([e for e in seen if e[0] == "scan"], [("scan", "134567890000000029")])
    eq(b.scanner.codes, 1)


def test_a_scanner_on_the_links_uart_is_refused_with_a_clear_log_line():
    m = fakes.Machine(printer_answer=fakes.printer_ok)
    logs = []
    cfg = {"board": "pico", "menus": menus_dir(),
           "profile": {"scanner": {"uart": 0, "tx": 0, "rx": 1}}}
    b = boot.build(m, _Time(), cfg, lambda lv, tx: logs.append((lv, tx)), MemoryStorage())
    eq(b.scanner, None)
    true(("error", "scanner: UART0 is the printer's or the link's") in logs, logs)


class _CenterSockets:
    # a socket module for boards.wifilink whose center is the scripted one; the answer of
    # the `short`-th exchange cannot be received: recv runs out of heap, as a board's does
    def __init__(self, center, short=0):
        self.center = center
        self.short = short
        self.n = 0
        self.sent = []

    def getaddrinfo(self, host, port):
        return [(2, 1, 0, "", (host, port))]

    def socket(self):
        return _CenterSocket(self)


class _CenterSocket:
    def __init__(self, mod):
        self.mod = mod
        self.reply = b""

    def settimeout(self, t):
        pass

    def connect(self, addr):
        pass

    def sendall(self, data):
        mod = self.mod
        mod.n += 1
        mod.sent.append(data)
        ev = mod.center.answer(data, 30)
        self.reply = ev[1] if ev[0] == "reply" else b""

    def recv(self, n):
        if self.mod.n == self.mod.short:
            raise MemoryError("memory allocation failed, allocating 256 bytes")
        c, self.reply = self.reply[:n], self.reply[n:]
        return c

    def close(self):
        pass


def test_a_wifi_answer_that_runs_out_of_heap_after_the_request_left_keeps_the_reversal():
    # the money path on an ESP32 over Wi-Fi: the 0200 went out, its answer could not be
    # received (heap). The center may have approved it: the terminal must not take it as
    # "nothing left" (that disarmed the reversal: money moved, no record), so the reversal
    # stays armed and goes before the next transaction
    from boards.wifilink import WifiLink

    m, b, bridge, logs = _board()
    sockets = _CenterSockets(fakecenter.Center())
    b.link = WifiLink("10.0.0.2", 5800, sockets)
    b.start(0)
    now = [0]

    def keys(*names):
        for k in names:
            b.press(k)
            for _ in range(3):  # the link is polled by the loop's steps
                now[0] += 10
                b.step(now[0])

    keys("MENU", "4", "2", "ENTER", "CANCEL")
    true(b.t.signed_in_today(), "signed in over Wi-Fi")
    sockets.short = sockets.n + 1  # the purchase's answer
    keys("MENU", "1", "2", "5", "0", "0", "ENTER")
    b.feed(("card", "6212142000000000012", "3012"))
    keys("1", "2", "3", "4", "5", "6", "ENTER")
    eq(sockets.n, sockets.short, "the purchase went out")
    eq(b.out_of_memory, 1)
    true(b.t.state.reversal() is not None, "its reversal is armed: the center may have it")
    eq(b.t.journal.entries(), [], "nothing journalled")
