# Shared pieces of the ISO 8583 codec (pos.iso8583): the error type, the character
# tables and the bitmap walk. The packing itself is in pos.iso8583_mp (MicroPython: no
# temporaries) or pos.iso8583_cp (CPython: C-speed bytes methods); a board loads only
# its own half.

# Bit offsets (0..3, MSB first) set in each nibble value, for walking the bitmap.
NIBBLE_BITS = (
    (), (3,), (2,), (2, 3), (1,), (1, 3), (1, 2), (1, 2, 3),
    (0,), (0, 3), (0, 2), (0, 2, 3), (0, 1), (0, 1, 3), (0, 1, 2), (0, 1, 2, 3),
)  # fmt: skip


class Iso8583Error(ValueError):
    # field: int field number, or 'len', 'tpdu', 'header', 'mti', 'bitmap'.
    # offset: byte offset into the input being decoded, None when encoding.
    def __init__(self, field, offset, reason):
        if type(field) is int:
            where = f"field {field}"
        else:
            where = str(field)
        if offset is not None:
            where += f" at offset {offset}"
        super().__init__(where + ": " + reason)
        self.field = field
        self.offset = offset
        self.reason = reason


def _allowed(*ranges):
    # 256 flags, 1 for the bytes in the [lo, hi) ranges (slice fills: a board loads the
    # codec for every exchange, and a byte-by-byte loop here cost ~0.4 ms each time)
    flags = bytearray(256)
    for lo, hi in ranges:
        flags[lo:hi] = b"\x01" * (hi - lo)
    return bytes(flags)


AN = _allowed((0x20, 0x21), (0x30, 0x3A), (0x41, 0x5B), (0x61, 0x7B))
ANS = _allowed((0x20, 0x7F))
# Decoding is lenient where real hosts are: an 'ans' field (e.g. 63 with the issuer's name)
# may carry GBK bytes, which come back as one character per byte unless they are UTF-8.
ANS_IN = _allowed((0x20, 0x100))


def as_text(raw):
    try:
        return str(raw, "utf-8")
    except UnicodeError:
        return "".join([chr(c) for c in raw])


# Decoding takes the longest that real dialects send where it is longer than what we send
# (reference §11): 60 of 19 (a real 0200), 20 / 21 (PAX) and up to 999 digits (OP's
# parser). Encoding keeps cupspec's (17).
LONGER_IN = {60: 999}


# Field 52 is the 8-byte PIN block, or the 16-byte SM4 PIN block of a terminal signed in
# with SM (国密) keys. Encoding takes either size; decoding reads 8 and, when that does not
# parse, 16 (pos.iso8583.decode). (Two ints, not a table: nothing allocated.)
WIDE_FIELD = 52
WIDE_SIZE = 16


# A pad nibble of an odd-length BCD field: 0 here, F from many real terminals and hosts.
PAD_OK = ("0", "f")


def first_bad(raw, table):
    for i in range(len(raw)):
        if not table[raw[i]]:
            return i
    return 0


def bcd_ok(text):
    # text: lowercase hex of BCD bytes (or the digits of a value); '' is fine.
    return not text or text.isdigit()


def check_mti(msg):
    try:
        mti = msg["mti"]
    except (KeyError, TypeError, IndexError):
        raise Iso8583Error("mti", None, "missing MTI")
    if type(mti) is not str or len(mti) != 4 or not mti.isdigit():
        raise Iso8583Error("mti", None, f"MTI must be 4 digits, got {mti!r}")
    return mti


def check_body(body):
    # -> body as bytes, at least MTI + bitmap long, primary bitmap only
    if type(body) is not bytes:
        if not isinstance(body, (bytearray, memoryview)):
            raise Iso8583Error("mti", 0, f"expected bytes, got {type(body).__name__}")
        body = bytes(body)
    end = len(body)
    if end < 2:
        raise Iso8583Error("mti", 0, f"truncated: need 2 bytes, have {end}")
    return body


def check_head(body, mti, end):
    if not mti.isdigit():
        raise Iso8583Error("mti", 0, f"bad BCD {mti}")
    if end < 10:
        raise Iso8583Error("bitmap", 2, f"truncated: need 8 bytes, have {end - 2}")
    if body[2] & 0x80:
        raise Iso8583Error("bitmap", 2, "secondary bitmap (bit 1) is not supported")


def bad_key(k):
    if type(k) is not int:
        return Iso8583Error("bitmap", None, f"unknown key {k!r}")
    return Iso8583Error(k, None, "no such field in this dialect (2..64)")
