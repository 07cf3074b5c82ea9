# The cell grid on SSD1306 and ST7920 panels: golden bitmaps drawn with a small
# synthetic font, a box for a missing glyph, and only changed rows redrawn.
import io
import sys

import pos

_fw = pos.__file__.replace("\\", "/").rsplit("/", 2)[0]
if _fw not in sys.path:
    sys.path.append(_fw)

from boards import fakes  # noqa: E402
from boards.display import CellDisplay  # noqa: E402
from boards.font import Font, FontError, pack  # noqa: E402
from boards.ssd1306 import SSD1306  # noqa: E402
from boards.st7920 import ST7920  # noqa: E402
from pos.crc import crc32  # noqa: E402
from pos.screen import Frame, layout  # noqa: E402
from mptest import eq, raises, true  # noqa: E402

# "T" (8x16) and "中" (16x16) drawn by hand; every other ASCII char gets a
# pattern of its own so the bitmaps below pin placement, not just shape.
_T = (
    "........",
    "........",
    ".######.",
    "...##...",
    "...##...",
    "...##...",
    "...##...",
    "...##...",
    "...##...",
    "...##...",
    "........",
    "........",
    "........",
    "........",
    "........",
    "........",
)
_ZHONG = (
    "................",
    ".......#........",
    ".......#........",
    ".#############..",
    ".#.....#.....#..",
    ".#.....#.....#..",
    ".#.....#.....#..",
    ".#############..",
    ".......#........",
    ".......#........",
    ".......#........",
    ".......#........",
    ".......#........",
    "................",
    "................",
    "................",
)


def _bits(rows):
    out = bytearray()
    for row in rows:
        v = 0
        for ch in row:
            v = (v << 1) | (1 if ch == "#" else 0)
        out.extend(bytes((v,)) if len(row) == 8 else bytes((v >> 8, v & 0xFF)))
    return bytes(out)


def _font():
    narrow = {}
    for cp in range(0x20, 0x7F):
        narrow[cp] = bytes(((cp * 7 + r * 13) & 0xFF) if 2 <= r < 14 else 0 for r in range(16))
    narrow[0x20] = bytes(16)
    narrow[ord("T")] = _bits(_T)
    wide = {0x4E2D: _bits(_ZHONG), 0x6587: bytes(range(32))}
    return Font(io.BytesIO(pack(narrow, wide)))


def _art(panel, x0, x1, y0, y1):
    return [
        "".join("#" if panel.pixel(x, y) else "." for x in range(x0, x1)) for y in range(y0, y1)
    ]


def test_ssd1306_draws_half_and_full_width_glyphs_at_their_cells():
    i2c = fakes.I2C()
    panel = SSD1306(i2c)
    d = CellDisplay(panel, _font())
    f = Frame(4, 16)
    f.put(1, "T中T")
    d.draw(f)
    art = _art(panel, 0, 32, 16, 32)
    for y in range(16):
        eq(art[y], _T[y] + _ZHONG[y] + _T[y], "pixel row %d" % (16 + y))
    eq(_art(panel, 0, 128, 0, 16), ["." * 128] * 16, "row 0 blank")


def test_ssd1306_inverse_row_is_drawn_white_on_black():
    panel = SSD1306(fakes.I2C())
    d = CellDisplay(panel, _font())
    f = Frame(4, 16)
    f.put(0, "T", inverse=True)
    d.draw(f)
    art = _art(panel, 0, 16, 0, 16)
    for y in range(16):
        flipped = "".join("." if c == "#" else "#" for c in _T[y])
        eq(art[y], flipped + "#" * 8)


def test_golden_framebuffers_of_whole_screens():
    # crc32 of the 1024-byte SSD1306 page buffer (MONO_VLSB) for three screens
    screens = (
        (layout(4, 16, "中文", ["Amount:", "  12.50"], "ENTER"), 0x668D5F85),
        (layout(4, 16, "Sale", ["Card?"]), 0x30926E57),
        (
            layout(4, 16, None, ["T" * 16, "中" * 8, "~!@#$%^&*()_+{}|", "0123456789abcdef"]),
            0xEB2E722B,
        ),
    )
    for frame, want in screens:
        panel = SSD1306(fakes.I2C())
        CellDisplay(panel, _font()).draw(frame)
        eq("%08X" % crc32(panel.buf), "%08X" % want, repr(frame.text()))


