# The core's cell grid on a 128x64 mono display: each row of cells is a band of
# 16 pixel rows, each cell 8 px (a wide CJK character takes two cells, 16 px).
# Bands are rendered row-major (MSB = leftmost pixel) and handed to the panel
# driver (ssd1306.py, st7920.py). Only what changed since the last draw is sent:
# per row, the span of cells from the first to the last one that differs (a whole
# row when its inverse flag flips), widened to the panel's column alignment
# (panel.x_align cells: 1 on the SSD1306, 2 on the ST7920, whose GDRAM is addressed
# in 16-px words). A character missing from the font draws as a box.
#
# On MicroPython a panel that offers a `canvas` (a framebuf over its band buffer, as the
# SSD1306 driver does) is drawn with framebuf, in C: each glyph is one blit into the
# panel's own pixel layout (an inverse row: a filled band and glyphs blitted through an
# inverting palette), then panel.put_band() sends what differs. CPython has no framebuf:
# there the band is built row-major in Python and handed to panel.write_band(). Both
# give the same pixels (tests/core/test_board_display.py).
from pos import cells
from pos.compat import TYPE_CHECKING, const

if TYPE_CHECKING:
    from typing import Any  # noqa: F401 - type comments only (no typing on the board)

try:
    import framebuf  # in C on every MicroPython port
except ImportError:  # CPython
    framebuf = None  # type: ignore[assignment]

BAND = 16  # pixel rows per cell row
# glyph framebuffers kept (about 140 B each on a board, ~220 B on the x64 unix port: a tuple
# and two bytes objects, and their dict entry): up to ~14 KB of x64 heap, so a board whose
# memory policy keeps no more (the ESP32) drops them as each action and each exchange starts
# (forget_glyphs: pos.actions, pos.center), where the heap is shortest
_GLYPHS = 64
_SPOTS = const(256)  # a font read in place: where each glyph is, direct-mapped (cp % 256)
_NOWHERE = const(0xFFFF)


def _box(width):
    # the "no glyph" box: a frame one pixel inside the cell
    if width == 16:
        mid = b"\x40\x02"
        edge = b"\x7f\xfe"
        return b"\x00\x00" + edge + mid * 12 + edge + b"\x00\x00"
    return b"\x00\x7e" + b"\x42" * 12 + b"\x7e\x00"


_HALF = -1  # a cell map's right half of a wide character
_END = -2  # ... a cell past the end of the text (blank)


def cell_map(text, cols):
    # -> `cols` ints, one per cell (a list, or an ASCII row's bytes): the code point of the
    # character starting there, _HALF for the right half of a wide character, _END past the
    # end of the text. Read from
    # the text's UTF-8 bytes (str.encode(), in C): on MicroPython each character taken out
    # of a str is a str made, first looked for among the interned names (~1.4 us each on the
    # unix port with the firmware's ~1,500 names: most of a screen's draw); a byte is an int.
    b = text.encode()
    n = len(b)
    if n == len(text):  # ASCII: a cell a byte
        if n >= cols:
            # the bytes themselves (a row put by Frame.put is its full width): indexed as the
            # list is (a byte is an int), no list made, and a quarter of its heap kept shown
            return b if n == cols else b[:cols]
        out = list(b)
        while len(out) < cols:
            out.append(_END)
        return out
    out = [_END] * cols  # (one allocation: the cells past the text's end already _END)
    # (8 locals, each expression at most 3 deep: 11 words of state, so that MicroPython keeps
    # the frame on the C stack, not taken from the heap at every row drawn; so c is the lead
    # byte, then the code point, and i moves on a byte at a time)
    used = 0
    i = 0
    while i < n:
        c = b[i]
        i += 1
        # the two kinds of nearly every cell first, each in a few steps: ASCII, and the lead
        # byte of U+5000..U+9FFF (wide; ~70 bytecodes a CJK character went through the
        # general decoding and the width's range tests, the most of a row's draw)
        if c < 0x80:
            if used == cols:
                break
            out[used] = c
            used += 1
            continue
        if 0xE5 <= c <= 0xE9:
            if used + 2 > cols:
                break
            c = ((c & 0x0F) << 6) | (b[i] & 0x3F)
            i += 1
            out[used] = (c << 6) | (b[i] & 0x3F)
            i += 1
            used += 1
            out[used] = _HALF
            used += 1
            continue
        if c < 0xE0:  # U+0080..U+07FF
            c &= 0x1F
        elif c < 0xF0:
            c = ((c & 0x0F) << 6) | (b[i] & 0x3F)
            i += 1
        else:
            c = ((c & 0x07) << 6) | (b[i] & 0x3F)
            i += 1
            c = (c << 6) | (b[i] & 0x3F)
            i += 1
        c = (c << 6) | (b[i] & 0x3F)
        i += 1
        if c >= 0x1100 and cells.cp_width(c) == 2:
            if used + 2 > cols:
                break
            out[used] = c
            used += 1
            out[used] = _HALF
        else:
            if used == cols:
                break
            out[used] = c
        used += 1
    return out


