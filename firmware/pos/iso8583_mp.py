# The MicroPython half of the ISO 8583 codec (pos.iso8583 picks it on MicroPython):
# encode packs the fields straight into one bytearray sized for the largest values the
# present fields allow (BCD digits nibble by nibble from the str's UTF-8 buffer, text and
# binary copied in): no per-field temporaries. decode takes digits as slices of one hex
# string of the body and text from a memoryview of it.
from pos.isobase import (
    ANS,
    ANS_IN,
    AN,
    WIDE_FIELD,
    WIDE_SIZE,
    as_text,
    Iso8583Error,
    bad_key,
    bcd_ok,
    longest_in,
    pad_ok,
    check_body,
    check_head,
    check_mti,
    first_bad,
)

# pos.cupspec.FIELDS as bytes, 5 per field (the names left out; a core test checks that
# the two agree): kind (_KINDS index), lentype, maxlen (2 bytes, big-endian), 1 if the
# pad nibble of an odd fixed n field leads ('r'). Fields 0 and 1: zeros.
_KINDS = ("b", "n", "z", "an", "ans")
_SPEC = (
    b"\x00\x00\x00\x00\x00" b"\x00\x00\x00\x00\x00" b"\x01\x02\x00\x13\x00" b"\x01\x00\x00\x06\x01"
    b"\x01\x00\x00\x0c\x01" b"\x01\x00\x00\x0c\x01" b"\x01\x00\x00\x0c\x01" b"\x01\x00\x00\x0a\x01"
    b"\x01\x00\x00\x08\x01" b"\x01\x00\x00\x08\x01" b"\x01\x00\x00\x08\x01" b"\x01\x00\x00\x06\x01"
    b"\x01\x00\x00\x06\x01" b"\x01\x00\x00\x04\x01" b"\x01\x00\x00\x04\x01" b"\x01\x00\x00\x04\x01"
    b"\x01\x00\x00\x04\x01" b"\x01\x00\x00\x04\x01" b"\x01\x00\x00\x04\x01" b"\x01\x00\x00\x03\x01"
    b"\x01\x00\x00\x03\x01" b"\x01\x00\x00\x03\x01" b"\x01\x00\x00\x03\x00" b"\x01\x00\x00\x03\x01"
    b"\x01\x00\x00\x03\x01" b"\x01\x00\x00\x02\x01" b"\x01\x00\x00\x02\x01" b"\x01\x00\x00\x01\x01"
    b"\x03\x00\x00\x09\x01" b"\x03\x00\x00\x09\x01" b"\x03\x00\x00\x09\x01" b"\x03\x00\x00\x09\x01"
    b"\x01\x02\x00\x0b\x00" b"\x01\x02\x00\x0b\x00" b"\x04\x02\x00\x1c\x00" b"\x02\x02\x00\x25\x00"
    b"\x02\x03\x00\x68\x00" b"\x03\x00\x00\x0c\x01" b"\x03\x00\x00\x06\x01" b"\x03\x00\x00\x02\x01"
    b"\x03\x00\x00\x03\x01" b"\x04\x00\x00\x08\x01" b"\x04\x00\x00\x0f\x01" b"\x04\x00\x00\x28\x01"
    b"\x04\x02\x00\x19\x00" b"\x04\x02\x00\x4c\x00" b"\x04\x03\x03\xe7\x00" b"\x04\x03\x03\xe7\x00"
    b"\x01\x03\x01\x42\x00" b"\x03\x00\x00\x03\x01" b"\x03\x00\x00\x03\x01" b"\x03\x00\x00\x03\x01"
    b"\x00\x00\x00\x08\x01" b"\x01\x00\x00\x10\x01" b"\x03\x03\x00\x28\x00" b"\x00\x03\x00\xff\x00"
    b"\x04\x03\x03\xe7\x00" b"\x04\x03\x03\xe7\x00" b"\x04\x03\x03\xe7\x00" b"\x04\x03\x03\xe7\x00"
    b"\x01\x03\x00\x11\x00" b"\x01\x03\x00\x1d\x00" b"\x00\x03\x02\x00\x00" b"\x04\x03\x00\xa3\x00"
    b"\x00\x00\x00\x08\x01"
)  # fmt: skip


def _chars_ok(raw, table):
    for c in raw:
        if not table[c]:
            return False
    return True


def _track_ok(v):
    # digits, '=' and (a TDK-encrypted track) hex letters (on the UTF-8 bytes: no temporary
    # string)
    for c in memoryview(v):  # type: ignore[arg-type]  # MicroPython: a str's UTF-8 bytes
        if _nib(c) < 0:
            return False
    return True


