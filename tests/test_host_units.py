"""The center's storage faults (issue 11 items 1, 6, 9): every message is one unit of work,
a database that fails or is locked answers 96 in bounded time and moves no money, and RRNs
stay unique under load.  Faults are injected in SQLite itself (a trigger that fails the
second statement, a page limit that fills the "disk", a write lock held by another
connection), never by replacing the center's own functions."""

import socket
import sqlite3
import threading
import time

import pytest
from pos import mac
from posterm.host.processor import Processor, encode
from posterm.host.server import start_in_thread
from posterm.host.store import Store
from test_host_support import CARD, HEADER, NOW, TID, TPDU, Terminal, unsign_keys

START = 1000000  # the deck's balance of CARD, in fen


@pytest.fixture
def host(tmp_path):
    h = start_in_thread(str(tmp_path / "host.db"), now=lambda: NOW, db_wait=1.0)
    yield h
    h.stop()


@pytest.fixture
def outside(host):
    """Another process's connection to the same host.db (the CLI, a backup, an attacker)."""
    db = sqlite3.connect(host.host.db_path, isolation_level=None, timeout=5)
    yield db
    db.close()


@pytest.fixture
def term(host):
    t = Terminal(host.address)
    assert t.sign_in()[39] == "00"
    return t


def balance(db):
    return db.execute("SELECT balance_fen FROM cards WHERE pan = ?", (CARD,)).fetchone()[0]


def rows(db):
    return db.execute("SELECT COUNT(*) FROM transactions").fetchone()[0]