def render_cells(font, cmap, inverse, c0, c1):
    # -> bytearray of BAND rows x (c1 - c0) bytes: cells c0..c1-1 of a row given as
    # cell_map() output (c0 and c1 must not split a wide character).
    stride = c1 - c0
    band = bytearray(BAND * stride)
    for x in range(c0, c1):
        cp = cmap[x]
        if cp < 0:
            continue  # right half of a wide glyph, or past the end (blank)
        w = 2 if x + 1 < len(cmap) and cmap[x + 1] == _HALF else 1
        g = font.glyph_cp(cp) if font is not None else None
        if g is None:
            gw, data = (16, _box(16)) if w == 2 else (8, _box(8))
        else:
            gw, data = g
        nb = gw >> 3
        if nb > w:
            nb = w  # a 16-px glyph in a 1-cell slot: keep its left half
        if nb > c1 - x:
            nb = c1 - x
        o = x - c0
        s = 0
        for _row in range(BAND):
            for k in range(nb):
                band[o + k] = data[s + k]
            o += stride
            s += gw >> 3
    if inverse:
        for i in range(len(band)):
            band[i] ^= 0xFF
    return band


def render_band(font, text, inverse, cols):
    # -> bytearray of BAND rows x cols bytes: a whole row
    return render_cells(font, cell_map(text, cols), inverse, 0, cols)


def changed_span(old, new, align=1):
    # old/new: cell maps of the same width. -> (c0, c1) of the cells to resend, or None
    n = len(new)
    c0 = 0
    while c0 < n and old[c0] == new[c0]:
        c0 += 1
    if c0 == n:
        return None
    c1 = n
    while old[c1 - 1] == new[c1 - 1]:
        c1 -= 1
    # never split a wide glyph, old or new
    if c0 > 0 and (new[c0] == _HALF or old[c0] == _HALF):
        c0 -= 1
    if c1 < n and (new[c1] == _HALF or old[c1] == _HALF):
        c1 += 1
    if align > 1:
        c0 -= c0 % align
        c1 += (align - c1 % align) % align
        if c1 > n:
            c1 = n
    return c0, c1


