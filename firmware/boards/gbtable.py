# Unicode -> GB2312 for the characters the firmware prints (MicroPython has no
# GBK codec). The table file, written by `posterm font build`, is
#   b"PGB1" | count u16 | count x (code point u16, GB2312 u16), sorted by code point
# and is small (4 bytes a character): read whole for each slip (boards.printer), used in
# place where the file is in addressable memory (ROMFS).
import struct

MAGIC = b"PGB1"


class GbTable:
    def __init__(self, data):
        if bytes(data[:4]) != MAGIC:
            raise ValueError("not a GB2312 table (magic %r)" % (bytes(data[:4]),))
        (self.count,) = struct.unpack(">H", data[4:6])
        self.data = memoryview(data)[6 : 6 + 4 * self.count]  # no copy

    @classmethod
    def open(cls, path):
        f = open(path, "rb")
        try:
            return cls(memoryview(f))  # a ROMFS file: its bytes in flash, read in place
        except TypeError:
            pass
        try:
            return cls(f.read())
        finally:
            f.close()

    def lookup(self, cp):
        d = self.data
        lo = 0
        hi = self.count - 1
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
