# A board with heap to spare (its memory policy's "screens": pos.overlaycache.configure)
# keeps the screens pos.screen laid out and the rows the display drew: a screen shown again
# is a copy of the kept one (its own frame: changing it changes nothing kept), a row drawn
# again is put back from its kept bytes, the pixels the same as drawn glyph by glyph; both
# are given up when the heap is short after the board loop's collection.
import sys

import pos

_fw = pos.__file__.replace("\\", "/").rsplit("/", 2)[0]
if _fw not in sys.path:
    sys.path.append(_fw)

from mptest import eq, true  # noqa: E402
from pos import screen  # noqa: E402
from pos.screen import layout  # noqa: E402
from boards import fakes  # noqa: E402
from boards.display import CellDisplay  # noqa: E402
from boards.ssd1306 import SSD1306  # noqa: E402
from boards.font import Font, pack  # noqa: E402


def _font():
    # every ASCII character a pattern of its own, two CJK glyphs (a space blank)
    import io

    narrow = {}
    for cp in range(0x20, 0x7F):
        narrow[cp] = bytes(((cp * 7 + r * 13) & 0xFF) if 2 <= r < 14 else 0 for r in range(16))
    narrow[0x20] = bytes(16)
    wide = {0x4E2D: bytes((r * 37) & 0xFF for r in range(32)), 0x6587: bytes(range(32))}
    return Font(io.BytesIO(pack(narrow, wide)))


def test_a_kept_screen_is_the_same_frame_and_a_copy_of_its_own():
    plain = layout(4, 16, "消费", ["请刷卡或插卡", "Card?"], "按取消键退出")
    screen.remember(2)
    try:
        a = layout(4, 16, "消费", ["请刷卡或插卡", "Card?"], "按取消键退出")
        b = layout(4, 16, "消费", ["请刷卡或插卡", "Card?"], "按取消键退出")
        eq(a, plain)
        eq(b, plain)
        true(a is not b, "a copy each time")
        a.put(3, "changed")
        eq(layout(4, 16, "消费", ["请刷卡或插卡", "Card?"], "按取消键退出"), plain,
           "changing a copy changes nothing kept")
        long = "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十"
        cut = layout(4, 16, "T", [long, long])
        eq(cut.cut, layout(4, 16, "T", [long, long]).cut, "what a screen cut is kept too")
        true(cut.cut, "a screen that does not fit says so")
        for i in range(5):  # more than two generations of two: the oldest are laid out again
            eq(layout(4, 16, "T" + str(i), "x"), screen._layout(4, 16, "T" + str(i), "x"))
        true(len(screen.MEMO[1]) <= 2 and len(screen.MEMO[2]) <= 2, "two generations of 2")
        eq(layout(4, 16, "消费", "请刷卡", reserve=1), screen._layout(4, 16, "消费", "请刷卡",
                                                                   reserve=1))
    finally:
        screen.remember(0)
    eq(screen.MEMO[1], None, "off: nothing kept")


def test_rows_put_back_from_their_kept_bytes_draw_the_same_pixels():
    frames = []
    texts = (("中文", ["Amount:", "  12.50"], "ENTER"), ("Sale", ["Card?"], None),
             ("中文", ["Amount:", "  13.50"], "ENTER"), (None, ["T中T", "中" * 8], "~!@#"))
    for title, body, foot in texts + texts:
        frames.append(layout(4, 16, title, body, foot))
    inv = layout(4, 16, None, ["T中T"])
    inv.put(1, "T中T", inverse=True)
    frames.append(inv)
    frames.append(layout(4, 16, None, ["T中T"]))
    plain = CellDisplay(SSD1306(fakes.I2C()), _font())
    kept = CellDisplay(SSD1306(fakes.I2C()), _font())
    kept.row_cap = 3  # small: the generations turn over within the sequence
    for f in frames:
        plain.draw(f)
        kept.draw(f)
        eq(bytes(kept.panel.buf), bytes(plain.panel.buf), repr(f))
        eq(kept.cells_sent, plain.cells_sent, "the same cells sent")
    if kept._canvas is not None:  # framebuf (every board): rows were kept and put back
        true(len(kept._rows[0]) + len(kept._rows[1]) > 0, "rows kept")
    kept.forget_rows()
    eq(kept._rows, [{}, {}])


def test_the_kept_screens_and_rows_go_when_the_heap_is_short():
    from pos import overlay, overlaycache, text

    old = overlay.ENABLED
    overlay.ENABLED = True
    d = CellDisplay(SSD1306(fakes.I2C()), _font())
    try:
        true(overlaycache.configure({"overlay_cache": "always", "screens": (8, 8, 0, 64)}, 0, d))
        eq(screen.MEMO[0], 8)
        eq(d.row_cap, 8)
        eq(text._CACHED, 64, "the strings kept")
        layout(4, 16, "消费", "请刷卡")
        d.draw(layout(4, 16, "消费", "请刷卡"))
        true(screen.MEMO[1], "a screen kept")
        overlaycache.LOW = 1 << 40  # short of heap, whatever the board
        overlaycache.collected()
        eq(screen.MEMO[1], {}, "the screens given up")
        eq(d._rows, [{}, {}], "the rows given up")
        eq(text._CACHED, 8, "the strings: the few a board keeps without a policy")
        eq((screen.forget(), d.forget_rows()), (False, False), "nothing left to give up")
        overlaycache.collected()  # still short, nothing kept: nothing more to do
        true(overlaycache._SHORT[0], "the next action at the top gives the cache up")
        overlaycache.off()
        eq(screen.MEMO[1], None)
        eq(d.row_cap, 0)
    finally:
        overlaycache.off()
        overlay.ENABLED = old


def test_the_day_s_strings_are_kept_from_boot_and_given_up_when_the_heap_is_short():
    # policy "strings": the terminal's strings read pos.preload.STRINGS at boot when the heap
    # has that much free, and give them up with the screens (read when asked for again)
    from pos import overlay, overlaycache, preload
    from pos.memstorage import MemoryStorage
    from pos.text import Strings

    data = b'{"welcome": "W", "tx_void": "V\\"", "other": "O"}'
    old = overlay.ENABLED
    overlay.ENABLED = True
    try:
        s = Strings(MemoryStorage({"strings_zh.json": data}), "zh", indexed=True)
        big = {"overlay_cache": "always", "strings": 1 << 40}
        true(overlaycache.configure(big, 0, None, s))
        eq(s._dict, None, "not enough heap free: nothing kept")
        true(overlaycache.configure({"overlay_cache": "always", "strings": 1}, 0, None, s))
        eq(sorted(s._dict), ["tx_void", "welcome"], "the day's strings the file has")
        eq((s.get("tx_void"), s.get("other")), ('V"', "O"))
        true("welcome" in preload.STRINGS and "other" not in preload.STRINGS)
        overlaycache.LOW = 1 << 40  # short of heap, whatever the board
        overlaycache.collected()
        eq(s._dict, None, "given up")
        eq((s.get("welcome"), s.get("tx_void")), ("W", 'V"'), "read again from the file")
        true(overlaycache.configure({"overlay_cache": "always", "strings": 1}, 0, None, s))
        true(s._dict)
        overlaycache.off()
        eq(s._dict, None, "no policy: none kept")
    finally:
        overlaycache.off()
        overlay.ENABLED = old
