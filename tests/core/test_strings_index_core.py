# pos.text.Strings (indexed, as on MicroPython) keeps a sorted hash index of the strings
# file and reads each value from the file when asked for (storage read_at); the answers
# are the file's values. Unindexed (CPython's default) it keeps the parsed dict.
import mptest
from mptest import eq, true
from pos.compat import json
from pos.memstorage import MemoryStorage
from pos.text import Strings, _hash
from pos.textindex import build_index
from rig import menus_dir
from pos.storage import FileStorage


def test_every_shipped_string_reads_back_through_the_index_in_both_languages():
    res = FileStorage(menus_dir(), readonly=True)
    for lang in ("zh", "en"):
        data = res.read("strings_" + lang + ".json")
        expected = json.loads(data)
        s = Strings(res, lang, indexed=True)
        for key in sorted(expected):
            eq(s.get(key), expected[key], key)
        eq(s._packed[0], None, "the index built here")
        eq(s._packed[1], len(expected), "one index row per key")
        eq(s._data, None, "the file's bytes are not kept")


def test_unknown_key_answers_itself_and_args_are_formatted():
    res = MemoryStorage({"strings_zh.json": b'{"a": "x%sy", "b": "q\\"uote"}'})
    s = Strings(res, "zh", indexed=True)
    eq(s.get("a", "-"), "x-y")
    eq(s.get("b"), 'q"uote')
    eq(s.get("c"), "c")


def test_keys_with_the_same_hash_are_told_apart_by_the_file():
    # "Aa" and "BB" collide under h * 31 + c
    eq(_hash(b"Aa"), _hash(b"BB"))
    data = b'{"BB": "two", "Aa": "one", "z": "three"}'
    from pos.text import pack_index

    for files in (
        {"strings_zh.json": data},
        {"strings_zh.json": data, "strings_zh.idx": pack_index(data)},
    ):
        for res in (MemoryStorage(files), _Mapped(files)):
            s = Strings(res, "zh", indexed=True)
            eq(s.get("Aa"), "one")
            eq(s.get("BB"), "two")
            eq(s.get("z"), "three")
            eq(s.get("Ab"), "Ab")
    hashes = build_index(data)[0]
    eq(list(hashes), sorted(hashes), "sorted by hash")


def test_a_port_without_read_at_keeps_the_raw_file():
    class Plain:
        def read(self, name):
            return b'{"k": "v"}' if name == "strings_zh.json" else None

    s = Strings(Plain(), "zh", indexed=True)
    eq(s.get("k"), "v")
    eq(s._data, b'{"k": "v"}')


def test_unindexed_strings_answer_the_same_from_the_parsed_file():
    res = FileStorage(menus_dir(), readonly=True)
    expected = json.loads(res.read("strings_en.json"))
    s = Strings(res, "en", indexed=False)
    for key in sorted(expected):
        eq(s.get(key), expected[key], key)
    eq(s.get("no_such_key"), "no_such_key")


def test_every_response_text_reads_back_in_small_pieces_in_both_languages():
    res = FileStorage(menus_dir(), readonly=True)
    codes = json.loads(res.read("respcodes.json"))
    reads = []

    class Counted:
        def read(self, name):
            reads.append((name, -1))
            return res.read(name)

        def read_at(self, name, offset, n):
            reads.append((name, n))
            return res.read_at(name, offset, n)

    for lang in ("zh", "en"):
        s = Strings(Counted(), lang, indexed=True)
        for code in sorted(codes):
            eq(s.response(code), codes[code][lang], code)
    whole = [r for r in reads if r[0] == "respcodes.json" and r[1] < 0]
    eq(whole, [], "respcodes.json is never read whole")
    mptest.true(max(n for _, n in reads) <= 512, "pieces of at most 512 bytes")


