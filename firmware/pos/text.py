# Screen and receipt strings (zh default, en second), loaded from the data
# files menus/strings_<lang>.json, and the host response-code texts.
#
# RAM: a key's value is read from the strings file when asked for, through a
# small sorted index (see Strings); the parsed dict of the same file took 19 KB
# on MicroPython, its raw bytes 9 KB. Response-code texts (a 14 KB dict parsed)
# are looked up in the file on demand and not kept: they are shown once per
# transaction.
import struct

from pos.compat import json, IS_MICROPYTHON


_QUOTE = 0x22
_CACHED = 8  # strings kept by Strings.get (a few hundred bytes); a memory policy may keep more
_BACKSLASH = 0x5C


def remember(cap):
    # how many strings Strings.get keeps: a board's memory policy raises it while its heap
    # has room (pos.overlaycache.configure, "screens"' 4th), and sets it back to 8 when short
    # (each string read again was ~50k instructions on the unix port: its pair read, its key
    # hashed, its JSON decoded)
    global _CACHED
    _CACHED = cap


def _find_value(data, key):
    # -> the JSON string value of top-level `key` in data (bytes of a flat JSON
    # object of strings), or None. A match must be a key: a quoted key followed
    # by ':' (a value is followed by ',' or '}', and an escaped \"key\" inside a
    # value is preceded by a backslash).
    needle = b'"' + key.encode() + b'"'
    n = len(data)
    at = data.find(needle)
    while at >= 0:
        i = at + len(needle)
        while i < n and data[i] in b" \t\r\n":
            i += 1
        if i < n and data[i] == 0x3A and (at == 0 or data[at - 1] != _BACKSLASH):
            i += 1
            while i < n and data[i] in b" \t\r\n":
                i += 1
            if i >= n or data[i] != _QUOTE:
                return None
            j = i + 1
            while j < n:
                c = data[j]
                if c == _BACKSLASH:
                    j += 2
                    continue
                if c == _QUOTE:
                    return json.loads(data[i : j + 1])
                j += 1
            return None
        at = data.find(needle, at + 1)
    return None


def _split_pair(pair, k):
    # -> the value of a pair as the index has it (`"key": "value"`, from the key's quote to
    # the value's closing one) when its key is k, found with bytes methods (in C), or None
    n = len(k)
    if len(pair) < n + 4 or pair[0] != _QUOTE or pair[n + 1] != _QUOTE or pair[-1] != _QUOTE:
        return None
    if pair.find(k, 1, n + 1) != 1:
        return None
    i = pair.find(b'"', n + 2)
    if i < 0 or pair.find(b":", n + 2, i) < 0:
        return None
    return json.loads(pair[i:])


def _hash(key):
    # 24-bit hash of a key's bytes (small ints on MicroPython)
    h = 0
    for c in key:
        h = (h * 31 + c) & 0xFFFFFF
    return h


def _first(hashes, lo, n, h):
    # -> the first row of the sorted hashes (views or arrays) from lo below n whose hash is
    # not below h (n when there is none)
    while lo < n:
        mid = (lo + n) >> 1
        if hashes[mid] < h:
            lo = mid + 1
        else:
            n = mid
    return lo


def _mapped_value(m, k, off, ln):
    # -> the value of the pair at m[off : off + ln] (the strings file in place: ROMFS) when its
    # key is k (bytes) and it is written `"key": "value"` (as the shipped files are) with no
    # escape in it: one str made straight from the map; else None (the pair is then copied and
    # decoded as JSON). The copy, its slices and the decoder's stream were ~50k instructions a
    # string on the unix port (the value's str alone, looked up among the interned names, ~10k)
    v = off + len(k) + 1  # the key's closing quote
    if (
        ln < len(k) + 6
        or m[off] != _QUOTE
        or m[v] != _QUOTE
        or m[v + 1] != 0x3A
        or m[v + 2] != 0x20
    ):
        return None
    if m[v + 3] != _QUOTE or m[off + ln - 1] != _QUOTE or m[off + 1 : v] != k:
        return None
    s = str(m[v + 4 : off + ln - 1], "utf-8")
    return None if "\\" in s else s


# The index as a file (`posterm flash` writes strings_<lang>.idx beside each strings file,
# pack_index): b"PSX2" | the strings file's size u32 | n u16 | 0 u16 | hashes u32 * n |
# offsets u32 * n | lengths u16 * n | starts u16 * 257, big-endian, sorted as build_index
# sorts; starts[b]: the first row whose hash's top byte is b or more (a key's rows are found
# among the one or two of its byte, not by a binary search). A board reads it in place from
# ROMFS (no heap at all) or as one bytes object from a filesystem (10 B a key, instead of
# arrays grown key by key and the whole strings file read to build them). PSX1 (no starts)
# is not read: the strings file is then indexed on the board.
_IDX_MAGIC = b"PSX2"
_IDX_HEAD = 12


