"""`posterm host storm`: simulated terminals against a real center process over loopback."""

import json
import sqlite3

from posterm.center import storm
from posterm.host import cli as host_cli


def run(*argv):
    import io

    import argparse

    p = argparse.ArgumentParser(prog="posterm host")
    host_cli.configure(p)
    out, err = io.StringIO(), io.StringIO()
    code = host_cli.run(p.parse_args(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


def test_a_storm_signs_in_reports_and_buys_and_the_center_has_it_all(tmp_path):
    # two center processes on one address and one SQLite file (as the bench's storm), taking
    # turns at its write lock: nothing lost, nothing twice
    db = str(tmp_path / "host.db")
    code, out, err = run("storm", "--db", db, "--terminals", "300", "--purchases", "400",
                         "--concurrency", "16", "--workers", "2", "--format", "json")
    assert code == 0, err
    rows = {r["phase"]: r for r in json.loads(out)}
    assert (rows["sign-in"]["ok"], rows["sign-in"]["errors"]) == (300, 0)
    assert (rows["heartbeat"]["ok"], rows["purchase"]["ok"]) == (300, 400)
    assert rows["purchase"]["per_second"] > 0 and rows["purchase"]["p99_ms"] > 0
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM transactions WHERE tid LIKE 'S%' AND"
                       " result = '00'").fetchone()[0] == 400
    reported = con.execute("SELECT COUNT(*) FROM center_terminal_state WHERE tid LIKE 'S%'"
                           " AND last_report LIKE '%storm%'").fetchone()[0]
    assert reported == 300
    rrns = con.execute("SELECT COUNT(DISTINCT rrn), COUNT(*) FROM transactions").fetchone()
    assert rrns[0] == rrns[1] >= 400  # one sequence across the two processes
    # 300 terminals from one address would pass the center's per-peer cap: two sources
    assert len({storm.Term(t, i).source for i, t in enumerate(storm.tids(300))}) == 2


def test_storm_options_are_checked_before_anything_runs(tmp_path):
    code, _, err = run("storm", "--terminals", "0")
    assert code == 2 and "--terminals: must be at least 1" in err
    code, _, err = run("storm", "--connect", "127.0.0.1:5800")
    assert code == 2 and "give the center's --db or --data" in err
    code, _, err = run("storm", "--connect", "nowhere", "--db", str(tmp_path / "h.db"))
    assert code == 2 and "HOST:PORT" in err


def test_the_codec_bench_case_against_iso8583sim_checks_its_round_trip_and_measures():
    from posterm.center import benchcases

    fig = benchcases.codec_vs_iso8583sim(20, 1)
    assert fig["iso8583sim_msgs_per_s"] == max(fig["iso8583sim_bcd_wire_msgs_per_s"],
                                               fig["iso8583sim_string_msgs_per_s"]) > 0
    assert fig["codec_ratio_vs_iso8583sim"] > 0
    # the messages it is given are the CUP fixture's values, field for field
    from pos import iso8583
    from posterm.bench import frames

    theirs = benchcases._their_messages()
    ours = [iso8583.decode(b) for b in frames.bodies()]
    assert [m.mti for m in theirs] == [m["mti"] for m in ours] == ["0200", "0810"]
    assert sorted(theirs[0].fields) == sorted([0] + [k for k in ours[0] if k != "mti"])
    assert theirs[0].fields[64] == ours[0][64].hex().upper()


def test_the_bench_storms_both_backends_and_reports_what_each_message_cost(monkeypatch):
    import pgserver
    from posterm.center import benchcases

    pgserver.need()  # the bench's private PostgreSQL server needs Debian's binaries
    monkeypatch.delenv("POSTERM_BENCH_PG", raising=False)
    fig = benchcases.storm_figures(True)
    assert fig["storm_signin_errors"] == 0
    for key in ("storm_signin_p99_ms", "storm_center_cpu_ms_per_signin",
                "storm_client_cpu_ms_per_signin", "storm_client_cpu_ms_per_purchase",
                "storm_purchases_per_s_sqlite", "storm_purchase_p99_ms_sqlite",
                "storm_center_cpu_ms_per_purchase_sqlite", "storm_purchases_per_s_postgresql",
                "storm_purchase_p99_ms_postgresql",
                "storm_center_cpu_ms_per_purchase_postgresql",
                "storm_db_cpu_ms_per_purchase_postgresql"):
        assert isinstance(fig[key], (int, float)) and fig[key] > 0, (key, fig)
    for name in ("sqlite", "postgresql"):  # the load average the figures were taken at
        before, after = fig[f"storm_load_{name}"].split(" -> ")
        assert float(before) >= 0 and float(after) >= 0
    assert not [k for k in fig if k.startswith("_note_")], fig  # every purchase got 00
    # SQLite's storm against a center process a core (two here), PostgreSQL's against one
    assert fig["storm_center_processes_sqlite"] == benchcases.sqlite_workers() >= 1
    assert fig["storm_center_processes_postgresql"] == 1


def test_faulty_connections_during_the_purchases_cost_no_purchase_and_hang_nothing(tmp_path):
    """Frames cut off mid-frame, a length alone, lengths out of range, purchases with bytes
    changed, purchases whose connection closes before the answer, all the time the purchases
    run: every purchase is answered 00, no faulty connection is left hanging, the center
    process is alive and signs a terminal in after it all."""
    db = str(tmp_path / "host.db")
    code, out, err = run("storm", "--db", db, "--terminals", "60", "--purchases", "600",
                         "--concurrency", "8", "--faults", "6", "--no-heartbeat",
                         "--format", "json")
    assert code == 0, (out, err)
    buy = {r["phase"]: r for r in json.loads(out)}["purchase"]
    assert (buy["ok"], buy["errors"], buy["other"]) == (600, 0, {})
    assert buy["faulty_connections"] >= 5 * 3  # every kind, several times
    assert buy["fault_stalls"] == 0 and buy["signin_after_faults"] == "00"
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM transactions WHERE tid LIKE 'S%' AND"
                       " result = '00' AND tid <= 'S0000008'").fetchone()[0] == 600
    code, _, err = run("storm", "--faults", "-1")
    assert code == 2 and "--faults: must be at least 0" in err


