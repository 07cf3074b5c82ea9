"""Group commit on SQLite: a group's reference numbers are counted in memory while the group
holds the write lock and written once before its commit; a group that fails leaves the
counter as it was, and a message the storage layer refuses mid-group costs only itself."""

import sqlite3

from pos import iso8583
from posterm.center import storm
from posterm.host import processor as hproc
from posterm.host.processor import Processor
from posterm.host.store import Store


def _items(frames):
    out = []
    for frame in frames:
        body = iso8583.unpack_frame(frame)[2]
        out.append((iso8583.decode(body), body, {}))
    return out


def _counter(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT name, value FROM counters WHERE name LIKE 'rrn:%'"
                           ).fetchall()
    finally:
        con.close()


def test_a_groups_rrns_follow_on_and_a_refused_message_costs_only_itself(tmp_path):
    db = str(tmp_path / "host.db")
    storm.provision(db, 5, 50)
    store = Store(db)
    processor = Processor(store)
    terms = [storm.Term(t, i, storm.card_of(i)) for i, t in enumerate(storm.tids(5))]
    reps = processor.handle_many(_items([t.sign_in_frame() for t in terms]))
    signin_rrns = [r[37] for r in reps]
    for t, rep in zip(terms, reps, strict=True):
        t.signed_in(hproc.encode(rep))
    seqs = [int(r[-6:]) for r in signin_rrns]
    assert seqs == list(range(seqs[0], seqs[0] + 5))  # one group: numbers one after another
    [(name, value)] = _counter(db)
    assert value == seqs[-1]  # written once, before the commit
    con = sqlite3.connect(db)
    con.execute("CREATE TRIGGER refuse BEFORE INSERT ON transactions WHEN NEW.amount_fen = 666"
                " BEGIN SELECT RAISE(ABORT, 'injected: disk says no'); END")
    con.commit()
    con.close()
    frames = [t.purchase_frame(a) for t, a in zip(terms, (100, 200, 666, 300, 400),
                                                     strict=True)]
    reps = processor.handle_many(_items(frames))
    assert [r[39] for r in reps] == ["00", "00", "96", "00", "00"]
    rrns = [r[37] for r in reps if r[39] == "00"]
    # the group was rolled back and served again one by one: its numbers were not kept
    # for the rolled-back attempt, and none is given twice
    assert len(set(rrns + signin_rrns)) == 9
    assert [int(r[-6:]) for r in rrns] == list(range(seqs[-1] + 1, seqs[-1] + 5))
    assert _counter(db) == [(name, seqs[-1] + 4)]
    con = sqlite3.connect(db)
    stored = con.execute("SELECT rrn FROM transactions WHERE result = '00' ORDER BY rrn"
                         ).fetchall()
    con.close()
    assert [r[0] for r in stored] == sorted(rrns)
    store.close()


def test_a_fleets_sign_in_keys_drawn_before_the_lock_are_fresh_and_under_the_tmk_inside(
        tmp_path):
    # keys_ahead (a fleet of centers on one SQLite file): a group's sign-in keys are drawn
    # before its write lock, under the TMKs read then; inside the lock the terminal's row
    # decides: a TMK changed in between (another center re-keying the terminal) gets keys
    # drawn again under the new one, never keys the terminal cannot decrypt
    from pos import des
    from test_host_support import unsign_keys

    db = str(tmp_path / "host.db")
    storm.provision(db, 4, 0)
    store = Store(db)
    processor = Processor(store)
    processor.keys_ahead = True
    terms = [storm.Term(t, i) for i, t in enumerate(storm.tids(4))]
    items = _items([t.sign_in_frame() for t in terms])
    ahead = processor._keys_ahead(items)
    assert len(ahead) == 4  # drawn for all four before any unit of work
    reps = processor.handle_many(items)
    assert [r[39] for r in reps] == ["00"] * 4
    keys = [unsign_keys(r[62], storm.TMK) for r in reps]
    assert len({k for pair in keys for k in pair}) == 8  # fresh: no key given twice
    row = store.get_terminal(terms[0].tid)
    assert row["mak"] == keys[0][1].hex().upper()  # what was stored is what was sent

    # the TMK read before the lock is stale by the time the group holds it
    new_tmk = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    old_rows = store.key_rows([terms[1].tid])
    store.configure_terminal(terms[1].tid, tmk=new_tmk.hex().upper())
    store.key_rows = lambda tids: {tid: old_rows[terms[1].tid] for tid in tids}
    items = _items([terms[1].sign_in_frame(), terms[1].sign_in_frame()])
    reps = processor.handle_many(items)
    assert [r[39] for r in reps] == ["00", "00"]
    for rep in reps:
        pik, mak = unsign_keys(rep[62], new_tmk)  # KCVs checked under the new TMK
        assert des.kcv(pik) == rep[62][16:20]
    store.close()
