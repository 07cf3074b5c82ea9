# Board profiles as data: which pins drive what. boot.py builds the drivers
# from these; nothing else in the firmware knows a pin number.
#
#   keypad   rows (outputs, driven low one at a time), cols (inputs, pull-up),
#            keymap[row][col] = pos.keys name
#   display  type "ssd1306" on I2C (width x height: 128x64, or a 128x32 panel), or
#            "st7920" on SPI (serial mode, PSB to GND); board.json's "display" overrides
#   printer  ESC/POS thermal printer on a UART (None: no printer)
#   link     "uart": frames to `posterm bridge` on the desktop;
#            "wifi": TCP straight to the host (Pico W, ESP32)
#   buzzer   a pin for a passive buzzer (PWM), or None
#   scanner  a GM65-style barcode scanner on a UART of its own (boards.scanner), or None:
#            off here, since the board's UARTs carry the link and the printer; board.json
#            turns it on ("profile": {"scanner": SCANNER_WIFI[board]}) when the link is
#            Wi-Fi and the link's UART is free (README: Run it on a board)
#   memory   the memory policy (pos.overlaycache.configure, applied by boot after the idle
#            screen): "overlay_cache" "flash" keeps the overlays' modules loaded when the
#            bytecode is in flash (ROMFS or frozen), as long as the free heap after a
#            collection stays above "keep_free" bytes; "preload": the day's flows loaded
#            at boot (pos.preload) while more than these bytes are free; "glyphs": (n, bytes):
#            the display keeps n glyphs when that much is free at boot; "screens": (frames,
#            rows, bytes[, strings]): the screens laid out and the rows drawn kept (two
#            generations of each) and that many strings (pos.text) when that much is free
#            after the preload; "strings": bytes: the day's strings (pos.preload.STRINGS)
#            kept when that much is free after that. None: every
#            overlay's code is dropped when it ends (the ESP32: no heap to spare)

# 5 rows x 4 columns, printed on the key caps as on a CUP terminal
KEYMAP_5X4 = (
    ("F1", "F2", "UP", "DOWN"),
    ("1", "2", "3", "MENU"),
    ("4", "5", "6", "CANCEL"),
    ("7", "8", "9", "CLEAR"),
    (".", "0", "F3", "ENTER"),
)
# 4x4 membrane pads: A B C D * # relabelled
KEYMAP_4X4 = (
    ("1", "2", "3", "MENU"),
    ("4", "5", "6", "UP"),
    ("7", "8", "9", "DOWN"),
    ("CANCEL", "0", "CLEAR", "ENTER"),
)

PROFILES = {
    "pico": {
        "name": "Raspberry Pi Pico / Pico W (RP2040)",
        "platform": "rp2",
        "keypad": {"rows": (16, 17, 18, 19, 20), "cols": (21, 22, 26, 27), "keymap": KEYMAP_5X4},
        "display": {
            "type": "ssd1306",
            "i2c": 0,
            "sda": 4,
            "scl": 5,
            "addr": 0x3C,
            "freq": 400000,
            "width": 128,
            "height": 64,
        },
        "st7920": {"spi": 1, "sck": 10, "mosi": 11, "cs": 13, "baudrate": 1000000},
        "printer": {"uart": 1, "tx": 8, "rx": 9, "baudrate": 9600},
        "link": {"type": "uart", "uart": 0, "tx": 0, "rx": 1, "baudrate": 115200},
        "buzzer": 15,
        "storage": "/data",
    },
    "esp32": {
        "name": "ESP32 DevKit (ESP32-WROOM-32)",
        "platform": "esp32",
        "keypad": {"rows": (13, 12, 14, 27, 26), "cols": (33, 32, 19, 4), "keymap": KEYMAP_5X4},
        "display": {
            "type": "ssd1306",
            "i2c": 0,
            "sda": 21,
            "scl": 22,
            "addr": 0x3C,
            "freq": 400000,
            "width": 128,
            "height": 64,
        },
        "st7920": {"spi": 2, "sck": 18, "mosi": 23, "cs": 5, "baudrate": 1000000},
        "printer": {"uart": 1, "tx": 25, "rx": 34, "baudrate": 9600},
        "link": {"type": "uart", "uart": 2, "tx": 17, "rx": 16, "baudrate": 115200},
        "buzzer": 15,
        "storage": "/data",
    },
}
for _p in PROFILES.values():
    _p["scanner"] = None
# A Pico has ~190 KB free, ~123 KB at the idle screen from ROMFS: the whole day's code (~37
# KB of its objects) stays loaded, with more free than the ESP32 runs the day on (~33 KB at
# its idle screen, loading each stage's code as it goes). Bytes of a 32-bit board's heap.
PROFILES["pico"]["memory"] = {
    "overlay_cache": "flash",
    "keep_free": 40 * 1024,
    "preload": 64 * 1024,
    "glyphs": (160, 96 * 1024),
    # the screens laid out (two generations of 16) and 64 strings kept, no drawn rows, when
    # 48 KB are free after the preload (off at 21:50 on 2026-12-01, when it bought no p99
    # the timed bench could tell from the machine's noise and the overlay cache gave way 9
    # times in 5 days with 24 rows kept too). In instructions (callgrind, the collector
    # model, 2026-12-02): the day's keys -5 %, keys above 50 ms 17 -> 13, the cache gave
    # way 0 times; the Pico's day leaves a 65 KB block at its worst key (79 KB without)
    "screens": (16, 0, 48 * 1024, 64),
    # the day's strings (pos.preload.STRINGS, ~6 KB) read at boot and kept, when 96 KB are
    # free after the screens: the free heap after the boot stays above firmware/main.py's
    # 88 KB, below which the collector runs every 4 KB instead of every 32 KB
    "strings": 96 * 1024,
}
PROFILES["esp32"]["memory"] = None
# where the scanner goes on a board whose link is Wi-Fi: the link's UART, on its pins
SCANNER_WIFI = {
    "pico": {"uart": 0, "tx": 0, "rx": 1, "baudrate": 9600},
    "pico_w": {"uart": 0, "tx": 0, "rx": 1, "baudrate": 9600},
    "esp32": {"uart": 2, "tx": 17, "rx": 16, "baudrate": 9600},
}
# Pico W: the same wiring, and Wi-Fi can replace the UART link (board.json)
PROFILES["pico_w"] = dict(PROFILES["pico"])
PROFILES["pico_w"]["name"] = "Raspberry Pi Pico W (RP2040 + CYW43)"


def get(name, overrides=None):
    # -> a profile dict (a copy); overrides (from /board.json) replace top-level entries
    if name not in PROFILES:
        raise ValueError("unknown board %r (known: %s)" % (name, ", ".join(sorted(PROFILES))))
    out = dict(PROFILES[name])
    if overrides:
        for k in overrides:
            out[k] = overrides[k]
    return out


def for_platform(platform):
    # sys.platform -> the default profile name
    return "esp32" if platform == "esp32" else "pico"
