"""Render glyphs with FreeType (freetype-py) from a CJK font such as WenQuanYi Zen Hei
(Debian fonts-wqy-zenhei): 16x16 for wide characters, 8x16 for the rest, 1 bit a pixel."""

import os

from pos import cells

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


class FontToolError(Exception):
    pass


def find_font(path=None):
    if path:
        if not os.path.exists(path):
            raise FontToolError(f"font file {path} not found")
        return path
    for p in FONT_CANDIDATES:
        if os.path.exists(p):
            return p
    raise FontToolError(
        "no CJK font found; install one: apt-get install fonts-wqy-zenhei (or pass --font FILE)"
    )


class Renderer:
    def __init__(self, path, size=16):
        try:
            import freetype
        except ImportError:
            raise FontToolError("freetype-py is needed: pip install -e '.[test]'") from None
        self.ft = freetype
        self.face = freetype.Face(path)
        self.face.set_pixel_sizes(0, size)
        self.size = size

    def glyph(self, ch):
        """-> (width 8|16, bytes) or None when the font has no glyph for ch."""
        face = self.face
        if ch != " " and face.get_char_index(ch) == 0:
            return None
        wide = cells.char_width(ch) == 2
        w = 16 if wide else 8
        face.load_char(ch, self.ft.FT_LOAD_RENDER | self.ft.FT_LOAD_TARGET_MONO)
        bmp = face.glyph.bitmap
        rows = [[0] * w for _ in range(16)]
        ascender = face.size.ascender >> 6
        top = ascender - face.glyph.bitmap_top + (16 - (face.size.height >> 6)) // 2
        left = face.glyph.bitmap_left
        if not wide and bmp.width <= 8:
            left = max(0, min(left, 8 - bmp.width))
        buf = bmp.buffer
        for y in range(bmp.rows):
            yy = top + y
            if not 0 <= yy < 16:
                continue
            for x in range(bmp.width):
                xx = left + x
                if 0 <= xx < w and buf[y * bmp.pitch + (x >> 3)] & (0x80 >> (x & 7)):
                    rows[yy][xx] = 1
        out = bytearray()
        for r in rows:
            v = 0
            for bit in r:
                v = (v << 1) | bit
            out.extend(v.to_bytes(w // 8, "big"))
        return w, bytes(out)