def fail_inserts(db, table="transactions", what="INSERT"):
    db.execute(
        f"CREATE TRIGGER fail_{table} BEFORE {what} ON {table}"
        " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    )


def reversal(term, req):
    msg = {"mti": "0400"}
    for f in (2, 3, 4, 11, 14, 22, 25, 41, 42, 49, 60):
        if f in req:
            msg[f] = req[f]
    msg[39] = "98"
    return term.send(term.signed(msg))


# -- item 1: one unit of work per message ----------------------------------------------------
def test_a_purchase_whose_row_cannot_be_written_moves_no_money(term, outside):
    # The balance update succeeds, the transaction row fails (as on a full disk): before,
    # the card stayed debited with no row anywhere and the reversal got 25.
    fail_inserts(outside)
    req = term.financial("0200", "000000", "22", amount=4321)
    rep = term.send(req)
    assert rep[39] == "96" and term.reply_mac_ok(rep)
    assert balance(outside) == START
    assert rows(outside) == 0
    outside.execute("DROP TRIGGER fail_transactions")
    # the terminal's reversal finds nothing to undo, and moves nothing
    assert reversal(term, req)[39] == "25"
    assert balance(outside) == START
    # and the same trace is not taken: the next purchase goes through normally
    assert term.purchase(amount=100)[39] == "00"
    assert balance(outside) == START - 100


def test_a_reversal_whose_status_cannot_be_written_gives_nothing_back(term, outside):
    req = term.financial("0200", "000000", "22", amount=700)
    assert term.send(req)[39] == "00"
    assert balance(outside) == START - 700
    fail_inserts(outside, what="UPDATE OF status")
    rep = reversal(term, req)
    assert rep[39] == "96"
    assert balance(outside) == START - 700  # not refunded without the record saying so
    outside.execute("DROP TRIGGER fail_transactions")
    assert reversal(term, req)[39] == "00"
    assert balance(outside) == START
    assert reversal(term, req)[39] == "00"  # again: idempotent, no double refund
    assert balance(outside) == START


def test_a_wrong_pin_count_and_its_declined_row_commit_together(term, outside):
    fail_inserts(outside)
    assert term.purchase(pin="000000")[39] == "96"
    tries = outside.execute("SELECT pin_tries FROM cards WHERE pan = ?", (CARD,)).fetchone()[0]
    assert tries == 0  # the count rolled back with the row it belongs to
    outside.execute("DROP TRIGGER fail_transactions")
    assert term.purchase(pin="000000")[39] == "55"


def test_a_full_disk_in_the_middle_of_a_purchase_leaves_the_database_as_it_was(tmp_path):
    # A real SQLITE_FULL: the database may not grow by a single page.
    store = Store(str(tmp_path / "host.db"))
    store.provision_defaults()
    proc = Processor(store, lambda: NOW)
    t = Terminal(None)
    rep = proc.handle({"mti": "0800", 11: t.next_trace(), 41: TID, 42: t.mid, 60: "00000001003"})
    t.pik, t.mak = unsign_keys(rep[62])
    # fill every page but the last few, then forbid growth
    store.db.execute("CREATE TABLE ballast (x BLOB)")
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count={pages}")
    filled = 0
    with pytest.raises(sqlite3.OperationalError, match="full"):
        while True:
            store.db.execute("INSERT INTO ballast VALUES (zeroblob(1000))")
            filled += 1
    before = store.get_card(CARD)["balance_fen"]
    declined = 0
    for _ in range(1000):  # each purchase needs a row; at some point a page is missing
        rep = proc.handle(t.financial("0200", "000000", "22", amount=100, pin=None))
        if rep[39] == "96":
            declined += 1
            if declined == 5:
                break
    approved = store.db.execute(
        "SELECT COUNT(*) FROM transactions WHERE result = '00'"
    ).fetchone()[0]
    assert declined, "the disk never filled up"
    assert store.get_card(CARD)["balance_fen"] == before - 100 * approved
    store.close()


# -- item 9: the database off the event loop, bounded waits -----------------------------------
def test_a_locked_database_answers_96_in_bounded_time_and_freezes_no_one(term, outside, host):
    outside.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    outside.execute("UPDATE counters SET value = value")
    results = {}

    def purchase(name, amount):
        started = time.monotonic()
        t = Terminal(host.address)
        t.pik, t.mak, t.trace = term.pik, term.mak, 100 + amount
        rep = t.purchase(amount=amount, timeout=8)
        results[name] = (rep[39], time.monotonic() - started, t.reply_mac_ok(rep))

    workers = [threading.Thread(target=purchase, args=(f"t{i}", i + 1)) for i in range(4)]
    started = time.monotonic()
    for w in workers:
        w.start()
    # meanwhile the event loop still serves: garbage is refused at once
    with socket.create_connection(host.address, timeout=5) as s:
        s.sendall(b"\xff\xff")
        s.settimeout(0.5)
        assert s.recv(1) == b""
    assert time.monotonic() - started < 0.8
    for w in workers:
        w.join(10)
    for code, elapsed, mac_ok in results.values():
        assert code == "96" and mac_ok
        assert elapsed < 2.5  # db_wait is 1 s: no 10 s freeze
    assert len(results) == 4
    outside.execute("ROLLBACK")
    assert balance(outside) == START
    assert term.purchase(amount=100)[39] == "00"
    assert balance(outside) == START - 100


def test_a_sign_in_against_a_locked_database_gets_96_and_keeps_the_old_keys(term, outside, host):
    keys = outside.execute("SELECT mak FROM terminals WHERE tid = ?", (TID,)).fetchone()[0]
    outside.execute("BEGIN EXCLUSIVE")
    started = time.monotonic()
    rep = Terminal(host.address).sign_in()
    assert rep[39] == "96" and 62 not in rep
    assert time.monotonic() - started < 2.5
    outside.execute("ROLLBACK")
    assert outside.execute("SELECT mak FROM terminals WHERE tid = ?", (TID,)).fetchone()[0] == keys


# -- item 6: RRNs unique per center per day ---------------------------------------------------
def test_rrns_stay_unique_over_ten_thousand_messages_in_one_minute(tmp_path):
    store = Store(str(tmp_path / "host.db"))
    store.provision_defaults()
    proc = Processor(store, lambda: NOW)  # the clock does not move: all in one minute
    t = Terminal(None)
    sign_in = {"mti": "0800", 41: TID, 42: t.mid, 60: "00000001003"}
    rep = proc.handle({**sign_in, 11: t.next_trace()})
    t.pik, t.mak = unsign_keys(rep[62])
    rrns = [rep[37]]
    purchases = []
    for i in range(10001):
        if i % 2:  # sign-ins draw from the same numbering (their 37)
            rep = proc.handle({**sign_in, 11: t.next_trace()})
            t.pik, t.mak = unsign_keys(rep[62])
        else:
            rep = proc.handle(t.financial("0200", "000000", "22", amount=1, pin=None))
            purchases.append(rep[37])
        assert rep[39] == "00"
        rrns.append(rep[37])
    assert len(set(rrns)) == len(rrns) == 10002
    assert all(len(r) == 12 and r.isdigit() and r.startswith("112410") for r in rrns)
    # a refund by the reference number finds its own purchase, first and last alike
    for rrn in (purchases[0], purchases[-1]):
        refund = t.financial(
            "0220", "200000", "25", amount=1, pin=None, extra={37: rrn, 61: "0000000000001124"}
        )
        assert proc.handle(t.signed(refund))[39] == "00"
    store.close()


def test_rrns_do_not_restart_when_the_host_restarts(tmp_path):
    path = str(tmp_path / "host.db")
    first = Store(path)
    a = first.new_rrn(NOW)
    first.close()
    second = Store(path)
    assert second.new_rrn(NOW) != a
    second.close()


def test_a_frame_to_a_locked_database_is_still_well_formed(host, outside):
    outside.execute("BEGIN IMMEDIATE")
    try:
        with socket.create_connection(host.address, timeout=5) as s:
            from pos import iso8583

            msg = {"mti": "0820", 11: "000009", 41: TID, 42: "898310048990001", 60: "00000001301"}
            s.sendall(iso8583.pack_frame(TPDU, HEADER, iso8583.encode(msg)))
            s.settimeout(4)
            from test_host_support import read_frame

            _, _, body = iso8583.unpack_frame(read_frame(s))
        rep = iso8583.decode(body)
        assert rep["mti"] == "0830" and rep[39] == "96"
    finally:
        outside.execute("ROLLBACK")


# -- item 1 as a merchant sees it: the real terminal against the embedded host ----------------
def test_the_terminal_sees_a_failed_purchase_and_the_card_keeps_its_money(tmp_path):
    from pos.keys import parse_token
    from posterm import paths
    from posterm.driver import Driver

    d = Driver(str(tmp_path), date=(2026, 11, 23, 9, 0, 0))
    frames = []
    d.frame_listeners.append(lambda f: frames.append("".join(r.strip() for r in f.text())))

    def press(*tokens):
        for tok in tokens:
            for ev in parse_token(tok):
                d.feed(ev)

    try:
        d.start()
        press("MENU", "1", "1", "ENTER", "CANCEL")
        db = sqlite3.connect(paths.host_db(d.data_dir), isolation_level=None)
        fail_inserts(db)  # the host's disk is full when the row is written
        press("MENU", "1", "2", "4321", "ENTER", "CARD=" + CARD, "123456", "ENTER")
        assert any("96" in f for f in frames[-5:])
        press("ENTER", "CANCEL")
        assert [e for e in d.terminal.journal.entries() if e["type"] == "purchase"] == []
        assert balance(db) == START and rows(db) == 0
        db.execute("DROP TRIGGER fail_transactions")
        press("MENU", "1", "2", "100", "ENTER", "CARD=" + CARD, "123456", "ENTER", "ENTER")
        press("CANCEL")
        assert balance(db) == START - 100  # only the purchase that was recorded
        listed = db.execute("SELECT amount_fen, status FROM transactions").fetchall()
        assert listed == [(100, "approved")]
        db.close()
    finally:
        d.close()


def test_a_locked_database_costs_the_terminal_one_bounded_wait_not_more(tmp_path):
    # The driver tells the embedded center the terminal's settings: with host.db locked by
    # another process that must not add its own 10 s wait before the sign-in's 96.
    from pos.keys import parse_token
    from posterm import paths
    from posterm.driver import Driver

    Driver(str(tmp_path), date=(2026, 11, 23, 9, 0, 0)).close()  # provision host.db
    db = sqlite3.connect(paths.host_db(str(tmp_path)), isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    frames = []
    started = time.monotonic()
    d = Driver(str(tmp_path), date=(2026, 11, 23, 9, 0, 0))
    try:
        d.frame_listeners.append(lambda f: frames.append("".join(r.strip() for r in f.text())))
        d.start()
        for tok in ("MENU", "1", "1", "ENTER"):
            for ev in parse_token(tok):
                d.feed(ev)
        elapsed = time.monotonic() - started
        assert any("96" in f for f in frames[-3:])
        assert elapsed < 9  # the center's own bounded wait (5 s), nothing on top of it
    finally:
        db.execute("ROLLBACK")
        db.close()
        d.close()


# -- group commit (issue 16 item 6): one commit for many messages, each still all-or-nothing --
def _signed_in_processor(tmp_path):
    store = Store(str(tmp_path / "host.db"))
    store.provision_defaults()
    proc = Processor(store, lambda: NOW)
    t = Terminal(None)
    rep = proc.handle({"mti": "0800", 11: t.next_trace(), 41: TID, 42: t.mid, 60: "00000001003"})
    t.pik, t.mak = unsign_keys(rep[62])
    return store, proc, t


def test_a_group_of_purchases_is_one_commit_and_every_answer_is_what_was_committed(tmp_path):
    store, proc, t = _signed_in_processor(tmp_path)
    commits = []
    store.db.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    reqs = [t.financial("0200", "000000", "22", amount=100 + i, pin=None) for i in range(20)]
    reps = proc.handle_many([(r, None, None) for r in reqs])
    store.db.set_trace_callback(None)
    assert [r[39] for r in reps] == ["00"] * 20
    assert len(commits) == 1
    rows = store.db.execute(
        "SELECT trace, rrn FROM transactions WHERE result = '00' AND mti = '0200' ORDER BY trace"
    ).fetchall()
    assert [(r[11], r[37]) for r in reps] == [tuple(row) for row in rows]
    assert store.get_card(CARD)["balance_fen"] == START - sum(100 + i for i in range(20))
    store.close()


def test_a_database_failure_in_a_group_costs_only_its_own_message(tmp_path):
    store, proc, t = _signed_in_processor(tmp_path)
    reqs = [t.financial("0200", "000000", "22", amount=100, pin=None) for _ in range(6)]
    bad = reqs[3][11]
    # the storage refuses the row of one message (its trace) in the middle of the group
    store.db.execute(
        "CREATE TRIGGER fail_one BEFORE INSERT ON transactions WHEN NEW.trace = '%s'"
        " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END" % bad
    )
    reps = proc.handle_many([(r, None, None) for r in reqs])
    assert [r[39] for r in reps] == ["00", "00", "00", "96", "00", "00"]
    body = encode(reps[3])
    assert mac.verify("ecb", t.mak, body[:-8], body[-8:])  # the 96 is MAC'd as any reply
    assert store.get_card(CARD)["balance_fen"] == START - 500
    traces = [r[0] for r in store.db.execute("SELECT trace FROM transactions WHERE mti = '0200'")]
    assert sorted(traces) == sorted(r[11] for i, r in enumerate(reqs) if i != 3)
    store.close()


def test_keys_given_in_a_group_bind_the_connection_only_once_committed(tmp_path):
    store, proc, t = _signed_in_processor(tmp_path)
    conn = {}
    sign_in = {"mti": "0800", 11: t.next_trace(), 41: TID, 42: t.mid, 60: "00000001003"}
    fail_inserts(store.db, "transactions")
    buy = t.financial("0200", "000000", "22", amount=1, pin=None)
    reps = proc.handle_many([(buy, None, None), (sign_in, None, conn)])
    # the purchase's failure rolled the group back; served again one by one, the sign-in
    # commits on its own and binds the connection to the keys that were committed
    assert [r[39] for r in reps] == ["96", "00"]
    assert conn["keys"] == (TID, store.get_terminal(TID)["mak"])
    store.close()


def test_a_group_gets_the_write_lock_soon_after_another_process_frees_it(tmp_path):
    # A fleet of centers on one SQLite file (--reuse-port) take turns at the write lock.
    # SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 ... ms between its tries
    # (one BEGIN statement that waits inside SQLite); the host asks again itself, at most
    # 1 ms apart, until its bounded wait ends.
    path = str(tmp_path / "host.db")
    store = Store(path, timeout=5)
    other = sqlite3.connect(path, isolation_level=None, timeout=5, check_same_thread=False)
    tries = []
    store.db.set_trace_callback(lambda sql: tries.append(sql) if "BEGIN" in sql else None)
    freed = []

    def hold(seconds):
        other.execute("BEGIN IMMEDIATE")
        ready.set()
        time.sleep(seconds)
        freed.append(time.monotonic())
        other.execute("COMMIT")

    try:
        ready = threading.Event()
        t = threading.Thread(target=hold, args=(0.12,))
        t.start()
        ready.wait(5)
        store.set_wait(2.0)
        with store.unit():
            got = time.monotonic()
        t.join(5)
        assert len(tries) > 10  # asked again and again, not one BEGIN asleep in SQLite
        assert got - freed[0] < 0.05
        # the bounded wait still ends it: a lock held longer is 'database is locked' in time
        ready = threading.Event()
        t = threading.Thread(target=hold, args=(0.4,))
        t.start()
        ready.wait(5)
        store.set_wait(0.2)
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            with store.unit():
                pass
        assert 0.15 < time.monotonic() - started < 0.38
        t.join(5)
        # and the statements after the BEGIN wait as the store was told (busy_timeout back)
        assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    finally:
        other.close()
        store.close()
