"""The host's storage: one SQLite file holding terminals, cards, transactions, batch uploads,
settlements, menu versions and injected faults.

Every method is a short transaction of its own; the database is opened in WAL mode so the
CLI can change faults or freeze a terminal while a host is serving the same file.
"""

import os
import secrets
import sqlite3
import zlib
from datetime import datetime

from posterm.host import validate
from posterm.host.catalog import CREDIT_TYPES, DEBIT_TYPES
from posterm.host.errors import NotFoundError, ValidationError

SCHEMA_VERSION = 1

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
    created TEXT NOT NULL
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
    pin_tries_day TEXT
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
    created TEXT NOT NULL
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
DEFAULT_TMK = "11111111111111112222222222222222"
SECOND_TID = "87654321"
SECOND_MID = "898310048990002"

# pan, pin, balance in fen, status, expiry YYMM, holder
DEFAULT_CARDS = (
    ("6212142000000000012", "123456", 1000000, "ok", "3012", "ZHANG SAN"),
    ("6212142000000000020", "123456", 500, "ok", "3012", "LI SI"),
    ("6212142000000000038", "123456", 1000000, "ok", "2001", "WANG WU"),
    ("6212142000000000046", "123456", 1000000, "lost", "3012", "ZHAO LIU"),
    ("6212142000000000053", "123456", 1000000, "stolen", "3012", "SUN QI"),
)
DEFAULT_LIMIT_FEN = 5000000  # 50,000.00 yuan per transaction


def _now_text():
    return datetime.now().isoformat(timespec="seconds")


def menu_crc(data):
    """CRC-32 of the menu file's bytes as 8 uppercase hex digits (zlib's CRC-32)."""
    return "%08X" % (zlib.crc32(data) & 0xFFFFFFFF)


def next_batch(batch):
    n = int(batch) + 1
    return f"{1 if n > 999999 else n:06d}"


