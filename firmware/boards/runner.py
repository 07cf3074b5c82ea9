# The board loop: the core's Terminal with the board's drivers. step(now_ms) is
# one pass (scan keys, poll the host link, tick the clock once a second, watch
# the printer); run_forever() calls it every few milliseconds. The Terminal is
# sans-IO: this module performs its effects (show, send, print, beep, clock, log).
import gc

from pos import overlay
from pos.compat import IS_MICROPYTHON, const

_TICK_MS = const(1000)
_PRINTER_MS = const(5000)


def _diff(a, b):
    d = (a - b) & 0x3FFFFFFF
    return d - 0x40000000 if d & 0x20000000 else d


class Board:
    def __init__(
        self,
        terminal,
        display,
        keypad=None,
        link=None,
        clock=None,
        printer=None,
        buzzer=None,
        log=None,
    ):
        self.t = terminal
        # a slip is built and printed as the next step of the loop, once the screen before it
        # is drawn (pos.terminal: ("work",) steps, run by feed)
        terminal.defer_work = True
        if hasattr(display, "give_back"):
            # the display's caches are the heap an approval's journalling may take when short
            # (pos.terminal's reserve): dropped then, made again at idle
            terminal.spares = display
        self.display = display
        self.keypad = keypad
        self.link = link
        self.clock = clock
        self.printer = printer
        self.buzzer = buzzer
        self.log = log
        self.now_ms = 0
        self._next_tick = 0
        self._next_printer = 0
        self.printed = 0  # receipts printed
        self.out_of_memory = 0  # MemoryErrors the drivers survived
        self.printer_state = None
        self.scanner = None  # a barcode scanner (boards.scanner), polled like the link
        self.draw_failures = 0  # frames the display could not draw (retried each pass)
        self._redraw = None  # the frame to draw again: the last draw failed

    def start(self, now_ms=0):
        self.now_ms = now_ms
        self._next_tick = now_ms + _TICK_MS
        self._next_printer = now_ms
        self.perform(self.t.start())

    def feed(self, event):
        try:
            self.perform(self.t.handle(event))
            while self.t.waiting_for() == "work":
                self.perform(self.t.work())
        except MemoryError:
            self._driver_short()

    def _driver_short(self):
        # a driver (display, printer, link) ran out of heap: the loop goes on, the next
        # event redraws; nothing here may allocate much
        gc.collect()
        self.out_of_memory += 1
        self._log("error", "MemoryError in a driver")
        link = self.link
        if self.t.waiting_for() == "send" and (link is None or not link.busy()):
            # the exchange ended on it: the flow must not wait for an answer forever. Did
            # the request leave? The link says whether it began to write it (`wrote`); one
            # that left may have been approved, so it ends as "sent" (the reversal stays
            # armed; a center that never had it answers the reversal 25), never as
            # "nothing left" (that disarms it: money moved with no record)
            sent = link is not None and getattr(link, "wrote", True)
            self.feed(("link_error", "out of memory", sent))

    def press(self, name):
        self.feed(("key", name))

    def step(self, now_ms):
        self.now_ms = now_ms
        fed = False
        if self.keypad is not None:
            for name in self.keypad.scan(now_ms):
                if self.buzzer is not None:
                    self.buzzer.beep("key")
                self.feed(("key", name))
                fed = True
        link = self.link
        # a UART link is polled while idle too: the bridge may present a card from its deck
        if link is not None and (link.busy() or getattr(link, "listens", False)):
            try:
                ev = link.poll(now_ms)
            except MemoryError:
                # the bytes that came in could not be taken (the frame parser's buffer): as
                # in feed, the loop goes on (it stopped the board: board sim ESP32 ROMFS, 91
                # KB, the sign-in's answer); a link still busy ends its exchange itself, at
                # its deadline (an answer lost so is a timeout: the reversal of a request
                # that left stays armed)
                ev = None
                self._driver_short()
            if ev is not None:
                self.feed(ev)
                fed = True
        if self.scanner is not None:
            ev = self.scanner.poll(now_ms)  # ("scan", code): a payment code was read
            if ev is not None:
                self.feed(ev)
                fed = True
        if self._redraw is not None and not fed:
            self._draw(self._redraw)
        if fed and IS_MICROPYTHON:
            # the screen is drawn: collect now, between events, as `posterm bench` measures
            # the heap (an overlay's code just dropped is freed before the next allocation
            # needs it, and the free heap stays in few large blocks)
            gc.collect()
            t = self.t
            if t.waiting_for() == "input" and (t.spares is not None or t.reserve is None):
                t.take_reserve()  # an approval's journalling used it: kept aside again
            ov = overlay.CACHE
            if ov is not None:
                ov.collected()  # a board's memory policy keeps a cache: is the heap short?
        if _diff(now_ms, self._next_tick) >= 0:
            self._next_tick = now_ms + _TICK_MS
            if self.clock is not None:
                self.feed(("tick", self.clock.now()))
        if self.printer is not None and _diff(now_ms, self._next_printer) >= 0:
            self._next_printer = now_ms + _PRINTER_MS
            if self.t.waiting_for() != "send":
                self._check_printer()

    def _draw(self, frame):
        # A draw that fails (a font read error, the bus, out of heap) must neither stop the
        # board nor leave the panel showing an older frame than the terminal's: the frame is
        # drawn again on the next pass of the loop until it shows (the display resends the
        # rows it could not write). The effects after it (a send) still run.
        try:
            self.display.draw(frame)
            self._redraw = None
        except (OSError, MemoryError):
            # frame: the one that was waiting before, None at the first failure (no local
            # of its own: 11 words of state with the try, so that MicroPython keeps the frame
            # on the C stack, not taken from the heap at every draw)
            frame, self._redraw = self._redraw, frame
            self.draw_failures += 1
            gc.collect()
            if frame is None:
                self._log("error", "display: the frame could not be drawn; retrying")

    def _check_printer(self):
        st = self.printer.status()
        if st is not None and st != self.printer_state:
            self.printer_state = st
            self.feed(("printer", st))

    def perform(self, effects):
        for eff in effects:
            kind = eff[0]
            if kind == "show":
                self._draw(eff[1])
            elif kind == "send":
                if self.link is None:
                    self.feed(("link_error", "no host link on this board", False))
                else:
                    self.link.start(eff[1], eff[2], self.now_ms)
                    if not self.link.busy():
                        ev = self.link.poll(self.now_ms)
                        if ev is not None:
                            self.feed(ev)
            elif kind == "print":
                if self.printer is not None:
                    self.printer.print_lines(eff[1])
                    self.printed += 1
                    self._check_printer()
                else:
                    self._log("info", "no printer: %d receipt lines dropped" % len(eff[1]))
            elif kind == "beep":
                if self.buzzer is not None:
                    self.buzzer.beep(eff[1])
            elif kind == "clock":
                if self.clock is not None:
                    self.clock.set(eff[1])
                    self._log("info", "clock set from the host: %r" % (eff[1],))
            elif kind == "log":
                self._log(eff[1], eff[2])

    def _log(self, level, text):
        if self.log is not None:
            self.log(level, text)

    def run_forever(self, ticks_ms, sleep_ms, period_ms=10):
        while True:
            self.step(ticks_ms())
            sleep_ms(period_ms)


def run(board, time):
    # the board loop until Ctrl-C or an error the firmware could not handle
    import sys

    try:
        board.run_forever(time.ticks_ms, time.sleep_ms)
    except KeyboardInterrupt:
        print("posterm: stopped (Ctrl-C)")
    except Exception as e:  # noqa: BLE001 - never reboot in a loop: show it, stay in the REPL
        sys.print_exception(e)
        print("posterm: the firmware stopped on an error; see above. Reflash with posterm flash.")


class Buzzer:
    # A passive buzzer on a PWM pin: short chirps, blocking for their length.
    TONES = {"key": ((2700, 15),), "ok": ((2000, 80),), "error": ((600, 120), (0, 60), (600, 120))}

    def __init__(self, pwm, sleep_ms):
        self.pwm = pwm
        self.sleep_ms = sleep_ms

    def beep(self, kind):
        for freq, ms in self.TONES.get(kind, ()):
            if freq:
                self.pwm.freq(freq)
                self.pwm.duty_u16(32768)
            self.sleep_ms(ms)
            self.pwm.duty_u16(0)
