"""The host's storage: one SQLite file holding terminals, cards, transactions, batch uploads,
settlements, menu versions and injected faults.

Outside a unit of work every method is a short transaction of its own.  Inside
`with store.unit():` nothing is committed until the block ends: everything the center changes
for one message (balance, transaction row, PIN tries, counters ...) commits together or not at
all (a full disk, a lock or a crash in the middle leaves the database as it was).  The database
is opened in WAL mode so the CLI can change faults or freeze a terminal while a host is serving
the same file.
"""

import json
import os
import secrets
import sqlite3
import time
import zlib
from contextlib import contextmanager
from datetime import datetime

from pos import card as cardmod

from posterm.host import deck, validate
from posterm.host.catalog import CREDIT_TYPES, DEBIT_TYPES
from posterm.host.errors import NotFoundError, ValidationError

SCHEMA_VERSION = 2

# Upgrades of an older database, per version it has (run in one transaction).
_MIGRATIONS = {
    1: (
        "ALTER TABLE terminals ADD COLUMN mac_algo TEXT NOT NULL DEFAULT 'ecb'",
        "ALTER TABLE terminals ADD COLUMN key_layout TEXT",
        "ALTER TABLE terminals ADD COLUMN tdk TEXT",
        "ALTER TABLE terminals ADD COLUMN seq_trace TEXT",
        "ALTER TABLE cards ADD COLUMN track2 TEXT",
        "ALTER TABLE cards ADD COLUMN track3 TEXT",
        # a version 1 database does not say which menus came from the shipped file: keep
        # them all as published (never overridden)
        "ALTER TABLE menus ADD COLUMN source TEXT NOT NULL DEFAULT 'published'",
    ),
}