def test_a_serving_process_collects_rarely_and_the_storm_puts_the_collector_back(tmp_path):
    # Python's defaults (700, 10, 10) collected a storm's ~20,000 young objects ~50 times,
    # up to 15-18 ms each: the purchases' p99.  A serving process freezes what startup made
    # and collects every 20,000 new objects; the storm does so for its phases only.
    import gc

    from posterm.host import server

    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    old = server.tune_gc()
    try:
        assert gc.get_threshold() == server.GC_THRESHOLDS and gc.get_freeze_count() > 0
    finally:
        server.untune_gc(old)
    assert gc.get_threshold() == before and gc.get_freeze_count() <= frozen
    code, _out, err = run("storm", "--db", str(tmp_path / "h.db"), "--terminals", "20",
                          "--purchases", "20", "--format", "json")
    assert code == 0, err
    assert gc.get_threshold() == before


def test_the_sign_in_burst_names_a_silent_a_closing_and_a_missing_center_never_hangs():
    # the sign-in phase's own loop (plain sockets and epoll): every way a center fails a
    # terminal is that terminal's error, counted from its connect(), and the phase ends
    import socket
    import threading

    terms = [storm.Term(t, i) for i, t in enumerate(storm.tids(3))]
    frames = [t.sign_in_frame() for t in terms]

    def burst(addr, wait=0.3):
        return storm._burst(addr[0], addr[1], storm._bound_sockets(terms), frames, wait)

    silent = socket.create_server(("127.0.0.1", 0), backlog=8)  # the kernel connects, no one reads
    with silent:
        res = burst(silent.getsockname())
    assert [r[2] for r in res] == ["TimeoutError: no answer within 0.3 s"] * 3
    assert all(0.3 <= r[0] < 5 for r in res)

    closing = socket.create_server(("127.0.0.1", 0), backlog=8)

    def close_each():
        for _ in range(3):
            conn, _addr = closing.accept()
            conn.recv(100)
            conn.close()

    with closing:
        t = threading.Thread(target=close_each, daemon=True)
        t.start()
        res = burst(closing.getsockname(), wait=5)
        t.join(5)
    assert {r[2] for r in res} <= {"ConnectionError: closed by the center",
                                   "ConnectionResetError: [Errno 104] Connection reset by peer"}
    assert all(r[3] is None for r in res)
    gone = socket.create_server(("127.0.0.1", 0))
    addr = gone.getsockname()
    gone.close()  # nothing listens there any more
    res = burst(addr, wait=5)
    assert all(r[2] and "refused" in r[2] for r in res), res
    lat, codes, errors = storm._tally(res)
    assert codes == {} and len(errors) == 3
