# The decoding of the MicroPython half of the ISO 8583 codec (pos.iso8583_mp says how;
# pos.iso8583 loads this module only to decode: a board checking an answer does not hold
# the encoder, nor one encoding a request the decoder).
from pos.isobase import (
    ANS_IN,
    AN,
    KINDS as _KINDS,
    SPEC as _SPEC,
    WIDE_FIELD,
    WIDE_SIZE,
    as_text,
    Iso8583Error,
    bcd_ok,
    check_body,
    check_head,
    first_bad,
    longest_in,
    pad_ok,
)


def _text(body, mv, a, b, table):
    # -> the field as str, or None when a byte is not allowed
    for i in range(a, b):
        if not table[body[i]]:
            return None
    return as_text(mv[a:b])


_wide = [False]  # the decode under way reads field 52 as the 16-byte SM4 PIN block


def decode(body, wide=False):
    # wide: read field 52 as the 16-byte SM4 PIN block (isobase WIDE_SIZE); a flag, not an
    # argument of _field, so that a field's decoding costs what it did without it
    _wide[0] = wide
    body = check_body(body)
    end = len(body)
    mv = memoryview(body)
    mti = mv[0:2].hex()
    check_head(body, mti, end)
    result = {"mti": mti}
    pos = 10
    for i in range(8):
        x = body[2 + i]
        if x:
            f = i * 8 + 1
            while x:
                if x & 0x80:
                    pos = _field(body, mv, end, pos, f, result)
                x = (x << 1) & 0xFF
                f += 1
    if pos != end:
        raise Iso8583Error("len", pos, f"{end - pos} trailing bytes after the last field")
    return result


def _field(body, mv, end, pos, f, result):
    # Decodes field f at body[pos:] into result; -> the offset after it.
    s = 5 * f
    kind = _KINDS[_SPEC[s]]
    lentype = _SPEC[s + 1]
    maxlen = (_SPEC[s + 2] << 8) | _SPEC[s + 3]
    start = pos
    if lentype == 0:
        n = WIDE_SIZE if f == WIDE_FIELD and _wide[0] else maxlen
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
        if n > longest_in(f, maxlen):
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
        # the field's own hex (a body's hex at once would be one block of twice its size:
        # the largest the answer's check made, where a board has the least heap)
        hx = mv[pos : pos + size].hex()
        a = 0
        if n & 1:
            if lentype == 0 and _SPEC[s + 4]:
                pad = hx[0]
                a = 1
            else:
                pad = hx[n]
            if not pad_ok(pad):
                raise Iso8583Error(f, pos, f"pad nibble is {pad.upper()}, expected 0")
            value = hx[a : a + n]
        else:
            value = hx if n else ""  # (an empty hex is b"" on MicroPython 1.27)
        if kind == "n":
            if not bcd_ok(value):
                raise Iso8583Error(f, pos, f"bad BCD digits {value.upper()}")
        elif not bcd_ok(value):
            # track data: D is the separator; other letters are encrypted data
            value = value.replace("d", "=").upper()
    else:
        table = AN if kind == "an" else ANS_IN
        value = _text(body, mv, pos, pos + size, table)
        if value is None:
            raw = body[pos : pos + size]
            i = first_bad(raw, table)
            raise Iso8583Error(f, pos + i, f"byte {raw[i]:02X} is not allowed in an {kind} field")
    result[f] = value
    return pos + size
