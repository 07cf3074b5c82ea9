# ST7920 128x64 LCD in graphics mode over its serial interface (PSB to GND,
# SPI mode 3-ish, CS active high, write only). Each byte goes out as three:
# 0xF8 (command) or 0xFA (data), then the high and low nibbles. The graphics
# RAM is 32 rows of 256 px: screen rows 32..63 sit at x 128..255 of rows 0..31.
# `buf` keeps the picture (row-major, MSB left) for checks without the panel.


class ST7920:
    x_align = 2  # GDRAM words are 16 px: column windows start and end on even cells

    def __init__(self, spi, cs, width=128, height=64):
        self.spi = spi
        self.cs = cs
        self.width = width
        self.height = height
        self.stride = width // 8
        self.buf = bytearray(self.stride * height)
        cs.value(0)
        for c in (0x30, 0x0C, 0x01, 0x06, 0x34, 0x36):  # basic, on, clear, entry, ext+gfx
            self._write(0xF8, (c,))
        self.write_band(0, self.buf, self.stride)

    def _write(self, lead, data):
        out = bytearray(1 + 2 * len(data))
        out[0] = lead
        i = 1
        for b in data:
            out[i] = b & 0xF0
            out[i + 1] = (b << 4) & 0xF0
            i += 2
        self.cs.value(1)
        self.spi.write(out)
        self.cs.value(0)

    def write_band(self, y, band, stride, x=0):
        # band: rows of `stride` bytes at pixel row y, byte column x; GDRAM is addressed
        # in 16-px words, so x and stride must be even (CellDisplay aligns to x_align)
        rows = len(band) // stride
        s = self.stride
        xw = x >> 1
        for r in range(rows):
            line = band[r * stride : (r + 1) * stride]
            yy = y + r
            self.buf[yy * s + x : yy * s + x + stride] = line
            if yy < 32:
                self._write(0xF8, (0x80 | yy, 0x80 | xw))
            else:
                self._write(0xF8, (0x80 | (yy - 32), 0x80 | (8 + xw)))
            self._write(0xFA, line)

    def pixel(self, x, y):
        return (self.buf[y * self.stride + (x >> 3)] >> (7 - (x & 7))) & 1
