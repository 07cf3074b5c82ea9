from mptest import eq, spy, true
from pos.journal import Journal, encode_record, scan
from pos.memstorage import MemoryStorage


def _three():
    s = MemoryStorage()
    j = Journal(s)
    for i in range(3):
        j.append({"type": "purchase", "trace": "00000" + str(i + 1), "amount": 100 * (i + 1)})
    return s


def test_records_survive_a_reopen():
    s = _three()
    j = Journal(s)
    eq([e["trace"] for e in j.entries()], ["000001", "000002", "000003"])
    eq(j.next_seq(), 4)


def test_a_torn_last_record_loses_no_completed_transaction():
    full = _three().read("journal.log")
    two = len(encode_record(1, {"type": "purchase", "trace": "000001", "amount": 100}))
    two += len(encode_record(2, {"type": "purchase", "trace": "000002", "amount": 200}))
    for cut in range(two, len(full)):
        s = MemoryStorage({"journal.log": full[:cut]})
        j = Journal(s)
        eq(len(j.entries()), 2, "cut at %d" % cut)
        eq(s.size("journal.log"), two, "torn tail truncated at %d" % cut)
        j.append({"type": "purchase", "trace": "000004", "amount": 1})
        eq(len(Journal(s).entries()), 3, "appends after recovery")


def test_every_cut_keeps_exactly_the_whole_records():
    full = _three().read("journal.log")
    ends = []
    recs, good = scan(full)
    eq(len(recs), 3)
    eq(good, len(full))
    pos = 0
    for seq in (1, 2, 3):
        pos += len(encode_record(seq, recs[seq - 1][1]))
        ends.append(pos)
    for cut in range(0, len(full) + 1):
        recs, good = scan(full[:cut])
        whole = len([e for e in ends if e <= cut])
        eq(len(recs), whole, "cut %d" % cut)


def test_a_flipped_byte_stops_the_scan_there():
    full = bytearray(_three().read("journal.log"))
    full[20] ^= 0x55
    recs, good = scan(bytes(full))
    eq(len(recs), 0)
    true(good == 0)


def _records_day():
    # a batch as the flows write it (the PAN sealed), with fields that look like others'
    s = MemoryStorage()
    j = Journal(s, seal=True)
    recs = [
        {
            "type": "purchase",
            "trace": "000001",
            "batch": "000001",
            "amount": 100,
            "pan": "6212142000000000012",
            "rrn": "112300000001",
            "issuer_name": "中国银行",
        },
        {
            "type": "purchase",
            "trace": "000002",
            "batch": "000001",
            "amount": 200,
            "pan": "6212142000000000012",
            "why": "type",
            "note": '"type": "void"',
        },
        {
            "type": "void",
            "trace": "000003",
            "orig_trace": "000002",
            "amount": 200,
            "pan": "6212142000000000012",
        },
        {"trace": "000004", "type": "refund", "orig_rrn": "112300000001", "amount": 50},
        {"amount": 1, "type": "reversal_unconfirmed", "of": "purchase", "trace": "000005"},
    ]
    for e in recs:
        j.append(e)
    return s, j


def test_the_records_type_read_from_its_bytes_is_the_decoded_one_and_at_gives_the_record():
    from pos import journal

    s, j = _records_day()
    full = j.entries()
    decoded = []
    real = spy(journal, "_record_at", decoded)
    try:
        heads = list(j.heads("type"))
        eq(len(decoded), 0, "no record decoded to read the types")
        eq([h[1] for h in heads], [e["type"] for e in full])
        eq([h[2] for h in heads], [None] * len(full))
        with_orig = list(j.heads("type", b'"orig_trace"'))
        eq(len(decoded), 1, "only the record that holds orig_trace decoded")
        eq([h[2] is not None for h in with_orig], [False, False, True, False, False])
        eq(with_orig[2][2], full[2])
        del decoded[:]
        eq(j.at(heads[3][0]), full[3])
        eq(j.at(heads[0][0]), full[0])
        eq(len(decoded), 2, "at() decodes the one record")
        del decoded[:]
        got = [e["trace"] for e in j.each(b'"000002"')]
        eq(got, ["000002", "000003"], "the sale and the void that names it")
        eq(len(decoded), 2, "each(having) decodes only the records that hold it")
        eq(j.entries(), full, "a walk with having leaves the journal as it was")
    finally:
        journal._record_at = real
    eq(journal.peek(b'{"a": 1, "type" : "x"}', 0, 22, b'"type"'), "x")
    eq(journal.peek(b'{"a": "type", "b": 2}', 0, 21, b'"type"'), None, "a value, not a key")
    eq(journal.peek(b'{"type": 7}', 0, 11, b'"type"'), None, "not a string: decode to know")
    eq(journal.peek(b'{"type": "a\\"b"}', 0, 16, b'"type"'), None, "an escape: decode")
    eq(journal.peek(b'{"x": 1}', 0, 8, b'"type"'), None)


