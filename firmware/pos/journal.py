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
#     (`unreadable`, from the gap in the sequence numbers) for the start-up notice;
#   a journal that exists but cannot be read now (an I/O error at boot): `blind` is
#     set and nothing is written, cut back or cleared until a read succeeds (each
#     write and each read of the records tries again): a file that only looked empty
#     is never cut back to nothing; records approved meanwhile stay pending.
from pos import overlay  # resident (imported at boot): no import at each call
from pos.compat import json
from pos import crc

_MAGIC = 0xA5
# bytes read at a time when walking the file: a record of the day is 200-400 B
_WINDOW = 512


class JournalError(ValueError):
    pass


class JournalWriteError(JournalError):
    # the storage refused a record (disk full, write error); the record is pending
    pass


def _utf8(text):
    # a str's UTF-8 without a copy where the port gives its buffer (MicroPython), else encoded
    try:
        return memoryview(text)
    except TypeError:
        return text.encode()


def encode_record(seq, obj):
    # -> the record's bytes (a bytearray): magic, length, seq, the JSON, its CRC-32. Made in
    # one buffer from the JSON's own bytes: the encoding and the concatenations before made
    # four copies of the payload, and a chip sale's record (~0.9 KB) found no block for the
    # last one at the board's cap (board sim, ESP32, ROMFS: 18 KB free, none over 896 B)
    payload = _utf8(json.dumps(obj))
    n = len(payload)
    if n > 0xFFFF:
        raise JournalError("record too large")
    out = bytearray(n + 11)
    out[0] = _MAGIC
    out[1] = n >> 8
    out[2] = n & 0xFF
    for i in range(4):
        out[3 + i] = (seq >> (24 - 8 * i)) & 0xFF
    out[7 : 7 + n] = payload
    payload = None
    c = crc.crc32(memoryview(out)[1 : 7 + n])
    for i in range(4):
        out[7 + n + i] = (c >> (24 - 8 * i)) & 0xFF
    return out


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


def peek(data, start, end, pat):
    # -> the string value of the key whose quoted name is pat (b'"type"') in the JSON object
    # data[start:end], read from its bytes, or None when it is not there as a plain string
    # (escapes, another type) and the record must be decoded to know
    r = span(data, start, end, pat)
    return None if r is None else bytes(data[r[0] : r[1]]).decode()


def span(data, start, end, pat):
    # -> (a, b): where peek()'s value lies in data (its bytes, without the quotes), or None
    i = data.find(pat, start, end)
    while i >= 0:
        j = i + len(pat)
        while j < end and data[j] == 32:
            j += 1
        k = i - 1
        while k >= start and data[k] == 32:
            k -= 1
        if j < end and data[j] == 58 and k >= start and data[k] in (123, 44):  # : after, { or ,
            j += 1
            while j < end and data[j] == 32:
                j += 1
            if j >= end or data[j] != 34:
                return None
            q = data.find(b'"', j + 1, end)
            if q < 0 or data.find(b"\\", j + 1, q) >= 0:
                return None
            return (j + 1, q)
        i = data.find(pat, i + 1, end)
    return None


