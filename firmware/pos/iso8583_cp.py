# The CPython half of the ISO 8583 codec (pos.iso8583 picks it on CPython; a board never
# loads it): the same checks and errors as pos.iso8583_mp, with the work done by C-speed
# bytes/str methods (fromhex, hex, translate, join) and one flat loop per message with the
# field specs unpacked into a table (no call per field).
from pos.cupspec import FIELDS
from pos.isobase import ANS, AN, Iso8583Error, bad_key, check_body, check_head, check_mti
from pos.isobase import ANS_IN, WIDE_FIELD, WIDE_SIZE, as_text, first_bad, longest_in, pad_ok

_B = 0
_N = 1
_Z = 2
_T = 3  # an / ans
# field -> (kind, lentype, maxlen, left pad nibble for odd fixed n, char table, deletion
# set, kind name)
_SPEC = [None] * 65
_DELETE = {}
for _t in (AN, ANS):
    _DELETE[_t] = bytes([c for c in range(256) if _t[c]])
_DELETE_IN = bytes([c for c in range(256) if ANS_IN[c]])
for _f in range(2, 65):
    _name, _kind, _lt, _ml, _align = FIELDS[_f]
    _tab = AN if _kind == "an" else ANS
    _SPEC[_f] = (
        {"b": _B, "n": _N, "z": _Z}.get(_kind, _T),
        _lt,
        _ml,
        _lt == 0 and _align == "r",
        _tab,
        _DELETE[_tab],
        _kind,
    )
# BCD length prefixes, ready made
_L2 = [bytes(((n // 10) << 4 | n % 10,)) for n in range(100)]
_L3 = [bytes((n // 100, ((n // 10) % 10) << 4 | n % 10)) for n in range(1000)]
# bitmap byte i (0..7) with value x -> its field numbers
_BYTE_FIELDS = [
    [tuple(i * 8 + 1 + j for j in range(8) if x & (0x80 >> j)) for x in range(256)]
    for i in range(8)
]
_fromhex = bytes.fromhex
# track data: digits, the separator "=" and, once encrypted under a TDK, any hex nibble
_TRACK_DEL = {ord(c): None for c in "0123456789=ABCDEFabcdef"}


def encode(msg):
    mti = check_mti(msg)
    bm = 0
    for k in msg:
        if k == "mti":
            continue
        if type(k) is not int or k < 2 or k > 64:
            raise bad_key(k)
        bm |= 1 << (64 - k)
    try:
        head = _fromhex(mti)
    except ValueError:  # digits outside ASCII (str.isdigit allows them)
        raise Iso8583Error("mti", None, f"MTI must be 4 digits, got {mti!r}")
    parts = [head, bm.to_bytes(8, "big")]  # type: list
    add = parts.append
    spec = _SPEC
    for f in sorted(k for k in msg if k != "mti"):
        v = msg[f]
        kind, lentype, maxlen, lpad, table, delete, kname = spec[f]
        if kind == _B:
            if type(v) is not bytes and type(v) is not bytearray:
                raise Iso8583Error(f, None, f"expected bytes, got {type(v).__name__}")
            raw = v
            n = len(v)
        elif type(v) is not str:
            raise Iso8583Error(f, None, f"expected str, got {type(v).__name__}")
        elif kind == _T:
            raw = v.encode()
            n = len(raw)
            if raw.translate(None, delete):
                i = first_bad(raw, table)
                raise Iso8583Error(
                    f,
                    None,
                    f"byte {raw[i]:02X} at position {i} is not allowed in an {kname} field",
                )
        else:
            n = len(v)
            if kind == _N:
                if n and not v.isdigit():
                    raise Iso8583Error(f, None, f"not all digits: {v!r}")
            else:
                if v.translate(_TRACK_DEL):
                    raise Iso8583Error(
                        f, None, f"track data allows digits, '=' and (encrypted) hex only: {v!r}"
                    )
                v = v.replace("=", "D")
            raw = None
        if lentype == 0:
            if n != maxlen and not (f == WIDE_FIELD and n == WIDE_SIZE):
                raise Iso8583Error(f, None, f"length {n}, expected {maxlen}")
        elif n > maxlen:
            raise Iso8583Error(f, None, f"length {n} exceeds max {maxlen}")
        elif lentype == 2:
            add(_L2[n])
        else:
            add(_L3[n])
        if raw is None:
            if n & 1:
                v = "0" + v if lpad else v + "0"
            try:
                raw = _fromhex(v)
            except ValueError:  # digits outside ASCII (CPython's isdigit allows them)
                raise Iso8583Error(f, None, f"not all digits: {msg[f]!r}")
        add(raw)
    return b"".join(parts)


def decode(body, wide=False):
    # wide: read field 52 as the 16-byte SM4 PIN block (isobase WIDE_SIZE)
    body = check_body(body)
    end = len(body)
    hx = body.hex()
    mti = hx[0:4]
    check_head(body, mti, end)
    result = {"mti": mti}
    pos = 10
    spec = _SPEC
    for i in range(8):
        x = body[2 + i]
        if not x:
            continue
        for f in _BYTE_FIELDS[i][x]:
            kind, lentype, n, lpad, table, delete, kname = spec[f]
            start = pos
            if wide and f == WIDE_FIELD:
                n = WIDE_SIZE
            if lentype:
                maxlen = n
                if pos + lentype - 1 > end:
                    raise Iso8583Error(f, pos, "truncated: length prefix missing")
                if lentype == 2:
                    x2 = body[pos]
                    pos += 1
                    hi = x2 >> 4
                    lo = x2 & 15
                    if hi > 9 or lo > 9:
                        raise Iso8583Error(f, start, f"bad BCD length {x2:02X}")
                    n = hi * 10 + lo
                else:
                    x2 = body[pos]
                    y = body[pos + 1]
                    pos += 2
                    hi = y >> 4
                    lo = y & 15
                    if x2 > 9 or hi > 9 or lo > 9:
                        raise Iso8583Error(f, start, f"bad BCD length {x2:02X}{y:02X}")
                    n = x2 * 100 + hi * 10 + lo
                if n > longest_in(f, maxlen):
                    raise Iso8583Error(f, start, f"length {n} exceeds max {maxlen}")
            size = (n + 1) >> 1 if kind == _N or kind == _Z else n
            stop = pos + size
            if stop > end:
                raise Iso8583Error(
                    f,
                    pos,
                    f"truncated: need {size} bytes, have {end - pos if end > pos else 0}",
                )
            if kind == _B:
                value = body[pos:stop]
            elif kind == _T:
                raw = body[pos:stop]
                if kname == "ans":
                    table, delete = ANS_IN, _DELETE_IN
                if raw.translate(None, delete):
                    j = first_bad(raw, table)
                    raise Iso8583Error(
                        f, pos + j, f"byte {raw[j]:02X} is not allowed in an {kname} field"
                    )
                value = as_text(raw)
            else:
                a = 2 * pos
                if n & 1:
                    if lpad:
                        pad = hx[a]
                        a += 1
                    else:
                        pad = hx[a + n]
                    if not pad_ok(pad):
                        raise Iso8583Error(f, pos, f"pad nibble is {pad.upper()}, expected 0")
                value = hx[a : a + n]
                if value and not value.isdigit():
                    if kind == _N:
                        raise Iso8583Error(f, pos, f"bad BCD digits {value.upper()}")
                    # track data: D is the separator; other letters are encrypted data
                    value = value.replace("d", "=").upper()
            result[f] = value
            pos = stop
    if pos != end:
        raise Iso8583Error("len", pos, f"{end - pos} trailing bytes after the last field")
    return result
