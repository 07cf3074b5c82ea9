# The core's cell grid on a 128x64 mono display: each row of cells is a band of
# 16 pixel rows, each cell 8 px (a wide CJK character takes two cells, 16 px).
# Bands are rendered row-major (MSB = leftmost pixel) and handed to the panel
# driver (ssd1306.py, st7920.py); only rows that changed since the last draw
# are rendered and sent. A character missing from the font draws as a box.
from pos import cells

BAND = 16  # pixel rows per cell row


def _box(width):
    # the "no glyph" box: a frame one pixel inside the cell
    if width == 16:
        mid = b"\x40\x02"
        edge = b"\x7f\xfe"
        return b"\x00\x00" + edge + mid * 12 + edge + b"\x00\x00"
    return b"\x00\x7e" + b"\x42" * 12 + b"\x7e\x00"


def render_band(font, text, inverse, cols):
    # -> bytearray of BAND rows x cols bytes
    stride = cols
    band = bytearray(BAND * stride)
    x = 0  # in cells = bytes
    for ch in text:
        w = cells.char_width(ch)
        if x + w > cols:
            break
        g = font.glyph(ch) if font is not None else None
        if g is None:
            gw, data = (16, _box(16)) if w == 2 else (8, _box(8))
        else:
            gw, data = g
        nb = gw >> 3
        if nb > w:
            nb = w  # a 16-px glyph in a 1-cell slot: keep its left half
        src_stride = gw >> 3
        for row in range(BAND):
            o = row * stride + x
            s = row * src_stride
            for k in range(nb):
                band[o + k] = data[s + k]
        x += w
    if inverse:
        for i in range(len(band)):
            band[i] ^= 0xFF
    return band


class CellDisplay:
    def __init__(self, panel, font, rows=4, cols=16):
        # panel: width, height, write_band(y, band, stride)
        self.panel = panel
        self.font = font
        self.rows = rows
        self.cols = cols
        self._shown = [None] * rows  # type: list
        self.redrawn = 0  # rows sent by the last draw (tests, logs)

    def draw(self, frame):
        self.redrawn = 0
        rows = frame.rows if frame.rows < self.rows else self.rows
        for r in range(rows):
            key = (frame.lines[r], frame.is_inverse(r))
            if key == self._shown[r]:
                continue
            band = render_band(self.font, key[0], key[1], self.cols)
            self.panel.write_band(r * BAND, band, self.cols)
            self._shown[r] = key
            self.redrawn += 1

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