def fields(data, start, end, names):
    # -> {name: value} of the fields `names` ((name, b'"name": '), ...) of the JSON object
    # data[start:end], each read from its bytes: a plain string (one str made) or an integer;
    # a field not there is left out. None when the object is not written as json.dumps writes
    # a record ('": ' after each key) or a field is there as something else (escapes, a
    # float, true ...): the record must be decoded then. (json.loads makes a str of each key
    # and each string value, each first looked for among the interned names on MicroPython:
    # ~360,000 instructions of the unix port for a sale's record; the journal look-up's page
    # shows 9 of its ~18 fields)
    if end - start < 2 or data[start] != 123:
        return None
    q = data.find(b'"', start + 2, end)
    if data[start + 1] != 34 or q < 0 or not data.startswith(b'": ', q):
        return None
    out = {}
    for name, pat in names:
        i = data.find(pat, start, end)
        if i < 0:
            continue
        j = i + len(pat)
        c = data[j] if j < end else 0
        if c == 34:  # a string
            q = data.find(b'"', j + 1, end)
            if q < 0 or data.find(b"\\", j + 1, q) >= 0:
                return None
            out[name] = bytes(data[j + 1 : q]).decode()
            continue
        k = j + 1 if c == 45 else j  # an integer (a minus first)
        while k < end and 48 <= data[k] <= 57:
            k += 1
        if k == j or k == j + 1 and c == 45 or k >= end or data[k] not in (44, 125):
            return None  # (a float, an exponent, true, null, an object ...)
        out[name] = int(bytes(data[j:k]))
    return out


_TYPES = 12  # the types Journal counts (catalog's journalled ones and the reversals')


def _tally(types, k):
    # one more record of type k in types ([type, how many, ...]) -> False when it is full
    for i in range(0, len(types), 2):
        if types[i] == k or not types[i + 1]:
            types[i] = k
            types[i + 1] += 1
            return True
    return False