def test_an_unknown_response_code_is_tx_failed_and_a_code_inside_a_text_is_not_a_key():
    data = b'{"01": {"zh": "\\"99\\" x", "en": "a"}, '
    data += b'"05": {"zh": "\\u62d2", "en": "Do not honor"}}'
    res = MemoryStorage({"respcodes.json": data, "strings_zh.json": b'{"tx_failed": "F"}'})
    s = Strings(res, "zh", indexed=True)
    eq(s.response("05"), "\u62d2")
    eq(s.response("99"), "F")
    eq(s.response("77"), "F")
    eq(Strings(res, "en", indexed=True).response("05"), "Do not honor")


class _Counted(MemoryStorage):
    def __init__(self, files):
        MemoryStorage.__init__(self, files)
        self.reads = []

    def read(self, name):
        self.reads.append(name)
        return MemoryStorage.read(self, name)


def test_the_index_file_flash_writes_answers_every_string_without_reading_the_strings_file():
    # `posterm flash` writes strings_<lang>.idx (pos.text.pack_index): the board reads it (in
    # place from ROMFS) instead of reading the whole strings file at boot to build arrays
    from pos.text import pack_index

    res = FileStorage(menus_dir(), readonly=True)
    for lang in ("zh", "en"):
        data = res.read("strings_" + lang + ".json")
        files = {"strings_" + lang + ".json": data, "strings_" + lang + ".idx": pack_index(data)}
        res2 = _Counted(files)
        reads = res2.reads
        s = Strings(res2, lang, indexed=True)
        expected = json.loads(data)
        for key in sorted(expected):
            eq(s.get(key), expected[key], key)
        eq(s.get("no_such_key"), "no_such_key")
        true(s._packed[0] is not None, "no index built: the .idx read")
        eq([n for n in reads if n.endswith(".json")], [], "the strings file is never read whole")


def test_an_index_file_of_another_strings_file_is_not_used():
    from pos.text import pack_index

    old = b'{"a": "one", "b": "two"}'
    new = b'{"a": "uno", "bb": "dos", "b": "tres"}'
    res = MemoryStorage({"strings_zh.json": new, "strings_zh.idx": pack_index(old)})
    s = Strings(res, "zh", indexed=True)
    eq(s.get("a"), "uno")
    eq(s.get("b"), "tres")
    eq(s.get("bb"), "dos")
    eq(s._packed[0], None, "the stale index is left alone: one built here")
    bad = MemoryStorage({"strings_zh.json": new, "strings_zh.idx": b"PSX1junk"})
    eq(Strings(bad, "zh", indexed=True).get("bb"), "dos")
    # an index of the format before (PSX1: no starts) for this very file, from an older
    # flash: not read (its length is another)
    import struct

    old_idx = b"PSX1" + struct.pack(">IHH", len(new), 3, 0) + bytes(30)
    s = Strings(MemoryStorage({"strings_zh.json": new, "strings_zh.idx": old_idx}), "zh", True)
    eq([s.get("a"), s.get("bb"), s.get("b")], ["uno", "dos", "tres"])
    eq(s._packed[0], None, "the older format is left alone")


class _Mapped(_Counted):
    # a ROMFS-like port: each file's bytes in place (memoryview), as pos.storage maps them
    def map(self, name):
        data = self.files.get(name)
        return None if data is None else memoryview(data)


def test_every_shipped_string_reads_back_from_the_mapped_file_in_both_languages():
    # the values made straight from the mapped strings file (pos.text._mapped_value) are the
    # JSON's, escapes (a \n, a quote) included: those pairs go the JSON decoder's way
    from pos.text import pack_index

    res = FileStorage(menus_dir(), readonly=True)
    for lang in ("zh", "en"):
        data = res.read("strings_" + lang + ".json")
        files = {"strings_" + lang + ".json": data, "strings_" + lang + ".idx": pack_index(data)}
        s = Strings(_Mapped(files), lang, indexed=True)
        expected = json.loads(data)
        for key in sorted(expected):
            eq(s.get(key), expected[key], key)
        true(s._mapped is not None, "the file is read in place")
        eq(s.get("no_such_key"), "no_such_key")
        eq([n for n in s.resources.reads if n.endswith(".json")], [], "never read whole")