class CellDisplay:
    glyph_cap = _GLYPHS  # glyphs kept: a board's memory policy may keep more (a day's ~150)

    def __init__(self, panel, font, rows=4, cols=16):
        # panel: width, height, write_band(y, band, stride, x=0) with x in cells of 8 px,
        # optional x_align (cells)
        self.panel = panel
        self.font = font
        self.rows = rows
        self.cols = cols
        self._align = getattr(panel, "x_align", 1)
        self._shown = [None] * rows  # type: list
        self.redrawn = 0  # rows sent by the last draw (tests, logs)
        self.cells_sent = 0  # cells sent by the last draw
        self._canvas = getattr(panel, "canvas", None) if framebuf is not None else None
        self._buf = getattr(panel, "canvas_buf", None)  # type: Any
        # rows drawn before, kept by a board's memory policy (row_cap > 0: the rows' canvas
        # bytes, two generations of row_cap each; pos.overlaycache.configure "screens"): a row
        # shown again (a title, a prompt, a menu's items) is put back, not drawn glyph by glyph
        self.row_cap = 0
        self._rows = [{}, {}]  # type: Any
        self._glyphs = {}  # code point -> its glyph as the framebuf path keeps it
        # A canvas whose bytes are MONO_VLSB pages (the SSD1306's band: page 0's columns,
        # then page 1's at canvas_width) is drawn by copying: each glyph kept in the canvas's
        # own layout (turned once, by a framebuf blit, when first drawn) and put in with two
        # slice assignments (memmove), not blitted pixel by pixel (~3,000 instructions a wide
        # glyph on the unix port, most of a screen's draw)
        self._pagew = 0
        if self._buf is not None and self._canvas is not None:
            self._pagew = getattr(panel, "canvas_width", 0)
        # the shipped texts' glyphs already in that layout (boards/data/pages16.bin, built by
        # `posterm flash`: the font's format), read in place from a ROMFS image: a glyph kept
        # is copied from there, not turned. boot sets pages_at (the data directory); opened
        # at the first glyph kept (never on a board that keeps none)
        self.pages_at = None  # type: Any
        self._pages = None  # type: Any
        self._invert = None
        # A font read in place (a ROMFS image's file: memory-mapped flash) is blitted from
        # the map itself: no glyph copies, no framebuf per glyph, nothing allocated that
        # outlives a draw (the cache of framebufs was made as characters first showed,
        # scattered between a day's long-lived objects). Only where each glyph lies is
        # kept, in two arrays made here once: code point and offset, slot cp % _SPOTS.
        self._map = None  # type: Any
        if self._canvas is not None and font is not None:
            self._map = getattr(font, "_map", None)
        self._spot_cp = None  # type: Any
        self._spot_at = None  # type: Any
        if self._map is not None:
            self.take_again()
            self._boxes = (_box(8), _box(16))
            self._src = [None, 8, BAND, framebuf.MONO_HLSB]
        # (made at the first glyph kept: a board drawing from the mapped font makes none)
        self._scratch = None  # type: Any  # glyph width -> a framebuf to turn a glyph in
        self._zeros = None  # type: Any  # a blank page's bytes
        if self._canvas is not None:
            pal = framebuf.FrameBuffer(bytearray(1), 2, 1, framebuf.MONO_HLSB)
            pal.pixel(0, 0, 1)  # a 0 pixel of the glyph is drawn 1, a 1 pixel 0
            pal.pixel(1, 0, 0)
            self._invert = pal

    def draw(self, frame):
        rows = frame.rows if frame.rows < self.rows else self.rows
        cols = self.cols
        shown = self._shown
        panel = self.panel
        # how rows are drawn, decided once a draw (not at each row): 1 from the mapped font
        # (the ESP32: no glyphs kept), 2 the canvas's bytes copied (the SSD1306's pages), 3
        # the canvas with kept rows or blitted glyphs, 0 a band built in Python (CPython)
        how = 0
        if self._map is not None and self.glyph_cap <= _GLYPHS:
            # (a memory policy that raised the cap has heap to spare: its framebufs
            # draw a full screen ~1.3x faster, so it keeps them)
            how = 1
        elif self._canvas is not None:
            how = 2 if self._pagew and not (self.row_cap and self._buf is not None) else 3
        redrawn = 0
        sent = 0
        self.redrawn = 0
        self.cells_sent = 0
        for r in range(rows):
            line = frame.lines[r]
            inv = (frame.inverse >> r) & 1  # (Frame.is_inverse without its call)
            old = shown[r]
            if old is not None and old[0] == line and old[1] == inv:
                continue
            cmap = cell_map(line, cols)
            c0 = 0
            c1 = cols
            if old is not None and old[1] == inv:
                span = changed_span(old[2], cmap, self._align)
                if span is None:
                    shown[r] = (line, inv, cmap)
                    continue
                c0, c1 = span
            # unknown until written: a glyph read or a bus write that fails (an I/O error,
            # out of heap) leaves the row to be sent whole by the next draw
            shown[r] = None
            if how == 2:
                self._copy_cells(cmap, inv, c0, c1)
                panel.put_band(r * BAND, c0 * 8, c1 * 8)
            elif how == 1:
                self._blit_mapped(cmap, inv, c0, c1)
                panel.put_band(r * BAND, c0 * 8, c1 * 8)
            elif how == 3:
                if self.row_cap and self._buf is not None:
                    self._cached_row(line, inv, cmap)
                else:
                    self._blit_cells(cmap, inv, c0, c1)
                panel.put_band(r * BAND, c0 * 8, c1 * 8)
            else:
                band = render_cells(self.font, cmap, inv, c0, c1)
                if c0 == 0:
                    panel.write_band(r * BAND, band, c1)
                else:
                    panel.write_band(r * BAND, band, c1 - c0, c0)
            shown[r] = (line, inv, cmap)
            redrawn += 1
            sent += c1 - c0
            self.redrawn = redrawn
            self.cells_sent = sent

    def _glyph_fb(self, cp, w):
        # -> (width px, framebuf, its bytes) of code point cp's glyph (the box when the font
        # lacks it); the framebuf is None for a blank glyph (a space: the band's fill is it)
        g = self.font.glyph_cp(cp) if self.font is not None else None
        if g is None:
            gw, data = (16, _box(16)) if w == 2 else (8, _box(8))
        else:
            gw, data = g
        buf = bytearray(data)
        fb = framebuf.FrameBuffer(buf, gw, BAND, framebuf.MONO_HLSB) if any(buf) else None
        if len(self._glyphs) >= self.glyph_cap:
            self._glyphs.clear()
        out = (gw, fb, buf)  # the framebuf's own bytes (the font's copy is not kept too)
        self._glyphs[cp] = out
        return out

    def _glyph_cols(self, cp, w):
        # -> (bytes a page, page 0's column bytes, page 1's) of code point cp's glyph in the
        # canvas's layout, fitted to its w cells (8 * w bytes a page: a 16-px glyph in one
        # cell its left half, an 8-px one in two the rest blank; the box when the font lacks
        # it), kept: as much heap as a kept framebuf and its bytes took. From the pages file:
        # views of the mapped file (flash), no bytes copied. Else turned by a blit into a
        # scratch framebuf made once (of its width); from a mapped font the blit's source is
        # the map itself: the two pages' bytes are all that is made
        if self.pages_at is not None:
            self.open_pages()
        pg = self._pages
        g = None  # type: Any
        if pg:
            at = pg.locate(cp) if cp < _NOWHERE else -1
            if at > 0:
                gw = 8 if at < pg._wide_data else 16
                m = pg._map
                g = (gw, m[at : at + gw], m[at + gw : at + 2 * gw])
        if g is None:  # turned from the font's rows (a framebuf blit), or the box
            font = self.font
            m = getattr(font, "_map", None) if font is not None else None
            src = None  # type: Any
            if m is not None:
                at = font.locate(cp) if cp < _NOWHERE else -1
                if at > 0:
                    gw = 8 if at < font.wide_data else 16
                    src = [m[at : at + 2 * gw], gw, BAND, framebuf.MONO_HLSB]
            if src is None:
                g = font.glyph_cp(cp) if font is not None else None
                if g is None:
                    gw, data = (16, _box(16)) if w == 2 else (8, _box(8))
                else:
                    gw, data = g
                src = (data, gw, BAND, framebuf.MONO_HLSB)
            if self._scratch is None:
                self._scratch = {}
            sc = self._scratch.get(gw)
            if sc is None:
                cols = bytearray(2 * gw)
                mv = memoryview(cols)
                sc = (framebuf.FrameBuffer(cols, gw, BAND, framebuf.MONO_VLSB), mv[:gw], mv[gw:])
                self._scratch[gw] = sc
            sc[0].blit(src, 0, 0)
            g = (gw, bytes(sc[1]), bytes(sc[2]))
        gw = g[0]
        if gw != 8 * w:
            if gw > 8 * w:
                g = (8, g[1][:8], g[2][:8])
            else:
                pad = bytes(8)
                g = (16, bytes(g[1]) + pad, bytes(g[2]) + pad)
        kept = self._glyphs
        if len(kept) >= self.glyph_cap:
            kept.clear()
        kept[cp] = g
        return g

    def open_pages(self):
        # (a memory policy that keeps glyphs calls it when it raises glyph_cap, at boot)
        # the pages file, once: kept only when read in place (a ROMFS image's file: memory-
        # mapped flash); False when there is none, or it is a filesystem's file (a glyph read
        # through it would cost a file read: the font's own glyph is turned instead)
        path = self.pages_at
        if path is None:
            return
        self.pages_at = None
        self._pages = False
        try:
            from boards.font import Font

            pg = Font.open(path + "/pages16.bin")
        except (OSError, ValueError):
            return
        if pg._map is not None:
            pg.by_high_byte()
            self._pages = pg
        else:
            pg.close()

    def _copy_cells(self, cmap, inverse, c0, c1):
        # cells c0..c1-1 of a row into the canvas's bytes: each glyph's columns (kept fitted
        # to its cells) copied to both pages, the cells past the text's end cleared in one
        # copy; an inverse row is then turned over in place. (~40 bytecodes a cell: the
        # glyph's fitting, once, when it is kept, not at every draw)
        buf = self._buf  # type: Any
        pw = self._pagew
        kept = self._glyphs
        a = c0 * 8
        end = c1 * 8
        x = c0
        while a < end:
            cp = cmap[x]
            if cp < 0:
                if cp == _END:  # the rest of the span (an _END is followed by _ENDs only)
                    blank = self._zeros
                    if blank is None:
                        blank = self._zeros = memoryview(bytes(pw))
                    buf[a:end] = blank[a:end]
                    buf[pw + a : pw + end] = blank[a:end]
                    break
                a += 8  # the right half of a wide glyph at the span's start: its own
                x += 1
                continue
            g = kept.get(cp)
            if g is None:
                n = x + 1
                g = self._glyph_cols(cp, 2 if n < len(cmap) and cmap[n] == _HALF else 1)
            n = g[0]
            if a + n > end:
                n = end - a  # (changed_span never splits a wide glyph: defensive)
                buf[a:end] = g[1][:n]
                buf[pw + a : pw + end] = g[2][:n]
                break
            buf[a : a + n] = g[1]
            buf[pw + a : pw + a + n] = g[2]
            a += n
            x += n >> 3
        if inverse:
            # each page's span of bytes turned over as one big int (XOR in C, a few
            # allocations), not blitted through the inverting palette (framebuf's blit goes
            # pixel by pixel: ~170k instructions for a 16-cell row on the unix port)
            a = c0 * 8
            e = c1 * 8
            n = e - a
            m = (1 << (n << 3)) - 1
            buf[a:e] = (int.from_bytes(buf[a:e], "big") ^ m).to_bytes(n, "big")
            a += pw
            e += pw
            buf[a:e] = (int.from_bytes(buf[a:e], "big") ^ m).to_bytes(n, "big")

    def _blit_cells(self, cmap, inverse, c0, c1):
        # cells c0..c1-1 of a row into the panel's canvas, at their own columns: the band
        # filled, then each glyph that is not blank blitted (C)
        if self._pagew:
            self._copy_cells(cmap, inverse, c0, c1)
            return
        cv = self._canvas  # type: Any
        cv.fill_rect(c0 * 8, 0, (c1 - c0) * 8, BAND, 1 if inverse else 0)
        pal = self._invert if inverse else None
        glyphs = self._glyphs
        blit = cv.blit
        half = _HALF
        n = len(cmap)
        for x in range(c0, c1):
            cp = cmap[x]
            if cp < 0:
                continue  # right half of a wide glyph, or past the end (blank)
            g = glyphs.get(cp)
            if g is None:
                g = self._glyph_fb(cp, 2 if x + 1 < n and cmap[x + 1] == half else 1)
            fb = g[1]
            if fb is None:
                continue  # blank: the fill drew it
            if g[0] == 16 and (x + 1 >= c1 or cmap[x + 1] != half):
                # a 16-px glyph in a 1-cell slot (or at the span's end): its left half
                fb = framebuf.FrameBuffer(g[2], 8, BAND, framebuf.MONO_HLSB, 16)
            if pal is None:
                blit(fb, x * 8, 0)
            else:
                blit(fb, x * 8, 0, -1, pal)

    def forget_glyphs(self):
        # The glyphs kept dropped, the mapped font's places not: as an action starts (its
        # flow's modules are loaded next, pos.actions) and as an exchange does (the heap's
        # peak on a board, the codec and the keys' code loaded, pos.center); the screens after
        # turn their glyphs again, from the font's own cache. Not where a memory policy
        # raised the cap: it keeps a day's glyphs with heap to spare (the Pico)
        if self.glyph_cap <= _GLYPHS:
            self._glyphs.clear()

    def give_back(self):
        # The glyph caches dropped (the heap an approval's journalling may take when it is
        # short: pos.terminal's reserve, boards.runner) -> True when they held something.
        # Drawing goes on without them (a glyph read from the font at each cell).
        had = bool(self._glyphs) or self._spot_cp is not None
        self._glyphs.clear()
        self._spot_cp = None
        self._spot_at = None
        return had

    def take_again(self):
        # the mapped font's glyph places made (again): at boot, then at idle after give_back
        if self._map is not None and self._spot_cp is None:
            from array import array

            # both made before either is kept: a MemoryError between the two (short of heap
            # at idle) left the code points without their places, and the next draw stopped
            # the board on a TypeError (board sim, ESP32 ROMFS day at a 100 KB cap)
            cps = array("H", [_NOWHERE] * _SPOTS)
            # 0: the font lacks it (a box); 16-bit places when the font's file is under 64 KB
            # (the shipped one: 15.7 KB), 512 B less of a heap-short board's (the ESP32's)
            ats = array("H" if len(self._map) < 0x10000 else "I", [0] * _SPOTS)
            self._spot_cp = cps
            self._spot_at = ats

    def _blit_mapped(self, cmap, inverse, c0, c1):
        # cells c0..c1-1 of a row into the panel's canvas, each glyph blitted from the font's
        # map (a (buffer, w, h, format[, stride]) source: a read-only view is enough)
        cv = self._canvas  # type: Any
        cv.fill_rect(c0 * 8, 0, (c1 - c0) * 8, BAND, 1 if inverse else 0)
        pal = self._invert if inverse else None
        m = self._map
        cps = self._spot_cp
        ats = self._spot_at
        wide0 = self.font.wide_data
        mono = framebuf.MONO_HLSB
        src4 = self._src  # blit's source as a list (buffer, w, h, format): no tuple a glyph
        n = len(cmap)
        for x in range(c0, c1):
            cp = cmap[x]
            if cp < 0:
                continue  # right half of a wide glyph, or past the end (blank)
            w = 2 if x + 1 < n and cmap[x + 1] == _HALF else 1
            k = cp & (_SPOTS - 1)
            if cps is not None and cps[k] == cp:
                at = ats[k]
            else:
                at = self.font.locate(cp) if cp < _NOWHERE else -1
                if at < 0:
                    at = 0
                if cps is not None and cp < _NOWHERE:
                    cps[k] = cp
                    ats[k] = at
            if at == 0:
                gw = 16 if w == 2 else 8
                src = self._boxes[w - 1]
            else:
                gw = 8 if at < wide0 else 16
                src = m[at : at + 2 * gw]
            if gw > (c1 - x if w > c1 - x else w) * 8:
                # a 16-px glyph in a 1-cell slot (or at the span's end): its left half
                g = (src, 8, BAND, mono, 16)  # type: Any
            else:
                g = src4
                g[0] = src
                g[1] = gw
            if pal is None:
                cv.blit(g, x * 8, 0)
            else:
                cv.blit(g, x * 8, 0, -1, pal)

    def _cached_row(self, line, inv, cmap):
        # the whole row into the canvas: its kept bytes, or drawn and then kept
        key = (line, 1) if inv else line
        new, old = self._rows
        band = new.get(key)
        if band is None:
            band = old.get(key)
            if band is None:
                self._blit_cells(cmap, inv, 0, self.cols)
                band = bytes(self._buf)
            else:
                self._buf[:] = band
            if len(new) >= self.row_cap:
                self._rows = [{}, new]
                new = self._rows[0]
            new[key] = band
        else:
            self._buf[:] = band

    def forget_rows(self):
        # the kept rows given up (the heap is short) -> True when rows were kept
        if self._rows[0] or self._rows[1]:
            self._rows = [{}, {}]
            return True
        return False

    def invalidate(self):
        self._shown = [None] * self.rows


class ConsoleDisplay:
    # No panel (or a fake board): print each changed frame to the console.
    def __init__(self, out=None):
        self.out = out
        self._last = None

    def draw(self, frame):
        text = frame.text()
        if text == self._last:
            return
        self._last = text
        lines = ["+" + "-" * frame.cols + "+"]
        for i, line in enumerate(text):
            lines.append(("#" if frame.is_inverse(i) else "|") + line)
        block = "\n".join(lines)
        if self.out is not None:
            self.out(block)
        else:
            print(block)
