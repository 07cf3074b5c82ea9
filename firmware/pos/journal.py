# The transaction journal: append-only, CRC-framed records in one file per
# batch. A record is
#   magic 0xA5 | length u16 BE | seq u32 BE | payload (UTF-8 JSON) | crc32 u32 BE
# with the CRC over length..payload. It is appended and flushed before the
# receipt is printed.
#
# What survives what:
#   a torn last record (power cut mid-write): cut off on open; every complete
#     record before it is kept;
#   a failed append (disk full, a write error): the file is cut back to the last
#     good record at once (and again before the next write if that failed too), so
#     no record is ever written behind torn bytes; the record stays pending in RAM
#     (`pending`) and is written by the next flush(); `error` says why meanwhile;
#   damaged bytes mid-file: the loader resynchronises on the next good record (a
#     magic byte whose frame has a good CRC), keeps every readable record, writes a
#     copy of the damaged file beside it (journal.log.damaged-N) before it rewrites
#     the journal with the readable records, and counts the unreadable ones
#     (`unreadable`, from the gap in the sequence numbers) for the start-up notice.
from pos.compat import json
from pos import crc

_MAGIC = 0xA5


class JournalError(ValueError):
    pass


class JournalWriteError(JournalError):
    # the storage refused a record (disk full, write error); the record is pending
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


def _record_at(data, pos, end, check=True):
    # -> (seq, obj, stop) of a whole record starting at pos, or None
    if pos + 11 > end or data[pos] != _MAGIC:
        return None
    n = (data[pos + 1] << 8) | data[pos + 2]
    stop = pos + 7 + n + 4
    if stop > end:
        return None
    if check:
        c = (
            (data[stop - 4] << 24)
            | (data[stop - 3] << 16)
            | (data[stop - 2] << 8)
            | data[stop - 1]
        )
        if crc.crc32(data[pos + 1 : pos + 7 + n]) != c:
            return None
    try:
        obj = json.loads(bytes(data[pos + 7 : pos + 7 + n]).decode())
    except ValueError:  # (UnicodeError is a ValueError on both interpreters)
        return None
    seq = (data[pos + 3] << 24) | (data[pos + 4] << 16) | (data[pos + 5] << 8) | data[pos + 6]
    return (seq, obj, stop)


def scan(data, check=True):
    # -> (records, good_length): records are (seq, obj) of the whole records from the
    # start up to the first bad byte. check=False skips the CRC (a file Journal.load()
    # has already checked).
    out = []
    pos = 0
    end = len(data)
    while True:
        r = _record_at(data, pos, end, check)
        if r is None:
            return out, pos
        out.append((r[0], r[1]))
        pos = r[2]


def _torn(data, pos, end):
    # True when data[pos:end] is the start of a record cut short (a power cut mid-append):
    # its length runs past the end of the file. Not when those bytes are a whole record
    # whose length field is damaged (its CRC matches the length the bytes have): that is
    # damage, to be reported, not a torn write to cut silently.
    if data[pos] != _MAGIC:
        return False
    if end - pos < 3:
        return True
    if pos + 7 + ((data[pos + 1] << 8) | data[pos + 2]) + 4 <= end:
        return False
    n = end - pos - 11
    if n < 0:
        return True
    c = (data[end - 4] << 24) | (data[end - 3] << 16) | (data[end - 2] << 8) | data[end - 1]
    return crc.crc32(bytes((n >> 8, n & 0xFF)) + data[pos + 3 : end - 4]) != c


def recover(data):
    # -> (records, spans, torn): every readable record [(seq, obj, start, stop)], the
    # unreadable byte ranges [(start, stop)] between or after them, and torn: the start
    # of a torn last record (no readable record after it), else -1.
    out = []
    spans = []
    pos = 0
    end = len(data)
    while pos < end:
        r = _record_at(data, pos, end)
        if r is not None:
            out.append((r[0], r[1], pos, r[2]))
            pos = r[2]
            continue
        nxt = pos + 1
        while True:
            nxt = data.find(b"\xa5", nxt)
            if nxt < 0 or _record_at(data, nxt, end) is not None:
                break
            nxt += 1
        if nxt < 0:
            if _torn(data, pos, end):
                return out, spans, pos
            spans.append((pos, end))
            break
        spans.append((pos, nxt))
        pos = nxt
    return out, spans, -1


def _lost(records, spans):
    # how many records the unreadable spans held: the gap in the sequence numbers
    # around each span (at least one a span)
    total = 0
    for a, b in spans:
        before = 0
        after = -1
        for r in records:
            if r[3] <= a:
                before = r[0]
            elif r[2] >= b and after < 0:
                after = r[0]
        n = after - before - 1 if after > 0 else 1
        total += n if n > 0 else 1
    return total


