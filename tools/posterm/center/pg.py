"""The center on PostgreSQL (psycopg 3): `posterm host --db postgresql://...`.

`connect(url)` returns an object that behaves as the sqlite3 connection the host's store and
the back office use (execute / executemany / fetchone / fetchall / lastrowid, rows indexed by
name and number, `with conn:`, in_transaction, close), translating their SQL as it goes:

- `?` parameters -> `%s`; `INSERT OR IGNORE` -> `ON CONFLICT DO NOTHING`; `INSERT OR REPLACE
  ... VALUES` -> delete the row with that key, then insert (a whole new row, as SQLite does);
  `INSERT OR REPLACE ... SELECT` -> `ON CONFLICT (key) DO UPDATE`;
- `BEGIN IMMEDIATE` -> `BEGIN` + a transaction-scoped advisory lock: writers are serialised by
  the database, whichever center process they come from, as SQLite's write lock does;
- `PRAGMA user_version` lives in a table; `PRAGMA busy_timeout` is `lock_timeout`; the other
  pragmas mean nothing here;
- in CREATE TABLE, `INTEGER PRIMARY KEY` is a BIGSERIAL and INTEGER a BIGINT; the audit log's
  append-only triggers are PostgreSQL ones (posterm.center.db);
- psycopg's errors are raised as sqlite3.IntegrityError / OperationalError, so every caller's
  `except sqlite3.Error` (answer 96, one line on the CLI) holds on both backends.
"""

import re
import sqlite3
import threading

WRITE_LOCK = 5800016  # pg_advisory_xact_lock key: the center's one write lock
SCHEMES = ("postgresql://", "postgres://")

# primary keys of the tables written with INSERT OR REPLACE
KEYS = {
    "cards": ("pan",),
    "faults": ("tid",),
    "counters": ("name",),
    "center_settings": ("key",),
    "center_sheet": ("week", "tid"),
    "center_tx_meta": ("tid", "batch", "trace"),
    "center_merchants": ("mid",),
    "center_terminal_state": ("tid",),
    "center_user_merchants": ("user", "mid"),
    "menus": ("version",),
}
# tables whose `id` the database assigns (lastrowid = RETURNING id)
SERIAL = ("transactions", "batch_uploads", "settlements", "center_audit")

_REPLACE = re.compile(r"^\s*INSERT\s+OR\s+REPLACE\s+INTO\s+(\w+)\s*\(([^)]*)\)\s*(.*)$",
                      re.S | re.I)
_IGNORE = re.compile(r"^\s*INSERT\s+OR\s+IGNORE\s+INTO", re.I)
_INSERT_INTO = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.I)
_PRAGMA = re.compile(r"^\s*PRAGMA\s+(\w+)\s*(?:=\s*(\S+))?\s*$", re.I)


def is_url(path):
    return str(path).startswith(SCHEMES)


def _quote_ident(cols):
    return [c.strip() for c in cols.split(",")]


def _qi(name):
    return '"user"' if name == "user" else name


def translate_ddl(sql):
    s = re.sub(r"\bINTEGER\s+PRIMARY\s+KEY\b", "BIGSERIAL PRIMARY KEY", sql, flags=re.I)
    s = re.sub(r"\bINTEGER\b", "BIGINT", s, flags=re.I)
    return s


def _params(sql):
    return sql.replace("%", "%%").replace("?", "%s")


def _fix(sql):
    # SQLite spellings with no PostgreSQL twin
    sql = sql.replace("length(CAST(json AS BLOB))", "octet_length(json)")
    sql = re.sub(r"\bORDER BY rowid\b", "ORDER BY ctid", sql)
    # "user" is a reserved word in PostgreSQL
    sql = re.sub(r"(?<![\w.\"'])user(?![\w\"'(])", '"user"', sql)
    return sql


