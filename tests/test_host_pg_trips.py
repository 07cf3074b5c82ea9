"""The center on PostgreSQL: what a group of messages costs in round trips to the server does
not grow with the messages in it (issue 16.6: the storm's rate on PostgreSQL is bounded by
the round trips each group waits for, each one a wake-up of the server and of the center).
Counted at the wire: every simple query the center's connection sends (psycopg's execute)."""

import pytest

import pgserver
from pos import iso8583
from posterm.center import storm
from posterm.host import processor as hproc
from posterm.host.processor import Processor
from posterm.host.store import Store


@pytest.fixture(scope="module")
def pg():
    server = pgserver.Server()
    yield server
    server.stop()


def _items(frames):
    out = []
    for frame in frames:
        body = iso8583.unpack_frame(frame)[2]
        out.append((iso8583.decode(body), body, {}))
    return out


class _Counting:
    """The store's psycopg connection, its queries counted (the server's round trips)."""

    def __init__(self, store):
        self.pg = store.db.pg
        self.sent = 0
        real = self.pg.execute

        def execute(*a, **k):
            self.sent += 1
            return real(*a, **k)

        self.pg.execute = execute


def _trips(url, n):
    """Round trips of a group of n sign-ins, then n status uploads, then n purchases."""
    storm.provision(url, 40, 50)
    store = Store(url)
    processor = Processor(store)
    terms = [storm.Term(t, i, storm.card_of(i)) for i, t in enumerate(storm.tids(40))]
    warm = processor.handle_many(_items([t.sign_in_frame() for t in terms[20:22]]))
    assert [r[39] for r in warm] == ["00", "00"]  # the back office's schema made on the way
    terms = terms[:n]
    count = _Counting(store)
    out = {}
    for name, make in (("sign-in", storm.Term.sign_in_frame),
                       ("heartbeat", storm.Term.heartbeat_frame),
                       ("purchase", storm.Term.purchase_frame)):
        before = count.sent
        reps = processor.handle_many(_items([make(t) for t in terms]))
        assert [r[39] for r in reps] == ["00"] * n, name
        out[name] = count.sent - before
        if name == "sign-in":
            for t, rep in zip(terms, reps, strict=True):
                t.signed_in(hproc.encode(rep))
    store.close()
    return out


def test_a_groups_round_trips_do_not_grow_with_its_messages(pg):
    small = _trips(pg.new_database(), 3)
    large = _trips(pg.new_database(), 16)
    assert small == large, (small, large)
    # BEGIN + the row locks + reads; the messages' writes (a statement per kind for the
    # group) + the back office's notes (one subtransaction on the server); COMMIT.  Before:
    # a sign-in's key update dropped every row the group had read and locked, so each next
    # sign-in read its terminal again (a round trip a message); a purchase group took five
    # (the notes' savepoint, each kind of note, its release with COMMIT)
    assert large == {"sign-in": 3, "heartbeat": 3, "purchase": 3}, large


def test_values_bound_as_literals_read_back_as_they_were(pg):
    from posterm.center import pg as cpg

    url = pg.new_database()
    conn = cpg.connect(url)
    try:
        values = ["", "plain", "O'Brien", "''", "--", "-- x", "a;b", "商户 名称", "%s", "%%",
                  "?", "tab\there", "new\nline", "back\\slash", "$$", "$1", 0, 7, -3,
                  -9223372036854775807, 2**62, None, ["a", "b'c", "商户"]]
        for v in values:
            sql = "SELECT %s::text[]" if isinstance(v, list) else "SELECT %s"
            text = conn._bind(sql, (v,))
            if "\\" not in str(v):  # a backslash is psycopg's to quote
                assert text == cpg._literal_sql(sql, (v,)), v
            got = conn.pg.execute(text).fetchone()[0]
            if isinstance(v, int) and not isinstance(v, bool):
                assert int(got) == v
            else:
                assert got == v, (v, text)
        # the statement's own text around the parameters stays as it was, %% read as %
        bound = cpg._literal_sql("SELECT '%%' || %s || '%%s'", ("x",))
        assert bound == "SELECT '%' || 'x' || '%s'"
        assert cpg._literal_sql("SELECT %s, %s", ("x",)) is None  # left to psycopg
    finally:
        conn.close()


