"""The shipped texts' glyphs turned for the SSD1306 (boards/data/pages16.bin, built by
`posterm flash` next to the font): the characters of the menus and strings files, each glyph's
bytes in the panel's own layout (MONO_VLSB: page 0's columns, then page 1's), in the font's
file format (boards.font.pack: the same index, read in place from a ROMFS image). A board's
display with a glyph cache (a Pico's memory policy) copies a glyph of these from flash the
first time it shows it, instead of turning the font's rows with a framebuf blit (~17,000
instructions a wide glyph on the unix port: most of a new screen's draw)."""

import io
import json

from posterm import paths


def characters(files):
    # -> the code points of every str in the JSON files' values and keys (bytes of each file),
    # with printable ASCII
    out = set(range(0x20, 0x7F))

    def walk(v):
        if isinstance(v, str):
            out.update(ord(c) for c in v)
        elif isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for data in files:
        walk(json.loads(data))
    return out


def turned(rows, width):
    # a glyph's rows (16, MSB = leftmost pixel, width // 8 bytes a row) -> its MONO_VLSB
    # pages: page 0's `width` column bytes (bit 0 = the top pixel row), then page 1's
    out = bytearray(2 * width)
    step = width // 8
    for y in range(16):
        for x in range(width):
            if rows[y * step + (x >> 3)] & (0x80 >> (x & 7)):
                out[(y >> 3) * width + x] |= 1 << (y & 7)
    return bytes(out)


def build(font_bytes, texts):
    # font_bytes: the font file (font16.bin); texts: the menus' and strings' JSON files ->
    # the pages file's bytes (the characters the font has; the others draw as its boxes)
    import sys

    fw = str(paths.FIRMWARE_DIR)
    if fw not in sys.path:
        sys.path.insert(0, fw)
    from boards.font import Font, pack

    font = Font(io.BytesIO(font_bytes))
    narrow = {}
    wide = {}
    for cp in sorted(characters(texts)):
        g = font.glyph_cp(cp)
        if g is None:
            continue
        w, rows = g
        (narrow if w == 8 else wide)[cp] = turned(rows, w)
    return pack(narrow, wide)
