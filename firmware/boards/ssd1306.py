# SSD1306 128x64 OLED on I2C, drawn band by band. The panel memory is 8 pages
# of 128 column bytes (bit 0 = top pixel, the framebuf MONO_VLSB layout); a
# copy is kept in `buf`, so a frame can be checked without the panel and only
# the columns that change are sent (a column window over a text row's pages).
from pos.compat import const

_SET_CONTRAST = const(0x81)
_DISPLAY_ON = const(0xAF)
_DISPLAY_OFF = const(0xAE)
_COL_ADDR = const(0x21)
_PAGE_ADDR = const(0x22)
# unchanged columns between two changed ones that are cheaper to resend than to skip
# with a new window (7 bytes of commands + 1 control byte)
_GAP = const(8)

try:
    import framebuf  # in C on every MicroPython port
except ImportError:  # CPython (desktop tests): the same result by a Python transpose
    framebuf = None  # type: ignore[assignment]


def init_sequence(width, height, external_vcc=False):
    # the power-up commands for a width x height panel, as micropython-lib's ssd1306 driver
    # computes them: multiplex = height - 1, COM pins 0x02 (sequential) for a 128x32 panel
    # (or any panel wider than twice its height), 0x12 (alternative) otherwise
    com_pins = 0x02 if width > 2 * height else 0x12
    return (
        _DISPLAY_OFF,
        0x20,
        0x00,  # horizontal addressing
        0x40,  # start line 0
        0xA1,  # column 127 = SEG0
        0xA8,
        height - 1,  # multiplex
        0xC8,  # scan from COM[N-1]
        0xD3,
        0x00,  # display offset
        0xDA,
        com_pins,
        0xD5,
        0x80,  # clock
        0xD9,
        0x22 if external_vcc else 0xF1,  # precharge
        0xDB,
        0x30,  # vcom detect
        _SET_CONTRAST,
        0xFF,
        0xA4,  # output follows RAM
        0xA6,  # not inverted
        0x8D,
        0x10 if external_vcc else 0x14,  # charge pump
        _DISPLAY_ON,
    )


