# The transaction journal: append-only, CRC-framed records in one file per
# batch. A record is
#   magic 0xA5 | length u16 BE | seq u32 BE | payload (UTF-8 JSON) | crc32 u32 BE
# with the CRC over length..payload. It is appended and flushed before the
# receipt is printed. On open the file is scanned; a torn last record (power
# cut mid-write) is cut off, and every complete record before it is kept.
from pos.compat import json
from pos import crc

_MAGIC = 0xA5


class JournalError(ValueError):
    pass


def encode_record(seq, obj):
    payload = json.dumps(obj).encode()
    n = len(payload)
    if n > 0xFFFF:
        raise JournalError("record too large")
    head = bytes(
        (n >> 8, n & 0xFF, (seq >> 24) & 0xFF, (seq >> 16) & 0xFF, (seq >> 8) & 0xFF, seq & 0xFF)
    )
    c = crc.crc32(head + payload)
    tail = bytes(((c >> 24) & 0xFF, (c >> 16) & 0xFF, (c >> 8) & 0xFF, c & 0xFF))
    return bytes((_MAGIC,)) + head + payload + tail


def scan(data, check=True):
    # -> (records, good_length): records are (seq, obj) of every complete record.
    # check=False skips the CRC (a file Journal.load() has already checked and cut).
    out = []
    pos = 0
    end = len(data)
    while pos + 11 <= end:
        if data[pos] != _MAGIC:
            break
        n = (data[pos + 1] << 8) | data[pos + 2]
        stop = pos + 7 + n + 4
        if stop > end:
            break
        body = data[pos + 1 : pos + 7 + n]
        c = (
            (data[stop - 4] << 24)
            | (data[stop - 3] << 16)
            | (data[stop - 2] << 8)
            | data[stop - 1]
        )
        if check and crc.crc32(body) != c:
            break
        seq = (data[pos + 3] << 24) | (data[pos + 4] << 16) | (data[pos + 5] << 8) | data[pos + 6]
        try:
            obj = json.loads(bytes(data[pos + 7 : pos + 7 + n]).decode())
        except ValueError:
            break
        out.append((seq, obj))
        pos = stop
    return out, pos


class Journal:
    # RAM: only the record count and the last sequence number are kept; the records stay
    # in the file and entries() reads them when a flow needs them (void, refund, query,
    # reprint, settlement), so the heap does not grow with the batch.
    def __init__(self, storage, name="journal.log"):
        self.storage = storage
        self.name = name
        self.count = 0
        self._last_seq = 0
        self.recovered_bytes = 0
        self.load()

    def load(self):
        # -> [(seq, obj)] of every whole record (a torn tail is cut off the file)
        data = self.storage.read(self.name) or b""
        records, good = scan(data)
        if good < len(data):
            # a torn tail: keep what is whole, drop the rest
            self.recovered_bytes = len(data) - good
            self.storage.truncate(self.name, good)
        self.count = len(records)
        self._last_seq = records[-1][0] if records else 0
        return records

    def __len__(self):
        return self.count

    @property
    def records(self):
        # [(seq, obj)], read from the file
        return scan(self.storage.read(self.name) or b"", False)[0]

    def next_seq(self):
        return self._last_seq + 1

    def append(self, obj):
        seq = self.next_seq()
        self.storage.append(self.name, encode_record(seq, obj))
        self.count += 1
        self._last_seq = seq
        return seq

    def entries(self):
        # the records' objects, oldest first, read from the file
        out = []
        for r in self.records:
            out.append(r[1])
        return out

    def clear(self):
        self.storage.remove(self.name)
        self.count = 0
        self._last_seq = 0
