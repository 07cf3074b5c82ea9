"""The host's SQLite write-ahead log is copied back into the database by a thread of its own
(posterm.host.server.Checkpointer), never inside one of the host's commits: SQLite's own
checkpoint runs in the commit that fills the log past 1,000 pages, and its fsyncs (20-25 ms
here) landed in the latency of a whole group of messages."""

import sqlite3
import time

from posterm.host import server
from test_host_support import NOW, Terminal


def _wait(what, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not what() and time.monotonic() < deadline:
        time.sleep(0.02)
    return what()


def test_the_host_commits_without_checkpointing_and_its_thread_checkpoints(tmp_path):
    db = str(tmp_path / "host.db")
    host = server.start_in_thread(db, now=lambda: NOW)
    try:
        store = host.host.store
        # the host's own connection never checkpoints in a commit
        assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        t = Terminal(host.address)
        assert t.sign_in()[39] == "00"
        for _ in range(5):
            assert t.purchase(amount=100)[39] == "00"
        ck = host.host._checkpointer
        # its thread copied what the purchases wrote back into the database file
        assert _wait(lambda: ck.copied > 0 and ck.last[1] == ck.last[2])
    finally:
        host.stop()
    assert not host.host._checkpointer  # stopped with the host


def test_a_checkpoint_that_cannot_run_is_tried_again_and_costs_no_message(tmp_path):
    """A reader holding the log (a back-office query, a backup) keeps a checkpoint from
    finishing: messages are served meanwhile and the log is copied once it lets go."""
    db = str(tmp_path / "host.db")
    host = server.start_in_thread(db, now=lambda: NOW)
    reader = sqlite3.connect(db, isolation_level=None)
    try:
        t = Terminal(host.address)
        assert t.sign_in()[39] == "00"
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM transactions").fetchone()  # a snapshot held
        for _ in range(5):
            assert t.purchase(amount=100)[39] == "00"
        ck = host.host._checkpointer
        done = ck.done
        # the frames after the reader's snapshot cannot be copied while it holds it
        assert _wait(lambda: ck.done >= done + 2)
        assert ck.last[2] < ck.last[1]
        reader.execute("COMMIT")
        assert _wait(lambda: ck.last[1] == ck.last[2])
        assert t.purchase(amount=100)[39] == "00"
    finally:
        reader.close()
        host.stop()
