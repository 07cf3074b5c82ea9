"""The back office's tables, in the host's own database (SQLite file host.db).

The host (posterm.host.store) owns `terminals` and `transactions`; the center adds its tables
beside them (all named center_*), created on first use and never touching the host's schema
version.  A terminal's state change (停机 suspend, 复机 resume, 冻结 freeze, bind) is written
to the host's `terminals` row (status 'frozen' + the response code the processor answers
with) and to the append-only audit log in ONE database transaction.

The audit log refuses UPDATE and DELETE by triggers in the schema, and every row carries a
SHA-256 chained over the row before it, so a log rewritten outside the database (triggers
dropped) is found by `verify_audit()`.
"""

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
from datetime import datetime
from pathlib import Path

from pos import des
from posterm.host import validate
from posterm.host.errors import HostError, NotFoundError, ValidationError
from posterm.host.store import Store

DATA = Path(__file__).resolve().parent / "data"
ROLES = ("manager", "agent", "risk")
ROLE_NAMES = {
    "manager": {"zh": "客户经理", "en": "account manager"},
    "agent": {"zh": "业务员", "en": "field agent"},
    "risk": {"zh": "风控", "en": "risk"},
}
# Which role may do what to a terminal.  A frozen terminal is resumed by risk only.
MAY = {
    "suspend": ("agent",),
    "resume": ("agent", "risk"),
    "freeze": ("agent", "risk"),
    "bind": ("agent",),
    "sheet": ("manager",),
}

_SCHEMA_TEXT = """
CREATE TABLE IF NOT EXISTS center_users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('manager', 'agent', 'risk')),
    display TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    salt TEXT NOT NULL,
    hash TEXT NOT NULL,
    all_merchants INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS center_user_merchants (
    user TEXT NOT NULL,
    mid TEXT NOT NULL,
    PRIMARY KEY (user, mid)
);
CREATE TABLE IF NOT EXISTS center_merchants (
    mid TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    region TEXT,
    inactive_signin_days INTEGER,
    inactive_tx_days INTEGER,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS center_terminal_state (
    tid TEXT PRIMARY KEY,
    state TEXT NOT NULL DEFAULT 'active',
    reason TEXT,
    comment TEXT,
    by_user TEXT,
    at TEXT,
    last_seen TEXT,
    last_signin TEXT,
    last_tx TEXT,
    last_report TEXT,
    location TEXT
);
CREATE TABLE IF NOT EXISTS center_tx_meta (
    tid TEXT NOT NULL,
    batch TEXT NOT NULL,
    trace TEXT NOT NULL,
    mid TEXT,
    location TEXT,
    PRIMARY KEY (tid, batch, trace)
);
CREATE TABLE IF NOT EXISTS center_sheet (
    week TEXT NOT NULL,
    tid TEXT NOT NULL,
    problem TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL DEFAULT '',
    follow_up TEXT NOT NULL DEFAULT '',
    by_user TEXT NOT NULL,
    updated TEXT NOT NULL,
    PRIMARY KEY (week, tid)
);
CREATE TABLE IF NOT EXISTS center_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS center_audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    tid TEXT,
    mid TEXT,
    reason TEXT,
    comment TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS center_audit_tid ON center_audit (tid);
CREATE TRIGGER IF NOT EXISTS center_audit_no_update BEFORE UPDATE ON center_audit
BEGIN SELECT RAISE(ABORT, 'center_audit is append-only'); END;
CREATE TRIGGER IF NOT EXISTS center_audit_no_delete BEFORE DELETE ON center_audit
BEGIN SELECT RAISE(ABORT, 'center_audit is append-only'); END;
CREATE INDEX IF NOT EXISTS transactions_tid_date ON transactions (tid, date);
CREATE INDEX IF NOT EXISTS transactions_pan ON transactions (pan);
"""
# One statement each (a trigger's body has its own ';'): executescript() would commit the
# caller's open transaction, these run inside it.
SCHEMA = [st.strip() + (" END" if "BEGIN SELECT" in st else "")
          for st in _SCHEMA_TEXT.replace("END;\n", ";\n").split(";\n") if st.strip()]


