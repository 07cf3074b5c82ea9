# ISO 8583 codec for the CUP POS dialect: MTI + 8-byte bitmap + fields 2..64, plus the
# TCP frame (2-byte length, TPDU, header) around it. Field formats live in pos.cupspec.
#
# Values: 'mti' -> str of 4 digits; n/z/an/ans fields -> str; b fields -> bytes.
# Every malformed input raises Iso8583Error naming the field and the byte offset.
from pos.cupspec import FIELDS
from pos.compat import IS_MICROPYTHON

_ZERO8 = bytes(8)
_TPDU_ID = 0x60

# Bit offsets (0..3, MSB first) set in each nibble value, for walking the bitmap.
_NIBBLE_BITS = (
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


def _allowed(chars):
    flags = bytearray(256)
    for c in chars:
        flags[c] = 1
    return bytes(flags)


_AN = _allowed(b" 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_ANS = _allowed(bytes(range(0x20, 0x7F)))

try:
    # CPython: bytes.translate deletes the allowed characters in C; anything left is bad.
    b"a".translate(None, b"a")
    _DELETE = {}
    for _t in (_AN, _ANS):
        _DELETE[_t] = bytes([c for c in range(256) if _t[c]])

    def _chars_ok(raw, table):
        return not raw.translate(None, _DELETE[table])

except (AttributeError, TypeError):  # MicroPython has no bytes.translate

    def _chars_ok(raw, table):
        for c in raw:
            if not table[c]:
                return False
        return True


def _first_bad(raw, table):
    for i in range(len(raw)):
        if not table[raw[i]]:
            return i
    return 0


def _bcd_ok(text):
    # text: lowercase hex of BCD bytes (or the digits of a value); '' is fine.
    return not text or text.isdigit()


try:
    memoryview("0")  # type: ignore[arg-type]  # MicroPython: a str exposes its UTF-8 bytes without a copy

    def _utf8(v):
        return memoryview(v)

except TypeError:  # CPython

    def _utf8(v):
        return v.encode()


if IS_MICROPYTHON:

    def _track_ok(v):
        # digits and '=' only (on the UTF-8 bytes: no temporary string)
        for c in memoryview(v):
            if (c < 48 or c > 57) and c != 61:
                return False
        return True

else:

    def _track_ok(v):
        return _bcd_ok(v.replace("=", ""))


# --------------------------------------------------------------------------------------------
# encode: the fields are packed straight into one bytearray sized for the largest values
# the present fields allow (BCD digits nibble by nibble on MicroPython, text and binary
# copied in): no per-field temporaries.


def encode(msg):
    try:
        mti = msg["mti"]
    except (KeyError, TypeError, IndexError):
        raise Iso8583Error("mti", None, "missing MTI")
    if type(mti) is not str or len(mti) != 4 or not mti.isdigit():
        raise Iso8583Error("mti", None, f"MTI must be 4 digits, got {mti!r}")
    bitmap = bytearray(8)
    bound = 10
    for k in msg:
        if k == "mti":
            continue
        if type(k) is not int:
            raise Iso8583Error("bitmap", None, f"unknown key {k!r}")
        if k < 2 or k > 64:
            raise Iso8583Error(k, None, "no such field in this dialect (2..64)")
        bitmap[(k - 1) >> 3] |= 0x80 >> ((k - 1) & 7)
        if IS_MICROPYTHON:
            spec = FIELDS[k]
            if spec[1] == "n" or spec[1] == "z":
                bound += ((spec[3] + 1) >> 1) + spec[2]
            else:
                bound += spec[3] + spec[2]
        else:
            bound += 1001  # CPython: any bound will do (zero-filling is cheap there)
    out = bytearray(bound)
    d = _utf8(mti)
    out[0] = ((d[0] - 48) << 4) | (d[1] - 48)
    out[1] = ((d[2] - 48) << 4) | (d[3] - 48)
    out[2:10] = bitmap
    p = 10
    nb = _NIBBLE_BITS
    for i in range(8):
        x = bitmap[i]
        if x:
            base = i * 8 + 1
            for j in nb[x >> 4]:
                p = _put(out, p, base + j, msg[base + j])
            for j in nb[x & 15]:
                p = _put(out, p, base + 4 + j, msg[base + 4 + j])
    if p == bound:
        return bytes(out)
    return bytes(memoryview(out)[:p]) if IS_MICROPYTHON else bytes(out[:p])


def _put(out, p, f, v):
    # Checks field f's value and packs it at out[p:]; -> the offset after it.
    spec = FIELDS[f]
    kind = spec[1]
    lentype = spec[2]
    maxlen = spec[3]
    digits = False
    if kind == "b":
        if type(v) is not bytes and type(v) is not bytearray:
            raise Iso8583Error(f, None, f"expected bytes, got {type(v).__name__}")
        raw = v
        n = len(v)
    elif type(v) is not str:
        raise Iso8583Error(f, None, f"expected str, got {type(v).__name__}")
    elif kind == "n" or kind == "z":
        n = len(v)
        if kind == "n":
            if n and not v.isdigit():
                raise Iso8583Error(f, None, f"not all digits: {v!r}")
        elif not _track_ok(v):
            raise Iso8583Error(f, None, f"track data allows digits and '=' only: {v!r}")
        digits = True
        raw = None
    else:
        raw = _utf8(v)
        n = len(raw)
        table = _AN if kind == "an" else _ANS
        if not _chars_ok(raw, table):
            i = _first_bad(raw, table)
            raise Iso8583Error(
                f,
                None,
                f"byte {raw[i]:02X} at position {i} is not allowed in an {kind} field",
            )
    if lentype == 0:
        if n != maxlen:
            raise Iso8583Error(f, None, f"length {n}, expected {maxlen}")
    else:
        if n > maxlen:
            raise Iso8583Error(f, None, f"length {n} exceeds max {maxlen}")
        if lentype == 2:
            out[p] = ((n // 10) << 4) | (n % 10)
            p += 1
        else:
            out[p] = n // 100
            out[p + 1] = (((n // 10) % 10) << 4) | (n % 10)
            p += 2
    if not digits:
        out[p : p + n] = raw
        return p + n
    if not IS_MICROPYTHON:  # CPython: C-speed packing (its temporaries do not matter)
        if kind == "z":
            v = v.replace("=", "D")
        if n & 1:
            v = "0" + v if lentype == 0 and spec[4] == "r" else v + "0"
        k = (n + 1) >> 1
        try:
            out[p : p + k] = bytes.fromhex(v)
        except ValueError:  # digits outside ASCII (CPython's isdigit allows them)
            raise Iso8583Error(f, None, f"not all digits: {v!r}")
        return p + k
    if kind == "n" and n <= 8:
        # short fields through a small int: no buffer at all
        x = int(v) if n else 0
        k = (n + 1) >> 1
        if n & 1 and not (lentype == 0 and spec[4] == "r"):
            x *= 10  # trailing pad nibble
        q = p + k - 1
        while q >= p:
            out[q] = (((x // 10) % 10) << 4) | (x % 10)
            x //= 100
            q -= 1
        return p + k
    d = _utf8(v)
    i = 0
    if n & 1 and lentype == 0 and spec[4] == "r":
        out[p] = d[0] & 15 if d[0] != 61 else 13  # leading pad nibble 0
        p += 1
        i = 1
    while i + 1 < n:
        a = d[i]
        b = d[i + 1]
        out[p] = ((a - 48 if a < 58 else 13) << 4) | (b - 48 if b < 58 else 13)
        p += 1
        i += 2
    if i < n:  # trailing pad nibble 0
        a = d[i]
        out[p] = (a - 48 if a < 58 else 13) << 4
        p += 1
    return p


# --------------------------------------------------------------------------------------------
# decode: digits come from one hex string of the whole body (a slice per field), text
# straight from the body's buffer.

if IS_MICROPYTHON:

    def _text(body, mv, a, b, table):
        # -> the field as str, or None when a byte is not allowed
        for i in range(a, b):
            if not table[body[i]]:
                return None
        return str(mv[a:b], "ascii")

else:

    def _text(body, mv, a, b, table):
        raw = body[a:b]
        if not _chars_ok(raw, table):
            return None
        return raw.decode()


def decode(body):
    if type(body) is not bytes:
        if not isinstance(body, (bytearray, memoryview)):
            raise Iso8583Error("mti", 0, f"expected bytes, got {type(body).__name__}")
        body = bytes(body)
    end = len(body)
    if end < 2:
        raise Iso8583Error("mti", 0, f"truncated: need 2 bytes, have {end}")
    hx = body.hex()
    mti = hx[0:4]
    if not mti.isdigit():
        raise Iso8583Error("mti", 0, f"bad BCD {mti}")
    if end < 10:
        raise Iso8583Error("bitmap", 2, f"truncated: need 8 bytes, have {end - 2}")
    if body[2] & 0x80:
        raise Iso8583Error("bitmap", 2, "secondary bitmap (bit 1) is not supported")
    mv = memoryview(body) if IS_MICROPYTHON else None
    result = {"mti": mti}
    pos = 10
    nb = _NIBBLE_BITS
    for i in range(8):
        x = body[2 + i]
        if x:
            base = i * 8 + 1
            for j in nb[x >> 4]:
                pos = _field(body, hx, mv, end, pos, base + j, result)
            for j in nb[x & 15]:
                pos = _field(body, hx, mv, end, pos, base + 4 + j, result)
    if pos != end:
        raise Iso8583Error("len", pos, f"{end - pos} trailing bytes after the last field")
    return result


def _field(body, hx, mv, end, pos, f, result):
    # Decodes field f at body[pos:] into result; -> the offset after it.
    spec = FIELDS[f]
    kind = spec[1]
    lentype = spec[2]
    maxlen = spec[3]
    start = pos
    if lentype == 0:
        n = maxlen
    else:
        if pos + lentype - 1 > end:
            raise Iso8583Error(f, pos, "truncated: length prefix missing")
        if lentype == 2:
            x = body[pos]
            pos += 1
            hi = x >> 4
            lo = x & 15
            if hi > 9 or lo > 9:
                raise Iso8583Error(f, start, f"bad BCD length {x:02X}")
            n = hi * 10 + lo
        else:
            x = body[pos]
            y = body[pos + 1]
            pos += 2
            hi = y >> 4
            lo = y & 15
            if x > 9 or hi > 9 or lo > 9:
                raise Iso8583Error(f, start, f"bad BCD length {x:02X}{y:02X}")
            n = x * 100 + hi * 10 + lo
        if n > maxlen:
            raise Iso8583Error(f, start, f"length {n} exceeds max {maxlen}")
    if kind == "n" or kind == "z":
        size = (n + 1) >> 1
    else:
        size = n
    if pos + size > end:
        raise Iso8583Error(
            f,
            pos,
            f"truncated: need {size} bytes, have {end - pos if end > pos else 0}",
        )
    if kind == "b":
        value = body[pos : pos + size]
    elif kind == "n" or kind == "z":
        a = 2 * pos
        if n & 1:
            if lentype == 0 and spec[4] == "r":
                pad = hx[a]
                a += 1
            else:
                pad = hx[a + n]
            if pad != "0":
                raise Iso8583Error(f, pos, f"pad nibble is {pad.upper()}, expected 0")
        value = hx[a : a + n] if n else ""
        if kind == "n":
            if not _bcd_ok(value):
                raise Iso8583Error(f, pos, f"bad BCD digits {value.upper()}")
        elif not _bcd_ok(value):
            if not _bcd_ok(value.replace("d", "")):
                raise Iso8583Error(f, pos, f"bad track nibbles {value.upper()}")
            value = value.replace("d", "=")
    else:
        table = _AN if kind == "an" else _ANS
        value = _text(body, mv, pos, pos + size, table)
        if value is None:
            raw = body[pos : pos + size]
            i = _first_bad(raw, table)
            raise Iso8583Error(f, pos + i, f"byte {raw[i]:02X} is not allowed in an {kind} field")
    result[f] = value
    return pos + size


# --------------------------------------------------------------------------------------------
# frames: LEN(2, binary) + TPDU(5) + HEADER(6) + body


def pack_frame(tpdu, header, body):
    if not isinstance(tpdu, (bytes, bytearray)) or len(tpdu) != 5:
        raise Iso8583Error("tpdu", None, "TPDU must be 5 bytes")
    if tpdu[0] != _TPDU_ID:
        raise Iso8583Error("tpdu", None, f"TPDU id is {tpdu[0]:02X}, expected 60")
    if not isinstance(header, (bytes, bytearray)) or len(header) != 6:
        raise Iso8583Error("header", None, "header must be 6 bytes")
    if not isinstance(body, (bytes, bytearray)):
        raise Iso8583Error("len", None, "body must be bytes")
    n = 11 + len(body)
    if n > 0xFFFF:
        raise Iso8583Error("len", None, f"frame of {n} bytes exceeds 65535")
    out = bytearray(2)
    out[0] = n >> 8
    out[1] = n & 0xFF
    out.extend(tpdu)
    out.extend(header)
    out.extend(body)
    return bytes(out)


def frame_length(prefix2):
    # Number of bytes that follow the 2-byte length prefix.
    if not isinstance(prefix2, (bytes, bytearray, memoryview)) or len(prefix2) != 2:
        raise Iso8583Error("len", 0, "length prefix must be 2 bytes")
    return (prefix2[0] << 8) | prefix2[1]


def unpack_frame(data):
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise Iso8583Error("len", 0, f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < 2:
        raise Iso8583Error("len", 0, f"truncated: need 2 bytes, have {len(data)}")
    n = (data[0] << 8) | data[1]
    if n != len(data) - 2:
        raise Iso8583Error("len", 0, f"length says {n} bytes, have {len(data) - 2}")
    if n < 5:
        raise Iso8583Error("tpdu", 2, f"truncated: need 5 bytes, have {n}")
    if data[2] != _TPDU_ID:
        raise Iso8583Error("tpdu", 2, f"TPDU id is {data[2]:02X}, expected 60")
    if n < 11:
        raise Iso8583Error("header", 7, f"truncated: need 6 bytes, have {n - 5}")
    return data[2:7], data[7:13], data[13:]


def swap_tpdu(tpdu):
    # The host answers with destination and source addresses swapped.
    if not isinstance(tpdu, (bytes, bytearray)) or len(tpdu) != 5:
        raise Iso8583Error("tpdu", None, "TPDU must be 5 bytes")
    return bytes(tpdu[0:1]) + bytes(tpdu[3:5]) + bytes(tpdu[1:3])


def mab(msg):
    # The MAC block: MTI .. last byte of field 63, with bit 64 set in the bitmap (ref. 4.3).
    m = {}
    for k in msg:
        m[k] = msg[k]
    m[64] = _ZERO8
    return encode(m)[:-8]
