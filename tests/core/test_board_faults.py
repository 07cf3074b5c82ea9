# The board under storage faults: the font is a file on the board's flash, read glyph by
# glyph (boards.font); a read that fails (an I/O error, or a board out of heap) while the
# cashier types must neither stop the board nor leave the panel showing something other
# than what the terminal holds (an amount typed "1 2 3" shown as 0.03 is a key dropped
# from the cashier's point of view: they type it again).
import sys

import pos

_fw = pos.__file__.replace("\\", "/").rsplit("/", 2)[0]
if _fw not in sys.path:
    sys.path.append(_fw)

from boards import boot, fakes  # noqa: E402
from boards.display import CellDisplay  # noqa: E402
from boards.ssd1306 import SSD1306  # noqa: E402
from pos.memstorage import MemoryStorage  # noqa: E402
from rig import menus_dir  # noqa: E402
from mptest import eq, true  # noqa: E402

PAN = "6212142000000000012"
TRACK2 = PAN + "=301212000000000"


class _Time:
    def sleep_ms(self, ms):
        pass


class FlakyFile:
    # the font's file with reads that fail while `armed` (how many reads are left to fail)
    def __init__(self, f, error):
        self.f = f
        self.error = error
        self.armed = 0
        self.failed = 0

    def seek(self, *a):
        return self.f.seek(*a)

    def _fail(self):
        if self.armed:
            self.armed -= 1
            self.failed += 1
            raise self.error

    def read(self, n=-1):
        self._fail()
        return self.f.read(n)

    def readinto(self, buf):
        self._fail()
        return self.f.readinto(buf)

    def close(self):
        self.f.close()


def _board(error):
    m = fakes.Machine(printer_answer=fakes.printer_ok)
    logs = []
    cfg = {"board": "pico", "menus": menus_dir()}
    b = boot.build(m, _Time(), cfg, lambda lv, tx: logs.append((lv, tx)), MemoryStorage())
    font = b.display.font
    font.f = FlakyFile(font.f, error)
    b.start(0)
    st = b.t.state
    st.signin_date = "20260101"
    st.mak = "0" * 16
    st.pik = "0" * 32
    return b, font, logs


def _on_panel(b):
    # what the panel shows must be the terminal's frame: the same frame drawn whole on a
    # fresh panel gives the same pixels
    fresh = SSD1306(fakes.I2C(), 0x3C, 128, 64)
    CellDisplay(fresh, b.display.font, rows=4).draw(b.t.frame)
    return bytes(b.display.panel.buf) == bytes(fresh.buf)


def _type_amount_with_failing_reads(error):
    b, font, logs = _board(error)
    b.t.now = (2026, 1, 1, 9, 0, 0)
    b.feed(("card", PAN, "", TRACK2, ""))
    true("0.00" in "".join(b.t.frame.text()), "the amount prompt: %r" % (b.t.frame.text(),))
    true(_on_panel(b), "the panel shows the amount prompt")
    for k in "123":
        font.forget()  # the glyph cache has rolled over: each draw reads the file
        font.f.armed = 3
        b.press(k)
    eq(font.f.failed > 0, True, "reads failed")
    font.f.armed = 0
    b.step(b.now_ms + 10)  # one pass of the board loop, no key
    screen = "".join(b.t.frame.text())
    true("1.23" in screen, "the terminal has every key: %r" % (screen,))
    true(_on_panel(b), "the panel shows what the terminal holds, with no key pressed again")
    b.press("4")
    true("12.34" in "".join(b.t.frame.text()), "typing goes on")
    true(_on_panel(b), "and shows")
    return logs


def test_font_read_errors_while_typing_an_amount_lose_no_key_on_the_panel():
    logs = _type_amount_with_failing_reads(OSError(5, "EIO"))
    true([x for x in logs if x[0] == "error"], "the failures are logged: %r" % (logs,))


def test_a_board_out_of_heap_while_drawing_an_amount_loses_no_key_on_the_panel():
    _type_amount_with_failing_reads(MemoryError("memory allocation failed, allocating 32 bytes"))
