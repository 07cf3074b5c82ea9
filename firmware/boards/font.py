# The CJK bitmap font, read from flash: the file is opened once and glyphs are
# fetched with seek/readinto into a cache of fixed slots allocated once (a cache of
# bytes objects and tuples made a long-lived allocation per new glyph, scattered
# between a transaction's objects: the heap's free space ended up in small pieces).
# From a ROMFS image the file is read in place (memory-mapped flash) and there is no cache.
#
# File layout (big-endian), written by `posterm font build` or pack():
#   b"PTF1" | n_narrow u16 | n_wide u16 | height u8 | 0 u8
#   narrow code points u16 * n_narrow (sorted) | wide code points u16 * n_wide (sorted)
#   narrow glyphs 16 B each (8x16) | wide glyphs 32 B each (16x16)
# A glyph is rows top to bottom, each row MSB = leftmost pixel (1 byte narrow, 2 wide).
import struct

from pos.compat import TYPE_CHECKING, const

if TYPE_CHECKING:
    from typing import Any  # noqa: F401  (type comments)

MAGIC = b"PTF1"
_HEAD = 10
_SLOTS = const(64)  # direct-mapped: slot = code point % 64 (ASCII and a screen of CJK)
_EMPTY = const(0xFFFF)
_STEP = const(16)  # index entries a directory entry covers


class FontError(ValueError):
    pass


class Font:
    # a font read in place: None, or the wide index's places by a code point's high byte
    # (by_high_byte); a filesystem's font: every _STEP-th code point of its wide index
    _dir_wide = None  # type: Any

    def __init__(self, f):
        # f: a binary file object (or io.BytesIO) that stays open. A file of a ROMFS image
        # (posterm flash --romfs) is read in place: memory-mapped flash, no cache at all
        self.f = f
        try:
            self._map = memoryview(f)  # type: Any
        except TypeError:
            self._map = None  # a filesystem's file: seek and read into the cache's slots
        if self._map is not None:
            head = bytes(self._map[:_HEAD])
        else:
            head = f.read(_HEAD)
        if len(head) != _HEAD or head[:4] != MAGIC:
            raise FontError("not a posterm font (magic %r)" % (head[:4],))
        self.n_narrow, self.n_wide, self.height, _ = struct.unpack(">HHBB", head[4:])
        if self.height != 16:
            raise FontError("font height %d, the display needs 16" % self.height)
        self._narrow_idx = _HEAD
        self._wide_idx = _HEAD + 2 * self.n_narrow
        self._narrow_data = self._wide_idx + 2 * self.n_wide
        self._wide_data = self._narrow_data + 16 * self.n_narrow
        if self._map is not None:
            if len(self._map) < self._wide_data + 32 * self.n_wide:
                raise FontError("font file cut short")
            # the narrow index's last code point: a character above it (a CJK one) is looked
            # for in the wide index only
            m = self._map
            at = self._wide_idx - 2
            self._narrow_last = (m[at] << 8) | m[at + 1] if self.n_narrow else -1
            return
        self._cps = [_EMPTY] * _SLOTS  # the code point in each slot (small ints)
        self._wid = bytearray(_SLOTS)  # its width in px (8 or 16)
        self._bits = bytearray(32 * _SLOTS)  # its rows: 16 B (narrow) or 32 B (wide)
        self._view = memoryview(self._bits)
        self._idx = bytearray(2)  # type: bytearray  # a code point read from the index
        # every _STEP-th code point of each index (a few dozen small ints): a glyph is found
        # with one read of _STEP entries, not a seek and a read per step of a binary search
        # through the file (~0.3 ms a new glyph on the unix port, the most of a new screen)
        self._blk = bytearray(2 * _STEP)  # type: bytearray
        self._dir_narrow = self._directory(self._narrow_idx, self.n_narrow)
        self._dir_wide = self._directory(self._wide_idx, self.n_wide)

    @classmethod
    def open(cls, path):
        return cls(open(path, "rb"))

    def _directory(self, base, n):
        from array import array

        d = array("H")
        f = self.f
        b = self._idx
        for i in range(0, n, _STEP):
            f.seek(base + 2 * i)
            if f.readinto(b) != 2:
                raise OSError(5, "font index read short")
            d.append((b[0] << 8) | b[1])
        return d

    def _find(self, base, n, cp, d):
        # -> the index of cp in the sorted index at base (n code points), or -1: the block
        # of _STEP entries that can hold it (from the directory d), then one read of it
        hi = len(d) - 1
        if hi < 0 or cp < d[0]:
            return -1
        lo = 0
        while lo < hi:
            mid = (lo + hi + 1) >> 1
            if d[mid] <= cp:
                lo = mid
            else:
                hi = mid - 1
        start = lo * _STEP
        k = n - start
        if k > _STEP:
            k = _STEP
        f = self.f
        b = self._blk
        f.seek(base + 2 * start)
        if f.readinto(b) < 2 * k:  # the glyph data follows the indexes: a full block
            raise OSError(5, "font index read short")
        for j in range(k):
            v = (b[2 * j] << 8) | b[2 * j + 1]
            if v == cp:
                return start + j
            if v > cp:
                return -1
        return -1

    def by_high_byte(self):
        # A font read in place: its wide index's places by a code point's high byte made
        # (257 of them: 514 B, kept): a glyph is then searched for among the few code points
        # of its 256 (~3 steps), not among all the wide ones (~9 steps of ~1,000 instructions
        # each on the unix port). For a display that keeps its glyphs (boards.display
        # open_pages: the shipped texts' pages file, on a board with heap to spare)
        from array import array

        m = self._map
        base = self._wide_idx
        n = self.n_wide
        d = array("H", [0] * 257)
        j = 0
        for hb in range(257):
            while j < n and m[base + 2 * j] < hb:
                j += 1
            d[hb] = j
        self._dir_wide = d

    def locate(self, cp):
        # A font read in place only: -> the offset in the map of code point cp's rows, or -1
        # when the font lacks it. Narrow glyphs (16 B) lie below wide_data, wide ones (32 B)
        # from it (the display blits them from the map: no copy, boards.display). (5 locals,
        # the search a function of its own: 11 words of state each, so that MicroPython
        # keeps their frames on the C stack; over 11 they were taken from the heap at each
        # call, twice a glyph a screen shows first; d is the wide directory, then its bucket)
        if cp <= self._narrow_last:
            # the narrow index is a run of consecutive code points (printable ASCII: the
            # shipped texts' pages file, the font's own): cp's place in a run that ends at the
            # last one, checked, then searched for only when that is not it (a binary search
            # in Python, ~1,500 instructions a step on the unix port)
            i = self.n_narrow - 1 - (self._narrow_last - cp)
            at = self._narrow_idx + 2 * i
            if i >= 0 and (self._map[at] << 8) | self._map[at + 1] == cp:
                return self._narrow_data + 16 * i
            i = _find_mapped(self._map, self._narrow_idx, self.n_narrow, cp, 0)
            if i >= 0:
                return self._narrow_data + 16 * i
        d = self._dir_wide
        if d is None:
            i = _find_mapped(self._map, self._wide_idx, self.n_wide, cp, 0)
        else:
            if cp < 0xFF00:
                at = d[cp >> 8]
                d = d[(cp >> 8) + 1]
            else:
                at = d[255]
                d = self.n_wide
            i = _find_mapped(self._map, self._wide_idx, d, cp, at)
        if i < 0:
            return -1
        return self._wide_data + 32 * i

    @property
    def wide_data(self):
        return self._wide_data

    def _glyph_mapped(self, cp):
        at = self.locate(cp)
        if at < 0:
            return None
        w = 8 if at < self._wide_data else 16
        return (w, bytes(self._map[at : at + 2 * w]))

    def glyph(self, ch):
        # -> (width_px, rows) or None when the font lacks the character. The rows are a
        # copy (the caller may keep them: the display keeps its own glyph cache), the slot
        # stays the font's.
        return self.glyph_cp(ord(ch))

    def glyph_cp(self, cp):
        # glyph() by code point (the display walks a row's UTF-8 bytes: no str a character)
        if cp > 0xFFFF:
            return None
        if self._map is not None:
            return self._glyph_mapped(cp)
        slot = cp % _SLOTS
        at = 32 * slot
        if self._cps[slot] == cp:
            w = self._wid[slot]
            return (w, bytes(self._view[at : at + 2 * w]))
        i = self._find(self._narrow_idx, self.n_narrow, cp, self._dir_narrow)
        if i >= 0:
            w = 8
            self.f.seek(self._narrow_data + 16 * i)
        else:
            i = self._find(self._wide_idx, self.n_wide, cp, self._dir_wide)
            if i < 0:
                return None
            w = 16
            self.f.seek(self._wide_data + 32 * i)
        self._cps[slot] = _EMPTY  # not valid until the read is whole
        rows = self._view[at : at + 2 * w]
        if self.f.readinto(rows) != 2 * w:
            raise OSError(5, "font glyph read short")
        self._cps[slot] = cp
        self._wid[slot] = w
        return (w, bytes(rows))

    def forget(self):
        # empty the cache (the next glyph of each character is read from the file again)
        if self._map is not None:
            return
        for i in range(_SLOTS):
            self._cps[i] = _EMPTY

    def has(self, ch):
        return self.glyph(ch) is not None

    def close(self):
        self.f.close()