def test_a_character_missing_from_the_font_draws_a_box():
    panel = SSD1306(fakes.I2C())
    d = CellDisplay(panel, _font())
    f = Frame(4, 16)
    f.put(2, "好é")  # neither is in the font: a wide box and a narrow box
    d.draw(f)
    art = _art(panel, 0, 24, 32, 48)
    eq(art[0], "." * 24)
    eq(art[1], ".##############." + ".######.")
    eq(art[7], ".#............#." + ".#....#.")
    eq(art[14], ".##############." + ".######.")
    eq(art[15], "." * 24)


def test_only_the_changed_cells_of_changed_rows_are_sent():
    i2c = fakes.I2C()
    panel = SSD1306(i2c)
    d = CellDisplay(panel, _font())
    f = layout(4, 16, "Sale", ["Card?"], "CANCEL")
    d.draw(f)
    eq(d.redrawn, 4)
    i2c.writes = []
    g = layout(4, 16, "Sale", ["Card? 1"], "CANCEL")
    d.draw(g)
    eq(d.redrawn, 1)
    eq(d.cells_sent, 1, "'1' after 'Card? '")
    data = [w[1] for w in i2c.writes if w[1][0] == 0x40]
    eq(len(data), 1, "one data transfer for the row's two pages")
    wins = [w[1] for w in i2c.writes if w[1][0] == 0x00]
    eq(len(wins), 1, "one window over the row's two pages")
    win = wins[0]
    eq(win[1], 0x21)
    eq(win[4], 0x22)
    eq((win[5], win[6]), (2, 3), "the pages of row 1")
    true(48 <= win[2] <= win[3] <= 55, "columns of cell 6: %r" % (win,))
    eq(len(data[0]), 1 + 2 * (win[3] - win[2] + 1))
    d.draw(g)
    eq(d.redrawn, 0)
    # the panel holds the same picture as a full redraw of the new frame
    whole = SSD1306(fakes.I2C())
    CellDisplay(whole, _font()).draw(g)
    eq(crc32(panel.buf), crc32(whole.buf))


def test_only_changed_pixel_columns_go_over_the_bus():
    i2c = fakes.I2C()
    panel = SSD1306(i2c)
    d = CellDisplay(panel, _font())
    f = Frame(4, 16)
    f.put(0, "TTTT")
    d.draw(f)
    i2c.writes = []
    d.invalidate()
    d.draw(f)  # the same picture again: nothing differs on the panel
    eq(i2c.writes, [])
    panel.refresh()
    eq(sum(len(w[1]) for w in i2c.writes), 7 + 1 + 1024, "a full frame on the bus")


def test_a_changed_span_never_splits_a_wide_glyph_and_inverse_resends_the_row():
    panel = SSD1306(fakes.I2C())
    d = CellDisplay(panel, _font())
    f = Frame(4, 16)
    f.put(1, "T中T")
    d.draw(f)
    g = Frame(4, 16)
    g.put(1, "TT文")  # cell 1 was the left half of 中, cell 2 its right half
    d.draw(g)
    eq(d.cells_sent, 3)
    h = Frame(4, 16)
    h.put(1, "TT文", inverse=True)
    d.draw(h)
    eq(d.cells_sent, 16, "an inverse flip redraws the whole row")
    for frame in (g, h):
        whole = SSD1306(fakes.I2C())
        CellDisplay(whole, _font()).draw(frame)
        if frame is h:
            eq(crc32(panel.buf), crc32(whole.buf))


def test_a_bad_font_file_is_refused_with_a_font_error():
    with raises(FontError):
        Font(io.BytesIO(b"NOPE" + bytes(20)))


def test_st7920_sends_rows_as_three_byte_serial_writes():
    spi = fakes.SPI()
    cs = fakes.Pin(13, fakes.Pin.OUT)
    panel = ST7920(spi, cs)
    d = CellDisplay(panel, _font())
    f = Frame(4, 16)
    d.draw(f)
    spi.writes = []
    f.put(3, "T")
    d.draw(f)
    # row 3 = pixel rows 48..63: the lower half of GDRAM, x address 8; only the first
    # 16-px word (cells 0 and 1) changed
    eq(len(spi.writes), 2 * 16)
    eq(spi.writes[0], bytes((0xF8, 0x90, 0x00, 0x80, 0x80)))  # y 16 (48-32), x 8
    eq(spi.writes[1][0], 0xFA)
    eq(len(spi.writes[1]), 1 + 2 * 2)
    eq(_art(panel, 0, 8, 48, 64), list(_T))
    eq(cs.writes[-2:], [1, 0])
    spi.writes = []
    f.put(3, "T  T")  # cell 3 changed: the word of cells 2 and 3, x address 8 + 1
    d.draw(f)
    eq(spi.writes[0], bytes((0xF8, 0x90, 0x00, 0x80, 0x90)))  # x 0x89
    eq(len(spi.writes[1]), 1 + 2 * 2)
    eq(_art(panel, 24, 32, 48, 64), list(_T))