class Store:
    """Open (creating if needed) the host database at `path`.  `fresh` tells whether this
    call created it, so the caller can provision defaults exactly once."""

    def __init__(self, path):
        self.path = str(path)
        parent = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(parent, exist_ok=True)
        self.db = sqlite3.connect(
            self.path, timeout=10, isolation_level=None, check_same_thread=False
        )
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: the file stays consistent on a crash, the last commits may be lost;
        # right for a test host, and it makes each commit ~20x cheaper than FULL.
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        self.fresh = version == 0
        if self.fresh:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                # Another process may have created it between our read and the lock.
                if self.db.execute("PRAGMA user_version").fetchone()[0] == 0:
                    for stmt in _SCHEMA.split(";"):
                        if stmt.strip():
                            self.db.execute(stmt)
                    self.db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                else:
                    self.fresh = False
        elif version != SCHEMA_VERSION:
            self.db.close()
            raise ValidationError(
                "database",
                f"{self.path} has schema version {version}, this host knows {SCHEMA_VERSION}",
            )

    def close(self):
        self.db.close()

    def _one(self, sql, args=()):
        return self.db.execute(sql, args).fetchone()

    def _exec(self, sql, args=()):
        with self.db:
            return self.db.execute(sql, args)

    # -- provisioning ---------------------------------------------------------------------
    def provision_defaults(self, menu_path=None):
        """Test terminal 12345678, a second terminal 87654321 (purchase + balance only) and
        the card deck; seeds menu version 1 from `menu_path` when no menu is stored yet.
        Existing rows are left alone, so calling it twice is harmless."""
        if self.get_terminal(DEFAULT_TID) is None:
            self.add_terminal(DEFAULT_TID, DEFAULT_MID, DEFAULT_TMK)
        if self.get_terminal(SECOND_TID) is None:
            self.add_terminal(SECOND_TID, SECOND_MID, DEFAULT_TMK, ["balance", "purchase"])
        for pan, pin, balance, status, exp, holder in DEFAULT_CARDS:
            if self.get_card(pan) is None:
                self.add_card(pan, pin, balance, exp, status, holder, DEFAULT_LIMIT_FEN)
        if menu_path is not None and self.current_menu() is None and os.path.exists(menu_path):
            with open(menu_path, "rb") as f:
                self.publish_menu(f.read())

    # -- terminals ------------------------------------------------------------------------
    def add_terminal(self, tid, mid, tmk, allowed=None):
        tid = validate.tid(tid)
        mid = validate.mid(mid)
        tmk = validate.tmk(tmk)
        if self.get_terminal(tid) is not None:
            raise ValidationError("TID", f"terminal {tid} already exists")
        self._exec(
            "INSERT INTO terminals (tid, mid, tmk, allowed, created) VALUES (?, ?, ?, ?, ?)",
            (tid, mid, tmk, ",".join(allowed) if allowed else None, _now_text()),
        )

    def get_terminal(self, tid):
        return self._one("SELECT * FROM terminals WHERE tid = ?", (tid,))

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

    def set_working_keys(self, tid, pik, mak, when):
        self._exec(
            "UPDATE terminals SET pik = ?, mak = ?, signed_in = ? WHERE tid = ?",
            (pik.hex().upper(), mak.hex().upper(), when.isoformat(timespec="seconds"), tid),
        )

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
    ):
        """Adds the card, or replaces it (PIN, balance, expiry, status; PIN tries reset)."""
        pan = validate.pan(pan)
        pin = validate.pin(pin)
        expiry = validate.expiry(expiry)
        status = validate.card_status(status)
        if not isinstance(balance_fen, int) or balance_fen < 0:
            raise ValidationError("BALANCE", "must be a non-negative amount")
        self._exec(
            "INSERT OR REPLACE INTO cards (pan, pin, balance_fen, status, expiry, holder,"
            " limit_fen) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (pan, pin, balance_fen, status, expiry, holder, limit_fen),
        )

    def get_card(self, pan):
        return self._one("SELECT * FROM cards WHERE pan = ?", (pan,))

    def list_cards(self):
        return self.db.execute("SELECT * FROM cards ORDER BY pan").fetchall()

    def adjust_balance(self, pan, delta_fen):
        self._exec(
            "UPDATE cards SET balance_fen = balance_fen + ? WHERE pan = ?", (delta_fen, pan)
        )

    def pin_tries(self, pan, day):
        row = self._one("SELECT pin_tries, pin_tries_day FROM cards WHERE pan = ?", (pan,))
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
        status [, orig_id]; returns the new row id."""
        cols = sorted(tx)
        cur = self._exec(
            "INSERT INTO transactions ({}) VALUES ({})".format(
                ", ".join(cols), ", ".join("?" * len(cols))
            ),
            [tx[c] for c in cols],
        )
        return cur.lastrowid

    def find_transaction(self, tid, batch, trace):
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
        with self.db:
            self.db.execute(
                "UPDATE settlements SET closed = 1 WHERE tid = ? AND batch = ?", (tid, batch)
            )
            self.db.execute(
                "UPDATE terminals SET host_batch = ? WHERE tid = ?", (next_batch(batch), tid)
            )

    # -- menus ----------------------------------------------------------------------------
    def publish_menu(self, data):
        """Stores a new menu version (bytes or str of a JSON file with a "root");
        returns its version number."""
        if isinstance(data, bytes):
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError("menu", "not UTF-8 text") from None
        else:
            text = data
        validate.menu_json(text)
        raw = text.encode("utf-8")
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            last = self.db.execute("SELECT MAX(version) FROM menus").fetchone()[0] or 0
            version = last + 1
            if version > 9999:
                raise ValidationError("menu", "version would exceed 9999")
            self.db.execute(
                "INSERT INTO menus (version, json, crc, created) VALUES (?, ?, ?, ?)",
                (version, text, menu_crc(raw), _now_text()),
            )
        return version

    def sync_menu(self, menu_path):
        """Publish the file at menu_path as a new version when it differs from the current
        menu; returns the new version or None. A missing or invalid file changes nothing."""
        try:
            with open(menu_path, "rb") as f:
                data = f.read()
        except OSError:
            return None
        current = self.current_menu()
        if current is not None and current[1] == data:
            return None
        try:
            return self.publish_menu(data)
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
            "SELECT version, crc, length(CAST(json AS BLOB)) AS size, created FROM menus"
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

    def use_fault(self, tid):
        """The fault of `tid` was applied once: a counted one loses a use, gone at zero."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
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
    def next_counter(self, name, modulo):
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            row = self.db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
            value = 1 if row is None else row[0] % modulo + 1
            self.db.execute(
                "INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", (name, value)
            )
        return value

    def new_rrn(self, now):
        """12 digits: MMDDhhmm + a 4-digit sequence."""
        return now.strftime("%m%d%H%M") + f"{self.next_counter('rrn', 9999):04d}"

    @staticmethod
    def new_auth_code():
        return f"{secrets.randbelow(999999) + 1:06d}"
