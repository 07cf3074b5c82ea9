"""The center on PostgreSQL (psycopg 3): `posterm host --db postgresql://...`.

`connect(url)` returns an object that behaves as the sqlite3 connection the host's store and
the back office use (execute / executemany / fetchone / fetchall / lastrowid, rows indexed by
name and number, `with conn:`, in_transaction, close), translating their SQL as it goes:

- `?` parameters -> `%s`; `INSERT OR IGNORE` -> `ON CONFLICT DO NOTHING`; `INSERT OR REPLACE
  ... VALUES` -> delete the row with that key, then insert (a whole new row, as SQLite does);
  `INSERT OR REPLACE ... SELECT` -> `ON CONFLICT (key) DO UPDATE`;
- `BEGIN IMMEDIATE` -> `BEGIN` + a transaction-scoped advisory lock: the back office's
  actions, provisioning and schema changes are serialised by the database, whichever process
  they come from, as SQLite's write lock does;
- the host's messages do not take that lock: a group of messages (`begin_group`, one
  transaction) locks the rows it works on, its terminals' and cards' (FOR NO KEY UPDATE, in key
  order), so writers are serialised per terminal and per card and several center processes
  run side by side.  BEGIN, the row locks, the transaction keys already taken and a block of
  reference numbers are one round trip; the rows it read are kept for the transaction (they
  are locked: nobody else can change them; every write of the group patches or drops them);
  the group's writes are queued as SQL text (bound by psycopg's ClientCursor.mogrify) and
  sent together, several statements in one simple query, with the next read, savepoint or
  COMMIT: a purchase costs no round trip of its own, a group four (the locks, its
  messages' writes, the back office's notes, COMMIT), and psycopg's work per statement is a
  fraction of an execute's;
- reference numbers come from a sequence (`posterm_rrn`, 1..999999, cycling), not the
  counters table: a counter row would be one lock every message of every process waits for;
- a COMMIT whose connection died cannot say whether it happened: `CommitUnknown` (the host
  then answers nothing, so the terminal reverses what may have been stored);
- `PRAGMA user_version` lives in a table; `PRAGMA busy_timeout` is `lock_timeout`; the other
  pragmas mean nothing here;
- in CREATE TABLE, `INTEGER PRIMARY KEY` is a BIGSERIAL and INTEGER a BIGINT; the audit log's
  append-only triggers are PostgreSQL ones (posterm.center.db);
- psycopg's errors are raised as sqlite3.IntegrityError / OperationalError, so every caller's
  `except sqlite3.Error` (answer 96, one line on the CLI) holds on both backends.
"""

import logging
import re
import sqlite3
import threading

log = logging.getLogger("posterm.host")

WRITE_LOCK = 5800016  # pg_advisory_xact_lock key: the back office's write lock
# Statements run in one subtransaction of their own (the function's exception block): an
# error in them rolls back only them and is returned as text, never aborting the
# transaction around them (the back office's notes of a group: queue_guarded)
GUARDED_FUNCTION = """CREATE OR REPLACE FUNCTION posterm_guarded(stmts text[]) RETURNS text
LANGUAGE plpgsql AS $f$
DECLARE s text;
BEGIN
    FOREACH s IN ARRAY stmts LOOP
        EXECUTE s;
    END LOOP;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END $f$"""
RRN_SEQUENCE = "posterm_rrn"
RRN_MAX = 999999

# the store's reads and writes that a group's kept rows serve or follow (posterm.host.store)
LOCK = " FOR NO KEY UPDATE"
TERMINAL_READ = "SELECT * FROM terminals WHERE tid = ?"
CARD_READ = "SELECT * FROM cards WHERE pan = ?"
TX_FIND = "SELECT * FROM transactions WHERE tid = ? AND batch = ? AND trace = ?"
SEQ_SET = "UPDATE terminals SET seq_trace = ? WHERE tid = ?"
BALANCE_ADD = "UPDATE cards SET balance_fen = balance_fen + ? WHERE pan = ?"
PIN_TRIES_SET = "UPDATE cards SET pin_tries = ?, pin_tries_day = ? WHERE pan = ?"
_READS = {TERMINAL_READ: "terminals", TERMINAL_READ + LOCK: "terminals", CARD_READ: "cards",
          CARD_READ + LOCK: "cards"}
