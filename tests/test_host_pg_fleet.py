"""A fleet of centers on one PostgreSQL database (issue 16.5): writers serialised per terminal
and per card by row locks, not by one lock for everything, so several center processes run
side by side, and what each answers is what is stored.

- several center processes: no purchase lost, no money spent twice, no reference number
  given twice, a trace sent to two centers at once approved once;
- faults injected at the database layer in the middle of a group of messages (a statement
  error, the connection killed by the server, the connection lost during COMMIT): what was
  answered 00 is stored, nothing else is, and the center goes on serving.

On the private server of tests/pgserver.py; the faults are triggers in that database."""

import asyncio

import psycopg
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


def _signed_in(url, n):
    """A store and processor on a new database with n storm terminals signed in."""
    storm.provision(url, n, 50)
    store = Store(url)
    processor = Processor(store)
    terms = [storm.Term(t, i, storm.card_of(i)) for i, t in enumerate(storm.tids(n))]
    reps = processor.handle_many(_items([t.sign_in_frame() for t in terms]))
    for t, rep in zip(terms, reps, strict=True):
        assert rep[39] == "00"
        t.signed_in(hproc.encode(rep))
    return store, processor, terms


def _books(url):
    with psycopg.connect(url) as c:
        rows = c.execute("SELECT tid, trace, amount_fen, result, rrn FROM transactions"
                         " WHERE tid LIKE 'S%' ORDER BY tid, trace").fetchall()
        cards = dict(c.execute("SELECT pan, balance_fen FROM cards").fetchall())
    return rows, cards


def _trigger(url, name, when, body, deferred=False):
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(f"CREATE FUNCTION {name}() RETURNS trigger AS $$ BEGIN {body}; RETURN NEW;"
                  " END $$ LANGUAGE plpgsql")
        kind = ("CONSTRAINT TRIGGER", "AFTER INSERT", " DEFERRABLE INITIALLY DEFERRED") \
            if deferred else ("TRIGGER", "BEFORE INSERT", "")
        c.execute(f"CREATE {kind[0]} {name} {kind[1]} ON transactions{kind[2]} FOR EACH ROW"
                  f" WHEN ({when}) EXECUTE FUNCTION {name}()")


def _group_of_purchases(processor, terms, amounts):
    frames = [t.purchase_frame(a) for t, a in zip(terms, amounts, strict=True)]
    return [rep[39] if isinstance(rep, dict) else rep
            for rep in processor.handle_many(_items(frames))]


def test_a_statement_failing_mid_group_costs_only_its_own_message(pg):
    url = pg.new_database()
    store, processor, terms = _signed_in(url, 5)
    _, before = _books(url)
    _trigger(url, "refuse_666", "NEW.amount_fen = 666",
             "RAISE EXCEPTION 'injected: no room for this row'")
    codes = _group_of_purchases(processor, terms, [100, 200, 666, 300, 400])
    assert codes == ["00", "00", "96", "00", "00"]
    rows, after = _books(url)
    assert [(r[0], r[2], r[3]) for r in rows] == [
        (terms[i].tid, a, "00") for i, a in ((0, 100), (1, 200), (3, 300), (4, 400))]
    for i, a in enumerate((100, 200, 0, 300, 400)):
        assert after[terms[i].card] == before[terms[i].card] - a
    assert len({r[4] for r in rows}) == 4
    # the next group is served as usual
    assert _group_of_purchases(processor, terms[:2], [500, 600]) == ["00", "00"]
    store.close()


def test_the_server_killing_the_connection_mid_group_loses_nothing_answered(pg):
    url = pg.new_database()
    store, processor, terms = _signed_in(url, 4)
    _, before = _books(url)
    _trigger(url, "kill_667", "NEW.amount_fen = 667",
             "PERFORM pg_terminate_backend(pg_backend_pid())")
    codes = _group_of_purchases(processor, terms, [100, 667, 200, 300])
    # the group died with the connection; the center reconnected and served each alone:
    # the one whose statement kills the connection is answered 96, the others 00
    assert codes == ["00", "96", "00", "00"]
    rows, after = _books(url)
    assert [(r[0], r[2]) for r in rows] == [(terms[0].tid, 100), (terms[2].tid, 200),
                                           (terms[3].tid, 300)]
    assert after[terms[1].card] == before[terms[1].card]
    assert _group_of_purchases(processor, terms[:2], [400, 500]) == ["00", "00"]
    store.close()


def test_a_connection_lost_during_commit_is_answered_nothing_and_reversed_after(pg, caplog):
    import logging

    from posterm.host.server import start_in_thread

    caplog.set_level(logging.INFO)
    from test_host_support import NOW, Terminal

    url = pg.new_database()
    host = start_in_thread(url, now=lambda: NOW)
    try:
        t = Terminal(host.address)
        assert t.sign_in()[39] == "00"
        _trigger(url, "kill_at_commit", "NEW.amount_fen = 668 AND NEW.mti = '0200'",
                 "PERFORM pg_terminate_backend(pg_backend_pid())", deferred=True)
        req = t.financial("0200", "000000", "22", amount=668)
        with pytest.raises(ConnectionError):  # COMMIT's outcome unknown: no answer at all
            t.send(req)
        with psycopg.connect(url) as c:
            assert c.execute("SELECT COUNT(*) FROM transactions WHERE amount_fen = 668"
                             ).fetchone()[0] == 0
        # the terminal reverses what got no answer: nothing to undo (25), nothing moved;
        # and the center, on a new connection of its own, serves on
        assert t.reversal_of(req)[39] == "25"
        assert t.purchase(amount=1234)[39] == "00"
    finally:
        host.stop()
    # the log says what happened to that request, not "internal error" (it is no bug)
    said = [r.getMessage() for r in caplog.records]
    assert not [m for m in said if "internal error" in m], said
    lost = [m for m in said if "lost during COMMIT" in m and "not answered" in m]
    assert [m for m in lost if "0200 trace " + req[11] in m], said


