# The MicroPython half of the ISO 8583 codec (pos.iso8583 picks it on MicroPython), its
# encoding; the decoding is pos.iso8583_mpd (an exchange loads the codec to encode the
# request, and again to check the answer, each time with one half). encode packs the
# fields straight into one bytearray sized for the values the message holds (BCD digits
# nibble by nibble from the str's UTF-8 buffer, text and binary copied in): no per-field
# temporaries. decode takes each numeric field's digits from its own bytes' hex and text
# from a memoryview of the body.
from pos.isobase import (
    ANS,
    AN,
    KINDS as _KINDS,
    SPEC as _SPEC,
    WIDE_FIELD,
    WIDE_SIZE,
    Iso8583Error,
    bad_key,
    check_mti,
    first_bad,
)


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
        bound += _room(k, msg[k])
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


def _room(k, v):
    # the bytes field k's value takes (its length prefix with it): the buffer is sized for
    # what the message holds, not for the longest values its fields allow (up to ~1 KB, the
    # exchange's largest block, where a board has the least heap); a value _put will refuse
    # gets the room its field allows
    s = 5 * k
    digits = _SPEC[s] == 1 or _SPEC[s] == 2
    t = type(v)
    if t is str:
        # text: its UTF-8 bytes; digits: one nibble each
        n = len(v) if digits else len(memoryview(v))  # type: ignore[arg-type]
    elif t is bytes or t is bytearray:
        n = len(v)
    else:
        n = WIDE_SIZE if k == WIDE_FIELD else (_SPEC[s + 2] << 8) | _SPEC[s + 3]
    lentype = _SPEC[s + 1]  # 0 fixed, 2 LLVAR (1 byte of length), 3 LLLVAR (2 bytes)
    head = lentype - 1 if lentype else 0
    return head + (((n + 1) >> 1) if digits else n)


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