def pack_index(data):
    # -> the .idx file's bytes for the strings file `data` (pos.textindex: `posterm flash`
    # runs it, a board never does)
    from pos import textindex

    return textindex.pack_index(data)


def _packed_index(resources, name):
    # -> (index buffer, n) from name's .idx when it is there and made for this strings
    # file (same size), else None
    idx_name = name[: name.rfind(".")] + ".idx"
    idx = None
    if hasattr(resources, "map"):
        idx = resources.map(idx_name)
    if idx is None:
        idx = resources.read(idx_name)
    if idx is None or len(idx) < _IDX_HEAD or bytes(idx[:4]) != _IDX_MAGIC:
        return None
    size, n, _ = struct.unpack_from(">IHH", idx, 4)
    if len(idx) != _IDX_HEAD + 10 * n + 514:  # the 257 starts (a literal: no name for it)
        return None
    if hasattr(resources, "size") and resources.size(name) != size:
        return None  # not this file's index
    return idx, n, _views(idx, n)


def _views(idx, n):
    # -> (hashes, offsets, lengths, starts) read in place from the index's bytes (uctypes
    # arrays over its address: no copy; the index buffer is kept beside them, as the views do
    # not hold it), or None where there is no uctypes (its values are then unpacked one by one)
    try:
        import uctypes
    except ImportError:
        return None
    try:
        at = uctypes.addressof(idx)
    except (TypeError, ValueError):
        return None
    layout = {
        "h": (uctypes.ARRAY | _IDX_HEAD, uctypes.UINT32 | n),
        "o": (uctypes.ARRAY | (_IDX_HEAD + 4 * n), uctypes.UINT32 | n),
        "n": (uctypes.ARRAY | (_IDX_HEAD + 8 * n), uctypes.UINT16 | n),
        "s": (uctypes.ARRAY | (_IDX_HEAD + 10 * n), uctypes.UINT16 | 257),
    }
    v = uctypes.struct(at, layout, uctypes.BIG_ENDIAN)
    return v.h, v.o, v.n, v.s