_WRITE = re.compile(r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+(\w+)", re.I)
_HEAD = re.compile(r"^\s*(\w+)")
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
_INSERT_COLS = re.compile(r"^\s*INSERT\s+INTO\s+\w+\s*\(([^)]*)\)\s*VALUES", re.I)
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
    _index = {}  # column name -> position

    def __getitem__(self, key):
        if key.__class__ is str:
            try:
                return tuple.__getitem__(self, self._index[key])
            except KeyError:
                raise IndexError(f"no such column: {key}") from None
        return tuple.__getitem__(self, key)

    def keys(self):
        return list(self._cols)


def _patched(row, **changes):
    """`row` with some columns changed (a kept row following the group's own write)."""
    values = list(row)
    index = row._index
    for k, v in changes.items():
        values[index[k]] = v
    return type(row)(values)


_ROW_SETS = {}
_SET_BY_KEY = re.compile(r"^UPDATE (terminals|cards) SET ((?:\w+ = \?, )*\w+ = \?)"
                         r" WHERE (tid|pan) = \?$")


def _row_sets(sql):
    """(table, [columns]) of `UPDATE table SET a = ?, b = ? ... WHERE <its key> = ?` (one
    row, every column set to a parameter), else None; worked out once per SQL text."""
    try:
        return _ROW_SETS[sql]
    except KeyError:
        pass
    m = _SET_BY_KEY.match(sql)
    out = None
    if m is not None and m.group(3) == {"terminals": "tid", "cards": "pan"}[m.group(1)]:
        out = (m.group(1), [part.split(" = ")[0] for part in m.group(2).split(", ")])
    if len(_ROW_SETS) < 1024:
        _ROW_SETS[sql] = out
    return out


_PIECES = {}  # SQL text with %s parameters -> its text between them
_PARAM = re.compile(r"(%%|%s)")


def _pieces(sql):
    out = _PIECES.get(sql)
    if out is None:
        out, text = [], []
        for part in _PARAM.split(sql):
            if part == "%s":
                out.append("".join(text))
                text = []
            else:
                text.append("%" if part == "%%" else part)
        out.append("".join(text))
        if len(_PIECES) < 4096:
            _PIECES[sql] = out
    return out


def _literal(v):
    """An SQL literal of `v` (str, int, None, a list of str: text[]), or None to leave it to
    psycopg.  A string with a backslash or a NUL is left to it: without them a quoted
    string reads the same whatever standard_conforming_strings says."""
    t = v.__class__
    if t is str:
        if "\\" in v or "\x00" in v:
            return None
        return "'" + v.replace("'", "''") + "'"
    if t is int:
        return str(v) if v >= 0 else f"({v})"
    if v is None:
        return "NULL"
    if t is list and v and all(x.__class__ is str for x in v):
        parts = [_literal(x) for x in v]
        if None in parts:
            return None
        return "ARRAY[" + ", ".join(parts) + "]"
    return None


def _literal_sql(sql, args):
    """`sql` with its %s parameters replaced by `args` as literals, or None when one of them
    is not a kind _literal writes (or the count does not match): psycopg's mogrify does it."""
    pieces = _pieces(sql)
    if len(pieces) != len(args) + 1:
        return None
    out = [pieces[0]]
    for piece, v in zip(pieces[1:], args, strict=True):
        lit = _literal(v)
        if lit is None:
            return None
        out.append(lit)
        out.append(piece)
    return "".join(out)


_BATCHES = {}  # the store's SQL text -> its batch kind (_batch_kind), or () for none
_BATCH_ROWS = 500  # rows in one batched statement at most
_TX_INSERT = re.compile(r"^INSERT INTO transactions \((\w+(?:, \w+)*)\) VALUES \(\?(?:, \?)*\)$")


def _batch_kind(sql):
    """The kind of a group's write sent with the others of its kind in one statement
    (Connection._batched): ("seq",) / ("balance",) / ("tx", columns), else ()."""
    if sql == SEQ_SET:
        return ("seq",)
    if sql == BALANCE_ADD:
        return ("balance",)
    m = _TX_INSERT.match(sql)
    if m is not None and m.group(1).count(",") + 1 == sql.count("?"):
        return ("tx", m.group(1))
    return ()


_WRITES = {}  # SQL text -> what a write of it does to a group's kept rows (_write_kind)


def _write_kind(sql):
    """How a statement of a group changes what the group keeps (Connection._follow_write):
    none / forget (everything) / rows (table, columns: patch the row by key) / balance /
    clear (table) / tx_insert (where tid, batch and trace are in its arguments) / tx_keys
    (an UPDATE of transactions that may change their keys: the free keys are forgotten)."""
    m = _WRITE.match(sql)
    if m is None:
        head = _HEAD.match(sql)
        word = head.group(1).upper() if head is not None else ""
        return ("none",) if word in ("SELECT", "SAVEPOINT", "RELEASE") else ("forget",)
    table = m.group(1).lower()
    if table in ("terminals", "cards"):
        sets = _row_sets(sql)
        if sets is not None and sets[0] == table:
            return ("rows", table, tuple(sets[1]))
        if table == "cards" and sql == BALANCE_ADD:
            return ("balance",)
        return ("clear", table)
    if table == "transactions":
        ins = _INSERT_COLS.match(sql)
        if ins is not None:
            cols = _quote_ident(ins.group(1))
            try:
                return ("tx_insert", tuple(cols.index(c) for c in ("tid", "batch", "trace")))
            except ValueError:
                return ("tx_insert", None)
        if sql.lstrip().upper().startswith("DELETE"):
            return ("none",)
        sets = sql.upper().split(" SET ", 1)[-1].split(" WHERE ", 1)[0]
        if re.search(r"\b(TID|BATCH|TRACE)\b", sets):
            return ("tx_keys",)
    return ("none",)


_ROW_CLASSES = {}


def _row_factory(cursor):
    res = cursor.pgresult  # the names straight from the result (no Column objects)
    if res is None or not res.nfields:
        names = ()
    else:
        names = tuple(res.fname(i).decode() for i in range(res.nfields))
    cls = _ROW_CLASSES.get(names)
    if cls is None:
        cls = _ROW_CLASSES[names] = type("Row", (Row,), {
            "__slots__": (), "_cols": names,
            "_index": {n: i for i, n in reversed(list(enumerate(names)))}})  # first wins
    return cls


class CommitUnknown(sqlite3.OperationalError):
    """COMMIT was sent and the connection died before its answer: it may or may not have
    happened."""


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


class _Deferred:
    """A statement's result in a group: known once the statements queued with it ran (it
    is sent with the next read, savepoint or COMMIT of the group)."""

    __slots__ = ("_conn", "_serial", "_rows", "_count", "tag", "done")

    def __init__(self, conn, serial):
        self._conn, self._serial = conn, serial
        self._rows, self._count, self.tag, self.done = [], -1, None, False

    def _load(self):
        if not self.done:
            self._conn._flush()
        return self._rows

    def fetchone(self):
        rows = self._load()
        return rows.pop(0) if rows else None

    def fetchall(self):
        rows = self._load()
        out, self._rows = list(rows), []
        return out

    def __iter__(self):
        return iter(self.fetchall())

    @property
    def rowcount(self):
        self._load()
        return self._count

    @property
    def lastrowid(self):
        if not self._serial:
            return None
        rows = self._load()
        return rows[0][0] if rows else None


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
        self.url, self.timeout = url, timeout
        self.lock = threading.RLock()
        self._wait_ms = None  # PRAGMA busy_timeout's lock_timeout (ms), sent when needed
        self._wait_sent = None  # the session's lock_timeout as last SET
        self._stale = False
        self._group = False  # a group's transaction is open (begin_group)
        self._queue = []  # its statements not sent yet: (SQL text, _Deferred, members)
        self._batches = {}  # its writes sent as one statement each kind (_batched)
        self._clear_kept()
        self._open()
        self.row_factory = None  # accepted and ignored (rows are always Row)

    def _open(self):
        import psycopg

        self._wait_sent = None  # a new session: lock_timeout at the server's default

        try:
            self.pg = psycopg.connect(self.url, autocommit=True,
                                      connect_timeout=max(1, int(self.timeout)))
        except psycopg.Error as e:
            raise self._failed(e) from None
        self.pg.row_factory = _row_factory
        self._cc = psycopg.ClientCursor(self.pg)  # binds a group's statements (mogrify)
        self._run("BEGIN", None)  # several processes may open a new database at once
        self._run(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})", None)
        self._run("CREATE TABLE IF NOT EXISTS posterm_meta (key TEXT PRIMARY KEY,"
                  " value BIGINT NOT NULL)", None)
        self._run(f"CREATE SEQUENCE IF NOT EXISTS {RRN_SEQUENCE} MINVALUE 1 MAXVALUE {RRN_MAX}"
                  " CYCLE", None)
        self._run(GUARDED_FUNCTION, None)
        self._run("COMMIT", None)

    @property
    def broken(self):
        """The connection is gone (the server ended it, the network ...): the next unit
        starts on a new one (Store._reconnect)."""
        return self._stale or self.pg.closed or self.pg.broken

    def _failed(self, e):
        """A psycopg error as the sqlite3 error callers expect (see _wrap)."""
        return _wrap(e)

    def reopen(self):
        """A new connection in place of a broken one (what was not committed is gone)."""
        self._end_group()
        try:
            self.pg.close()
        except Exception:  # noqa: BLE001 - it is broken already
            pass
        self._stale = False
        self._open()

    # -- a group of the host's messages: row locks, pipeline mode, kept rows ---------------
    def _clear_kept(self):
        self._guarded = []  # the group's queue_guarded results, checked after its COMMIT
        self._kept = {"terminals": {}, "cards": {}}
        self._absent = set()  # (tid, batch, trace) known not to be in transactions
        self._rrns = []

    def begin_group(self, tids=(), pans=(), keys=(), rrns=0, faults=False):
        """BEGIN a transaction for a group of messages: lock the rows of the terminals
        `tids` and cards `pans` (FOR NO KEY UPDATE, in key order: two groups never wait for
        each other in a cycle over them), keep them, note which transaction keys (tid,
        batch, trace) `keys` are free, take `rrns` reference numbers: one round trip.
        COMMIT or ROLLBACK ends it."""
        with self.lock:
            self._clear_kept()
            self._queue = []
            self._batches = {}
            self._group = True
            self._queue_sql("BEGIN")
            if self._wait_ms is not None:  # this group's bounded wait for a lock
                self._queue_sql(f"SET LOCAL lock_timeout = {self._wait_ms}")
            terms = cards = taken = numbers = None
            if tids:
                terms = self._queue_sql(
                    "SELECT * FROM terminals WHERE tid = ANY(%s) ORDER BY tid" + LOCK,
                    (sorted(set(tids)),))
            if pans:
                cards = self._queue_sql(
                    "SELECT * FROM cards WHERE pan = ANY(%s) ORDER BY pan" + LOCK,
                    (sorted(set(pans)),))
            keys = sorted(set(keys))
            if keys:
                taken = self._queue_sql(
                    "SELECT tid, batch, trace FROM transactions WHERE (tid, batch, trace)"
                    " IN (SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]))",
                    ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]))
            if rrns:
                numbers = self._queue_sql(
                    f"SELECT nextval('{RRN_SEQUENCE}') FROM generate_series(1, %s)",
                    (int(rrns),))
            armed = self._queue_sql("SELECT EXISTS (SELECT 1 FROM faults)") if faults else None
            self._flush()
            for table, col, res in (("terminals", "tid", terms), ("cards", "pan", cards)):
                if res is not None:
                    kept = self._kept[table]
                    for row in res.fetchall():
                        kept[row[col]] = row
            if taken is not None:
                self._absent = set(keys) - {tuple(r) for r in taken.fetchall()}
            if numbers is not None:
                self._rrns = [r[0] for r in numbers.fetchall()]
            return bool(armed.fetchall()[0][0]) if armed is not None else False

    def queue_guarded(self, statements):
        """Queue `statements` [(sql, args)] (the store's spelling) to run after what the group
        queued, together, in one subtransaction on the server (posterm_guarded): they go
        with the group's COMMIT, and an error in any of them rolls back only them (the
        group commits without them; the error is logged once the COMMIT is answered)."""
        texts = []
        for sql, args in statements:
            plan = _PLANS.get(sql) or _plan(sql)
            if plan[0] not in ("plain", "serial"):
                raise sqlite3.OperationalError(f"not a statement to guard: {sql[:40]}")
            texts.append(self._bind(plan[2], tuple(args)) if args else plan[1])
        with self.lock:
            self._guarded.append(self._queue_sql("SELECT posterm_guarded(%s::text[])",
                                                 (texts,)))

    def _bind(self, sql, args):
        """`sql` (%s parameters) with `args` bound as literals: strings, integers and None
        here (_literal_sql), anything else by psycopg's ClientCursor.mogrify."""
        import psycopg

        out = _literal_sql(sql, args)
        if out is not None:
            return out
        try:
            return self._cc.mogrify(sql, args)
        except psycopg.Error as e:
            raise self._failed(e) from None

    def _queue_sql(self, sql, args=None, serial=False):
        """Queue one statement of the group (`sql` with %s parameters bound here)."""
        d = _Deferred(self, serial)
        if args:
            sql = self._bind(sql, args)
        if self._batches:  # the batched writes keep their place before this one
            self._emit_batches()
        self._queue.append((sql, d, None))
        return d

    def _batched(self, sql, args):
        """A write of the group that is sent as part of one statement with the others of
        its kind (its _Deferred, done when that statement is), or None when it is not of a
        kind that is: the trace sequence of a terminal (the last one wins), a card's balance
        change (summed per card), a transaction's row (one multi-row INSERT).  The kinds
        touch different tables and are only ever written so in a group (no statement
        between reads what they change), so they may go in any order among themselves; any
        other statement of the group sends them first, in place."""
        key = _BATCHES.get(sql)
        if key is None:
            key = _batch_kind(sql)
            if len(_BATCHES) < 1024:
                _BATCHES[sql] = key
        if not key:
            return None
        d = _Deferred(self, False)
        batch = self._batches.get(sql)
        if batch is None:
            batch = self._batches[sql] = (key, [])
        batch[1].append((args, d))
        return d

    def _emit_batches(self):
        batches, self._batches = self._batches, {}
        for key, members in batches.values():
            for i in range(0, len(members), _BATCH_ROWS):
                part = members[i : i + _BATCH_ROWS]
                sql = self._batch_sql(key, [args for args, _d in part])
                self._queue.append((sql, _Deferred(self, False), [d for _a, d in part]))

    def _batch_sql(self, key, rows):
        kind = key[0]
        if kind == "seq":  # (trace, tid): the last trace of each terminal
            last = {}
            for trace, tid in rows:
                last[tid] = trace
            values = ", ".join(f"({self._lit(v)}, {self._lit(t)})" for t, v in last.items())
            return ("UPDATE terminals AS t SET seq_trace = v.s FROM (VALUES "
                    f"{values}) AS v (s, tid) WHERE t.tid = v.tid")
        if kind == "balance":  # (delta, pan): summed per card
            total = {}
            for delta, pan in rows:
                total[pan] = total.get(pan, 0) + delta
            values = ", ".join(f"({self._lit(d)}::bigint, {self._lit(p)})"
                               for p, d in total.items())
            return ("UPDATE cards AS c SET balance_fen = c.balance_fen + v.d FROM (VALUES "
                    f"{values}) AS v (d, pan) WHERE c.pan = v.pan")
        values = ", ".join("(" + ", ".join(self._lit(v) for v in row) + ")" for row in rows)
        return f"INSERT INTO transactions ({key[1]}) VALUES {values}"

    def _lit(self, v):
        out = _literal(v)
        return out if out is not None else self._bind("%s", (v,))

    def _flush(self):
        """Send the queued statements as one simple query (one round trip); each one's
        result to its _Deferred.  The first error is raised (the rest were not run, and
        the transaction is aborted until ROLLBACK [TO SAVEPOINT])."""
        import psycopg

        if self._batches:
            self._emit_batches()
        queue, self._queue = self._queue, []
        if not queue:
            return
        with self.lock:
            try:
                cur = self.pg.execute(";\n".join(q[0] for q in queue))
                for i, (_sql, d, members) in enumerate(queue):
                    if i and not cur.nextset():
                        break
                    res = cur.pgresult
                    d._rows = cur.fetchall() if res is not None and res.nfields else []
                    d._count = cur.rowcount
                    d.tag = cur.statusmessage
                    d.done = True
                    for m in members or ():  # a batched write: its statement's outcome
                        m._count, m.tag, m.done = d._count, d.tag, True
            except psycopg.Error as e:
                raise self._failed(e) from None
            for _sql, d, _members in queue:
                if not d.done:
                    raise sqlite3.OperationalError("a statement of the group got no result")

    @property
    def in_group(self):
        return self._group

    def next_rrn(self):
        """The next reference number's sequence value (1..999999)."""
        if self._rrns:
            return self._rrns.pop(0)
        rows, _ = self._run(f"SELECT nextval('{RRN_SEQUENCE}')", None)
        return rows[0][0]

    def _end_group(self):
        self._group = False
        self._queue = []
        self._batches = {}
        self._clear_kept()

    def _finish(self, sql):
        """COMMIT or ROLLBACK the group's transaction (with what is still queued)."""
        import psycopg

        from psycopg.pq import TransactionStatus

        if sql == "ROLLBACK":
            self._queue = []
            self._batches = {}
            try:
                if not (self.pg.closed or self.pg.broken):
                    self.pg.execute("ROLLBACK")
            except psycopg.Error as e:
                if not (self.pg.closed or self.pg.broken):
                    self._end_group()
                    raise self._failed(e) from None
            self._end_group()  # a connection that died took the transaction with it
            return Cursor()
        if self.pg.closed or self.pg.broken or (
                not self._queue and not self._batches
                and self.pg.info.transaction_status != TransactionStatus.INTRANS):
            self._end_group()  # COMMIT not sent: nothing can have been committed
            raise sqlite3.OperationalError(
                "the connection was lost" if self.pg.closed or self.pg.broken
                else "a statement of the transaction failed")
        if self._queue or self._batches:  # the writes first: a failure there (the
            try:  # connection too) is known to be before COMMIT, so the group is served again
                self._flush()
            except sqlite3.Error:
                self._end_group()
                raise
        done = self._queue_sql("COMMIT")
        try:
            self._flush()
        except sqlite3.Error as e:
            broken = self.pg.closed or self.pg.broken
            self._end_group()
            if broken:  # COMMIT was sent with the rest: it may have happened
                raise CommitUnknown(f"the connection was lost during COMMIT: {e}") from None
            raise
        guarded = self._guarded
        self._end_group()
        if done.tag != "COMMIT":  # PostgreSQL ends a failed transaction with ROLLBACK
            raise sqlite3.OperationalError(f"COMMIT answered {done.tag}: nothing was committed")
        for d in guarded:
            rows = d._rows
            if rows and rows[0][0] is not None:
                log.error("statements of the group rolled back on their own (the group "
                          "committed without them): %s", rows[0][0])
        return Cursor()

    def _kept_read(self, sql, args):
        table = _READS.get(sql)
        if table is not None:
            row = self._kept[table].get(args[0]) if len(args) == 1 else None
            return None if row is None else Cursor([row])
        if sql == TX_FIND and tuple(args) in self._absent:
            return Cursor()
        return None

    def _follow_write(self, sql, args):
        """Keep the kept rows true to a write of the group (patch them, or drop them)."""
        kind = _WRITES.get(sql)
        if kind is None:
            kind = _write_kind(sql)
            if len(_WRITES) < 4096:
                _WRITES[sql] = kind
        what = kind[0]
        if what == "none":
            return
        if what == "forget":
            self._kept = {"terminals": {}, "cards": {}}
            self._absent = set()
        elif what == "rows":  # UPDATE <table> SET a = ?, b = ? WHERE <key> = ?: patched
            kept = self._kept[kind[1]]
            row = kept.get(args[-1]) if args else None
            if row is None:
                kept.clear()
            else:
                kept[args[-1]] = _patched(row, **dict(zip(kind[2], args[:-1], strict=True)))
        elif what == "balance":
            kept = self._kept["cards"]
            row = kept.get(args[1]) if len(args) == 2 else None
            if row is None:
                kept.clear()
            else:
                kept[args[1]] = _patched(row, balance_fen=row["balance_fen"] + args[0])
        elif what == "clear":
            self._kept[kind[1]].clear()
        elif what == "tx_insert" and self._absent:
            try:
                key = tuple(args[i] for i in kind[1])
            except (TypeError, IndexError):  # no key columns named, or too few arguments
                self._absent = set()
            else:
                self._absent.discard(key)
        elif what == "tx_keys":
            self._absent = set()

    # -- sqlite3's surface ----------------------------------------------------------------
    @property
    def in_transaction(self):
        from psycopg.pq import TransactionStatus

        if self._group:
            return True
        return self.pg.info.transaction_status != TransactionStatus.IDLE

    def close(self):
        self._end_group()
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
                if self._group:  # queued after what is queued, sent now: its errors here
                    self._follow_write(sql, ())
                    for a in rows:
                        self._queue_sql(_params(plain), a)
                    self._flush()
                    return Cursor(rowcount=len(rows))
                try:
                    with self.pg.cursor() as cur:
                        cur.executemany(_params(plain), rows)  # pipelined: one round trip
                except psycopg.Error as e:
                    raise self._failed(e) from None
                return Cursor(rowcount=len(rows))
            n = 0
            for args in seq:
                self._execute(sql, tuple(args))
                n += 1
            return Cursor(rowcount=n)

    # -- translation ----------------------------------------------------------------------
    def _run(self, sql, args):
        import psycopg

        if self._group:  # with what the group has queued, now
            d = self._queue_sql(sql, args)
            self._flush()
            return d._rows, d._count
        if self._wait_ms != self._wait_sent and self._wait_ms is not None:
            from psycopg.pq import TransactionStatus

            wait, self._wait_sent = self._wait_ms, None
            idle = self.pg.info.transaction_status == TransactionStatus.IDLE
            try:
                self.pg.execute(f"SET lock_timeout = {wait}")
            except psycopg.Error as e:
                raise self._failed(e) from None
            if idle:  # a SET inside a transaction goes with it when it rolls back
                self._wait_sent = wait
        try:
            cur = self.pg.execute(sql, args if args else None)
            res = cur.pgresult  # the names straight from the result (no Column objects)
            rows = cur.fetchall() if res is not None and res.nfields else []
        except psycopg.Error as e:
            raise self._failed(e) from None
        return rows, cur.rowcount

    def _execute(self, sql, args):
        plan = _PLANS.get(sql)
        if plan is None:
            plan = _plan(sql)
            if len(_PLANS) < 4096:
                _PLANS[sql] = plan
        kind, text, with_args = plan
        if self._group:
            return self._group_execute(sql, args, kind, text, with_args)
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

    def _group_execute(self, sql, args, kind, text, with_args):
        head = sql.lstrip()[:10].upper()
        if head.startswith(("COMMIT", "END")):
            return self._finish("COMMIT")
        if head.startswith("ROLLBACK") and "SAVEPOINT" not in sql.upper():
            return self._finish("ROLLBACK")
        if kind == "begin":
            raise sqlite3.OperationalError("cannot start a transaction within a transaction")
        if args:
            hit = self._kept_read(sql, args)
            if hit is not None:
                return hit
        self._follow_write(sql, args)
        if kind == "pragma":
            return self._pragma(sql)
        if kind == "replace":
            return self._replace(_REPLACE.match(text), args)
        if head.startswith("SAVEPOINT"):
            self._flush()  # the messages' own errors are theirs, not the savepoint's block's
        if args:
            d = self._batched(sql, args)
            if d is not None:
                return d
        return self._queue_sql(with_args if args else text, args, kind == "serial")

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
            # sent with the next group's BEGIN (SET LOCAL: no round trip of its own), or
            # before the next statement outside a group (_run)
            self._wait_ms = int(value)
        return Cursor()


def connect(url, timeout=10.0):
    return Connection(url, timeout)
