# Building the strings index (pos.text's): at `posterm flash` time (pack_index: the
# strings_<lang>.idx file a board reads in place), or once by a board whose strings file has
# no index beside it. A module of its own: pos.text is resident on a board, and these run
# there at most once.
import struct

from pos.text import _IDX_MAGIC, _hash

_QUOTE = 0x22
_BACKSLASH = 0x5C


def _end_quote(data, i):
    # -> index of the quote closing the JSON string whose text starts at data[i]
    n = len(data)
    while i < n:
        c = data[i]
        if c == _BACKSLASH:
            i += 2
            continue
        if c == _QUOTE:
            return i
        i += 1
    return -1


def build_index(data):
    # -> (hashes, offsets, lengths): for each top-level "key": "value" pair of a flat JSON
    # object of strings, sorted by the key's hash: where the pair starts and its length.
    # Built straight into arrays (no list of tuples: at boot on a board that list was the
    # biggest allocation), then sorted together in place.
    from array import array

    hashes = array("I")
    offsets = array("I")
    lengths = array("H")
    n = len(data)
    i = data.find(b"{") + 1
    while 0 < i < n:
        i = data.find(b'"', i)
        if i < 0:
            break
        j = _end_quote(data, i + 1)
        if j < 0:
            break
        k = data.find(b'"', j + 1)  # the value's opening quote (after the colon)
        if k < 0:
            break
        end = _end_quote(data, k + 1)
        if end < 0:
            break
        hashes.append(_hash(data[i + 1 : j]))
        offsets.append(i)
        lengths.append(end + 1 - i)
        i = end + 1
    _sort3(hashes, offsets, lengths)
    return hashes, offsets, lengths


def _sort3(a, b, c):
    # shell sort of a (ties by b), moving b and c along: in place, no allocation
    n = len(a)
    gap = 1
    while gap < n // 3:
        gap = gap * 3 + 1
    while gap > 0:
        for i in range(gap, n):
            ka, kb, kc = a[i], b[i], c[i]
            j = i
            while j >= gap and (a[j - gap] > ka or (a[j - gap] == ka and b[j - gap] > kb)):
                a[j] = a[j - gap]
                b[j] = b[j - gap]
                c[j] = c[j - gap]
                j -= gap
            a[j] = ka
            b[j] = kb
            c[j] = kc
        gap //= 3


def pack_index(data):
    # -> the .idx file's bytes for the strings file `data` (pos.text: the layout)
    hashes, offsets, lengths = build_index(data)
    n = len(hashes)
    out = [_IDX_MAGIC, struct.pack(">IHH", len(data), n, 0)]
    for i in range(n):
        out.append(struct.pack(">I", hashes[i]))
    for i in range(n):
        out.append(struct.pack(">I", offsets[i]))
    for i in range(n):
        out.append(struct.pack(">H", lengths[i]))
    row = 0
    for b in range(257):  # the first row of each top byte of the hash (256: the end)
        while row < n and hashes[row] >> 16 < b:
            row += 1
        out.append(struct.pack(">H", row))
    return b"".join(out)