class SSD1306:
    x_align = 1  # any column window (in 8-px cells)

    def __init__(self, i2c, addr=0x3C, width=128, height=64, external_vcc=False):
        self.i2c = i2c
        self.addr = addr
        self.width = width
        self.height = height
        self.pages = height // 8
        self.buf = bytearray(width * self.pages)
        # the band's column bytes (two pages of a 16-px text row), allocated once
        self._cols = bytearray(2 * width)
        self._fb = None
        if framebuf is not None:
            self._fb = framebuf.FrameBuffer(self._cols, width, 16, framebuf.MONO_VLSB)
        # CellDisplay draws glyphs straight into this band (framebuf), then put_band(); it may
        # keep a drawn band's bytes and put them back (canvas_buf)
        self.canvas = self._fb
        self.canvas_buf = self._cols
        # canvas_buf's layout: MONO_VLSB, page 0's `width` column bytes then page 1's (a
        # glyph kept in that layout is copied in with two slice assignments)
        self.canvas_width = width
        for c in init_sequence(width, height, external_vcc):
            self._cmd(c)
        self._send(0, self.pages - 1)

    def _cmd(self, c):
        self.i2c.writeto(self.addr, bytes((0x80, c)))

    def _window(self, x0, x1, p0, p1):
        # columns x0..x1 and pages p0..p1 (inclusive) in one command stream (control 0x00)
        self.i2c.writeto(self.addr, bytes((0x00, _COL_ADDR, x0, x1, _PAGE_ADDR, p0, p1)))

    def _send(self, p0, p1):
        # pages p0..p1, all columns
        w = self.width
        self._window(0, w - 1, p0, p1)
        self.i2c.writeto(self.addr, b"\x40" + self.buf[p0 * w : (p1 + 1) * w])

    def refresh(self):
        # send the whole picture (after power-up or a panel reset)
        self._send(0, self.pages - 1)

    def write_band(self, y, band, stride, x=0):
        # band: rows of `stride` bytes (MSB left) starting at pixel row y (a multiple of 8)
        # and at column 8 * x. Only the columns whose bytes differ from what the panel
        # shows are sent: runs of changed columns (runs closer than a window command are
        # merged), each run as one window over all the band's pages (a text row is two
        # pages: one window command instead of two, the panel wraps to the next page).
        w = self.width
        pages = (len(band) // stride) >> 3
        buf = self.buf
        p0 = y >> 3
        n = stride * 8
        if self._fb is not None and pages == 2 and n <= w:
            # framebuf (C) turns the row-major band into column bytes: one blit
            cols = self._cols
            self._fb.blit(framebuf.FrameBuffer(band, n, 16, framebuf.MONO_HLSB), 0, 0)
            if n < w:  # the band's page 1 columns follow its page 0 columns, as below
                cols[n : 2 * n] = cols[w : w + n]
        else:
            cols = bytearray(n * pages)  # the band's new column bytes, page after page
            for p in range(pages):
                top = p * 8 * stride
                for xb in range(stride):
                    # transpose one 8x8 block: 8 row bytes -> 8 column bytes
                    c = p * n + xb * 8
                    for bit in range(8):
                        m = 0x80 >> bit
                        v = 0
                        o = top + xb
                        for r in range(8):
                            if band[o] & m:
                                v |= 1 << r
                            o += stride
                        cols[c + bit] = v
        base = p0 * w + x * 8
        gap = _GAP // pages  # an unchanged column costs a byte on every page of the band
        a = 0
        while a < n:
            if not self._differs(cols, a, pages, n, base):
                a += 1
                continue
            b = a + 1  # run a..b-1 of changed columns, gaps under _GAP merged
            last = a
            while b < n and b - last <= gap:
                if self._differs(cols, b, pages, n, base):
                    last = b
                b += 1
            b = last + 1
            k = b - a
            out = bytearray(1 + pages * k)
            out[0] = 0x40
            for p in range(pages):
                run = cols[p * n + a : p * n + b]
                buf[base + p * w + a : base + p * w + b] = run
                out[1 + p * k : 1 + (p + 1) * k] = run
            self._window(x * 8 + a, x * 8 + b - 1, p0, p0 + pages - 1)
            self.i2c.writeto(self.addr, out)
            a = b

    def put_band(self, y, x0, x1):
        # Send columns x0..x1-1 of the canvas (a text row's two pages, drawn there by
        # CellDisplay) where they differ from the panel: the changed columns from the first
        # to the last, one window over both pages. Nothing is sent when nothing differs.
        w = self.width
        cols = self._cols
        buf = self.buf
        p0 = y >> 3
        b0 = p0 * w
        b1 = b0 + w
        a = x0
        while a < x1 and cols[a] == buf[b0 + a] and cols[w + a] == buf[b1 + a]:
            a += 1
        if a == x1:
            return
        b = x1
        while cols[b - 1] == buf[b0 + b - 1] and cols[w + b - 1] == buf[b1 + b - 1]:
            b -= 1
        k = b - a
        out = bytearray(1 + 2 * k)
        out[0] = 0x40
        out[1 : 1 + k] = cols[a:b]
        out[1 + k :] = cols[w + a : w + b]
        buf[b0 + a : b0 + b] = out[1 : 1 + k]
        buf[b1 + a : b1 + b] = out[1 + k :]
        # the window command as _window sends it, not through its call: a frame of 16 words,
        # taken from the heap at each call on MicroPython (over 11), at each row drawn
        i2c = self.i2c
        i2c.writeto(self.addr, bytes((0x00, _COL_ADDR, a, b - 1, _PAGE_ADDR, p0, p0 + 1)))
        i2c.writeto(self.addr, out)

    def _differs(self, cols, c, pages, n, base):
        # does column c of the band differ from the panel on any of its pages?
        buf = self.buf
        w = self.width
        for p in range(pages):
            if cols[p * n + c] != buf[base + p * w + c]:
                return True
        return False

    def pixel(self, x, y):
        return (self.buf[(y >> 3) * self.width + x] >> (y & 7)) & 1

    def power(self, on):
        self._cmd(_DISPLAY_ON if on else _DISPLAY_OFF)