_SCHEMA = """
CREATE TABLE terminals (
    tid TEXT PRIMARY KEY,
    mid TEXT NOT NULL,
    tmk TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'registered',
    freeze_code TEXT NOT NULL DEFAULT '97',
    pik TEXT,
    mak TEXT,
    host_batch TEXT NOT NULL DEFAULT '000001',
    allowed TEXT,
    signed_in TEXT,
    created TEXT NOT NULL,
    mac_algo TEXT NOT NULL DEFAULT 'ecb',
    key_layout TEXT,
    tdk TEXT,
    seq_trace TEXT
);
CREATE TABLE cards (
    pan TEXT PRIMARY KEY,
    pin TEXT NOT NULL,
    balance_fen INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'ok',
    expiry TEXT NOT NULL,
    holder TEXT NOT NULL DEFAULT '',
    limit_fen INTEGER,
    pin_tries INTEGER NOT NULL DEFAULT 0,
    pin_tries_day TEXT,
    track2 TEXT,
    track3 TEXT
);
CREATE TABLE transactions (
    id INTEGER PRIMARY KEY,
    tid TEXT NOT NULL,
    batch TEXT NOT NULL,
    trace TEXT NOT NULL,
    mti TEXT NOT NULL,
    type TEXT NOT NULL,
    pan TEXT,
    amount_fen INTEGER NOT NULL DEFAULT 0,
    rrn TEXT,
    auth TEXT,
    date TEXT NOT NULL,
    time TEXT NOT NULL,
    result TEXT NOT NULL,
    status TEXT NOT NULL,
    orig_id INTEGER,
    refunded_fen INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tid, batch, trace)
);
CREATE INDEX transactions_rrn ON transactions (rrn);
CREATE INDEX transactions_auth ON transactions (auth, pan);
CREATE TABLE batch_uploads (
    id INTEGER PRIMARY KEY,
    tid TEXT NOT NULL,
    batch TEXT NOT NULL,
    code TEXT NOT NULL,
    foreign_card INTEGER NOT NULL DEFAULT 0,
    trace TEXT,
    pan TEXT,
    amount_fen INTEGER,
    received TEXT NOT NULL
);
CREATE TABLE settlements (
    id INTEGER PRIMARY KEY,
    tid TEXT NOT NULL,
    batch TEXT NOT NULL,
    terminal_totals TEXT NOT NULL,
    host_totals TEXT NOT NULL,
    balanced INTEGER NOT NULL,
    closed INTEGER NOT NULL DEFAULT 0,
    at TEXT NOT NULL
);
CREATE TABLE menus (
    version INTEGER PRIMARY KEY,
    json TEXT NOT NULL,
    crc TEXT NOT NULL,
    created TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'published'
);
CREATE TABLE faults (
    tid TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    arg TEXT,
    remaining INTEGER
);
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""

DEFAULT_TID = "12345678"
DEFAULT_MID = "898310048990001"
DEFAULT_TMK = "11111111111111112222222222222222"  # the documented test TMK of 12345678 only
SECOND_TID = "87654321"
SECOND_MID = "898310048990002"
MAC_ALGOS = ("ecb", "x9.9", "x9.19")

_HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name, key):
    with open(os.path.join(_HERE, name), encoding="utf-8") as f:
        return json.load(f)[key]


# The test card deck (deck.json, read by posterm.host.deck): dicts with pan, pin, balance_fen,
# status, expiry, holder, track2 and (domestic cards) track3, chip data on chip cards.
# DEFAULT_CARDS keeps the older tuple shape (pan, pin, balance in fen, status, expiry YYMM,
# holder) for its callers.
DECK = deck.CARDS
DEFAULT_CARDS = tuple(
    (c["pan"], c["pin"], c["balance_fen"], c["status"], c["expiry"], c["holder"]) for c in DECK
)
DEFAULT_LIMIT_FEN = 5000000  # 50,000.00 yuan per transaction
BINS = tuple(sorted(_load("bins.json", "bins"), key=lambda b: -len(b["prefix"])))


def card_bin(pan):
    """The bins.json entry of the longest BIN prefix of `pan` (a dict), or None."""
    for b in BINS:
        if pan and pan.startswith(b["prefix"]):
            return b
    return None


def _now_text():
    return datetime.now().isoformat(timespec="seconds")


def random_tmk():
    """A fresh double-length test TMK (32 hex digits)."""
    return secrets.token_hex(16).upper()


def menu_crc(data):
    """CRC-32 of the menu file's bytes as 8 uppercase hex digits (zlib's CRC-32)."""
    return "%08X" % (zlib.crc32(data) & 0xFFFFFFFF)


def next_batch(batch):
    n = int(batch) + 1
    return f"{1 if n > 999999 else n:06d}"


class FaultsArmed(Exception):  # noqa: N818 - a state, not an error
    """A group asked to check for armed faults (Store.group(check_faults=True)) found some:
    nothing was served, the host serves the group one by one as the faults say."""


class Store:
    """Open (creating or upgrading if needed) the host database at `path`.  `fresh` tells
    whether this call created it, so the caller can provision defaults exactly once.
    `timeout`: seconds a statement waits for another connection's lock."""

    def __init__(self, path, timeout=10.0):
        self.path = str(path)
        self._depth = 0
        self._pg = None  # posterm.center.pg on PostgreSQL
        self._counters = None  # a SQLite group's counters: name -> (value, stored)
        self._kept = None  # a SQLite group's rows read at its start (_read_kept)
        self._lock = ""  # what a read of a row the unit will change adds (PostgreSQL)
        self._until = None  # SQLite: the write lock asked for until then (set_wait)
        self._busy_sql = f"PRAGMA busy_timeout={max(0, int(timeout * 1000))}"
        if self.path.startswith(("postgresql://", "postgres://")):
            from posterm.center import pg  # the same SQL, translated (posterm.center.pg)

            self.db = pg.connect(self.path, timeout)
            self._pg = pg
            self._lock = pg.LOCK
        else:
            parent = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(parent, exist_ok=True)
            self.db = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: the file stays consistent on a crash, the last commits may be lost;
        # right for a test host, and it makes each commit ~20x cheaper than FULL.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        self.fresh = version == 0
        if version == SCHEMA_VERSION:
            return
        if version > SCHEMA_VERSION or (version and version not in _MIGRATIONS):
            self.db.close()
            raise ValidationError(
                "database",
                f"{self.path} has schema version {version}, this host knows {SCHEMA_VERSION}",
            )
        with self.unit():
            # Another process may have created or upgraded it between our read and the lock.
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            self.fresh = version == 0
            if version == 0:
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        self.db.execute(stmt)
            else:
                while version < SCHEMA_VERSION:
                    for stmt in _MIGRATIONS[version]:
                        self.db.execute(stmt)
                    version += 1
            self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @property
    def dialect(self):
        return "sqlite" if self._pg is None else "postgresql"

    def set_autocheckpoint(self, on):
        """SQLite: whether a commit that fills the write-ahead log past 1,000 pages copies it
        back into the database itself (SQLite's default).  The host turns it off while its
        own Checkpointer does that from a thread of its own (posterm.host.server); other
        connections keep the default."""
        if self._pg is None:
            self.db.execute(f"PRAGMA wal_autocheckpoint={1000 if on else 0}")

    def close(self):
        self.db.close()

    # -- units of work --------------------------------------------------------------------
    @contextmanager
    def unit(self):
        """One transaction around the block (BEGIN IMMEDIATE: the write lock is taken first,
        so a lock held elsewhere fails the block before it changed anything).  Nested units
        join the outer one.  Any exception rolls everything back and propagates."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self._reconnect()
        if self._until is None:
            self.db.execute("BEGIN IMMEDIATE")
        else:
            self._begin_by(self._until)
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self._rollback()
            raise
        self._depth = 0
        try:
            self.db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    @contextmanager
    def group(self, tids=(), pans=(), keys=(), rrns=0, check_faults=False):
        """The unit of work of a group of the host's messages (group commit).  On SQLite a
        unit (the write lock).  On PostgreSQL no global lock: the rows of the terminals `tids`
        and cards `pans` are locked (writers serialised per terminal and per card, so several
        center processes work side by side), the transaction keys (tid, batch, trace) `keys`
        already taken are looked up and `rrns` reference numbers taken, in one round trip;
        the rest of the group's writes are pipelined (posterm.center.pg)."""
        if self._depth:
            with self.unit():
                yield self
            return
        if self._pg is None:  # the write lock is ours until COMMIT: counters kept in memory
            if check_faults and self.any_fault():
                raise FaultsArmed()
            with self.unit():
                self._counters = {}
                try:
                    self._kept = self._read_kept(tids, pans, keys)
                    yield self
                    self._write_counters()
                finally:
                    self._counters = None
                    self._kept = None
            return
        self._reconnect()
        try:
            armed = self.db.begin_group(tids, pans, keys, rrns, check_faults)
        except BaseException:
            self._rollback()
            raise
        if armed:  # asked with the BEGIN, in the same round trip
            self._rollback()
            raise FaultsArmed()
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self._rollback()
            raise
        self._depth = 0
        try:
            self.db.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    _CHUNK = 300  # keys in one look-up of _read_kept at most

    def _read_kept(self, tids, pans, keys):
        """A SQLite group's terminals, cards and free transaction keys, read in a statement
        each at its start: the group holds the write lock, so nobody else changes them; the
        store's own writes drop what they change (_forget), so a read after a write of the
        group reads the database again."""
        kept = {"terminals": {}, "cards": {}, "absent": set()}
        for table, col, values in (("terminals", "tid", sorted(set(tids))),
                                   ("cards", "pan", sorted(set(pans)))):
            rows = kept[table]
            for i in range(0, len(values), self._CHUNK):
                part = values[i : i + self._CHUNK]
                rows.update(dict.fromkeys(part))  # None: not in the database
                for row in self.db.execute(
                        f"SELECT * FROM {table} WHERE {col} IN ({', '.join('?' * len(part))})",
                        part):
                    rows[row[col]] = row
        keys = sorted(set(keys))
        absent = kept["absent"]
        for i in range(0, len(keys), self._CHUNK):
            part = keys[i : i + self._CHUNK]
            absent.update(part)
            values = ", ".join(["(?, ?, ?)"] * len(part))
            for row in self.db.execute(  # each key looked up in the index (CROSS JOIN)
                    f"SELECT t.tid, t.batch, t.trace FROM (VALUES {values}) AS v CROSS JOIN"
                    " transactions t ON t.tid = v.column1 AND t.batch = v.column2"
                    " AND t.trace = v.column3", [x for k in part for x in k]):
                absent.discard(tuple(row))
        return kept

    def _forget(self, sql, args):
        """A write of the store in a SQLite group: the kept rows it may change are dropped
        (the terminal or card named by its first or last argument; every kept row of the
        table when it names none)."""
        kept = self._kept
        for table in ("terminals", "cards"):
            if table in sql:
                rows = kept[table]
                keys = [a for a in (args[0], args[-1]) if a in rows] if args else []
                if keys:
                    for k in keys:
                        rows.pop(k, None)
                elif not sql.lstrip().upper().startswith("SELECT"):
                    rows.clear()

    def _reconnect(self):
        """On PostgreSQL, a connection the server ended is opened again before the next unit
        (whatever it had not committed was rolled back by the server)."""
        if self._pg is not None and self.db.broken:
            self.db.reopen()

    def _rollback(self):
        try:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite rolled back itself (e.g. after a full disk); a PostgreSQL
            # connection that died took its transaction with it

    def set_wait(self, seconds):
        """How long the next statements wait for another connection's lock (the host says
        it before each group: a PostgreSQL connection that died is opened again here).  On
        SQLite the write lock of the next units is asked for until then (_begin_by)."""
        self._reconnect()
        if self._pg is None:
            self._until = time.monotonic() + max(0.0, seconds)
            return
        self.db.execute(f"PRAGMA busy_timeout={max(0, int(seconds * 1000))}")

    _SPIN_FIRST, _SPIN_MOST = 0.00005, 0.001  # seconds between two tries for the lock

    def _begin_by(self, until):
        """BEGIN IMMEDIATE on SQLite, asked again and again until `until` (monotonic):
        SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20 ... ms between its tries, so a
        writer held up for 4 ms by another process's group (a fleet of centers on one file,
        --reuse-port) got the lock after 8; here at most 1 ms after it is free.  A failed
        try costs a few microseconds (no lock is waited for in SQLite: busy_timeout 0 for
        the BEGIN only).  Raises sqlite3.OperationalError (database is locked) at `until`."""
        db = self.db
        db.execute("PRAGMA busy_timeout=0")
        try:
            pause = self._SPIN_FIRST
            while True:
                try:
                    db.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as e:
                    left = until - time.monotonic()
                    if left <= 0 or "locked" not in str(e) and "busy" not in str(e):
                        raise
                time.sleep(min(pause, left))
                pause = min(pause * 2, self._SPIN_MOST)
        finally:
            db.execute(self._busy_sql)

    def _one(self, sql, args=()):
        return self.db.execute(sql, args).fetchone()

    def _exec(self, sql, args=()):
        with self.unit():
            cur = self.db.execute(sql, args)
            if self._kept is not None:
                self._forget(sql, args)
            return cur

    # -- provisioning ---------------------------------------------------------------------
    def provision_defaults(self, menu_path=None):
        """Test terminal 12345678 (the documented test TMK), a second terminal 87654321
        (purchase + balance only, a random TMK of its own) and the card deck; seeds menu
        version 1 from `menu_path` when no menu is stored yet.  Existing rows are left
        alone, so calling it twice is harmless."""
        with self.unit():
            if self.get_terminal(DEFAULT_TID) is None:
                self.add_terminal(DEFAULT_TID, DEFAULT_MID, DEFAULT_TMK)
            if self.get_terminal(SECOND_TID) is None:
                self.add_terminal(SECOND_TID, SECOND_MID, None, ["balance", "purchase"])
            for c in DECK:
                if self.get_card(c["pan"]) is None:
                    self.add_card(
                        c["pan"],
                        c["pin"],
                        c["balance_fen"],
                        c["expiry"],
                        c["status"],
                        c["holder"],
                        DEFAULT_LIMIT_FEN,
                        c.get("track2"),
                        c.get("track3"),
                    )
            if menu_path is not None and self.current_menu() is None:
                try:
                    with open(menu_path, "rb") as f:
                        self.publish_menu(f.read(), source="shipped")
                except OSError:
                    pass

    # -- terminals ------------------------------------------------------------------------
    def add_terminal(self, tid, mid, tmk=None, allowed=None, mac_algo="ecb"):
        """Registers a terminal; without `tmk` it gets a random one of its own.  Returns
        the TMK (hex)."""
        tid = validate.tid(tid)
        mid = validate.mid(mid)
        tmk = random_tmk() if tmk is None else validate.tmk(tmk)
        mac_algo = validate.mac_algo(mac_algo)
        if self.get_terminal(tid) is not None:
            raise ValidationError("TID", f"terminal {tid} already exists")
        self._exec(
            "INSERT INTO terminals (tid, mid, tmk, allowed, created, mac_algo)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (tid, mid, tmk, ",".join(allowed) if allowed else None, _now_text(), mac_algo),
        )
        return tmk

    def get_terminal(self, tid):
        """The terminal's row; within a unit on PostgreSQL locked until its end (the unit
        will change it: the trace sequence, the keys ...)."""
        kept = self._kept
        if kept is not None and tid in kept["terminals"]:
            return kept["terminals"][tid]
        sql = "SELECT * FROM terminals WHERE tid = ?"
        return self._one(sql + self._lock if self._depth else sql, (tid,))

    def key_rows(self, tids):
        """{tid: (tmk, mac_algo)} of the terminals `tids` that exist, read outside any unit of
        work on SQLite (a snapshot: nothing waits for the write lock); {} inside one or on
        PostgreSQL."""
        if self._depth or self._pg is not None:
            return {}
        out = {}
        values = sorted(set(tids))
        for i in range(0, len(values), self._CHUNK):
            part = values[i : i + self._CHUNK]
            for row in self.db.execute(
                    f"SELECT tid, tmk, mac_algo FROM terminals WHERE tid IN"
                    f" ({', '.join('?' * len(part))})", part):
                out[row[0]] = (row[1], row[2])
        return out

    def require_terminal(self, tid):
        row = self.get_terminal(validate.tid(tid))
        if row is None:
            raise NotFoundError("terminal", tid)
        return row

    def list_terminals(self):
        return self.db.execute("SELECT * FROM terminals ORDER BY tid").fetchall()

    def remove_terminal(self, tid):
        self.require_terminal(tid)
        self._exec("DELETE FROM terminals WHERE tid = ?", (tid,))

    def freeze_terminal(self, tid, code="97"):
        code = validate.response_code(code)
        self.require_terminal(tid)
        self._exec(
            "UPDATE terminals SET status = 'frozen', freeze_code = ? WHERE tid = ?", (code, tid)
        )

    def unfreeze_terminal(self, tid):
        self.require_terminal(tid)
        self._exec("UPDATE terminals SET status = 'registered' WHERE tid = ?", (tid,))

    def set_allowed(self, tid, types):
        """types: a list of transaction type names, or None for all."""
        self.require_terminal(tid)
        value = ",".join(types) if types else None
        self._exec("UPDATE terminals SET allowed = ? WHERE tid = ?", (value, tid))

    def configure_terminal(self, tid, mac_algo=None, mid=None, tmk=None):
        """Change how the center is configured for `tid`: its MAC algorithm (ecb, x9.9,
        x9.19), its merchant id, its TMK.  Unnamed settings stay as they are."""
        self.require_terminal(tid)
        sets, args = [], []
        if mac_algo is not None:
            sets.append("mac_algo = ?")
            args.append(validate.mac_algo(mac_algo))
        if mid is not None:
            sets.append("mid = ?")
            args.append(validate.mid(mid))
        if tmk is not None:
            sets.append("tmk = ?")
            args.append(validate.tmk(tmk))
        if sets:
            self._exec(f"UPDATE terminals SET {', '.join(sets)} WHERE tid = ?", (*args, tid))

    def set_working_keys(self, tid, pik, mak, when, layout="003", tdk=None, seq=None):
        """The keys of a sign-in; `seq`: its trace, trusted (set_sequence) in the same
        statement."""
        args = (
            pik.hex().upper(),
            mak.hex().upper(),
            tdk.hex().upper() if tdk else None,
            layout,
            when.isoformat(timespec="seconds"),
        )
        if seq is None:
            self._exec("UPDATE terminals SET pik = ?, mak = ?, tdk = ?, key_layout = ?,"
                       " signed_in = ? WHERE tid = ?", (*args, tid))
        else:
            self._exec("UPDATE terminals SET pik = ?, mak = ?, tdk = ?, key_layout = ?,"
                       " signed_in = ?, seq_trace = ? WHERE tid = ?", (*args, seq, tid))

    def set_sequence(self, tid, trace):
        """The last trace number of `tid` that the center trusts (see Processor)."""
        self._exec("UPDATE terminals SET seq_trace = ? WHERE tid = ?", (trace, tid))

    def set_host_batch(self, tid, batch):
        self._exec("UPDATE terminals SET host_batch = ? WHERE tid = ?", (batch, tid))

    # -- cards ----------------------------------------------------------------------------
    def add_card(
        self,
        pan,
        pin,
        balance_fen,
        expiry="3012",
        status="ok",
        holder="",
        limit_fen=DEFAULT_LIMIT_FEN,
        track2=None,
        track3=None,
    ):
        """Adds the card, or replaces it (PIN, balance, expiry, status; PIN tries reset).
        Without `track2` the card gets the one a script's CARD=<PAN> swipes for a card the
        deck does not hold (pos.card.track_for: PAN=YYMM + service code 120 + zeros)."""
        pan = validate.pan(pan)
        pin = validate.pin(pin)
        expiry = validate.expiry(expiry)
        status = validate.card_status(status)
        if not isinstance(balance_fen, int) or balance_fen < 0:
            raise ValidationError("BALANCE", "must be a non-negative amount")
        if track2 is None:
            track2 = cardmod.track_for(pan, expiry)
        track2 = validate.track(track2, 2, pan, expiry)
        if track3 is not None:
            track3 = validate.track(track3, 3, pan)
        self._exec(
            "INSERT OR REPLACE INTO cards (pan, pin, balance_fen, status, expiry, holder,"
            " limit_fen, track2, track3) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (pan, pin, balance_fen, status, expiry, holder, limit_fen, track2, track3),
        )

    def get_card(self, pan):
        """The card's row; within a unit on PostgreSQL locked until its end (its balance is
        checked, then changed: two processes never spend the same money)."""
        kept = self._kept
        if kept is not None and pan in kept["cards"]:
            return kept["cards"][pan]
        sql = "SELECT * FROM cards WHERE pan = ?"
        return self._one(sql + self._lock if self._depth else sql, (pan,))

    def list_cards(self):
        """The deck in the order it was provisioned (cards added later after it)."""
        return self.db.execute("SELECT * FROM cards ORDER BY rowid").fetchall()

    def adjust_balance(self, pan, delta_fen):
        self._exec(
            "UPDATE cards SET balance_fen = balance_fen + ? WHERE pan = ?", (delta_fen, pan)
        )

    def pin_tries(self, pan, day):
        row = self.get_card(pan)
        if row is None or row["pin_tries_day"] != day:
            return 0
        return row["pin_tries"]

    def set_pin_tries(self, pan, tries, day):
        self._exec(
            "UPDATE cards SET pin_tries = ?, pin_tries_day = ? WHERE pan = ?", (tries, day, pan)
        )

    # -- transactions ---------------------------------------------------------------------
    def record_transaction(self, **tx):
        """tid, batch, trace, mti, type, pan, amount_fen, rrn, auth, date, time, result,
        status [, orig_id]; returns the new row id, except within a group on PostgreSQL
        (None: the insert is pipelined, nothing waits for its answer)."""
        cols = sorted(tx)
        cur = self._exec(
            "INSERT INTO transactions ({}) VALUES ({})".format(
                ", ".join(cols), ", ".join("?" * len(cols))
            ),
            [tx[c] for c in cols],
        )
        if self._kept is not None:
            self._kept["absent"].discard((tx.get("tid"), tx.get("batch"), tx.get("trace")))
        if self._pg is not None and self.db.in_group:
            return None
        return cur.lastrowid

    def find_transaction(self, tid, batch, trace):
        if self._kept is not None and (tid, batch, trace) in self._kept["absent"]:
            return None
        return self._one(
            "SELECT * FROM transactions WHERE tid = ? AND batch = ? AND trace = ?",
            (tid, batch, trace),
        )

    def find_by_rrn(self, rrn, type_):
        return self._one(
            "SELECT * FROM transactions WHERE rrn = ? AND type = ? AND result = '00'"
            " ORDER BY id DESC",
            (rrn, type_),
        )

    def find_preauth(self, pan, auth):
        return self._one(
            "SELECT * FROM transactions WHERE type = 'preauth' AND auth = ? AND pan = ?"
            " AND result = '00' ORDER BY id DESC",
            (auth, pan),
        )

    def forget_transaction(self, tid, trace, batch=None):
        """Drop one transaction from the host's books (a test fault: the next settlement of
        its batch does not balance and goes through the batch upload).  Without `batch`,
        the newest one with this trace.  Returns the row that was dropped."""
        tid = validate.tid(tid)
        if not (isinstance(trace, str) and trace.isdigit() and len(trace) <= 6):
            raise ValidationError("TRACE", "must be up to 6 digits")
        trace = trace.rjust(6, "0")
        if batch is None:
            row = self._one(
                "SELECT * FROM transactions WHERE tid = ? AND trace = ? ORDER BY id DESC",
                (tid, trace),
            )
        else:
            row = self.find_transaction(tid, batch.rjust(6, "0"), trace)
        if row is None:
            raise NotFoundError("transaction", f"{tid} trace {trace}")
        self._exec("DELETE FROM transactions WHERE id = ?", (row["id"],))
        return row

    def complete_pending(self, tx_id, auth):
        """A QR payment its customer confirmed on the phone (posterm.host.qr): approved."""
        self._exec(
            "UPDATE transactions SET result = '00', status = 'approved', auth = ? WHERE id = ?",
            (auth, tx_id),
        )

    def set_status(self, tx_id, status):
        self._exec("UPDATE transactions SET status = ? WHERE id = ?", (status, tx_id))

    def add_refunded(self, tx_id, amount_fen):
        self._exec(
            "UPDATE transactions SET refunded_fen = refunded_fen + ? WHERE id = ?",
            (amount_fen, tx_id),
        )

    def get_transaction(self, tx_id):
        return self._one("SELECT * FROM transactions WHERE id = ?", (tx_id,))

    def list_transactions(self, tid=None):
        if tid is None:
            return self.db.execute("SELECT * FROM transactions ORDER BY id").fetchall()
        return self.db.execute(
            "SELECT * FROM transactions WHERE tid = ? ORDER BY id", (tid,)
        ).fetchall()

    def batch_totals(self, tid, batch):
        """(debit amount, debit count, credit amount, credit count) of approved,
        not reversed transactions of this terminal's batch (reference §3.4)."""
        out = []
        for types in (DEBIT_TYPES, CREDIT_TYPES):
            row = self._one(
                "SELECT COALESCE(SUM(amount_fen), 0), COUNT(*) FROM transactions"
                " WHERE tid = ? AND batch = ? AND result = '00' AND status != 'reversed'"
                " AND type IN ({})".format(", ".join("?" * len(types))),
                (tid, batch) + types,
            )
            out.extend((row[0], row[1]))
        return tuple(out)

    def batch_totals_split(self, tid, batch, is_foreign):
        """(domestic, foreign) totals as batch_totals gives them, the card of each
        transaction classified by is_foreign(pan) (reference §3.4: 内卡 / 外卡)."""
        rows = self.db.execute(
            "SELECT type, pan, amount_fen FROM transactions WHERE tid = ? AND batch = ?"
            " AND result = '00' AND status != 'reversed'",
            (tid, batch),
        ).fetchall()
        out = {False: [0, 0, 0, 0], True: [0, 0, 0, 0]}
        for r in rows:
            side = 0 if r["type"] in DEBIT_TYPES else 2 if r["type"] in CREDIT_TYPES else None
            if side is None:
                continue
            t = out[bool(is_foreign(r["pan"]))]
            t[side] += r["amount_fen"]
            t[side + 1] += 1
        return tuple(out[False]), tuple(out[True])

    # -- settlement and batch upload ------------------------------------------------------
    def record_settlement(self, tid, batch, terminal_totals, host_totals, balanced):
        self._exec(
            "INSERT INTO settlements (tid, batch, terminal_totals, host_totals, balanced, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (tid, batch, terminal_totals, host_totals, 1 if balanced else 0, _now_text()),
        )

    def record_upload(self, tid, batch, code, foreign_card, trace, pan, amount_fen):
        """Stores one uploaded record; the same trace uploaded again for the batch (a
        settlement resumed after a lost acknowledgement) is kept once."""
        if self._one(
            "SELECT 1 FROM batch_uploads WHERE tid = ? AND batch = ? AND code = ? AND trace = ?",
            (tid, batch, code, trace),
        ):
            return
        self._exec(
            "INSERT INTO batch_uploads (tid, batch, code, foreign_card, trace, pan, amount_fen,"
            " received) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (tid, batch, code, foreign_card, trace, pan, amount_fen, _now_text()),
        )

    def list_uploads(self, tid, batch):
        return self.db.execute(
            "SELECT * FROM batch_uploads WHERE tid = ? AND batch = ? ORDER BY id", (tid, batch)
        ).fetchall()

    def close_batch(self, tid, batch):
        """Batch `batch` of `tid` is done: the host batch becomes batch + 1."""
        with self.unit():
            self.db.execute(
                "UPDATE settlements SET closed = 1 WHERE tid = ? AND batch = ?", (tid, batch)
            )
            self.db.execute(
                "UPDATE terminals SET host_batch = ? WHERE tid = ?", (next_batch(batch), tid)
            )
            if self._kept is not None:
                self._kept["terminals"].pop(tid, None)

    # -- menus ----------------------------------------------------------------------------
    def publish_menu(self, data, source="published"):
        """Stores a new menu version (bytes or str of a JSON file with a "root");
        returns its version number.  `source` 'shipped' marks the repository's menu, which
        the embedded host may replace by a newer shipped file; a published one stays."""
        if isinstance(data, bytes):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError("menu", "not UTF-8 text") from None
        else:
            text = data
        validate.menu_json(text)
        raw = text.encode("utf-8")
        with self.unit():
            last = self.db.execute("SELECT MAX(version) FROM menus").fetchone()[0] or 0
            version = last + 1
            if version > 9999:
                raise ValidationError("menu", "version would exceed 9999")
            self.db.execute(
                "INSERT INTO menus (version, json, crc, created, source) VALUES (?, ?, ?, ?, ?)",
                (version, text, menu_crc(raw), _now_text(), source),
            )
        return version

    def sync_menu(self, menu_path):
        """The shipped menu file changed (a newer posterm): store it as the next version, but
        only while the current menu is itself a shipped one; a menu published with
        `posterm host menus publish` stays until the next publish.  Returns the new version
        or None.  A missing or invalid file changes nothing."""
        try:
            with open(menu_path, "rb") as f:
                data = f.read()
        except OSError:
            return None
        row = self._one("SELECT * FROM menus ORDER BY version DESC LIMIT 1")
        if row is not None and (row["source"] != "shipped" or row["json"].encode() == data):
            return None
        try:
            return self.publish_menu(data, source="shipped")
        except ValidationError:
            return None

    def current_menu(self):
        """(version, utf-8 bytes, crc hex) of the newest menu, or None."""
        row = self._one("SELECT * FROM menus ORDER BY version DESC LIMIT 1")
        if row is None:
            return None
        return row["version"], row["json"].encode("utf-8"), row["crc"]

    def list_menus(self):
        return self.db.execute(
            "SELECT version, crc, length(CAST(json AS BLOB)) AS size, created, source FROM menus"
            " ORDER BY version"
        ).fetchall()

    # -- faults ---------------------------------------------------------------------------
    def set_fault(self, tid, kind, arg=None, remaining=None):
        """remaining None = persistent, N = the next N requests of this terminal."""
        tid = validate.tid(tid)
        kind, arg = validate.fault(kind, arg)
        if remaining is not None and remaining < 1:
            raise ValidationError("count", "must be at least 1")
        self._exec(
            "INSERT OR REPLACE INTO faults (tid, kind, arg, remaining) VALUES (?, ?, ?, ?)",
            (tid, kind, arg, remaining),
        )

    def get_fault(self, tid):
        """The fault armed for `tid` (a Row) or None."""
        return self._one("SELECT * FROM faults WHERE tid = ?", (tid,))

    def any_fault(self):
        """True when a fault is armed for any terminal."""
        return self._one("SELECT 1 FROM faults LIMIT 1") is not None

    def use_fault(self, tid):
        """The fault of `tid` was applied once: a counted one loses a use, gone at zero."""
        with self.unit():
            self.db.execute(
                "DELETE FROM faults WHERE tid = ? AND remaining IS NOT NULL AND remaining <= 1",
                (tid,),
            )
            self.db.execute(
                "UPDATE faults SET remaining = remaining - 1 WHERE tid = ?"
                " AND remaining IS NOT NULL",
                (tid,),
            )

    def list_faults(self):
        return self.db.execute("SELECT * FROM faults ORDER BY tid").fetchall()

    def clear_faults(self, tid):
        tid = validate.tid(tid)
        self._exec("DELETE FROM faults WHERE tid = ?", (tid,))

    # -- counters -------------------------------------------------------------------------
    def _write_counters(self):
        for name, (value, stored) in self._counters.items():
            if stored:
                self.db.execute("UPDATE counters SET value = ? WHERE name = ?", (value, name))
            else:
                self.db.execute("INSERT INTO counters (name, value) VALUES (?, ?)",
                                (name, value))

    def next_counter(self, name, modulo):
        """value % modulo + 1 of counter `name` (1 for a new one), stored.  Within a group
        on SQLite the group holds the write lock to its end, so its counters are read once,
        counted in memory and written once before the commit (Store.group)."""
        kept = self._counters
        if kept is not None:
            value, stored = kept.get(name, (None, None))
            if stored is None:
                row = self._one("SELECT value FROM counters WHERE name = ?", (name,))
                value, stored = (row[0], True) if row is not None else (0, False)
            value = value % modulo + 1
            kept[name] = (value, stored)
            return value
        with self.unit():  # one statement when the counter exists (the usual case)
            rows = self.db.execute(
                "UPDATE counters SET value = value % ? + 1 WHERE name = ? RETURNING value",
                (modulo, name),
            ).fetchall()
            if rows:
                return rows[0][0]
            self.db.execute("INSERT INTO counters (name, value) VALUES (?, 1)", (name,))
        return 1

    def new_rrn(self, now):
        """12 digits: MMDD + hh + a 6-digit sequence of the day, one sequence for everything
        the center numbers (purchases, sign-ins, settlements ...): unique per center per day
        up to 999,999 numbers a day (the sequence never restarts within a day, a clock set
        back continues that day's sequence).  On PostgreSQL the sequence is one database
        sequence cycling through 1..999999 (shared by every center process, never waited
        for): as unique within a day, and numbers a rolled-back group took are skipped."""
        if self._pg is not None:  # a sequence: no row every process's messages wait for
            seq = self.db.next_rrn()
        else:
            seq = self.next_counter(f"rrn:{now.year:04d}{now.month:02d}{now.day:02d}", 999999)
        return f"{now.month:02d}{now.day:02d}{now.hour:02d}{seq:06d}"

    @staticmethod
    def new_auth_code(rand=None):
        # rand(n): n random bytes, a seeded stream for a board sim's bench day
        # (Processor.random_bytes); the few-in-a-million bias of the modulo is no matter
        if rand is None:
            return f"{secrets.randbelow(999999) + 1:06d}"
        return f"{int.from_bytes(rand(4), 'big') % 999999 + 1:06d}"
