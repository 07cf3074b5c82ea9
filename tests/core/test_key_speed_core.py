# What a key's screen costs on a board (issue 14 item 5), checked by what it does, never by
# a clock: a new glyph is found with one read of the font's index, the narrow-text fast
# paths of the cell widths give what the per-character rule gives, a string asked for
# again is not read from the file again, an input screen is copied, not laid out again.
import io
import sys

import pos

_fw = pos.__file__.replace("\\", "/").rsplit("/", 2)[0]  # the firmware dir: boards/ next to pos/
if _fw not in sys.path:
    sys.path.append(_fw)

from mptest import eq, true  # noqa: E402
from rig import menus_dir  # noqa: E402
from pos import cells  # noqa: E402
from pos.compat import json  # noqa: E402
from pos.screen import Frame  # noqa: E402
from pos.memstorage import MemoryStorage  # noqa: E402
from pos.storage import FileStorage  # noqa: E402
from pos.text import Strings  # noqa: E402
from boards.display import cell_map  # noqa: E402
from boards.font import Font, pack  # noqa: E402


class CountingFile:
    # a font file that counts its reads
    def __init__(self, data):
        self.f = io.BytesIO(data)
        self.reads = 0

    def read(self, n=-1):
        self.reads += 1
        return self.f.read(n)

    def readinto(self, b):
        self.reads += 1
        return self.f.readinto(b)

    def seek(self, pos, whence=0):
        return self.f.seek(pos, whence)

    def close(self):
        self.f.close()


def _glyphs():
    narrow = {}
    for cp in range(0x21, 0x21 + 37):  # not a multiple of the directory's step
        narrow[cp] = bytes((cp + r) & 0xFF for r in range(16))
    wide = {}
    cp = 0x4E00
    for i in range(203):
        wide[cp] = bytes((cp + r) & 0xFF for r in range(32))
        cp += 1 + (i % 5)  # gaps between the code points
    return narrow, wide


def test_a_new_glyph_takes_one_index_read_and_every_glyph_is_found():
    narrow, wide = _glyphs()
    f = CountingFile(pack(narrow, wide))
    font = Font(f)
    for table, w in ((narrow, 8), (wide, 16)):
        for cp in sorted(table):
            font.forget()
            before = f.reads
            eq(font.glyph(chr(cp)), (w, table[cp]), "U+%04X" % cp)
            true(f.reads - before <= 3, "U+%04X: %d reads" % (cp, f.reads - before))
    missing = [0x20, 0x21 + 37, 0x4DFF, 0x9FFF]
    for cp in sorted(wide):
        if cp + 1 not in wide and cp + 1 < max(wide):
            missing.append(cp + 1)
    for cp in missing:
        font.forget()
        eq(font.glyph(chr(cp)), None, "U+%04X is not in the font" % cp)


def _texts():
    res = FileStorage(menus_dir(), readonly=True)
    out = ["", " ", "1234.56", "abc def", "\uffe512.50", "消费", "A中B", "\U0001F600x",
           "ｱ", "\u2014\u2026", "签到成功 OK", "\u1100\u10ff"]
    for name in ("strings_zh.json", "strings_en.json"):
        d = json.loads(res.read(name))
        for k in sorted(d):
            if isinstance(d[k], str):
                out.extend(d[k].split("\n"))
    return out


def _width_slow(text):
    n = 0
    for ch in text:
        n += cells.char_width(ch)
    return n


def _clip_slow(text, n):
    got = 0
    for i in range(len(text)):
        w = cells.char_width(text[i])
        if got + w > n:
            return text[:i]
        got += w
    return text


def _cell_map_slow(text, cols):
    out = []
    n = 0
    for ch in text:
        w = cells.char_width(ch)
        if n + w > cols:
            break
        out.append(ord(ch))
        if w == 2:
            out.append(-1)  # the right half of a wide character
        n += w
    while n < cols:
        out.append(-2)  # past the end
        n += 1
    return out


def test_the_fast_width_paths_agree_with_the_per_character_rule():
    texts = _texts()
    true(len(texts) > 300, "the shipped strings are in the corpus")
    for text in texts:
        eq(cells.width(text), _width_slow(text), repr(text))
        for n in (0, 1, 2, 7, 8, 15, 16, 17, 32):
            eq(cells.clip(text, n), _clip_slow(text, n), repr((text, n)))
        for fit in (cells.pad, cells.center, cells.right):
            eq(_width_slow(fit(text, 16)), 16, repr(text))
        for n in (1, 7, 16):
            eq(cells.fit(text, n), (_clip_slow(text, n), _width_slow(_clip_slow(text, n))),
               repr((text, n)))
        eq(list(cell_map(text, 16)), _cell_map_slow(text, 16), repr(text))
        eq(list(cell_map(cells.pad(text, 16), 16)), _cell_map_slow(cells.pad(text, 16), 16))


class CountingStrings(MemoryStorage):
    def __init__(self, files):
        MemoryStorage.__init__(self, files)
        self.pairs_read = 0

    def read_at(self, name, offset, n):
        self.pairs_read += 1
        return MemoryStorage.read_at(self, name, offset, n)


def test_a_string_asked_for_again_is_not_read_from_the_file_again():
    res = CountingStrings({
        "strings_zh.json": b'{"a": "\xe7\x94\xb2%s", "b": "\xe4\xb9\x99", "c": "C"}',
        "strings_en.json": b'{"a": "A%s", "b": "B"}',
    })
    s = Strings(res, "zh", indexed=True)
    eq(s.get("a", 1), "甲1")
    n = res.pairs_read
    eq(s.get("a", 2), "甲2")
    eq(s.get("b"), "乙")
    eq(s.get("b"), "乙")
    eq(res.pairs_read, n + 1, "b read once, a not again")
    s.set_lang("en")
    eq(s.get("a", 3), "A3", "another language: its own file")
    eq(s.get("c"), "c", "a key the English file lacks")
    keys = ["k%d" % i for i in range(30)]
    body = ", ".join('"%s": "v%s"' % (k, k) for k in keys)
    s = Strings(CountingStrings({"strings_zh.json": ("{" + body + "}").encode()}), "zh",
                indexed=True)
    for _round in range(3):
        for k in keys:
            eq(s.get(k), "v" + k, "more keys than the cache holds")


def test_a_copied_frame_changes_without_changing_the_original():
    a = Frame(4, 16)
    a.put(0, "标题", "center", True)
    a.put(4, "lost")
    b = a.copy()
    eq(b, a)
    b.put(3, "123", "right")
    b.put(0, "x")
    eq(a.text()[3], "", "the original's row")
    true(a.is_inverse(0) and not b.is_inverse(0))
    eq(b.text()[3], " " * 13 + "123")
    eq(a.cut, ["lost"])