def pack(narrow, wide):
    # narrow/wide: dict code point -> bytes (16 / 32). -> the font file as bytes
    nk = sorted(narrow)
    wk = sorted(wide)
    out = [MAGIC, struct.pack(">HHBB", len(nk), len(wk), 16, 0)]
    for cp in nk:
        out.append(struct.pack(">H", cp))
    for cp in wk:
        out.append(struct.pack(">H", cp))
    for cp in nk:
        if len(narrow[cp]) != 16:
            raise FontError("narrow glyph U+%04X is not 16 bytes" % cp)
        out.append(bytes(narrow[cp]))
    for cp in wk:
        if len(wide[cp]) != 32:
            raise FontError("wide glyph U+%04X is not 32 bytes" % cp)
        out.append(bytes(wide[cp]))
    return b"".join(out)


def _find_mapped(m, base, n, cp, lo):
    # -> the index of cp among entries lo..n-1 of the big-endian u16 index at byte base of
    # map m, or -1. (n becomes the search's upper end, v an entry's offset then its value:
    # 11 words of state, a frame on the C stack)
    n -= 1
    while lo <= n:
        mid = (lo + n) >> 1
        v = base + 2 * mid
        v = (m[v] << 8) | m[v + 1]
        if v < cp:
            lo = mid + 1
        elif v > cp:
            n = mid - 1
        else:
            return mid
    return -1