def test_naming_reads_the_fields_of_the_records_that_hold_the_bytes_and_decodes_none():
    from pos import journal

    s, j = _records_day()
    full = j.entries()
    names = (("type", b'"type": '), ("trace", b'"trace": '), ("amount", b'"amount": '))
    decoded = []
    real = spy(journal, "_record_at", decoded)
    try:
        got = list(j.naming(b'"000002"', names))
        eq(len(decoded), 0, "the fields read from the bytes")
        eq(
            [g[1] for g in got],
            [
                {"type": "purchase", "trace": "000002", "amount": 200},
                {"type": "void", "trace": "000003", "amount": 200},
            ],
            "the sale and the void that names it, those fields only",
        )
        eq(j.at(got[1][0]), full[2], "at(ref) gives the whole record")
        del decoded[:]
        # a record whose fields cannot be read from its bytes (an escape) is decoded whole
        j.append({"type": "purchase", "trace": "000009", "amount": 5, "note": 'a "quote"',
                  "pan": "62121420000000000"})  # fmt: skip
        got = [g[1] for g in j.naming(b'"000009"', (("note", b'"note": '),))]
        eq(len(decoded), 1)
        eq(got[0]["note"], 'a "quote"')
        eq(got[0]["amount"], 5, "(decoded whole)")
    finally:
        journal._record_at = real


def test_the_kinds_walk_compares_the_types_in_the_bytes_and_reads_a_second_field():
    from pos import journal

    s, j = _records_day()
    full = j.entries()
    decoded = []
    kinds = ("purchase", "void", "refund")
    real = spy(journal, "_record_at", decoded)
    try:
        got = list(j.kinds("type", kinds, "orig_trace"))
        eq(len(decoded), 0, "no record decoded for the types or the void's orig_trace")
        eq([g[1] for g in got], ["purchase", "purchase", "void", "refund", None])
        true(got[0][1] is kinds[0], "the member of values itself: no str made")
        eq([g[2] for g in got], [None, None, "000002", None, None])
        eq(j.at(got[2][0]), full[2])
        eq([g[2] for g in j.kinds("type", kinds)], [None] * 5)
        # of: the second field read from the records of those types alone
        del decoded[:]
        eq(
            [g[2] for g in j.kinds("type", kinds, "orig_trace", 0, ("void",))],
            [None, None, "000002", None, None],
        )
        eq([g[2] for g in j.kinds("type", kinds, "orig_trace", 0, ("refund",))], [None] * 5)
        eq(len(decoded), 0)
    finally:
        journal._record_at = real
    # a field the bytes cannot tell (an escape in it): that record decoded
    s2 = MemoryStorage()
    j2 = Journal(s2)
    j2.append({"type": 'vo"id', "trace": "000001"})
    j2.append({"type": "void", "orig_trace": 'a"b', "trace": "000002"})
    j2.append({"type": 7, "trace": "000003"})
    spy(journal, "_record_at", decoded)
    try:
        del decoded[:]
        eq(
            [(g[1], g[2]) for g in j2.kinds("type", kinds, "orig_trace")],
            [(None, None), ("void", 'a"b'), (None, None)],
        )
        eq(len(decoded), 3, "each of them decoded")
    finally:
        journal._record_at = real