def test_centers_on_one_database_lose_no_purchase_and_reuse_no_trace_or_rrn(pg):
    url = pg.new_database()
    n, each = 18, 12
    storm.provision(url, n, n * each)
    procs, addrs = [], []
    try:
        for _ in range(3):
            proc, addr = storm.start_center(url, ("--quiet",))
            procs.append(proc)
            addrs.append(addr)
        _, before = _books(url)

        async def fleet():
            # even terminals spend from one shared card (every center waits for its row),
            # odd ones from their own
            terms = [storm.Term(t, i, storm.CARD if i % 2 == 0 else storm.card_of(i))
                     for i, t in enumerate(storm.tids(n))]
            for i, t in enumerate(terms):
                await t.connect(*addrs[i % 3])
                assert (await t.sign_in())[39] == "00"
            codes = []

            async def buy(t):
                for _ in range(each):
                    codes.append((t.tid, (await t.purchase(100))[39]))

            await asyncio.gather(*(buy(t) for t in terms))
            # the same purchase (same trace) sent to two centers at once: approved once
            twins = []
            for i, t in enumerate(terms[:6]):
                other = storm.Term(t.tid, i, t.card)
                await other.connect(*addrs[(i + 1) % 3])
                other.mak, other.batch = t.mak, t.batch
                frame = t.purchase_frame(100)
                a, b = await asyncio.gather(t.send(frame), other.send(frame))
                twins.append((t.tid, iso8583.decode(a)[39], iso8583.decode(b)[39]))
                other.close()
            for t in terms:
                t.close()
            return terms, codes, twins

        terms, codes, twins = asyncio.run(fleet())
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)
    assert [c for _, c in codes] == ["00"] * (n * each)
    for tid, a, b in twins:
        assert sorted((a, b)) == ["00", "94"], (tid, a, b)
    rows, after = _books(url)
    approved = [r for r in rows if r[3] == "00"]
    assert len(approved) == n * each + len(twins)
    assert len({(r[0], r[1]) for r in rows}) == len(rows)  # a trace once per terminal
    assert len({r[4] for r in approved}) == len(approved)  # every RRN once
    spent = {}
    for r in approved:
        card = next(t.card for t in terms if t.tid == r[0])
        spent[card] = spent.get(card, 0) + r[2]
    for card, fen in spent.items():
        assert after[card] == before[card] - fen, card


def test_a_lock_on_one_terminals_row_holds_that_terminal_only(pg):
    """Writers wait per terminal: while another session holds terminal A's row (as a
    center process in the middle of A's message does), terminal B is served at once by
    another center process, and A as soon as the row is free; the back office's own lock
    (an agent's action in progress) holds no terminal's messages at all."""
    import threading
    import time

    from posterm.center import pg as cpg
    from posterm.host.server import start_in_thread
    from test_host_support import NOW, Terminal

    url = pg.new_database()
    storm.provision(url, 2, 10)
    hosts = [start_in_thread(url, now=lambda: NOW) for _ in range(2)]
    try:
        a = Terminal(hosts[0].address, tid=storm.tids(2)[0])
        b = Terminal(hosts[1].address, tid=storm.tids(2)[1])
        assert a.sign_in()[39] == b.sign_in()[39] == "00"
        holder = psycopg.connect(url)
        holder.execute(f"SELECT pg_advisory_xact_lock({cpg.WRITE_LOCK})")
        holder.execute("SELECT * FROM terminals WHERE tid = %s FOR UPDATE", (a.tid,))
        got = {}

        def buy_a():
            got["a"] = (a.purchase(pan=storm.card_of(0), amount=100)[39], time.monotonic())

        thread = threading.Thread(target=buy_a)
        thread.start()
        time.sleep(0.3)
        started = time.monotonic()
        assert b.purchase(pan=storm.card_of(1), amount=100)[39] == "00"
        assert time.monotonic() - started < 2.0
        assert "a" not in got  # still waiting for its row
        released = time.monotonic()
        holder.rollback()
        thread.join(10)
        assert got["a"][0] == "00" and got["a"][1] >= released
        holder.close()
    finally:
        for h in hosts:
            h.stop()


def test_a_center_makes_the_back_offices_tables_before_it_serves(pg):
    # Center processes starting together made them inside their first groups of messages:
    # two CREATE OR REPLACE TRIGGER at once fail on PostgreSQL, and a sign-in of a storm
    # on two fresh centers was answered 96.  Now each makes them (when missing) before it
    # listens, under the back office's lock, in a transaction of its own.
    from posterm.host.server import start_in_thread

    url = pg.new_database()
    host = start_in_thread(url)
    try:
        with psycopg.connect(url) as c:
            assert c.execute("SELECT to_regclass('center_terminal_state') IS NOT NULL"
                             ).fetchone()[0]
    finally:
        host.stop()