def _replay(writes):
    # An SSD1306 as the datasheet describes it, fed the bytes the driver wrote: control
    # 0x80 (one command), 0x00 (commands), 0x40 (data); horizontal addressing, data
    # fills the column window and wraps to the next page of the page window.
    ram = bytearray(128 * 8)
    state = {"c0": 0, "c1": 127, "p0": 0, "p1": 7, "c": 0, "p": 0}
    cmds = []
    for _addr, w in writes:
        if w[0] == 0x40:
            for v in w[1:]:
                ram[state["p"] * 128 + state["c"]] = v
                state["c"] += 1
                if state["c"] > state["c1"]:
                    state["c"] = state["c0"]
                    state["p"] += 1
                    if state["p"] > state["p1"]:
                        state["p"] = state["p0"]
            continue
        cmds.extend(w[1:])
        while cmds:
            op = cmds[0]
            if op in (0x21, 0x22):
                if len(cmds) < 3:
                    break
                if op == 0x21:
                    state["c0"], state["c1"] = cmds[1], cmds[2]
                    state["c"] = cmds[1]
                else:
                    state["p0"], state["p1"] = cmds[1], cmds[2]
                    state["p"] = cmds[1]
                del cmds[:3]
            elif op in (0x20, 0x81, 0xA8, 0xD3, 0xDA, 0xD5, 0xD9, 0xDB, 0x8D):
                if len(cmds) < 2:
                    break
                del cmds[:2]
            else:
                del cmds[:1]
    return ram


def test_what_goes_over_the_bus_draws_what_the_driver_holds():
    # replayed on a model of the panel, the bytes on the bus give the driver's picture,
    # screen after screen (partial windows over two pages included)
    i2c = fakes.I2C()
    panel = SSD1306(i2c)
    d = CellDisplay(panel, _font())
    screens = (
        layout(4, 16, "Sale", ["Card?"], "CANCEL"),
        layout(4, 16, "Sale", ["Card? 1"], "CANCEL"),
        layout(4, 16, "\u4e2d T", ["TT  T", "T\u4e2dT"], None),
        layout(4, 16, None, ["T", "", "  TTTT"], "OK"),
        layout(4, 16, "Sale", ["Card? 1"], "CANCEL"),
    )
    for f in screens:
        d.draw(f)
        eq(crc32(_replay(i2c.writes)), crc32(panel.buf))


def test_the_ssd1306_init_sequence_follows_the_panel_size():
    from boards.ssd1306 import init_sequence

    for (w, h), mux, com in (((128, 64), 63, 0x12), ((128, 32), 31, 0x02), ((96, 16), 15, 0x02)):
        seq = init_sequence(w, h)
        eq(seq[seq.index(0xA8) + 1], mux, "multiplex of %dx%d" % (w, h))
        eq(seq[seq.index(0xDA) + 1], com, "COM pins of %dx%d" % (w, h))
    i2c = fakes.I2C()
    panel = SSD1306(i2c, 0x3C, 128, 32)
    cmds = [data[1] for addr, data in i2c.writes if data[0] == 0x80]
    eq(cmds, list(init_sequence(128, 32)), "what a 128x32 panel is sent at power-up")
    eq(len(panel.buf), 512)
    eq(init_sequence(128, 64, external_vcc=True)[-2], 0x10, "no charge pump on external VCC")


def test_the_framebuf_path_draws_what_the_python_transpose_draws():
    # MicroPython: framebuf (C) converts the bands; CPython has no framebuf and transposes
    import mptest

    a = SSD1306(fakes.I2C())
    b = SSD1306(fakes.I2C())
    eq(a._fb is not None, mptest.on_micropython(), "framebuf is used where it exists")
    eq(a.canvas is not None, mptest.on_micropython(), "glyphs are blitted where it exists")
    b._fb = None  # the Python transpose
    b.canvas = None  # and the row-major bands built in Python
    font = _font()
    da = CellDisplay(a, font)
    db = CellDisplay(b, font)
    screens = (
        ["T中T", "", "金额:12.50", ""],
        ["", "中中中", "x", "abcdefghijklmnop"],
        ["字T中", "T文T文T", "中字", "TTTTTTTTTTTTTTT中"],  # boxes, inverse, a cut wide glyph
        ["T中T", "", "金额:12.50", ""],
    )
    for lines in screens:
        f = Frame(4, 16)
        for i, text in enumerate(lines):
            f.put(i, text, "left", i == 2)
        da.draw(f)
        db.draw(f)
        eq(bytes(a.buf), bytes(b.buf), "the same pixels")
        whole = SSD1306(fakes.I2C())
        whole.canvas = None
        whole._fb = None
        CellDisplay(whole, font).draw(f)
        eq(bytes(a.buf), bytes(whole.buf), "the same pixels as a full Python redraw")


