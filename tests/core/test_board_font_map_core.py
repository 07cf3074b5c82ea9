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