PG_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION center_audit_refuse() RETURNS trigger AS $$ BEGIN"
    " RAISE EXCEPTION 'center_audit is append-only'; END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE TRIGGER center_audit_no_update BEFORE UPDATE ON center_audit"
    " FOR EACH ROW EXECUTE FUNCTION center_audit_refuse()",
    "CREATE OR REPLACE TRIGGER center_audit_no_delete BEFORE DELETE ON center_audit"
    " FOR EACH ROW EXECUTE FUNCTION center_audit_refuse()",
)


def ensure_schema(db):
    pg = getattr(db, "dialect", "sqlite") == "postgresql"
    for st in SCHEMA:
        if pg and st.startswith("CREATE TRIGGER"):
            continue
        db.execute(st)
    if pg:
        for st in PG_TRIGGERS:
            db.execute(st)

_AUDIT_FIELDS = ("at", "user", "role", "action", "tid", "mid", "reason", "comment", "detail")
GENESIS = "0" * 64


def load_json(name):
    with open(DATA / name, encoding="utf-8") as f:
        return {k: v for k, v in json.load(f).items() if not k.startswith("_")}


REASONS = load_json("reasons.json")
REGIONS = load_json("regions.json")
DEFAULT_SETTINGS = {k: v["value"] for k, v in load_json("settings.json").items()}


class PermissionDenied(HostError):
    """A user tried what their role or merchants do not allow."""


def now_text(now=None):
    return (now or datetime.now()).isoformat(timespec="seconds")


