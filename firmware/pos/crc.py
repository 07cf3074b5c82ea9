# CRCs in pure Python with lazily built tables; values stay below 2**16 in the loops.
#   crc16_ccitt: CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF), for serial framing
#   crc32:       the zlib/PNG CRC-32, split into 16-bit halves so MicroPython never
#                allocates a big int per byte

_T16 = None
_T32H = None
_T32L = None


def _build16():
    global _T16
    t = []
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) & 0xFFFF if c & 0x8000 else (c << 1) & 0xFFFF
        t.append(c)
    _T16 = tuple(t)


def _build32():
    global _T32H, _T32L
    hi = []
    lo = []
    for i in range(256):
        h = 0
        lw = i
        for _ in range(8):
            if lw & 1:
                lw = ((lw >> 1) | ((h & 1) << 15)) ^ 0x8320
                h = (h >> 1) ^ 0xEDB8
            else:
                lw = (lw >> 1) | ((h & 1) << 15)
                h >>= 1
        hi.append(h)
        lo.append(lw)
    _T32H = tuple(hi)
    _T32L = tuple(lo)


def crc16_ccitt(data, crc=0xFFFF):
    if _T16 is None:
        _build16()
    t = _T16
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ t[(crc >> 8) ^ b]
    return crc


def crc32(data, crc=0):
    if _T32H is None:
        _build32()
    th = _T32H
    tl = _T32L
    h = (crc >> 16) ^ 0xFFFF
    lw = (crc & 0xFFFF) ^ 0xFFFF
    for b in data:
        i = (lw ^ b) & 0xFF
        lw = ((lw >> 8) | ((h & 0xFF) << 8)) ^ tl[i]
        h = (h >> 8) ^ th[i]
    return ((h ^ 0xFFFF) << 16) | (lw ^ 0xFFFF)