def _snapshot(db_path, group):
    """The books after a sign-in, then messages of two terminals sharing a card served in
    one group (group=True) or one by one: balances, traces, rows, the back office's notes."""
    import datetime

    now = datetime.datetime(2026, 11, 24, 10, 15, 30)
    storm.provision(db_path, 4, 20)
    store = Store(db_path)
    store.add_card(storm.card_of(50), "123456", 300, "3012", "ok", "STORM", None)
    processor = Processor(store, now=lambda: now)
    a, b, c = (storm.Term(t, i) for i, t in enumerate(storm.tids(3)))  # a and b: one card
    d = storm.Term(storm.tids(4)[3], 3, storm.card_of(50))  # a card with 3.00 on it
    reps = processor.handle_many(_items([t.sign_in_frame() for t in (a, b, c, d)]))
    for t, rep in zip((a, b, c, d), reps, strict=True):
        t.signed_in(hproc.encode(rep))
    again = a.purchase_frame(300)
    frames = [a.purchase_frame(100), b.purchase_frame(250), again, d.purchase_frame(200),
              b.heartbeat_frame(), c.sign_in_frame(), a.purchase_frame(40),
              d.purchase_frame(200), again, c.heartbeat_frame()]
    items = _items(frames)
    reps = (processor.handle_many(items) if group
            else [processor.handle_many([item])[0] for item in items])
    codes = [r[39] for r in reps]
    db = store.db
    out = {
        "codes": codes,
        "cards": [tuple(r) for r in db.execute(
            "SELECT pan, balance_fen FROM cards WHERE holder = 'STORM' ORDER BY pan")],
        "terminals": [tuple(r) for r in db.execute(
            "SELECT tid, seq_trace, key_layout, signed_in FROM terminals"
            " WHERE tid LIKE 'S%' ORDER BY tid")],
        "tx": [tuple(r) for r in db.execute(
            "SELECT tid, batch, trace, amount_fen, result, status FROM transactions"
            " WHERE tid LIKE 'S%' ORDER BY tid, trace")],
        "state": [tuple(r) for r in db.execute(
            "SELECT tid, last_seen, last_signin, last_tx, last_report FROM"
            " center_terminal_state WHERE tid LIKE 'S%' ORDER BY tid")],
        "meta": [tuple(r) for r in db.execute(
            "SELECT tid, batch, trace, mid FROM center_tx_meta WHERE tid LIKE 'S%'"
            " ORDER BY tid, trace")],
    }
    store.close()
    return out


def test_a_group_leaves_the_books_as_its_messages_one_by_one_would(pg, tmp_path):
    # a card spent from twice and a terminal's trace set three times in one group (one
    # statement per kind on PostgreSQL: summed, the last trace), notes of one terminal
    # merged; the rows the group read at its start followed by its own writes (a balance
    # spent, a trace now taken), on both backends
    for backend, paths in (("sqlite", (tmp_path / "g.db", tmp_path / "o.db")),
                           ("postgresql", (pg.new_database(), pg.new_database()))):
        grouped = _snapshot(str(paths[0]), True)
        alone = _snapshot(str(paths[1]), False)
        assert grouped == alone, backend
        # the second 2.00 from a card with 3.00 on it: 51; the same purchase sent again: 94
        assert grouped["codes"] == ["00"] * 7 + ["51", "94", "00"], backend
        cards = dict(grouped["cards"])
        assert cards[storm.CARD] == 100 * 21 * 10 - (100 + 250 + 300 + 40), backend
        assert cards[storm.card_of(50)] == 100
        assert len(grouped["meta"]) == 6 and len(grouped["state"]) == 4


def test_the_groups_bounded_wait_goes_with_its_begin_and_still_bounds_a_lock(pg):
    # set_wait before every group was a round trip of its own (SET lock_timeout): now it is
    # SET LOCAL in the group's first round trip, and a row held elsewhere still answers 96
    # within the wait
    import time

    import psycopg

    url = pg.new_database()
    storm.provision(url, 2, 5)
    store = Store(url)
    processor = Processor(store)
    terms = [storm.Term(t, i, storm.card_of(i)) for i, t in enumerate(storm.tids(2))]
    for t, rep in zip(terms, processor.handle_many(_items([t.sign_in_frame() for t in terms])),
                      strict=True):
        t.signed_in(hproc.encode(rep))
    count = _Counting(store)
    store.set_wait(2.0)
    reps = processor.handle_many(_items([t.purchase_frame() for t in terms]))
    assert [r[39] for r in reps] == ["00", "00"] and count.sent == 3
    holder = psycopg.connect(url)
    holder.execute("SELECT 1 FROM terminals WHERE tid = %s FOR UPDATE", (terms[0].tid,))
    try:
        store.set_wait(0.3)
        started = time.monotonic()
        reps = processor.handle_many(_items([terms[0].purchase_frame()]))
        assert reps[0][39] == "96" and time.monotonic() - started < 2.0
    finally:
        holder.rollback()
        holder.close()
    store.set_wait(2.0)
    assert processor.handle_many(_items([terms[0].purchase_frame()]))[0][39] == "00"
    store.close()


def test_a_message_through_the_host_costs_three_round_trips_and_faults_still_apply(pg):
    # before: the bounded wait (SET lock_timeout) and "is any fault armed?" were two more
    # round trips before every group; now both go with its BEGIN
    from posterm.host.server import start_in_thread
    from test_host_support import NOW, Terminal

    url = pg.new_database()
    host = start_in_thread(url, now=lambda: NOW)
    try:
        t = Terminal(host.address)
        assert t.sign_in()[39] == "00"
        count = _Counting(host.host.store)
        assert t.purchase(amount=101)[39] == "00"
        assert count.sent == 3, count.sent
        other = Store(url)
        other.set_fault(t.tid, "respond", "05", remaining=1)  # armed from outside
        other.close()
        assert t.purchase(amount=102)[39] == "05"  # the very next message
        assert t.purchase(amount=103)[39] == "00"
    finally:
        host.stop()