def hash_password(password, salt=None):
    salt = salt or secrets.token_hex(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return salt, digest.hex()


def _audit_hash(prev, row):
    text = json.dumps([prev] + [row.get(f) for f in _AUDIT_FIELDS], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def area_code(mid):
    """The CUP area code (地区码) of a 15-digit merchant number: digits 4..7; None otherwise."""
    if mid and len(mid) == 15 and mid.isdigit():
        return mid[3:7]
    return None


def region_name(code, lang="zh"):
    if code is None:
        return "-"
    entry = REGIONS.get(code)
    return entry[lang] if entry else code


def region_key(text):
    """A reported location (an area code or a region name in either language) -> area code
    when it is one we know, else the text itself: what two regions are compared by."""
    if text is None:
        return None
    text = text.strip()
    if text in REGIONS:
        return text
    for code, names in REGIONS.items():
        if text in (names["zh"], names["en"]):
            return code
    return text or None


class Center:
    """The center's database: `Center(path)` opens (creating if needed) the host database at
    path and the center's tables in it.  `now` returns the clock (tests fix it)."""

    def __init__(self, path, now=None):
        self.path = str(path)
        self.now = now or datetime.now
        self.store = Store(self.path)
        if self.store.fresh:
            from posterm import paths

            self.store.provision_defaults(paths.menu_file())
        self.db = self.store.db
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            ensure_schema(self.db)

    def close(self):
        self.store.close()

    def _one(self, sql, args=()):
        return self.db.execute(sql, args).fetchone()

    def _all(self, sql, args=()):
        return self.db.execute(sql, args).fetchall()

    # -- settings -------------------------------------------------------------------------
    def settings(self):
        out = dict(DEFAULT_SETTINGS)
        for row in self._all("SELECT key, value FROM center_settings"):
            out[row["key"]] = json.loads(row["value"])
        return out

    def set_setting(self, key, value):
        if key not in DEFAULT_SETTINGS:
            raise ValidationError("setting", f"unknown {key!r}; one of " + ", ".join(
                sorted(DEFAULT_SETTINGS)))
        default = DEFAULT_SETTINGS[key]
        if isinstance(default, int):
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise ValidationError(key, f"must be a whole number, got {value!r}") from None
            if value < 0:
                raise ValidationError(key, "must not be negative")
        elif key.endswith("_response"):
            value = validate.response_code(value, key)
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO center_settings (key, value) VALUES (?, ?)",
                (key, json.dumps(value)),
            )
        return value

    # -- users ----------------------------------------------------------------------------
    def add_user(self, name, role, password, merchants=(), display="", phone=""):
        """merchants: MIDs this user looks after, or the string 'all'."""
        if not isinstance(name, str) or not name or len(name) > 32 or not name.isprintable() \
                or " " in name:
            raise ValidationError("NAME", "1-32 printable characters, no spaces")
        if role not in ROLES:
            raise ValidationError("--role", "one of " + ", ".join(ROLES))
        if not password or len(password) < 6:
            raise ValidationError("password", "at least 6 characters")
        every = merchants == "all"
        mids = [] if every else [validate.mid(m) for m in merchants]
        if self.get_user(name) is not None:
            raise ValidationError("NAME", f"user {name} already exists")
        salt, digest = hash_password(password)
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "INSERT INTO center_users (name, role, display, phone, salt, hash,"
                " all_merchants, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (name, role, display, phone, salt, digest, 1 if every else 0, now_text()),
            )
            for mid in mids:
                self.db.execute(
                    "INSERT OR IGNORE INTO center_user_merchants (user, mid) VALUES (?, ?)",
                    (name, mid),
                )

    def set_password(self, name, password):
        self.require_user(name)
        if not password or len(password) < 6:
            raise ValidationError("password", "at least 6 characters")
        salt, digest = hash_password(password)
        with self.db:
            self.db.execute(
                "UPDATE center_users SET salt = ?, hash = ? WHERE name = ?", (salt, digest, name)
            )

    def assign(self, name, mids):
        self.require_user(name)
        mids = [validate.mid(m) for m in mids]
        with self.db:
            for mid in mids:
                self.db.execute(
                    "INSERT OR IGNORE INTO center_user_merchants (user, mid) VALUES (?, ?)",
                    (name, mid),
                )

    def get_user(self, name):
        return self._one("SELECT * FROM center_users WHERE name = ?", (name,))

    def require_user(self, name):
        row = self.get_user(name)
        if row is None:
            raise NotFoundError("user", name)
        return row

    def list_users(self):
        return self._all("SELECT * FROM center_users ORDER BY name")

    def login(self, name, password):
        """The user's row when the password is right, else None (same time either way)."""
        row = self.get_user(name)
        salt = row["salt"] if row else "00" * 16
        _, digest = hash_password(password or "", salt)
        if row is None or not hmac.compare_digest(digest, row["hash"]):
            return None
        return row

    def user_mids(self, name):
        """The MIDs `name` looks after; None means every merchant."""
        user = self.require_user(name)
        if user["all_merchants"]:
            return None
        return [r["mid"] for r in self._all(
            "SELECT mid FROM center_user_merchants WHERE user = ? ORDER BY mid", (name,))]

    # -- merchants ------------------------------------------------------------------------
    def add_merchant(self, mid, name, region=None, inactive_signin_days=None,
                     inactive_tx_days=None):
        mid = validate.mid(mid)
        if not name:
            raise ValidationError("NAME", "the merchant needs a name")
        for what, v in (("--inactive-signin-days", inactive_signin_days),
                        ("--inactive-tx-days", inactive_tx_days)):
            if v is not None and (not isinstance(v, int) or v < 1):
                raise ValidationError(what, "must be at least 1")
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO center_merchants (mid, name, region,"
                " inactive_signin_days, inactive_tx_days, created) VALUES (?, ?, ?, ?, ?, ?)",
                (mid, name, region, inactive_signin_days, inactive_tx_days, now_text()),
            )

    def merchants(self):
        return {r["mid"]: r for r in self._all("SELECT * FROM center_merchants ORDER BY mid")}

    def merchant_region(self, mid, merchants=None):
        m = (merchants if merchants is not None else self.merchants()).get(mid)
        if m is not None and m["region"]:
            return region_key(m["region"])
        return area_code(mid)

    # -- terminals ------------------------------------------------------------------------
    def terminals(self, mids=None):
        """The host's terminal rows joined with the center's state; `mids` None = all."""
        sql = (
            "SELECT t.tid, t.mid, t.status, t.freeze_code, t.signed_in, t.created,"
            " s.state, s.reason, s.comment, s.by_user, s.at, s.last_seen, s.last_signin,"
            " s.last_tx, s.last_report, s.location"
            " FROM terminals t LEFT JOIN center_terminal_state s ON s.tid = t.tid"
        )
        if mids is None:
            return self._all(sql + " ORDER BY t.tid")
        if not mids:
            return []
        marks = ", ".join("?" * len(mids))
        return self._all(sql + f" WHERE t.mid IN ({marks}) ORDER BY t.tid", tuple(mids))

    def terminal(self, tid):
        tid = validate.tid(tid)
        rows = [r for r in self._all(
            "SELECT t.tid, t.mid, t.status, t.freeze_code, t.signed_in, t.created,"
            " s.state, s.reason, s.comment, s.by_user, s.at, s.last_seen, s.last_signin,"
            " s.last_tx, s.last_report, s.location"
            " FROM terminals t LEFT JOIN center_terminal_state s ON s.tid = t.tid"
            " WHERE t.tid = ?", (tid,))]
        if not rows:
            raise NotFoundError("terminal", tid)
        return rows[0]

    @staticmethod
    def state_of(row):
        """'active', 'suspended' or 'frozen' as the processor sees it."""
        if row["status"] != "frozen":
            return "active"
        return row["state"] if row["state"] in ("suspended", "frozen") else "frozen"

    def _may(self, user, action, mid):
        if user["role"] not in MAY[action]:
            raise PermissionDenied(
                f"{user['name']} is {ROLE_NAMES[user['role']]['en']}: may not {action}")
        mids = self.user_mids(user["name"])
        if mids is not None and mid not in mids:
            raise PermissionDenied(f"merchant {mid} is not one of {user['name']}'s merchants")

    @staticmethod
    def check_reason(action, code):
        entry = REASONS.get(code)
        if entry is None or action not in entry["actions"]:
            codes = [c for c, e in REASONS.items() if action in e["actions"]]
            raise ValidationError("--reason", f"{action} takes one of " + ", ".join(codes))
        return code

    def change_state(self, tid, action, reason, comment, user_name):
        """suspend / resume / freeze terminal `tid` as `user_name`, with a reason code and a
        comment; the host row and the audit entry are one transaction.  Returns the new
        state."""
        if action not in ("suspend", "resume", "freeze"):
            raise ValidationError("action", action)
        self.check_reason(action, reason)
        comment = (comment or "").strip()
        if not comment:
            raise ValidationError("--comment", "say why (it goes into the audit log)")
        user = self.require_user(user_name)
        row = self.terminal(tid)
        self._may(user, action, row["mid"])
        state = self.state_of(row)
        settings = self.settings()
        if action == "suspend":
            if state != "active":
                raise ValidationError("TID", f"terminal {tid} is {state}, not active")
            new, status, code = "suspended", "frozen", settings["suspend_response"]
        elif action == "freeze":
            if state == "frozen":
                raise ValidationError("TID", f"terminal {tid} is already frozen")
            new, status, code = "frozen", "frozen", settings["freeze_response"]
        else:
            if state == "active":
                raise ValidationError("TID", f"terminal {tid} is not suspended or frozen")
            if state == "frozen" and user["role"] != "risk":
                raise PermissionDenied(f"terminal {tid} is frozen: only risk may resume it")
            new, status, code = "active", "registered", row["freeze_code"]
        at = now_text(self.now())
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "UPDATE terminals SET status = ?, freeze_code = ? WHERE tid = ?",
                (status, code, tid),
            )
            self.db.execute(
                "INSERT INTO center_terminal_state (tid, state, reason, comment, by_user, at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tid) DO UPDATE SET state ="
                " excluded.state, reason = excluded.reason, comment = excluded.comment,"
                " by_user = excluded.by_user, at = excluded.at",
                (tid, new, reason, comment, user["name"], at),
            )
            self._audit(at, user, action, tid, row["mid"], reason, comment,
                        f"{state} -> {new}; answers {code}" if new != "active"
                        else f"{state} -> active")
        return new

    def bind(self, tid, mid, user_name, comment=""):
        """Register terminal `tid` for merchant `mid` with a fresh TMK; returns (tmk hex,
        check value hex).  The TMK is shown to the caller this once; nothing prints it
        again (the audit keeps only its check value)."""
        tid = validate.tid(tid)
        mid = validate.mid(mid)
        user = self.require_user(user_name)
        self._may(user, "bind", mid)
        existing = self.store.get_terminal(tid)
        if existing is not None:
            raise ValidationError("TID", f"terminal {tid} is already bound to {existing['mid']}")
        tmk = bytes(b & 0xFE | (bin(b & 0xFE).count("1") % 2 == 0) for b in os.urandom(16))
        kcv = des.kcv(tmk).hex().upper()[:6]
        at = now_text(self.now())
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "INSERT INTO terminals (tid, mid, tmk, created) VALUES (?, ?, ?, ?)",
                (tid, mid, tmk.hex().upper(), at),
            )
            self.db.execute(
                "INSERT OR REPLACE INTO center_terminal_state (tid, state, by_user, at)"
                " VALUES (?, 'active', ?, ?)", (tid, user["name"], at))
            self._audit(at, user, "bind", tid, mid, None, comment or "", f"TMK KCV {kcv}")
        return tmk.hex().upper(), kcv

    # -- the tracking sheet ---------------------------------------------------------------
    def sheet_entries(self, week):
        return {r["tid"]: r for r in self._all(
            "SELECT * FROM center_sheet WHERE week = ?", (week,))}

    def edit_sheet(self, week, tid, user_name, problem=None, action=None, follow_up=None):
        user = self.require_user(user_name)
        row = self.terminal(tid)
        self._may(user, "sheet", row["mid"])
        if follow_up:
            try:
                datetime.strptime(follow_up, "%Y-%m-%d")
            except ValueError:
                raise ValidationError("--follow-up", "a date YYYY-MM-DD") from None
        old = self.sheet_entries(week).get(tid)
        values = {
            "problem": problem if problem is not None else (old["problem"] if old else ""),
            "action": action if action is not None else (old["action"] if old else ""),
            "follow_up": follow_up if follow_up is not None else (old["follow_up"] if old else ""),
        }
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO center_sheet (week, tid, problem, action, follow_up,"
                " by_user, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (week, row["tid"], values["problem"], values["action"], values["follow_up"],
                 user["name"], now_text(self.now())),
            )
        return values

    # -- audit ----------------------------------------------------------------------------
    def _audit(self, at, user, action, tid, mid, reason, comment, detail):
        last = self._one("SELECT hash FROM center_audit ORDER BY id DESC LIMIT 1")
        prev = last["hash"] if last else GENESIS
        row = {"at": at, "user": user["name"], "role": user["role"], "action": action,
               "tid": tid, "mid": mid, "reason": reason, "comment": comment, "detail": detail}
        self.db.execute(
            "INSERT INTO center_audit (at, user, role, action, tid, mid, reason, comment,"
            " detail, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*[row[f] for f in _AUDIT_FIELDS], prev, _audit_hash(prev, row)),
        )

    def audit(self, tid=None, mids=None):
        if tid is not None:
            rows = self._all("SELECT * FROM center_audit WHERE tid = ? ORDER BY id", (tid,))
        else:
            rows = self._all("SELECT * FROM center_audit ORDER BY id")
        if mids is not None:
            rows = [r for r in rows if r["mid"] in mids]
        return rows

    def verify_audit(self):
        """None when the chain is whole, else the id of the first row that does not fit."""
        prev = GENESIS
        for r in self._all("SELECT * FROM center_audit ORDER BY id"):
            row = {f: r[f] for f in _AUDIT_FIELDS}
            if r["prev"] != prev or r["hash"] != _audit_hash(prev, row):
                return r["id"]
            prev = r["hash"]
        return None


def open_center(path, now=None):
    try:
        return Center(path, now)
    except sqlite3.Error as e:
        raise HostError(f"database {path}: {e}") from None
