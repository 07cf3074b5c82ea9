from mptest import eq, true
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