class Strings:
    # RAM: with a resources port that reads byte ranges (read_at), only an index is kept
    # (per key: a 24-bit hash, the offset and the length of its "key": "value" pair, sorted
    # by hash: ~2 KB for 220 keys) and each get() reads its pair from the file; otherwise
    # the raw file (9 KB) is kept and searched. CPython keeps the parsed dict.
    def __init__(self, resources, lang="zh", indexed=None):
        # indexed: None = the index on MicroPython, the parsed dict on CPython
        self.resources = resources
        self.lang = lang
        self.indexed = IS_MICROPYTHON if indexed is None else indexed
        self._data = None
        self._dict = None  # CPython: the parsed file; a board: the strings kept (preload())
        self._name = None
        self._cache = {}
        self._packed = None  # (the .idx buffer, n): the index as `posterm flash` wrote it
        self._mapped = None  # the strings file in place (ROMFS), when the port can map it

    def set_lang(self, lang):
        if lang != self.lang:
            self.lang = lang
            self._cache = {}
            self._data = None
            self._dict = None
            self._packed = None
            self._mapped = None

    def _load(self):
        name = "strings_" + self.lang + ".json"
        res = self.resources
        if self.indexed and hasattr(res, "read_at"):
            packed = _packed_index(res, name)
            if packed is not None:
                self._name = name
                self._packed = packed
                self._mapped = res.map(name) if hasattr(res, "map") else None
                return
        data = self.resources.read(name)
        if data is None:
            name = "strings_zh.json"
            data = self.resources.read(name)
        data = bytes(data) if data else b"{}"
        if not self.indexed:
            # desktop: the parsed dict (RAM is plentiful; a lookup is one dict access)
            self._dict = json.loads(data)
            return
        if data != b"{}" and hasattr(self.resources, "read_at"):
            # no .idx beside the file (a files deploy of an older flash, the tests): built
            # now, by pos.textindex
            from pos import textindex

            self._name = name
            hashes, offsets, lengths = textindex.build_index(data)
            self._packed = (None, len(hashes), (hashes, offsets, lengths, None))
        else:
            self._data = data

    def _lookup(self, key):
        # -> the value of key, or None (a miss of get's cache)
        d = self._dict
        if d is not None:
            v = d.get(key)
            if type(v) is str:
                return v
        if not self.indexed:  # CPython: the parsed file
            if d is None:
                self._load()
                v = self._dict.get(key)
                return v if type(v) is str else None
            return None
        if self._packed is None and self._data is None:
            self._load()
        if self._packed is not None:
            return self._lookup_packed(key.encode())
        return _find_value(self._data, key)

    def preload(self, keys):
        # the strings of keys read now and kept until forget() (a board's memory policy at
        # boot, pos.overlaycache.configure "strings": the strings the day's first screens
        # show, each ~40k instructions read when a key first needs it) -> how many kept
        if not self.indexed:
            return 0
        kept = {}
        for key in keys:
            v = self._lookup(key)
            if v is not None:
                kept[key] = v
        self._dict = kept
        return len(kept)

    def forget(self):
        # the strings preload() kept given up (they are read when asked for again) -> True
        # when any were kept (CPython's parsed file stays)
        if not self.indexed or not self._dict:
            return False
        self._dict = None
        return True

    def _lookup_packed(self, k):
        # k: the key's UTF-8 bytes (made once: its hash and the pair's check both read it).
        # (`struct` is imported once, at the top: an import in a function searches sys.path
        # for struct.py first, ~60 us on the unix port, ~10 ms on a Pico)
        idx, n, views = self._packed
        if views is None:
            return self._lookup_unpacked(k, idx, n)
        h = _hash(k)
        hashes = views[0]
        b = views[3]  # the rows of h's top byte: one or two (None: an index built here)
        if b is None:
            i = _first(hashes, 0, n, h)
        else:
            i = _first(hashes, b[h >> 16], b[(h >> 16) + 1], h)
        while i < n and hashes[i] == h:
            s = self._pair_value(k, views[1][i], views[2][i])
            if s is not None:
                return s
            i += 1
        return None

    def _pair_value(self, k, off, ln):
        # -> the value of the pair at off (ln bytes) when its key is k, else None
        m = self._mapped
        if m is not None:
            s = _mapped_value(m, k, off, ln)
            if s is not None:
                return s
            pair = bytes(m[off : off + ln])  # an escape in it, or another layout: JSON's way
        else:
            pair = self.resources.read_at(self._name, off, ln)
        if pair is None:
            return None
        s = _split_pair(pair, k)
        return s if s is not None else _find_value(pair, k.decode())

    def _lookup_unpacked(self, k, idx, n):
        h = _hash(k)
        lo = 0
        hi = n
        while lo < hi:
            mid = (lo + hi) >> 1
            if struct.unpack_from(">I", idx, _IDX_HEAD + 4 * mid)[0] < h:
                lo = mid + 1
            else:
                hi = mid
        offs = _IDX_HEAD + 4 * n
        lens = offs + 4 * n
        while lo < n and struct.unpack_from(">I", idx, _IDX_HEAD + 4 * lo)[0] == h:
            off = struct.unpack_from(">I", idx, offs + 4 * lo)[0]
            ln = struct.unpack_from(">H", idx, lens + 2 * lo)[0]
            s = self._pair_value(k, off, ln)
            if s is not None:
                return s
            lo += 1
        return None

    def get(self, key, *args):
        c = self._cache  # the last few keys asked for: a screen redrawn at each key asks again
        s = c.get(key)
        if s is None:
            s = self._lookup(key)
            if s is None:
                return key
            if len(c) >= _CACHED:
                c.clear()
            c[key] = s
        if args:
            return s % args
        return s

    def response(self, code):
        # -> text for a host response code (field 39); unknown codes: 交易失败.
        # On a board the entry is found by reading the file in small pieces (no 5 KB read,
        # no 14 KB parsed dict); CPython parses the file.
        entry = None
        if self.indexed and hasattr(self.resources, "read_at"):
            entry = _response_entry(self.resources, code)
        else:
            data = self.resources.read("respcodes.json")
            if data:
                entry = json.loads(data).get(code)
        if not isinstance(entry, dict):
            return self.get("tx_failed")
        return entry.get(self.lang) or entry.get("zh") or ""


_CHUNK = 512


def _response_entry(resources, code, name="respcodes.json"):
    # -> the {"zh": ..., "en": ...} object of `code` in respcodes.json ({"CODE": {...}, ...},
    # objects of strings without braces inside), read _CHUNK bytes at a time, or None
    needle = b'"' + code.encode() + b'"'
    keep = len(needle) + 8  # a needle split between two chunks is found in the overlap
    offset = 0
    tail = b""
    while True:
        chunk = resources.read_at(name, offset, _CHUNK)
        if not chunk:
            return None
        data = tail + chunk
        at = data.find(needle)
        while at >= 0:
            i = at + len(needle)
            while i < len(data) and data[i] in b" \t\r\n":
                i += 1
            if i < len(data) and data[i] == 0x3A:  # a key, not a value
                start = offset - len(tail) + at + len(needle)
                body = resources.read_at(name, start, _CHUNK)
                a = body.find(b"{")
                b = body.find(b"}", a)
                if a < 0 or b < 0:
                    return None
                try:
                    return json.loads(body[a : b + 1])
                except ValueError:
                    return None
            at = data.find(needle, at + 1)
        offset += len(chunk)
        tail = data[-keep:]


def label(obj, lang):
    # A menu label {"zh": ..., "en": ...} in the current language.
    if isinstance(obj, str):
        return obj
    return obj.get(lang) or obj.get("zh") or ""