def test_a_mapped_pair_with_an_escape_or_another_layout_is_decoded_as_json():
    from pos.text import _mapped_value, pack_index

    data = b'{"a": "x\\ny", "b":"tight", "c" :  "wide", "d": "q\\"", "e": "", "f": "\\u4e2d"}'
    files = {"strings_zh.json": data, "strings_zh.idx": pack_index(data)}
    s = Strings(_Mapped(files), "zh", indexed=True)
    want = json.loads(data)
    for key in sorted(want):
        eq(s.get(key), want[key], key)
    m = memoryview(data)
    at = data.find(b'"a"')
    eq(_mapped_value(m, b"a", at, data.find(b'y"') + 2 - at), None, "an escape: not made in place")
    at = data.find(b'"e"')
    eq(_mapped_value(m, b"e", at, 7), "", "an empty value, in place")
    eq(_mapped_value(m, b"x", at, 7), None, "another key at that place")


class _ReadsAt(MemoryStorage):
    # counts the pairs read (a files deploy: each miss reads its pair with read_at)
    def __init__(self, files):
        MemoryStorage.__init__(self, files)
        self.pairs = 0

    def read_at(self, name, offset, n):
        if name.endswith(".json"):
            self.pairs += 1
        return MemoryStorage.read_at(self, name, offset, n)


def test_preloaded_strings_are_the_json_s_in_both_languages_and_read_no_pair_again():
    # a board's memory policy keeps the day's strings from boot (Strings.preload): each is
    # the file's value (escapes included), and asking for it reads nothing; a key it did not
    # keep is read as before
    from pos.text import pack_index

    res = FileStorage(menus_dir(), readonly=True)
    for lang in ("zh", "en"):
        data = res.read("strings_" + lang + ".json")
        expected = json.loads(data)
        keys = sorted(expected)
        files = {"strings_" + lang + ".json": data, "strings_" + lang + ".idx": pack_index(data)}
        for port in (_ReadsAt(files), _Mapped(files)):
            s = Strings(port, lang, indexed=True)
            eq(s.preload(keys[::2] + ["no_such_key"]), len(keys[::2]), "each key kept, once")
            before = port.pairs if hasattr(port, "pairs") else 0
            for key in keys[::2]:
                s._cache = {}  # not get's few: the kept ones
                eq(s.get(key), expected[key], key)
            if hasattr(port, "pairs"):
                eq(port.pairs, before, "no pair read for a kept string")
                eq(s.get(keys[1]), expected[keys[1]], "one not kept: read")
                eq(port.pairs, before + 1)
            eq(s.get("no_such_key"), "no_such_key")


def test_forgotten_strings_are_read_again_and_a_language_change_forgets_them():
    from pos.text import pack_index

    data = b'{"a": "x\\ny", "b": "two", "c": "three"}'
    port = _ReadsAt({"strings_zh.json": data, "strings_zh.idx": pack_index(data)})
    s = Strings(port, "zh", indexed=True)
    eq(s.preload(("a", "b")), 2)
    eq(s.forget(), True, "kept ones given up")
    eq(s.forget(), False, "nothing left to give up")
    n = port.pairs
    eq([s.get("a"), s.get("b")], ["x\ny", "two"])
    eq(port.pairs, n + 2, "read again, from the file")
    s.preload(("c",))
    s.set_lang("en")  # no strings_en.json: the zh file, read again
    n = port.pairs
    eq(s.get("c"), "three")
    true(port.pairs > n, "the other language's strings are not the kept ones")


def test_the_day_s_strings_are_in_both_strings_files():
    from pos import preload

    res = FileStorage(menus_dir(), readonly=True)
    for lang in ("zh", "en"):
        have = json.loads(res.read("strings_" + lang + ".json"))
        for key in preload.STRINGS:
            true(key in have, lang + ": " + key)
    eq(len(set(preload.STRINGS)), len(preload.STRINGS), "each once")
