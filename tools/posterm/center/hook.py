"""The processor's hook into the back office: after every request the host answers, note
when the terminal was last seen, signed in (any key layout), made a transaction, what it
reported (a CUP status upload 0820 / 60.3 = 362 or an echo test 301 carrying field 62 as
key=value pairs, recorded only when the center accepted it: 00 from the terminal holding
the current keys),
and for a financial request the merchant number it sent (field 42) and where it is.

It writes through the host store's own connection: inside the host's transaction for the
message when one is open (queued, and written by flush() before the commit: the note commits
with the message; the processor flushes once per group of messages), else as one of its own.
Kept free of heavy imports: the host loads it for every center it runs.
"""

import json

_SALE_MTIS = ("0100", "0200", "0220")
# 60.3 of a sign-in: 001 single-length keys, 003 double, 004 with a track key, 005 / 006 SM
_SIGN_INS = ("001", "003", "004", "005", "006")
_READY = "_center_schema_ready"
_PENDING = "_center_notes"  # notes queued in the open transaction: ([(sql, args)], [meta])


def parse_report(value):
    """Field 62 of a status upload: 'key=value;key=value' (ASCII/UTF-8) -> dict, or None."""
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str):
        return None
    out = {}
    for part in value.split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            if k.strip():
                out[k.strip()] = v.strip()
    return out or None


def prepare(store):
    """Make the back office's tables (when missing) before the first message, in a
    transaction of their own under the store's write lock (BEGIN IMMEDIATE: on PostgreSQL
    the back office's advisory lock), so that center processes starting together on one
    database never make them at once inside their groups of messages (two CREATE OR
    REPLACE TRIGGER at once fail on PostgreSQL: a sign-in answered 96)."""
    if getattr(store, _READY, False):
        return
    from posterm.center.db import ensure_schema

    with store.unit():
        ensure_schema(store.db)
    setattr(store, _READY, True)


def note(store, req, rep, now):
    tid = req.get(41)
    if not tid or rep is None:
        return
    db = store.db
    if not getattr(store, _READY, False):
        from posterm.center.db import ensure_schema

        if db.in_transaction:
            if getattr(db, "dialect", "sqlite") == "postgresql":  # as prepare() does
                from posterm.center.pg import WRITE_LOCK

                db.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")
            ensure_schema(db)
        else:
            with db:
                ensure_schema(db)
        setattr(store, _READY, True)
    at = now.isoformat(timespec="seconds")
    mti = req.get("mti")
    code = rep.get(39)
    f60 = req.get(60, "") or ""
    sets = {"last_seen": at}
    if mti == "0800" and f60[8:11] in _SIGN_INS and code == "00":
        sets["last_signin"] = at
    if mti in _SALE_MTIS and code == "00":
        sets["last_tx"] = at
    if mti == "0820" and f60[8:11] in ("362", "301") and 62 in req and code == "00":
        report = parse_report(req[62])
        if report is not None:
            sets["last_report"] = json.dumps(report, ensure_ascii=False, sort_keys=True)
            if report.get("loc"):
                sets["location"] = report["loc"]
    meta = None
    if mti in _SALE_MTIS and req.get(11) and len(f60) >= 8:
        meta = (tid, f60[2:8], req[11], req.get(42))
    if db.in_transaction:
        # inside the message's transaction: queued, written by flush() before the commit
        # (the processor calls it once for a group of messages: a statement or two for all)
        pending = store.__dict__.setdefault(_PENDING, ([], []))
        pending[0].append((tid, sets))
        if meta:
            pending[1].append(meta)
        return
    with db:
        for sql, args in _statements([(tid, sets)], [meta] if meta else []):
            db.execute(sql, args)


_ROWS = 200  # rows per statement at most (SQLite takes up to 32,766 parameters in one)


def _statements(states, metas):
    """The statements that write the notes [(tid, {column: value})] and the transactions'
    merchant numbers [(tid, batch, trace, mid)], in order, as a few multi-row statements
    [(sql, args)] (the same on SQLite and PostgreSQL).  The notes of one terminal are merged
    first (a later one's columns win), as the upserts one after the other would leave the
    row; a transaction key noted twice keeps its last note."""
    merged = {}
    for tid, sets in states:
        merged.setdefault(tid, {}).update(sets)
    by_cols = {}
    for tid, sets in merged.items():
        by_cols.setdefault(tuple(sets), []).append((tid, *sets.values()))
    out = []
    for cols, rows in by_cols.items():
        names = ("tid", *cols)
        update = ", ".join(f"{c} = excluded.{c}" for c in cols)
        for i in range(0, len(rows), _ROWS):
            part = rows[i : i + _ROWS]
            values = ", ".join(["(" + ", ".join("?" * len(names)) + ")"] * len(part))
            out.append((
                f"WITH v ({', '.join(names)}) AS (VALUES {values})"
                f" INSERT INTO center_terminal_state ({', '.join(names)})"
                f" SELECT {', '.join('v.' + c for c in names)} FROM v"
                " WHERE EXISTS (SELECT 1 FROM terminals t WHERE t.tid = v.tid)"
                f" ON CONFLICT (tid) DO UPDATE SET {update}",
                [x for row in part for x in row]))
    last = {}
    for m in metas:
        last.pop(m[:3], None)  # noted again: at the end, as the later upsert would win
        last[m[:3]] = m
    rows = list(last.values())
    for i in range(0, len(rows), _ROWS):
        part = rows[i : i + _ROWS]
        values = ", ".join(["(?, ?, ?, ?)"] * len(part))
        out.append((
            f"WITH v (tid, batch, trace, mid) AS (VALUES {values})"
            " INSERT INTO center_tx_meta (tid, batch, trace, mid, location)"
            " SELECT v.tid, v.batch, v.trace, v.mid,"
            " (SELECT s.location FROM center_terminal_state s WHERE s.tid = v.tid) FROM v"
            " WHERE EXISTS (SELECT 1 FROM terminals t WHERE t.tid = v.tid)"
            " ON CONFLICT (tid, batch, trace) DO UPDATE SET mid = excluded.mid,"
            " location = excluded.location",
            [x for row in part for x in row]))
    return out


def flush(store):
    """Write the notes queued in the open transaction.  A failing note must not spoil the
    messages (PostgreSQL aborts a whole transaction on an error), so the notes get a
    savepoint of their own: on an error they are rolled back and the error is raised (the
    processor logs it), the messages commit without them.  On PostgreSQL, in a group, they
    are queued to go with the group's COMMIT in one subtransaction on the server
    (posterm.center.pg: queue_guarded; its error is logged there): no round trip of their
    own."""
    pending = store.__dict__.pop(_PENDING, None)
    if not pending or not (pending[0] or pending[1]):
        return
    db = store.db
    statements = _statements(*pending)
    guarded = getattr(db, "queue_guarded", None)
    if guarded is not None and db.in_group:
        guarded(statements)
        return
    db.execute("SAVEPOINT center_note")
    try:
        for sql, args in statements:
            db.execute(sql, args)
    except BaseException:
        db.execute("ROLLBACK TO SAVEPOINT center_note")
        db.execute("RELEASE SAVEPOINT center_note")
        raise
    db.execute("RELEASE SAVEPOINT center_note")


def discard(store):
    """Forget the queued notes (their transaction was rolled back)."""
    store.__dict__.pop(_PENDING, None)


note.flush = flush
note.discard = discard
note.prepare = prepare
