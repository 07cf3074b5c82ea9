# Boots the core on a board: reads /board.json (written by `posterm flash`),
# builds the drivers from the board's profile, shows the idle screen and runs
# the loop. A part that does not answer (no display on I2C, no printer) is
# logged and left out; the terminal still runs. Hold CANCEL at power-up to
# stay in the REPL instead (a way out of a firmware that misbehaves).
import sys

from pos.compat import TYPE_CHECKING, json
from pos.storage import FileStorage
from pos.terminal import Terminal
from boards import profiles

if TYPE_CHECKING:
    from typing import Any  # noqa: F401 - type comments only (no typing on the board)

CONFIG = "/board.json"
_MEMORY = [None]  # the profile's memory policy, from build() to start()


def _here():
    f = __file__.replace("\\", "/")
    return f[: f.rfind("/")] if "/" in f else "."


def load_config(path=CONFIG):
    try:
        with open(path) as f:
            return json.loads(f.read())
    except (OSError, ValueError):
        return {}


def log_line(level, text):
    print("[%s] %s" % (level, text))


def build(machine, time, cfg, log=log_line, storage=None):
    # -> Board (not started). machine/time: the modules (or fakes in tests);
    # storage: the state/journal port (default: FileStorage on the board's littlefs).
    from boards import runner
    from boards.display import CellDisplay, ConsoleDisplay
    from boards.font import Font
    from boards.keypad import Keypad
    from boards.rtc import RtcClock

    name = cfg.get("board") or profiles.for_platform(sys.platform)
    prof = profiles.get(name, cfg.get("profile"))
    Pin = machine.Pin
    data = _here() + "/data"

    kp = prof["keypad"]
    keypad = Keypad(
        [Pin(p, Pin.OUT, value=1) for p in kp["rows"]],
        [Pin(p, Pin.IN, Pin.PULL_UP) for p in kp["cols"]],
        kp["keymap"],
    )
    display = None  # type: Any
    try:
        font = Font.open(data + "/font16.bin")
    except (OSError, ValueError) as e:
        log("error", "font: %s (boxes instead of characters)" % (e,))
        font = None
    dcfg = prof["display"]
    panel = None  # type: Any
    kind = cfg.get("display") or dcfg.get("type", "ssd1306")  # board.json, else the profile
    try:
        if kind == "st7920":
            from boards.st7920 import ST7920

            s = prof["st7920"]
            spi = machine.SPI(
                s["spi"],
                baudrate=s["baudrate"],
                polarity=1,
                phase=1,
                sck=Pin(s["sck"]),
                mosi=Pin(s["mosi"]),
            )
            panel = ST7920(spi, Pin(s["cs"], Pin.OUT, value=0))
        else:
            from boards.ssd1306 import SSD1306

            i2c = machine.I2C(
                dcfg["i2c"], sda=Pin(dcfg["sda"]), scl=Pin(dcfg["scl"]), freq=dcfg["freq"]
            )
            panel = SSD1306(i2c, dcfg["addr"], dcfg.get("width", 128), dcfg.get("height", 64))
        display = CellDisplay(panel, font, rows=getattr(panel, "height", 64) // 16)
        display.pages_at = data  # the shipped texts' glyphs, turned (boards/data/pages16.bin)
    except OSError as e:
        log("error", "display does not answer (%s): using the console" % (e,))
    if display is None:
        display = ConsoleDisplay()

    printer = None
    p = prof.get("printer")
    if p:
        from boards.printer import EscPos

        try:
            # the GB2312 table is read for each slip (boards.printer), not held all day:
            # only its file is checked now
            gb = data + "/gb2312.bin"
            with open(gb, "rb") as f:
                if f.read(4) != b"PGB1":
                    raise ValueError("%s is not a GB2312 table" % gb)
            uart = machine.UART(
                p["uart"], p["baudrate"], tx=Pin(p["tx"]), rx=Pin(p["rx"]), timeout=200
            )
            printer = EscPos(uart, gb, cfg.get("paper_cells", 32))
        except (OSError, ValueError) as e:
            log("error", "printer: %s" % (e,))

    link = None  # type: Any
    on_wifi = False
    lk = prof["link"]
    wifi = cfg.get("wifi")
    if wifi:
        from boards.wifilink import WifiLink, connect_wifi

        try:
            import network

            connect_wifi(network, wifi["ssid"], wifi.get("password", ""), sleep_ms=time.sleep_ms)
            host, port = wifi["host"].rsplit(":", 1)
            link = WifiLink(host, int(port), None, time.ticks_ms)
            on_wifi = True
        except (OSError, ImportError, KeyError, ValueError) as e:
            log("error", "Wi-Fi link: %s; trying the UART link" % (e,))
    if link is None:
        from boards.uartlink import UartLink

        link = UartLink(
            machine.UART(
                lk["uart"],
                lk["baudrate"],
                tx=Pin(lk["tx"]),
                rx=Pin(lk["rx"]),
                rxbuf=1024,
                timeout=0,
            ),
            sleep_ms=time.sleep_ms,
        )

    scanner = None  # type: Any
    sc = prof.get("scanner")  # a GM65-style barcode scanner: on in board.json's profile
    if sc:
        busy = [p["uart"]] if p else []
        if not on_wifi:
            busy.append(lk["uart"])
        if sc["uart"] in busy:
            log("error", "scanner: UART%d is the printer's or the link's" % sc["uart"])
        else:
            from boards.scanner import Scanner

            try:
                scanner = Scanner(machine.UART(sc["uart"], sc.get("baudrate", 9600),
                                               tx=Pin(sc["tx"]), rx=Pin(sc["rx"]),
                                               rxbuf=256, timeout=0))
            except (OSError, ValueError) as e:
                log("error", "scanner: %s" % (e,))

    clock = RtcClock(machine.RTC())
    buzzer = None
    if prof.get("buzzer") is not None:
        try:
            buzzer = runner.Buzzer(machine.PWM(Pin(prof["buzzer"])), time.sleep_ms)
            buzzer.pwm.duty_u16(0)
        except (OSError, ValueError, AttributeError) as e:
            log("error", "buzzer: %s" % (e,))

    if storage is None:
        storage = FileStorage(prof.get("storage", "/data"))
    resources = FileStorage(cfg.get("menus", "/menus"), readonly=True)
    # DES stays loaded from boot: every exchange needs it, and its tables loaded and dropped
    # around each one fragment the heap between the day's long-lived data
    from pos import des

    des.prepare()

    now = clock.now()
    t = Terminal(storage, resources, "lcd128x64", now, cfg.get("paper", "58mm"))
    t.link_address = wifi["host"] if on_wifi else "uart"
    if not clock.is_set():
        log("info", "the clock is not set: it will be set by the next sign-in")
    board = runner.Board(t, display, keypad, link, clock, printer, buzzer, log)
    board.scanner = scanner
    _MEMORY[0] = prof.get("memory")  # the memory policy: applied once the idle screen shows
    return board


def cancel_held(board, time):
    # CANCEL down at power-up (after the debounce time): stay in the REPL
    k = board.keypad
    t0 = time.ticks_ms()
    k.scan(t0)
    time.sleep_ms(40)
    k.scan(time.ticks_ms())
    return "CANCEL" in k.held()


def start(machine, time, cfg=None, log=log_line, storage=None):
    # -> the Board, built and showing the idle screen, or None when CANCEL is held at
    # power-up. The fake board (tests) calls this with fake parts and steps the board itself.
    board = build(machine, time, load_config() if cfg is None else cfg, log, storage)
    if cancel_held(board, time):
        print("posterm: CANCEL held at power-up; staying in the REPL")
        return None
    board.start(time.ticks_ms())
    # the board's memory policy (profiles "memory": the overlay cache, the day's flows
    # preloaded), once the idle screen shows; none (the ESP32): not even its code is loaded
    policy = _MEMORY[0]
    _MEMORY[0] = None
    if policy:
        from pos import overlaycache

        overlaycache.configure(policy, 0, board.display, board.t.strings)
    return board


def main():
    # build and run (from the REPL; main.py does the same, dropping this module in between)
    import machine
    import time
    from boards import runner

    board = start(machine, time)
    if board is not None:
        runner.run(board, time)
    return board
