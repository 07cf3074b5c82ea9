# Heap remedies of the core (issue 14 item 4): tables as constants, the journal read record
# by record. Each checks the behaviour the remedy must keep and that the big allocation it
# replaced is gone.

from mptest import eq, true
from pos import crc, crc32py
from pos.journal import Journal
from pos.memstorage import MemoryStorage


def _table(data):
    return [(data[2 * i] << 8) | data[2 * i + 1] for i in range(len(data) // 2)]


def test_crc_tables_are_the_polynomials_tables():
    eq(_table(crc._T16), crc.table16(), "CRC-16/CCITT table")
    hi, lo = crc.table32()
    eq(_table(crc32py._T32H), hi, "CRC-32 high halves")
    eq(_table(crc32py._T32L), lo, "CRC-32 low halves")


def test_crc_values_match_the_standard_check_values():
    eq(crc.crc16_ccitt(b"123456789"), 0x29B1)
    eq(crc.crc32(b"123456789"), 0xCBF43926)
    eq(crc.crc32(b"6789", crc.crc32(b"12345")), 0xCBF43926)
    eq(crc.crc32(b""), 0)
    # the pure Python one, for a port without binascii.crc32
    eq(crc32py.crc32(b"123456789"), 0xCBF43926)
    eq(crc32py.crc32(b"6789", crc32py.crc32(b"12345")), 0xCBF43926)
    eq(crc32py.crc32(b""), 0)
    eq(crc32py.crc32(bytes(range(256)) * 3), crc.crc32(bytes(range(256)) * 3))


def test_crc_tables_are_bytes_constants_not_built():
    # nothing to build on first use: a table built mid-flow is a block left for good
    # between the day's data
    true(type(crc32py._T32H) is bytes and len(crc32py._T32H) == 512)
    true(type(crc._T16) is bytes and len(crc._T16) == 512)


class Reads(MemoryStorage):
    # MemoryStorage that records the size of every read
    def __init__(self):
        MemoryStorage.__init__(self)
        self.whole = []  # names read whole
        self.largest = 0  # the largest read_at

    def read(self, name):
        self.whole.append(name)
        return MemoryStorage.read(self, name)

    def read_at(self, name, offset, n):
        d = MemoryStorage.read_at(self, name, offset, n)
        if d is not None and len(d) > self.largest:
            self.largest = len(d)
        return d


def test_the_journal_is_read_record_by_record_never_whole():
    st = Reads()
    j = Journal(st)
    for i in range(40):
        j.append(
            {"type": "purchase", "trace": "%06d" % (i + 1), "amount": 100 + i, "pad": "x" * 200}
        )
    big = {"type": "purchase", "trace": "000041", "amount": 1, "pad": "y" * 1500}
    j.append(big)  # longer than one read window
    size = st.size("journal.log")
    true(size > 10000, "a batch of %d B" % size)
    st.whole = []
    st.largest = 0
    entries = j.entries()
    eq(len(entries), 41)
    eq(entries[0]["trace"], "000001")
    eq(entries[-1], big)
    eq(j.records[-1][0], 41, "sequence numbers")
    j2 = Journal(st)  # loading checks every record's CRC the same way
    eq((j2.count, j2.next_seq()), (41, 42))
    eq(st.whole, [], "no whole-file read")
    true(st.largest < 2000, "reads of one record at most (largest %d B)" % st.largest)


def test_each_reads_a_record_only_when_the_walk_gets_there():
    # Journal.each() (a void's, a refund's, a query's look-up, the totals): one record in
    # the heap at a time, where entries() holds the whole batch
    st = Reads()
    j = Journal(st)
    for i in range(20):
        j.append({"type": "purchase", "trace": "%06d" % (i + 1), "amount": i, "pad": "x" * 300})
    offsets = []
    real = st.read_at

    def read_at(name, offset, n):
        offsets.append(offset)
        return real(name, offset, n)

    st.read_at = read_at
    walk = j.each()
    first = next(walk)
    eq(first["trace"], "000001")
    eq(offsets, [0], "only the first record read")
    eq(next(walk)["trace"], "000002")
    eq(len(offsets), 2)
    eq([e["trace"] for e in walk][-1], "000020")
    eq([e["trace"] for e in j.each()], [e["trace"] for e in j.entries()])


def test_a_damaged_record_still_stops_the_walk_and_is_recovered():
    st = MemoryStorage()
    j = Journal(st)
    for i in range(3):
        j.append({"type": "purchase", "trace": "%06d" % (i + 1), "amount": i})
    data = bytearray(st.files["journal.log"])
    data[20] ^= 0xFF  # a byte of the first record's payload
    st.files["journal.log"] = bytes(data)
    j2 = Journal(st)
    eq([e["trace"] for e in j2.entries()], ["000002", "000003"], "the readable records")
    eq(j2.unreadable, 1)


def test_the_menu_is_parsed_as_its_file_is_read_not_read_whole():
    from pos.storage import FileStorage
    from rig import Rig, menus_dir

    class Counting(FileStorage):
        def __init__(self, root):
            FileStorage.__init__(self, root, readonly=True)
            self.whole = []

        def read(self, name):
            self.whole.append(name)
            return FileStorage.read(self, name)

    r = Rig()
    res = Counting(menus_dir())
    r.t.resources = res
    r.t.reload_menu()
    r.press("MENU")
    true("金融服务" in r.screen_flat(), r.screen_flat())
    eq([n for n in res.whole if n == "menu.json"], [], "menu.json read whole")
    r.press("CANCEL")
    r.t.storage.write("menu.json", b"{not json")  # a damaged download: the shipped menu
    r.t.reload_menu()
    r.press("MENU")
    true("金融服务" in r.screen_flat(), r.screen_flat())