class Journal:
    # RAM: only the record count and the last sequence number are kept; the records stay
    # in the file and entries() reads them when a flow needs them (void, refund, query,
    # reprint, settlement), so the heap does not grow with the batch.
    def __init__(self, storage, name="journal.log", vault=None):
        self.storage = storage
        self.name = name
        self.vault = vault  # pos.vault.Vault: each record's PAN is kept sealed under it
        self.count = 0
        self._last_seq = 0
        self._end = 0  # the length of the file's good records
        self.recovered_bytes = 0  # a torn tail cut off on open
        self.unreadable = 0  # records lost to damage found on open
        self.damaged_copy = ""  # the name of the copy of the damaged file
        self.pending = []  # approved records not written yet (the storage failed)
        self.error = ""  # why the last write failed ("" when the journal is fine)
        self.load()

    def load(self):
        # -> [(seq, obj)] of every readable record (see the header for what is cut)
        data = self.storage.read(self.name) or b""
        records, spans, torn = recover(data)
        good = []
        for r in records:
            good.append((r[0], r[1]))
        self.count = len(good)
        self._last_seq = good[-1][0] if good else 0
        if spans:
            self.unreadable = _lost(records, spans)
            self._keep_damaged(data, records)
            self._end = max(self.storage.size(self.name), 0)
        elif torn >= 0:
            # a torn tail: keep what is whole, drop the rest (before the next write at
            # the latest, if the storage refuses now)
            self.recovered_bytes = len(data) - torn
            self._end = torn
            try:
                self._repair()
            except JournalWriteError:
                pass
        else:
            self._end = len(data)
        return good

    def _keep_damaged(self, data, records):
        # copy the damaged file beside the journal, then rewrite the journal with the
        # readable records; if the copy cannot be written, the file is left as it is
        # (and read through the resynchronising scan)
        n = 1
        while self.storage.size(self.name + ".damaged-" + str(n)) >= 0:
            n += 1
        name = self.name + ".damaged-" + str(n)
        try:
            self.storage.write(name, data)
            if self.storage.read(name) != data:
                raise OSError(5, "copy does not read back")
            parts = []
            for r in records:
                parts.append(data[r[2] : r[3]])
            self.storage.write(self.name, b"".join(parts))
            self.damaged_copy = name
        except OSError as e:
            self.error = "cannot keep the damaged journal: %s" % (e,)

    def __len__(self):
        return self.count

    @property
    def records(self):
        # [(seq, obj)], read from the file
        data = self.storage.read(self.name) or b""
        if self.unreadable and not self.damaged_copy:
            out = []
            for r in recover(data)[0]:
                out.append((r[0], r[1]))
            return out
        return scan(data, False)[0]

    def next_seq(self):
        return self._last_seq + 1

    def ready(self):
        # True when a record can be written now (nothing pending, no torn bytes left)
        return not self.pending and not self.error

    def append(self, obj):
        # Write obj (durable when this returns) -> its sequence number. When the storage
        # fails: the file is cut back, obj stays pending and JournalWriteError is raised.
        encode_record(0, self._disk(obj))  # too large: refused before it is pending
        self.pending.append(obj)
        self.flush()
        return self._last_seq

    def flush(self):
        # Write the pending records in order -> the records written now. Raises
        # JournalWriteError (what is not written stays pending) when the storage fails.
        done = []
        self._repair()
        while self.pending:
            obj = self.pending[0]
            seq = self._last_seq + 1
            data = encode_record(seq, self._disk(obj))
            why = ""
            try:
                self.storage.append(self.name, data)
                if self.storage.size(self.name) != self._end + len(data):
                    why = "short write"
            except OSError as e:
                why = str(e) or "write error"
            if why:
                self._failed(why)
            self._end += len(data)
            self.count += 1
            self._last_seq = seq
            done.append(self.pending.pop(0))
        self.error = ""
        return done

    def _disk(self, obj):
        # the record as the file keeps it: the PAN masked, and sealed under the vault
        if self.vault is None:
            return obj
        return self.vault.seal_fields(obj, "pan")

    def pan(self, e):
        # the whole PAN of a record from entries() ("" when it cannot be opened)
        if self.vault is None:
            return e.get("pan", "")
        return self.vault.pan(e, "pan")

    def _failed(self, why):
        # cut the file back to the last good record (now, or before the next write)
        self.error = "journal write failed: " + why
        try:
            self._repair()
        except JournalWriteError:
            pass
        raise JournalWriteError(self.error)

    def _repair(self):
        size = self.storage.size(self.name)
        if size < 0:
            size = 0
        if size == self._end:
            return
        try:
            self.storage.truncate(self.name, self._end)
        except OSError as e:
            self.error = "journal write failed, cannot cut back: %s" % (e,)
            raise JournalWriteError(self.error)
        if max(self.storage.size(self.name), 0) != self._end:
            self.error = "journal write failed, cannot cut back"
            raise JournalWriteError(self.error)

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
        self._end = 0
