# boards.font.Font reads a ROMFS font file in place (a file object with the buffer protocol:
# MicroPython 1.25+'s ROMFS files are memory-mapped flash): no glyph cache, the same glyphs
# as from a file read with seek/readinto.
import io
import sys

import pos

_fw = pos.__file__.replace("\\", "/").rsplit("/", 2)[0]
if _fw not in sys.path:
    sys.path.append(_fw)

from boards.font import Font, FontError, pack  # noqa: E402
from mptest import eq, raises  # noqa: E402


def _font_bytes():
    narrow = {}
    for cp in range(0x20, 0x7F):
        narrow[cp] = bytes((cp + i) & 0xFF for i in range(16))
    wide = {}
    for k in range(200):
        cp = 0x4E00 + 7 * k
        wide[cp] = bytes((k + 3 * i) & 0xFF for i in range(32))
    return pack(narrow, wide), narrow, wide


def test_a_font_in_memory_gives_the_same_glyphs_as_the_file_and_keeps_no_cache():
    data, narrow, wide = _font_bytes()
    mapped = Font(data)  # bytes have the buffer protocol, as a ROMFS file has
    filed = Font(io.BytesIO(data))
    eq(mapped._map is not None, True, "read in place")
    eq(hasattr(mapped, "_bits"), False, "no cache slots")
    for cp in sorted(narrow):
        eq(mapped.glyph(chr(cp)), (8, narrow[cp]), cp)
        eq(filed.glyph(chr(cp)), (8, narrow[cp]), cp)
    for cp in sorted(wide):
        eq(mapped.glyph(chr(cp)), (16, wide[cp]), cp)
        eq(filed.glyph(chr(cp)), mapped.glyph(chr(cp)), cp)
    eq(mapped.glyph("\u4e01"), None, "a character the font lacks")
    eq(mapped.glyph("\U0001f600"), None)
    mapped.forget()
    eq(mapped.has("A"), True)


def test_a_font_cut_short_in_memory_is_refused():
    data, _, _ = _font_bytes()
    with raises(FontError):
        Font(data[: len(data) - 1])
    with raises(FontError):
        Font(b"NOPE" + data[4:])


def test_a_display_over_a_font_read_in_place_blits_from_it_and_keeps_no_glyphs():
    # boards.display over a ROMFS font (memory-mapped: bytes here): each glyph is blitted
    # from the map, the same pixels as over the font read from a file; no glyph framebufs
    # are kept (they were long-lived objects made mid-day), only where each glyph lies
    import mptest
    from boards import fakes
    from boards.display import CellDisplay
    from boards.ssd1306 import SSD1306
    from pos.screen import Frame

    data, _, _ = _font_bytes()
    a = SSD1306(fakes.I2C())
    b = SSD1306(fakes.I2C())
    da = CellDisplay(a, Font(data))
    db = CellDisplay(b, Font(io.BytesIO(data)))
    eq(da._map is not None, mptest.on_micropython(), "blitted from the map where framebuf is")
    screens = (
        ["AB\u4e00C", "", "12.50 \u4e07", ""],
        ["", "\u4e00\u4e07\u4e0e", "x", "abcdefghijklmnop"],
        # a character the font lacks (a box, both widths), inverse rows, a wide glyph cut
        # at the end of a changed span
        ["\u4e01A\u4e00", "\u00e9T\u4e07T", "\u4e00\u4e01", "TTTTTTTTTTTTTTT\u4e00"],
        ["AB\u4e00C", "", "12.50 \u4e07", "ABC"],
    )
    for k, lines in enumerate(screens):
        f = Frame(4, 16)
        for i, text in enumerate(lines):
            f.put(i, text, "left", i == (k % 3))
        da.draw(f)
        db.draw(f)
        eq(bytes(a.buf), bytes(b.buf), "the same pixels, screen %d" % k)
    if da._map is not None:
        eq(len(da._glyphs), 0, "no glyph kept as a framebuf")
        eq(len(db._glyphs) > 0, True, "(the file's font is cached as before)")


def test_the_displays_glyph_places_are_given_back_and_made_again_and_it_draws_the_same():
    # the display's caches are the heap an approval short of it may take (pos.terminal's
    # reserve, given by boards.runner): drawing goes on without them, the same pixels
    from boards import fakes
    from boards.display import CellDisplay
    from boards.ssd1306 import SSD1306
    from pos.screen import Frame

    data, _, _ = _font_bytes()
    a = SSD1306(fakes.I2C())
    b = SSD1306(fakes.I2C())
    da = CellDisplay(a, Font(data))
    db = CellDisplay(b, Font(data))
    lines = ["AB\u4e00C", "\u4e01x", "12.50 \u4e07", "TTTTTTTTTTTTTTT\u4e00"]
    f = Frame(4, 16)
    for i, text in enumerate(lines):
        f.put(i, text, "left", i == 1)
    da.draw(f)
    eq(da.give_back(), da._map is not None or len(da._glyphs) > 0, "held something")
    eq(da._spot_cp, None, "the glyph places dropped")
    eq(len(da._glyphs), 0)
    eq(da.give_back(), False, "nothing more to give")
    da.invalidate()
    da.draw(f)  # without them
    db.draw(f)
    eq(bytes(a.buf), bytes(b.buf), "the same pixels without the caches")
    da.take_again()
    eq(da._spot_cp is not None, da._map is not None, "made again (a mapped font)")
    da.invalidate()
    da.draw(f)
    eq(bytes(a.buf), bytes(b.buf), "and with them")


def test_glyph_places_short_of_heap_are_made_whole_or_not_at_all():
    # take_again at idle may run out of heap between its two arrays: the display must not
    # keep the code points without their places (the next draw stopped the board on a
    # TypeError: board sim, ESP32 ROMFS day at a 100 KB cap)
    from boards import fakes
    from boards.display import CellDisplay
    from boards.ssd1306 import SSD1306
    from pos.screen import Frame

    import array as real

    made = [0]

    class ShortArray:
        @staticmethod
        def array(code, items):
            made[0] += 1
            if made[0] == 2:  # the places, after the code points
                raise MemoryError("memory allocation failed")
            return real.array(code, items)

    data, _, _ = _font_bytes()
    d = CellDisplay(SSD1306(fakes.I2C()), Font(data))
    if d._map is None:
        return  # (a display without the mapped font keeps no places)
    d.give_back()
    sys.modules["array"] = ShortArray
    try:
        with raises(MemoryError):
            d.take_again()
    finally:
        sys.modules["array"] = real
    eq((d._spot_cp, d._spot_at), (None, None), "neither kept")
    f = Frame(4, 16)
    f.put(0, "AB\u4e00C", "left")
    d.draw(f)  # draws (each glyph located in the font)
    d.take_again()
    eq(d._spot_cp is not None and d._spot_at is not None, True, "both made once there is heap")