def test_a_glyph_stays_itself_after_other_glyphs_share_its_cache_slot():
    # the font's cache is fixed slots (code point % 64): a glyph handed out must not change
    # when another character takes its slot (the display keeps glyphs of its own)
    wide = {0x4E2D: _bits(_ZHONG), 0x4E2D + 64: bytes(range(32)), 0x4E2D + 128: bytes(32)}
    font = Font(io.BytesIO(pack({0x41: bytes(16)}, wide)))
    w, zhong = font.glyph("中")
    eq((w, bytes(zhong)), (16, _bits(_ZHONG)))
    font.glyph(chr(0x4E2D + 64))
    font.glyph(chr(0x4E2D + 128))
    eq(bytes(zhong), _bits(_ZHONG), "the first glyph's rows")
    eq(font.glyph("中"), (16, _bits(_ZHONG)), "and read again from the file")


def test_a_display_with_room_keeps_a_days_glyphs_and_reads_each_from_the_font_once():
    # the display keeps 64 glyphs and starts again when full (a day draws ~150 different
    # characters: ~1,000 font reads); a board's memory policy with heap to spare keeps more
    # (pos.overlaycache.configure "glyphs"), so each is read once and then drawn from RAM
    font = _font()
    reads = []
    real = font.glyph_cp

    def counting(cp):
        reads.append(cp)
        return real(cp)

    font.glyph_cp = counting
    texts = []
    chars = [chr(c) for c in range(0x21, 0x7F)]  # 94 characters, six screens of 16
    for i in range(0, len(chars), 16):
        texts.append("".join(chars[i : i + 16]))
    counts = []
    for cap in (None, 128):
        d = CellDisplay(SSD1306(fakes.I2C()), font, rows=4)
        if cap is not None:
            d.glyph_cap = cap
        del reads[:]
        for _ in range(2):  # the same screens twice, as a day's menus and prompts come back
            for text in texts:
                f = Frame(4, 16)
                f.put(1, text)
                d.draw(f)
        counts.append(len(reads))
    if d._canvas is not None:  # framebuf (every board): the display's own glyph cache
        true(counts[0] > len(chars) + 64, "64 kept: read again (%d reads)" % counts[0])
        eq(counts[1], len(chars) + 1, "128 kept: each read once (and the space)")
    else:  # CPython: no framebuf, the font read at every draw whatever the cap
        eq(counts[0], counts[1])


def test_the_memory_policy_raises_the_glyph_cap_only_with_room_for_it():
    from pos import overlay
    from pos import overlaycache as oc

    old = overlay.ENABLED
    overlay.ENABLED = True
    try:
        for need, cap in ((1024, 160), (1 << 62, 64)):
            d = CellDisplay(SSD1306(fakes.I2C()), _font(), rows=4)
            true(oc.configure({"overlay_cache": "always", "glyphs": (160, need)}, 0, d))
            eq(d.glyph_cap, cap, "needing %d B free" % need)
            oc.off()
        d = CellDisplay(SSD1306(fakes.I2C()), _font(), rows=4)
        eq(oc.configure(None, 0, d), False)
        eq(d.glyph_cap, 64, "no policy (the ESP32): the display's own")
    finally:
        oc.off()
        overlay.ENABLED = old


def test_an_action_or_exchange_forgets_the_glyphs_kept_unless_a_policy_keeps_a_day_s():
    # pos.actions and pos.center call forget_glyphs() as an action and an exchange start (the
    # heap is shortest there on a board): the display's own 64 are dropped and turned again
    # by the next draw; a memory policy that raised the cap (the Pico, heap to spare) keeps
    # its glyphs
    for cap, kept in ((None, False), (160, True)):
        d = CellDisplay(SSD1306(fakes.I2C()), _font(), rows=4)
        if cap is not None:
            d.glyph_cap = cap
        f = Frame(4, 16)
        f.put(1, "AB")
        d.draw(f)
        if d._canvas is None:
            continue  # CPython: no framebuf, no glyphs kept
        true(len(d._glyphs) > 0, "the draw kept its glyphs")
        d.forget_glyphs()
        eq(len(d._glyphs) > 0, kept, "cap %s" % cap)
