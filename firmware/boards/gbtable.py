# Unicode -> GB2312 for the characters the firmware prints (MicroPython has no
# GBK codec). The table file, written by `posterm font build`, is
#   b"PGB1" | count u16 | count x (code point u16, GB2312 u16), sorted by code point
# and is small (4 bytes a character): read for each slip (boards.printer) in parts of
# PART bytes, used in place where the file is in addressable memory (ROMFS).
import struct

MAGIC = b"PGB1"
# A table read from a file is held in parts of this many bytes (64 characters), not one
# block: a slip is printed right after an exchange, whose code has just left holes in the
# heap, and a board short of heap had no 1.7 KB block for the whole table there (the board
# sim, ESP32, files deploy: the day's MemoryError at a slip at 164 KB) while it had room
PART = 256


class GbTable:
    def __init__(self, data):
        if bytes(data[:4]) != MAGIC:
            raise ValueError("not a GB2312 table (magic %r)" % (bytes(data[:4]),))
        (self.count,) = struct.unpack(">H", data[4:6])
        # the (code point, GB2312) pairs in parts, each sorted and after the one before it
        d = memoryview(data)[6 : 6 + 4 * self.count]  # no copy
        self.parts = [d] if len(d) >= 4 else []

    @classmethod
    def open(cls, path):
        f = open(path, "rb")
        try:
            try:
                return cls(memoryview(f))  # a ROMFS file: its bytes in flash, read in place
            except TypeError:
                pass
            t = cls(f.read(6))
            left = 4 * t.count
            while left > 0:
                part = f.read(PART if left > PART else left)
                n = len(part) & ~3  # whole pairs (a short file: what it has)
                if n:
                    t.parts.append(part if n == len(part) else part[:n])
                if n < PART:
                    break
                left -= n
            return t
        finally:
            f.close()

    def lookup(self, cp):
        for d in self.parts:
            hi = len(d) // 4 - 1
            if ((d[4 * hi] << 8) | d[4 * hi + 1]) < cp:
                continue  # beyond this part's last code point
            lo = 0
            while lo <= hi:
                mid = (lo + hi) >> 1
                o = mid * 4
                v = (d[o] << 8) | d[o + 1]
                if v < cp:
                    lo = mid + 1
                elif v > cp:
                    hi = mid - 1
                else:
                    return (d[o + 2] << 8) | d[o + 3]
            return -1
        return -1

    def encode(self, text, missing=b"?"):
        # code points decoded from the text's UTF-8, never its characters taken out (on
        # MicroPython each would be interned as a name, and never freed)
        b = text.encode()
        if len(b) == len(text):
            return b  # ASCII as it is
        out = bytearray()
        i = 0
        n = len(b)
        while i < n:
            c = b[i]
            if c < 0x80:
                out.append(c)
                i += 1
                continue
            if c < 0xE0:
                cp = ((c & 0x1F) << 6) | (b[i + 1] & 0x3F)
                i += 2
            elif c < 0xF0:
                cp = ((c & 0x0F) << 12) | ((b[i + 1] & 0x3F) << 6) | (b[i + 2] & 0x3F)
                i += 3
            else:
                cp = 0x10000  # beyond the table
                i += 4
            gb = self.lookup(cp)
            if gb < 0:
                out.extend(missing)
            else:
                out.append(gb >> 8)
                out.append(gb & 0xFF)
        return bytes(out)


def pack(pairs):
    # pairs: iterable of (code point, gb2312 code) -> table bytes
    items = sorted(pairs)
    out = [MAGIC, struct.pack(">H", len(items))]
    for cp, gb in items:
        out.append(struct.pack(">HH", cp, gb))
    return b"".join(out)