class Journal:
    # RAM: only the record count and the last sequence number are kept; the records stay
    # in the file and entries() reads them when a flow needs them (void, refund, query,
    # reprint, settlement), so the heap does not grow with the batch.
    def __init__(self, storage, name="journal.log", seal=False):
        self.storage = storage
        self.name = name
        self.seal = seal  # each record's PAN kept sealed under the terminal's key (pos.vault)
        self.count = 0
        self._last_seq = 0
        self._end = 0  # the length of the file's good records
        self._newest = None  # where the newest record starts (its ref), None when not known
        # the file's records counted by type (newest(values)): [type, how many, ...], a list of a
        # fixed length made once, at load(), so that no block is taken for it mid-day (a dict
        # grown as types came was a block kept for good between the day's data, and the
        # ROMFS day at the board's cap ran out of heap for it); None when more types came
        self._types = None
        self.recovered_bytes = 0  # a torn tail cut off on open
        self.torn = None  # what its bytes still said: {"type", "trace", "amount"} (journalfix)
        self.unreadable = 0  # records lost to damage found on open
        self.damaged_copy = ""  # the name of the copy of the damaged file
        self.pending = []  # approved records not written yet (the storage failed)
        self.error = ""  # why the last write failed ("" when the journal is fine)
        self.blind = False  # the file exists but could not be read (see the header)
        self._read_failed = False
        self.load()

    def load(self):
        # -> [(seq, obj)] of every readable record (see the header for what is cut)
        good = []
        end = 0
        newest = None
        self._read_failed = False
        for seq, obj, stop in self._walk(True):
            good.append((seq, obj))
            end = stop
            newest = self._at
        size = self.storage.size(self.name)
        data = None
        if end < size and not self._read_failed:
            data = self.storage.read(self.name)
        if self._read_failed or (end < size and data is None) or (size < 0 and self._exists()):
            # the file is there but its bytes cannot be read now: what it holds is not
            # known, so nothing may be written behind it, cut back or cleared
            self.blind = True
            self.error = "journal cannot be read"
            return []
        if self.blind:
            self.blind = False
            self.error = ""
        if end < size:
            # a torn tail or damage: pos.journalfix, loaded for this only (it needs the
            # whole file, once)
            with overlay.scope():
                from pos import journalfix

                good = journalfix.recover_file(self, data)
                del journalfix
            self._newest = None  # (a full walk finds it: the file was cut or rewritten)
        else:
            self._end = end
            self._newest = newest
        types = [None, 0] * _TYPES  # (load decodes every record: their types counted on the way)
        for r in good:
            if not _tally(types, r[1].get("type") if type(r[1]) is dict else None):
                types = None
                break
        self._types = types
        self.count = len(good)
        self._last_seq = good[-1][0] if good else 0
        return good

    def _exists(self):
        try:
            return self.name in self.storage.names()
        except OSError:
            return True  # the directory cannot be listed either: assume the worst

    def _see(self):
        # a blind journal tries to read its file again -> True once it can
        if self.blind:
            self.load()
        if self.blind:
            raise JournalWriteError(self.error)

    def _walk(self, check, having=None):
        # Generator: (seq, obj, stop) of the whole records from the start, read from the
        # storage one record at a time (one read of _WINDOW bytes, a second one only for a
        # longer record), up to the first bad byte: the heap holds one record, never the file.
        # having: bytes a record's JSON must hold to be decoded (bytes.find, in C); the others
        # are passed over unread (obj None, never yielded)
        for data, pos, stop in self._frames(0):
            if having is not None and data.find(having, pos + 7, stop - 4) < 0:
                continue
            r = _record_at(data, pos, stop, check)
            if r is None:
                return
            yield (r[0], r[1], self._at + stop - pos)

    def _frames(self, start):
        # Generator: (data, pos, stop): a whole record's frame at data[pos:stop] (its length
        # read, nothing checked or decoded), from the record at `start` (0: the first) on;
        # self._at: where it starts in the file. An I/O error sets _read_failed and ends the
        # walk. A storage that opens the file for the walk (pos.storage reader) gives one
        # open, then a seek and a read a record (read_at joined the path and opened and closed
        # the file for each: ~50,000 instructions of the unix port a record), into one buffer
        # for the walk (data is then a bytearray that the next record overwrites: read it
        # before the walk goes on; a block of 512 B a record made the journal look-up's key
        # allocate enough to bring on a collection)
        reader = getattr(self.storage, "reader", None)
        read_at = getattr(self.storage, "read_at", None)
        self._at = start
        if reader is None and read_at is None:
            data = self.storage.read(self.name)
            if data is None:
                self._read_failed = self.storage.size(self.name) >= 0
                data = b""
            pos = start
            end = len(data)
            while pos + 11 <= end and data[pos] == _MAGIC:
                stop = pos + 11 + ((data[pos + 1] << 8) | data[pos + 2])
                if stop > end:
                    return
                self._at = pos
                yield (data, pos, stop)
                pos = stop
            return
        f = None
        if reader is not None:
            f = reader(self.name)
            if f is None:
                self._read_failed = self.storage.size(self.name) >= 0
                return
            buf = bytearray(_WINDOW)
        pos = start
        try:
            while True:
                if f is not None:
                    f.seek(pos)
                    n = f.readinto(buf)
                    chunk = buf if n and n >= 11 else None
                else:
                    chunk = read_at(self.name, pos, _WINDOW)
                    if chunk is None and (pos > 0 or self.storage.size(self.name) >= 0):
                        self._read_failed = True  # an I/O error, not the end of the file
                        return
                if not chunk or len(chunk) < 11 or chunk[0] != _MAGIC:
                    return
                size = 11 + ((chunk[1] << 8) | chunk[2])
                if f is not None:
                    if size > n:
                        if size > len(buf):
                            buf = bytearray(size)  # a longer record: kept for the walk
                        f.seek(pos)
                        n = f.readinto(buf)
                        if not n or n < size:
                            return
                        chunk = buf
                elif size > len(chunk):
                    chunk = read_at(self.name, pos, size)
                    if chunk is None:
                        self._read_failed = True
                        return
                    if len(chunk) < size:
                        return
                self._at = pos
                yield (chunk, 0, size)
                chunk = None
                pos += size
        except OSError:
            self._read_failed = True  # (a reader's read) an I/O error, not the end of the file
        finally:
            if f is not None:
                f.close()

    def heads(self, key, having=None):
        # Generator: (ref, value, obj) of each record, oldest first, decoding only the ones it
        # must: value is the record's string field `key` read from its JSON bytes (peek());
        # obj the record decoded when its bytes hold `having`, or when the field could not be
        # read from them, else None; at(ref) decodes it later. (On MicroPython each str a
        # record's JSON makes is first looked for among the interned names: ~40 us a record on
        # the unix port; the journal look-up and a reprint need one record, not the batch.)
        self._see()
        if self.unreadable and not self.damaged_copy:
            for r in self.records:
                yield (r[1], r[1].get(key), r[1])
            return
        self._read_failed = False
        pat = b'"' + key.encode() + b'"'
        for data, pos, stop in self._frames(0):
            obj = None
            v = peek(data, pos + 7, stop - 4, pat)
            if v is None or (having is not None and data.find(having, pos + 7, stop - 4) >= 0):
                r = _record_at(data, pos, stop, False)
                if r is None:
                    break
                obj = r[1]
                v = obj.get(key)
            yield (self._at, v, obj)
        if self._read_failed:
            raise JournalWriteError("journal cannot be read")

    def naming(self, pat, names):
        # Generator: (ref, fields) of each record, oldest first, whose JSON bytes hold pat
        # (b'"000004"'): fields its fields `names` (as fields() takes them) read from its
        # bytes, else (escapes, a float ...) the record decoded whole; at(ref) reads the rest.
        # For a look-up by a value that needs a few of the fields of the records that name it
        # (each() decoded them: ~360,000 instructions of the unix port for a sale's record,
        # the void's key that finds its original)
        self._see()
        if self.unreadable and not self.damaged_copy:
            for r in self.records:
                yield (r[1], r[1])
            return
        self._read_failed = False
        for data, pos, stop in self._frames(0):
            if data.find(pat, pos + 7, stop - 4) < 0:
                continue
            got = fields(data, pos + 7, stop - 4, names)
            if got is None:
                r = _record_at(data, pos, stop, False)
                if r is None:
                    break
                got = r[1]
            yield (self._at, got)
        if self._read_failed:
            raise JournalWriteError("journal cannot be read")

    def kinds(self, key, values, also=None, start=0, of=None):
        # Generator: (ref, value, other) of each record, oldest first, making no str for the
        # records' `key`: value is the member of `values` (strs) that the record's string
        # field `key` equals, compared in its JSON bytes, or None when it is none of them (or
        # absent); other is the string field `also` of the records whose bytes name it (one
        # str made for each of those), else None; of: the values whose records are searched
        # for `also` (None: every record; a search through a record that lacks it is the
        # walk's dearest step: ~10,000 instructions of the unix port). A record whose fields
        # cannot be read from its bytes (escapes, another type) is decoded. (heads() made a
        # str of the type of each record; each str made on MicroPython is first looked for
        # among the interned names, ~6,500 instructions with the firmware's ~1,000; the
        # journal look-up walked 16 records and decoded its voids whole to read orig_trace.)
        # start: the ref (a place in the file, newest()) of the record the walk begins at,
        # else the first
        self._see()
        if self.unreadable and not self.damaged_copy:
            for r in self.records:
                v = r[1].get(key)
                v = v if v in values else None
                yield (r[1], v, r[1].get(also) if also and (of is None or v in of) else None)
            return
        self._read_failed = False
        pat = b'"' + key.encode() + b'"'
        # the values by their first two bytes with the closing quote -> ((bytes, value), ...):
        # a record's value is found with no object made (the record's bytes are the walk's
        # buffer: a slice of them to look up was two blocks a record), right after the key as
        # json.dumps writes it (fpat: one search a record; span(), a call with its frame on
        # the heap and its own three searches, only for a record written otherwise)
        enc = {}
        for v in values:
            e = v.encode() + b'"'
            if len(e) > 1:
                k = (e[0] << 8) | e[1]
                enc[k] = enc.get(k, ()) + ((e, v),)
        fpat = pat + b': "'
        apat = b'"' + also.encode() + b'"' if also else None
        for data, pos, stop in self._frames(start):
            a, b = pos + 7, stop - 4
            v = None
            o = None
            j = data.find(fpat, a, b) + len(fpat)
            if j >= len(fpat) and j + 1 < b:
                for e, w in enc.get((data[j] << 8) | data[j + 1], ()):
                    if data.startswith(e, j):
                        v = w
                        break
                whole = False
                if v is None:  # none of them, or an escape in it: decoded to know
                    q = data.find(b'"', j, b)
                    whole = q < 0 or data.find(b"\\", j, q) >= 0
            else:
                r = span(data, a, b, pat)
                whole = r is None and data.find(pat, a, b) >= 0
                if r is not None and r[1] > r[0]:
                    i, j = r
                    for e, w in enc.get((data[i] << 8) | data[i + 1], ()):
                        if data.startswith(e, i):
                            v = w
                            break
            if apat is None or (of is not None and v not in of):
                pass
            elif not whole and data.find(apat, a, b) >= 0:
                o = peek(data, a, b, apat)
                whole = o is None
            if whole:
                rec = _record_at(data, pos, stop, False)
                if rec is None:
                    break
                v = rec[1].get(key)
                v = v if v in values else None
                o = rec[1].get(also) if also and (of is None or v in of) else None
            yield (self._at, v, o)
        if self._read_failed:
            raise JournalWriteError("journal cannot be read")

    def newest(self, values=None):
        # -> the ref (at(), kinds(start=)) of the newest record in the file, or None when not
        # known (no record, a file recovered on open: a walk finds it). values (strs): -> (that
        # ref, how many of the file's records have a "type" among values): counted as load()
        # read them and as they are written, so that the journal look-up's first page says how
        # many there are before the batch is walked; None when not known (a journal that
        # could not be read, or read in pieces after damage, more types than _TYPES)
        if self.unreadable and not self.damaged_copy:
            return None if values is None else (None, None)  # (refs are the records then)
        if values is None:
            return self._newest
        types = self._types
        if types is None or self.blind:
            return (self._newest, None)
        n = 0
        for i in range(0, len(types), 2):
            if types[i + 1] and types[i] in values:
                n += types[i + 1]
        return (self._newest, n)

    def at(self, ref, names=None):
        # -> the object of the record heads() gave as ref; names: the fields wanted, as
        # fields() takes them: a dict of those alone, read from the record's bytes where they
        # can be (else the record decoded whole)
        if isinstance(ref, dict):
            return ref
        read_at = getattr(self.storage, "read_at", None)
        if read_at is None:
            data = self.storage.read(self.name) or b""
            pos = ref
        else:
            data = read_at(self.name, ref, _WINDOW) or b""
            if len(data) >= 3 and 11 + ((data[1] << 8) | data[2]) > len(data):
                data = read_at(self.name, ref, 11 + ((data[1] << 8) | data[2])) or b""
            pos = 0
        if names is not None and pos + 11 <= len(data) and data[pos] == _MAGIC:
            stop = pos + 11 + ((data[pos + 1] << 8) | data[pos + 2])
            got = fields(data, pos + 7, stop - 4, names) if stop <= len(data) else None
            if got is not None:
                return got
        r = _record_at(data, pos, len(data), False)
        if r is None:
            raise JournalWriteError("journal cannot be read")
        return r[1]

    def __len__(self):
        return self.count

    @property
    def records(self):
        # [(seq, obj)], read from the file record by record (JournalWriteError while the
        # file cannot be read: an empty list would read as an empty batch)
        self._see()
        if self.unreadable and not self.damaged_copy:
            with overlay.scope():
                from pos import journalfix

                return journalfix.readable(self.storage.read(self.name) or b"")
        return self._checked(self._walk(False), True)

    def _checked(self, walk, pairs):
        self._read_failed = False
        out = [(r[0], r[1]) if pairs else r[1] for r in walk]
        if self._read_failed:  # an I/O error, not the end of the batch
            raise JournalWriteError("journal cannot be read")
        return out

    def next_seq(self):
        return self._last_seq + 1

    def ready(self):
        # True when a record can be written now (nothing pending, no torn bytes left)
        return not self.pending and not self.error

    def append(self, obj):
        # Write obj (durable when this returns) -> its sequence number. When the storage
        # fails: the file is cut back, obj stays pending and JournalWriteError is raised.
        disk = self._disk(obj)  # as the file keeps it (the PAN sealed)
        if len(_utf8(json.dumps(disk))) > 0xFFFF:  # too large: refused before it is
            raise JournalError("record too large")  # pending (its JSON only, not a record)
        before = self._last_seq
        self.pending.append(disk)
        try:
            self.flush()
        except MemoryError:
            if self._last_seq != before and disk not in self.pending:
                return self._last_seq  # written and counted: only the bookkeeping after failed
            # the heap ran out on the way (not the storage): the record is neither written
            # (a partly written one is cut back by the next write) nor pending, so that the
            # caller can try again without writing it twice
            if self.pending and self.pending[-1] is disk:
                self.pending.pop()
            raise
        return self._last_seq

    def flush(self):
        # Write the pending records in order -> the records written now (as the file
        # keeps them: the PAN masked). Raises JournalWriteError (what is not written
        # stays pending) when the storage fails.
        done = []
        self._see()
        self._repair()
        while self.pending:
            obj = self.pending[0]
            seq = self._last_seq + 1
            data = encode_record(seq, obj)
            why = ""
            try:
                self.storage.append(self.name, data)
                if self.storage.size(self.name) != self._end + len(data):
                    why = "short write"
            except OSError as e:
                why = str(e) or "write error"
            if why:
                self._failed(why)
            self._newest = self._end
            self._end += len(data)
            self.count += 1
            if self._types is not None and not _tally(self._types, obj.get("type")):
                self._types = None  # (more types than it has room for: not known till a load)
            self._last_seq = seq
            done.append(self.pending.pop(0))
        self.error = ""
        return done

    def _disk(self, obj):
        # the record as the file keeps it: the PAN masked, and sealed under the vault
        if not self.seal:
            return obj
        with overlay.scope():
            from pos import vault

            return vault.seal_fields(self.storage, obj, "pan")

    def pan(self, e):
        # the whole PAN of a record from entries() ("" when it cannot be opened)
        if not self.seal:
            return e.get("pan", "")
        with overlay.scope():
            from pos import vault

            return vault.pan(self.storage, e, "pan")

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
        # the records' objects, oldest first, read from the file record by record
        self._see()
        if self.unreadable and not self.damaged_copy:
            return [r[1] for r in self.records]
        return self._checked(self._walk(False), False)

    def each(self, having=None):
        # Generator: the records' objects, oldest first, each read from the file as it is
        # walked: the heap holds one record, where entries() holds the whole batch (~1 KB a
        # record on the x64 unix port). For a walk that looks for one record or sums them.
        # having: bytes that a record's JSON must hold for it to be decoded and yielded (a
        # walk for one trace or RRN decodes the records that name it; the caller still
        # checks the fields: the others may be yielded too). JournalWriteError when the file
        # cannot be read (raised at the end of what could).
        self._see()
        if self.unreadable and not self.damaged_copy:
            for r in self.records:
                yield r[1]
            return
        self._read_failed = False
        for r in self._walk(False, having):
            yield r[1]
        if self._read_failed:
            raise JournalWriteError("journal cannot be read")

    def clear(self):
        self._see()  # a batch that cannot be read is never thrown away unseen
        self.storage.remove(self.name)
        self.count = 0
        self._last_seq = 0
        self._end = 0
        self._newest = None
        types = self._types
        if types is not None:
            for i in range(1, len(types), 2):
                types[i] = 0  # (in place: no block taken)
