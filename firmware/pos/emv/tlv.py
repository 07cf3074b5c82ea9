# BER-TLV as EMV uses it (EMV 4.3 Book 3 Annex B) and data object lists (DOLs: PDOL,
# CDOL1, ...). Tags are ints (9F26 -> 0x9F26, at most 3 bytes so they stay small ints on
# MicroPython), values are bytes. Lengths up to 3 bytes (81 xx, 82 xxxx, 83 xxxxxx).
# '00' bytes before, between or after objects are padding (Book 3 B) and skipped.
from pos.compat import const

_MAX_DEPTH = const(8)  # constructed templates nested deeper than this are refused


class TlvError(ValueError):
    # What went wrong, the tag (int, or None before one was read) and the byte offset.
    def __init__(self, msg, tag=None, offset=None):
        where = ""
        if tag is not None:
            where += "tag %X " % tag
        if offset is not None:
            where += "at offset %d" % offset
        super().__init__((where.strip() + ": " + msg) if where else msg)
        self.tag = tag
        self.offset = offset


def constructed(tag):
    # bit 6 of a tag's first byte: the value is itself TLV (6F, A5, 70, 77, BF0C, ...)
    while tag > 0xFF:
        tag >>= 8
    return bool(tag & 0x20)


def read_tag(data, off):
    # -> (tag, offset after it)
    n = len(data)
    if off >= n:
        raise TlvError("tag expected, data ends", None, off)
    b = data[off]
    tag = b
    i = off + 1
    if b & 0x1F == 0x1F:
        while True:
            if i >= n:
                raise TlvError("tag runs past the end", tag, off)
            if i - off >= 3:
                raise TlvError("tag longer than 3 bytes", tag, off)
            b = data[i]
            tag = (tag << 8) | b
            i += 1
            if not b & 0x80:
                break
    return tag, i


def read_len(data, off, tag=None):
    # -> (length, offset after the length bytes)
    n = len(data)
    if off >= n:
        raise TlvError("length expected, data ends", tag, off)
    b = data[off]
    if b < 0x80:
        return b, off + 1
    k = b & 0x7F
    if k == 0:
        raise TlvError("indefinite length (80) is not allowed", tag, off)
    if k > 3:
        raise TlvError("length of %d bytes is not supported" % k, tag, off)
    if off + 1 + k > n:
        raise TlvError("length runs past the end", tag, off)
    v = 0
    for i in range(off + 1, off + 1 + k):
        v = (v << 8) | data[i]
    return v, off + 1 + k


def _items(data, base, depth, deep, out):
    # Parse data (a bytes slice starting at absolute offset base) into out as
    # (tag, value, depth); with deep, constructed values are parsed (and checked) too.
    if depth > _MAX_DEPTH:
        raise TlvError("templates nested deeper than %d" % _MAX_DEPTH, None, base)
    n = len(data)
    off = 0
    while off < n:
        if data[off] == 0:
            off += 1
            continue
        start = off
        tag, off = read_tag(data, off)
        length, off = read_len(data, off, tag)
        if off + length > n:
            raise TlvError(
                "value of %d bytes runs past the end (%d left)" % (length, n - off),
                tag,
                base + start,
            )
        value = bytes(data[off : off + length])
        out.append((tag, value, depth))
        if deep and constructed(tag):
            _items(value, base + off, depth + 1, deep, out)
        off += length
    return out


def decode(data):
    # -> [(tag, value), ...] of the top level, in order (constructed values unparsed)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TlvError("TLV data must be bytes")
    return [(t, v) for t, v, _ in _items(data, 0, 0, False, [])]


def walk(data):
    # -> [(tag, value, depth), ...] of every object, templates first then their contents
    # (depth 0 is the top level); the whole tree is checked.
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TlvError("TLV data must be bytes")
    return _items(data, 0, 0, True, [])


def flatten(data):
    # -> {tag: value} of every primitive object in the tree (the first one wins)
    out = {}
    for tag, value, _ in walk(data):
        if not constructed(tag) and tag not in out:
            out[tag] = value
    return out


def pick(data, tags, out=None):
    # -> {tag: value} of the first primitive object of each of these tags anywhere in the
    # tree, added to out (a tag already in out is kept); the whole tree is checked as walk()
    # checks it. Only the values taken are copied: no list of every object, no template's
    # copy (a board's kernel reads each record so, its heap not cut up by their garbage).
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TlvError("TLV data must be bytes")
    if out is None:
        out = {}
    _pick(data, 0, len(data), 0, tags, out)
    return out


def _pick(data, off, end, depth, tags, out):
    if depth > _MAX_DEPTH:
        raise TlvError("templates nested deeper than %d" % _MAX_DEPTH, None, off)
    while off < end:
        if data[off] == 0:
            off += 1
            continue
        start = off
        tag, off = read_tag(data, off)
        length, off = read_len(data, off, tag)
        if off + length > end:
            raise TlvError(
                "value of %d bytes runs past the end (%d left)" % (length, end - off), tag, start
            )
        if constructed(tag):
            _pick(data, off, off + length, depth + 1, tags, out)
        elif tag in tags and tag not in out:
            out[tag] = bytes(data[off : off + length])
        off += length