class Row(tuple):
    """A result row read by position or by column name, like sqlite3.Row."""

    __slots__ = ()
    _cols = ()

    def __getitem__(self, key):
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._cols.index(key))
            except ValueError:
                raise IndexError(f"no such column: {key}") from None
        return tuple.__getitem__(self, key)

    def keys(self):
        return list(self._cols)


_ROW_CLASSES = {}


def _row_factory(cursor):
    res = cursor.pgresult  # the names straight from the result (no Column objects)
    if res is None or not res.nfields:
        names = ()
    else:
        names = tuple(res.fname(i).decode() for i in range(res.nfields))
    cls = _ROW_CLASSES.get(names)
    if cls is None:
        cls = _ROW_CLASSES[names] = type("Row", (Row,), {"__slots__": (), "_cols": names})
    return cls


class Cursor:
    def __init__(self, rows=(), lastrowid=None, rowcount=-1):
        self._rows = list(rows)
        self.lastrowid = lastrowid
        self.rowcount = rowcount

    def fetchone(self):
        return self._rows.pop(0) if self._rows else None

    def fetchall(self):
        out, self._rows = self._rows, []
        return out

    def __iter__(self):
        return iter(self.fetchall())


def _wrap(e):
    import psycopg

    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    if isinstance(e, (psycopg.errors.IntegrityError, psycopg.errors.RaiseException)):
        return sqlite3.IntegrityError(text)
    return sqlite3.OperationalError(text)


_PLANS = {}  # SQL text -> (kind, translated text, the same with %s parameters)


def _plan(sql):
    """How a statement runs here, worked out once per SQL text: (kind, text, text_with_args)
    with kind pragma / begin (text: take the write lock) / replace / serial / plain."""
    head = sql.lstrip()[:16].upper()
    if head.startswith("PRAGMA"):
        return "pragma", sql, sql
    if head.startswith("BEGIN"):
        up = sql.upper()
        return "begin", "IMMEDIATE" in up or "EXCLUSIVE" in up, None
    if head.startswith("CREATE") and "TABLE" in sql.upper()[:40]:
        sql = translate_ddl(sql)
    sql = _fix(sql)
    if _REPLACE.match(sql):
        return "replace", sql, None
    if _IGNORE.match(sql):
        sql = _IGNORE.sub("INSERT INTO", sql) + " ON CONFLICT DO NOTHING"
    m = _INSERT_INTO.match(sql)
    if m and m.group(1) in SERIAL and "RETURNING" not in sql.upper():
        sql += " RETURNING id"
        return "serial", sql, _params(sql)
    return "plain", sql, _params(sql)


