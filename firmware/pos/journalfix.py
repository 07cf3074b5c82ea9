# The journal's recovery (pos.journal), loaded only when the file is not a clean run of
# whole records: a torn tail (power cut mid-append) is cut off; damaged bytes are skipped
# by resynchronising on the next record with a good CRC, the damaged file is copied aside
# (journal.log.damaged-N) and the readable records are written back.
from pos import crc
from pos.journal import _MAGIC, _record_at, JournalWriteError


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


def torn_fields(part):
    # the fields a torn record's bytes still hold whole -> {"type", "trace", "amount"} of
    # those legible (the start-up notice names the transaction that was cut)
    out = {}
    for key in ("type", "trace", "amount"):
        at = part.find(b'"' + key.encode() + b'":')
        if at < 0:
            continue
        at += len(key) + 3
        while at < len(part) and part[at] == 32:
            at += 1
        quoted = at < len(part) and part[at] == 34
        if quoted:
            at += 1
        stop = at
        while stop < len(part) and part[stop] not in (34, 44, 125):  # " , }
            stop += 1
        if stop >= len(part) or stop == at or (quoted and part[stop] != 34):
            continue  # cut in the middle of the value: not legible
        value = part[at:stop].decode()
        out[key] = value if quoted else int(value) if value.isdigit() else value
    return out


def readable(data):
    # -> [(seq, obj)] of every readable record (a file the copy of which failed)
    out = []
    for r in recover(data)[0]:
        out.append((r[0], r[1]))
    return out


def recover_file(j, data):
    # Journal.load() of a file that is not clean -> [(seq, obj)] of its readable records
    records, spans, torn = recover(data)
    good = []
    for r in records:
        good.append((r[0], r[1]))
    if spans:
        j.unreadable = _lost(records, spans)
        _keep_damaged(j, data, records)
        j._end = max(j.storage.size(j.name), 0)
    elif torn >= 0:
        # a torn tail: keep what is whole, drop the rest (before the next write at the
        # latest, if the storage refuses now)
        j.recovered_bytes = len(data) - torn
        j.torn = torn_fields(data[torn:])
        j._end = torn
        try:
            j._repair()
        except JournalWriteError:
            pass
    else:
        j._end = len(data)
    return good


def _keep_damaged(j, data, records):
    # copy the damaged file beside the journal, then rewrite the journal with the
    # readable records; if the copy cannot be written, the file is left as it is
    # (and read through the resynchronising scan)
    n = 1
    while j.storage.size(j.name + ".damaged-" + str(n)) >= 0:
        n += 1
    name = j.name + ".damaged-" + str(n)
    try:
        j.storage.write(name, data)
        if j.storage.read(name) != data:
            raise OSError(5, "copy does not read back")
        parts = []
        for r in records:
            parts.append(data[r[2] : r[3]])
        j.storage.write(j.name, b"".join(parts))
        j.damaged_copy = name
    except OSError as e:
        j.error = "cannot keep the damaged journal: %s" % (e,)