def _nib(c):
    # the nibble of a track character: 0-9, '=' -> D, A-F / a-f; -1 for anything else
    if 48 <= c <= 57:
        return c - 48
    if c == 61:
        return 13
    if 65 <= c <= 70:
        return c - 55
    if 97 <= c <= 102:
        return c - 87
    return -1


def encode(msg):
    mti = check_mti(msg)
    bitmap = bytearray(8)
    bound = 10
    for k in msg:
        if k == "mti":
            continue
        if type(k) is not int or k < 2 or k > 64:
            raise bad_key(k)
        bitmap[(k - 1) >> 3] |= 0x80 >> ((k - 1) & 7)
        s = 5 * k
        maxlen = WIDE_SIZE if k == WIDE_FIELD else (_SPEC[s + 2] << 8) | _SPEC[s + 3]
        if _SPEC[s] == 1 or _SPEC[s] == 2:
            bound += ((maxlen + 1) >> 1) + _SPEC[s + 1]
        else:
            bound += maxlen + _SPEC[s + 1]
    out = bytearray(bound)
    d = memoryview(mti)  # type: ignore[arg-type]
    out[0] = ((d[0] - 48) << 4) | (d[1] - 48)
    out[1] = ((d[2] - 48) << 4) | (d[3] - 48)
    out[2:10] = bitmap
    p = 10
    for i in range(8):
        x = bitmap[i]
        if x:
            f = i * 8 + 1
            while x:
                if x & 0x80:
                    p = _put(out, p, f, msg[f])
                x = (x << 1) & 0xFF
                f += 1
    if p == bound:
        return bytes(out)
    return bytes(memoryview(out)[:p])


def _put(out, p, f, v):
    # Checks field f's value and packs it at out[p:]; -> the offset after it.
    s = 5 * f
    kind = _KINDS[_SPEC[s]]
    lentype = _SPEC[s + 1]
    maxlen = (_SPEC[s + 2] << 8) | _SPEC[s + 3]
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
            raise Iso8583Error(
                f, None, f"track data allows digits, '=' and (encrypted) hex only: {v!r}"
            )
        digits = True
        raw = None
    else:
        text = memoryview(v)  # type: ignore[arg-type]
        n = len(text)
        table = AN if kind == "an" else ANS
        if not _chars_ok(text, table):
            i = first_bad(text, table)
            raise Iso8583Error(
                f,
                None,
                f"byte {text[i]:02X} at position {i} is not allowed in an {kind} field",
            )
        raw = text
    if lentype == 0:
        if n != maxlen and not (f == WIDE_FIELD and n == WIDE_SIZE):
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
    if kind == "n" and n <= 8:
        # short fields through a small int: no buffer at all
        x = int(v) if n else 0
        k = (n + 1) >> 1
        if n & 1 and not (lentype == 0 and _SPEC[s + 4]):
            x *= 10  # trailing pad nibble
        q = p + k - 1
        while q >= p:
            out[q] = (((x // 10) % 10) << 4) | (x % 10)
            x //= 100
            q -= 1
        return p + k
    d = memoryview(v)  # type: ignore[arg-type]
    i = 0
    if n & 1 and lentype == 0 and _SPEC[s + 4]:
        out[p] = _nib(d[0])  # leading pad nibble 0
        p += 1
        i = 1
    while i + 1 < n:
        a = d[i]
        b = d[i + 1]
        out[p] = (_nib(a) << 4) | _nib(b)
        p += 1
        i += 2
    if i < n:  # trailing pad nibble 0
        a = d[i]
        out[p] = _nib(a) << 4
        p += 1
    return p


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
    hx = body.hex()
    mti = hx[0:4]
    check_head(body, mti, end)
    mv = memoryview(body)
    result = {"mti": mti}
    pos = 10
    for i in range(8):
        x = body[2 + i]
        if x:
            f = i * 8 + 1
            while x:
                if x & 0x80:
                    pos = _field(body, hx, mv, end, pos, f, result)
                x = (x << 1) & 0xFF
                f += 1
    if pos != end:
        raise Iso8583Error("len", pos, f"{end - pos} trailing bytes after the last field")
    return result


def _field(body, hx, mv, end, pos, f, result):
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
        a = 2 * pos
        if n & 1:
            if lentype == 0 and _SPEC[s + 4]:
                pad = hx[a]
                a += 1
            else:
                pad = hx[a + n]
            if not pad_ok(pad):
                raise Iso8583Error(f, pos, f"pad nibble is {pad.upper()}, expected 0")
        value = hx[a : a + n] if n else ""
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