def test_at_with_names_reads_those_fields_from_the_bytes_or_decodes_the_record():
    from pos import journal

    s, j = _records_day()
    full = j.entries()
    refs = [h[0] for h in j.heads("type")]
    names = (
        ("type", b'"type": '),
        ("amount", b'"amount": '),
        ("trace", b'"trace": '),
        ("note", b'"note": '),
        ("issuer_name", b'"issuer_name": '),
    )
    decoded = []
    real = spy(journal, "_record_at", decoded)
    try:
        for i in range(len(full)):
            ref, e = refs[i], full[i]
            del decoded[:]
            got = j.at(ref, names)
            want = {}
            for name, _pat in names:
                if name in e:
                    want[name] = e[name]
            if "note" in e:
                eq(got, e, "an escaped quote in a field asked for: the record decoded whole")
            elif "issuer_name" in e and got == e:
                # (CPython's json writes the issuer's 中国银行 as \u escapes: decoded whole)
                eq(len(decoded), 1)
            else:
                eq(got, want)
                eq(len(decoded), 0, "read from the bytes, nothing decoded")
    finally:
        journal._record_at = real
    abz = (("a", b'"a": '), ("b", b'"b": '), ("z", b'"z": '))

    def pick(d):
        return journal.fields(d, 0, len(d), abz)

    eq(pick(b'{"a": -12, "b": "x y", "c": 3}'), {"a": -12, "b": "x y"})
    eq(pick(b'{"b": "a", "a": 7}'), {"a": 7, "b": "a"}, "a value that names a key")
    eq(pick(b'{"a": 1.5}'), None, "a float: decode")
    eq(pick(b'{"a": true}'), None, "true: decode")
    eq(pick(b'{"a": "x\\"y"}'), None, "an escape: decode")
    eq(pick(b'{"a":1}'), None, "another spacing: decode")
    eq(pick(b'{"a": -}'), None, "no digits: decode")


def test_a_journal_that_cannot_be_read_is_said_by_heads_and_at():
    from pos.journal import JournalWriteError

    s, j = _records_day()
    refs = [h[0] for h in j.heads("type")]
    size = s.size("journal.log")
    real = s.read_at

    def failing(name, offset, n):
        if offset >= size // 2:
            return None  # an I/O error past the middle of the file
        return real(name, offset, n)

    s.read_at = failing
    caught = None
    try:
        list(j.heads("type"))
    except JournalWriteError as e:
        caught = e
    true(caught is not None, "heads() says the journal cannot be read")
    caught = None
    try:
        j.at(refs[-1])
    except JournalWriteError as e:
        caught = e
    true(caught is not None, "at() says it too, never a record of nothing")


def test_the_records_of_some_types_are_counted_without_a_walk():
    s, j = _records_day()
    kinds = ("purchase", "void", "refund")
    eq(j.newest(kinds)[1], 4, "as written")
    eq(j.newest(("void",))[1], 1)
    eq(j.newest(("reversal_unconfirmed", "balance"))[1], 1)
    j2 = Journal(s, seal=True)
    eq(j2.newest(kinds)[1], 4, "as load() read them")
    j2.append({"type": "void", "trace": "000006", "orig_trace": "000001"})
    eq(j2.newest(kinds)[1], 5)
    eq(Journal(s).newest(kinds)[1], 5)
    eq(sum(1 for r in Journal(s).records if r[1].get("type") in kinds), 5, "what a walk finds")
    j2.clear()
    eq(j2.newest(kinds)[1], 0, "a cleared batch")
    torn = _three().read("journal.log")
    j3 = Journal(MemoryStorage({"journal.log": torn[:-3]}))
    eq(j3.newest(("purchase",))[1], 2, "a torn last record is not counted")
    # more types than the count has room for: not known (the look-up walks the batch first)
    s4 = MemoryStorage()
    j4 = Journal(s4)
    many = ["t%d" % i for i in range(14)]
    for k in many[:12]:
        j4.append({"type": k})
    eq(j4.newest(many)[1], 12)
    j4.append({"type": many[12]})
    eq(j4.newest(many)[1], None, "a 13th type: not known")
    eq(Journal(s4).newest(many)[1], None, "nor after a load")
    j4.clear()
    eq(j4.newest(many)[1], None, "nor after a clear, till a load")
    eq(Journal(s4).newest(many)[1], 0)


def test_the_newest_record_is_known_without_a_walk_and_a_walk_can_start_there():
    s = _three()
    j = Journal(s)
    newest = j.newest()
    eq(j.at(newest)["trace"], "000003", "loaded: the last record's place")
    got = [(kind, o) for _ref, kind, o in j.kinds("type", ("purchase",), "trace", newest)]
    eq(got, [("purchase", "000003")], "a walk from there reads that record alone")
    j.append({"type": "void", "trace": "000004", "orig_trace": "000002", "amount": 200})
    eq(j.at(j.newest())["trace"], "000004", "appended: the new one")
    eq(Journal(s).newest(), j.newest(), "the same place after a reopen")
    j.clear()
    eq(j.newest(), None, "an empty batch has none")
    full = _three().read("journal.log")
    torn = Journal(MemoryStorage({"journal.log": full[:-3]}))
    eq(len(torn.entries()), 2)
    eq(torn.newest(), None, "a file cut on open: not known (a walk finds it)")
    torn.append({"type": "purchase", "trace": "000005", "amount": 5})
    eq(torn.at(torn.newest())["trace"], "000005", "known again from the next record")