class Connection:
    dialect = "postgresql"

    def __init__(self, url, timeout=10.0):
        import psycopg

        try:
            self.pg = psycopg.connect(url, autocommit=True, connect_timeout=max(1, int(timeout)))
        except psycopg.Error as e:
            raise _wrap(e) from None
        self.pg.row_factory = _row_factory
        self.lock = threading.RLock()
        self._run("BEGIN", None)  # several processes may open a new database at once
        self._run(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})", None)
        self._run("CREATE TABLE IF NOT EXISTS posterm_meta (key TEXT PRIMARY KEY,"
                  " value BIGINT NOT NULL)", None)
        self._run("COMMIT", None)
        self.row_factory = None  # accepted and ignored (rows are always Row)

    # -- sqlite3's surface ----------------------------------------------------------------
    @property
    def in_transaction(self):
        from psycopg.pq import TransactionStatus

        return self.pg.info.transaction_status != TransactionStatus.IDLE

    def close(self):
        self.pg.close()

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if self.in_transaction:
            self.execute("ROLLBACK" if kind else "COMMIT")
        return False

    def commit(self):
        if self.in_transaction:
            self.execute("COMMIT")

    def rollback(self):
        if self.in_transaction:
            self.execute("ROLLBACK")

    def executescript(self, script):
        for st in script.split(";"):
            if st.strip():
                self.execute(st)

    def execute(self, sql, args=()):
        with self.lock:
            return self._execute(sql, tuple(args) if args else ())

    def executemany(self, sql, seq):
        import psycopg

        with self.lock:
            plain = _fix(sql)
            if _INSERT_INTO.match(plain) and not _REPLACE.match(plain):
                rows = [tuple(a) for a in seq]
                try:
                    with self.pg.cursor() as cur:
                        cur.executemany(_params(plain), rows)  # pipelined: one round trip
                except psycopg.Error as e:
                    raise _wrap(e) from None
                return Cursor(rowcount=len(rows))
            n = 0
            for args in seq:
                self._execute(sql, tuple(args))
                n += 1
            return Cursor(rowcount=n)

    # -- translation ----------------------------------------------------------------------
    def _run(self, sql, args):
        import psycopg

        try:
            cur = self.pg.execute(sql, args if args else None)
        except psycopg.Error as e:
            raise _wrap(e) from None
        rows = cur.fetchall() if cur.description else []
        return rows, cur.rowcount

    def _execute(self, sql, args):
        plan = _PLANS.get(sql)
        if plan is None:
            plan = _plan(sql)
            if len(_PLANS) < 4096:
                _PLANS[sql] = plan
        kind, text, with_args = plan
        if kind == "pragma":
            return self._pragma(sql)
        if kind == "begin":
            self._run("BEGIN", None)
            if text:
                self._run(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})", None)
            return Cursor()
        if kind == "replace":
            return self._replace(_REPLACE.match(text), args)
        rows, count = self._run(with_args if args else text, args)
        if kind == "serial":
            return Cursor(lastrowid=rows[0][0] if rows else None, rowcount=count)
        return Cursor(rows, rowcount=count)

    def _replace(self, m, args):
        table, cols, rest = m.group(1), _quote_ident(m.group(2)), m.group(3)
        keys = KEYS.get(table)
        if keys is None:
            raise sqlite3.OperationalError(f"INSERT OR REPLACE into {table}: no key known")
        col_sql = ", ".join(_qi(c) for c in cols)
        if rest.lstrip().upper().startswith("VALUES") and len(args) == len(cols):
            where = " AND ".join(f"{_qi(k)} = %s" for k in keys)
            key_args = tuple(args[cols.index(k)] for k in keys)
            outer = not self.in_transaction
            if outer:
                self._run("BEGIN", None)
            try:
                self._run(f"DELETE FROM {table} WHERE {where}", key_args)
                rows, count = self._run(
                    _params(f"INSERT INTO {table} ({col_sql}) {rest}"), args)
            except BaseException:
                if outer:
                    self._run("ROLLBACK", None)
                raise
            if outer:
                self._run("COMMIT", None)
            return Cursor(rows, rowcount=count)
        sets = ", ".join(f"{_qi(c)} = EXCLUDED.{_qi(c)}" for c in cols if c not in keys)
        conflict = ", ".join(_qi(k) for k in keys)
        sql = (f"INSERT INTO {table} ({col_sql}) {rest} ON CONFLICT ({conflict}) "
               + (f"DO UPDATE SET {sets}" if sets else "DO NOTHING"))
        rows, count = self._run(_params(sql) if args else sql, args)
        return Cursor(rows, rowcount=count)

    def _pragma(self, sql):
        m = _PRAGMA.match(sql)
        if not m:
            return Cursor()
        name, value = m.group(1).lower(), m.group(2)
        if name == "user_version":
            if value is None:
                rows, _ = self._run(
                    "SELECT COALESCE((SELECT value FROM posterm_meta WHERE key ="
                    " 'user_version'), 0)", None)
                return Cursor(rows)
            self._run("INSERT INTO posterm_meta (key, value) VALUES ('user_version', %s)"
                      " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", (int(value),))
            return Cursor()
        if name == "busy_timeout" and value is not None:
            self._run(f"SET lock_timeout = {int(value)}", None)
        return Cursor()


def connect(url, timeout=10.0):
    return Connection(url, timeout)