def find(data, tag):
    # The value of the first object with this tag anywhere in the tree, or None.
    for t, value, _ in walk(data):
        if t == tag:
            return value
    return None


def tag_bytes(tag):
    if tag <= 0 or tag > 0xFFFFFF:
        raise TlvError("tag out of range")
    if tag > 0xFFFF:
        return bytes(((tag >> 16) & 0xFF, (tag >> 8) & 0xFF, tag & 0xFF))
    if tag > 0xFF:
        return bytes(((tag >> 8) & 0xFF, tag & 0xFF))
    return bytes((tag,))


def len_bytes(n):
    if n < 0x80:
        return bytes((n,))
    if n <= 0xFF:
        return bytes((0x81, n))
    if n <= 0xFFFF:
        return bytes((0x82, n >> 8, n & 0xFF))
    if n <= 0xFFFFFF:
        return bytes((0x83, n >> 16, (n >> 8) & 0xFF, n & 0xFF))
    raise TlvError("value of %d bytes is too long" % n)


def encode(tag, value):
    # One object; a template's value is the encoding of its contents (see build()).
    t = tag_bytes(tag)
    read_tag(t, 0)  # refuses a malformed tag number (e.g. 9F with no second byte)
    return t + len_bytes(len(value)) + bytes(value)


def build(items):
    # [(tag, value), ...] -> their encodings, concatenated; a value that is a list is a
    # template's contents, built the same way. Written into one bytearray sized first (not
    # 3-4 small bytes objects an object and their list: field 55's 22 objects were ~90
    # blocks of garbage made while a board's chip read had the least heap), as encode() does.
    n = 0
    for tag, value in items:
        k = len(build(value) if isinstance(value, list) else value)
        n += k + (2 if k < 0x80 else 5) + (tag > 0xFF) + (tag > 0xFFFF)
    out = bytearray(n)
    out[:] = b""  # (its room kept: the appends below fill it without growing it)
    for tag, value in items:
        if isinstance(value, list):
            value = build(value)
        if tag <= 0 or tag > 0xFFFFFF:
            raise TlvError("tag out of range")
        at = len(out)
        if tag > 0xFFFF:
            out.append(tag >> 16)
        if tag > 0xFF:
            out.append((tag >> 8) & 0xFF)
        out.append(tag & 0xFF)
        read_tag(out, at)  # refuses a malformed tag number (e.g. 9F with no second byte)
        k = len(value)
        if k < 0x80:
            out.append(k)
        else:
            out.extend(len_bytes(k))
        out.extend(value)
    return bytes(out)


# --- data object lists (Book 3 5.4) ---------------------------------------------------

# Numeric (format n) tags of the DOLs a CUP card asks for: padded and truncated on the
# left; everything else on the right.
_NUMERIC = (0x9F02, 0x9F03, 0x9F1A, 0x5F2A, 0x9A, 0x9C, 0x9F21, 0x9F41, 0x5F34, 0x5F36)


def parse_dol(dol):
    # -> [(tag, length), ...]
    if not isinstance(dol, (bytes, bytearray, memoryview)):
        raise TlvError("DOL must be bytes")
    out = []
    off = 0
    n = len(dol)
    while off < n:
        tag, off = read_tag(dol, off)
        length, off = read_len(dol, off, tag)
        out.append((tag, length))
    return out


def dol_length(dol):
    total = 0
    for _, length in parse_dol(dol):
        total += length
    return total


def build_dol_data(dol, values):
    # The data a DOL asks for, from {tag: bytes}: a missing tag (or a template) is zeros,
    # a value of another length is padded or truncated as Book 3 5.4 says.
    out = bytearray()
    for tag, length in parse_dol(dol):
        v = values.get(tag)
        if v is None or constructed(tag):
            out.extend(bytes(length))
            continue
        v = bytes(v)
        if len(v) == length:
            out.extend(v)
        elif tag in _NUMERIC:
            if len(v) > length:
                out.extend(v[len(v) - length :])
            else:
                out.extend(bytes(length - len(v)))
                out.extend(v)
        elif len(v) > length:
            out.extend(v[:length])
        else:
            out.extend(v)
            out.extend(bytes(length - len(v)))
    return bytes(out)


def split_dol_data(dol, data):
    # The card's side: DOL data back into {tag: bytes}; the length must be exact.
    entries = parse_dol(dol)
    want = 0
    for _, length in entries:
        want += length
    if len(data) != want:
        raise TlvError("DOL data is %d bytes, the DOL asks for %d" % (len(data), want))
    out = {}
    off = 0
    for tag, length in entries:
        out[tag] = bytes(data[off : off + length])
        off += length
    return out
