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
    # before: a sign-in's key update dropped every row the group had read and locked, so
    # each next sign-in of the group read its terminal again (one round trip a message)
    assert large["sign-in"] <= 5 and large["purchase"] <= 5, large
