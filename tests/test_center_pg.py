"""The back office and the center on PostgreSQL: the same month gives the same views as on
SQLite; the audit log is append-only there too; two center processes share one database
and the database serialises their transactions."""

import asyncio
import json
import subprocess
import sys
from datetime import date

import psycopg
import pytest

import pgserver
from posterm.center import db as cdb
from posterm.center import rules, storm, traffic
from test_center import run_cli

TODAY = date(2026, 11, 29)


@pytest.fixture(scope="module")
def pg():
    server = pgserver.Server()
    yield server
    server.stop()


def _views(c):
    terms = c.terminals()
    return {
        "usage": rules.usage(c, terms, TODAY),
        "inactive": rules.inactive(c, terms, TODAY),
        "abnormal": rules.abnormal(c, terms, TODAY),
        "risk": rules.risk(c, TODAY),
        "sheet": rules.sheet(c, terms, "2026-W48", TODAY),
    }


def test_the_same_month_gives_the_same_views_on_both_backends(pg, tmp_path):
    out = []
    for path in (str(tmp_path / "host.db"), pg.new_database()):
        c = cdb.Center(path)
        c.now = lambda: __import__("datetime").datetime(2026, 11, 29, 12, 0, 0)
        traffic.generate(c, 80, "2026-11", seed=3)
        views = _views(c)
        # terminal rows' own creation time is the provisioning run's clock: drop it
        out.append(json.dumps(views, sort_keys=True, default=str))
        c.close()
    assert out[0] == out[1]
    assert '"kind": "region"' in out[0] and '"pattern": "volume"' in out[0]


def test_audit_log_is_append_only_on_postgresql_and_actions_answer_the_terminal(pg):
    url = pg.new_database()
    c = cdb.Center(url)
    c.add_merchant("898310048990001", "测试商户")
    c.add_user("agent1", "agent", "secret1", ["898310048990001"])
    c.close()
    code, out, err = run_cli("--db", url, "suspend", "12345678", "--reason", "S01",
                             "--comment", "装修", "--as", "agent1")
    assert code == 0, err
    raw = psycopg.connect(url, autocommit=True)
    for sql in ("UPDATE center_audit SET comment = 'x'", "DELETE FROM center_audit"):
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            raw.execute(sql)
    raw.execute("ALTER TABLE center_audit DISABLE TRIGGER USER")
    raw.execute("UPDATE center_audit SET comment = 'nothing'")
    raw.close()
    code, out, _ = run_cli("--db", url, "audit", "--verify")
    assert code == 1 and "broken at entry 1" in out

    from test_host_support import NOW, Terminal
    from posterm.host.server import start_in_thread

    host = start_in_thread(url, now=lambda: NOW)
    try:
        assert Terminal(host.address).sign_in()[39] == "B1"
    finally:
        host.stop()


def test_two_center_processes_share_one_database(pg):
    url = pg.new_database()
    n, each = 40, 300
    storm.provision(url, n, 2 * each)
    start = cdb.Center(url).store.get_card(storm.CARD)["balance_fen"]
    procs = []
    try:
        addrs = []
        for _ in range(2):
            proc, addr = storm.start_center(url)
            procs.append(proc)
            addrs.append(addr)

        async def both():
            half = n // 2
            terms = [storm.Term(t, i) for i, t in enumerate(storm.tids(n))]
            groups = [terms[:half], terms[half:]]
            for group, addr in zip(groups, addrs, strict=True):
                for t in group:
                    await t.connect(*addr)
                    assert (await t.sign_in())[39] == "00"
            left = [2 * each]
            codes = []

            async def loop(t):
                while left[0] > 0:
                    left[0] -= 1
                    codes.append((await t.purchase(100))[39])

            await asyncio.gather(*(loop(t) for t in terms))
            for t in terms:
                t.close()
            return codes

        codes = asyncio.run(both())
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
    assert codes.count("00") == 2 * each
    c = cdb.Center(url)
    try:
        rows = c.db.execute("SELECT rrn FROM transactions WHERE tid LIKE 'S%%'").fetchall()
        assert len(rows) == 2 * each and len({r["rrn"] for r in rows}) == 2 * each
        assert c.store.get_card(storm.CARD)["balance_fen"] == start - 100 * 2 * each
    finally:
        c.close()


def test_posterm_host_serves_a_postgresql_database(pg):
    url = pg.new_database()
    proc = subprocess.Popen([sys.executable, "-m", "posterm.cli", "host", "--db", url,
                             "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "listening on 127.0.0.1:" in line and "postgresql://" in line
    finally:
        proc.terminate()
        proc.wait(10)
    bad = url.replace("/t_", "/missing_")
    r = subprocess.run([sys.executable, "-m", "posterm.cli", "host", "--db", bad,
                        "terminals", "list"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "error" in r.stderr and "Traceback" not in r.stderr


def test_a_failing_note_does_not_cost_the_message_its_transaction_on_postgresql(pg):
    from test_host_support import NOW, Terminal
    from posterm.host.server import start_in_thread

    url = pg.new_database()
    cdb.Center(url).close()
    raw = psycopg.connect(url, autocommit=True)
    raw.execute("DROP TABLE center_tx_meta")
    raw.execute("CREATE TABLE center_tx_meta (x TEXT)")  # the note's insert now fails
    host = start_in_thread(url, now=lambda: NOW)
    try:
        t = Terminal(host.address)
        assert t.sign_in()[39] == "00"
        assert t.purchase(amount=1234)[39] == "00"
    finally:
        host.stop()
    n = raw.execute("SELECT COUNT(*) FROM transactions WHERE amount_fen = 1234"
                    " AND result = '00'").fetchone()[0]
    raw.close()
    assert n == 1, "the purchase is on the books although its note failed"


async def test_the_console_reads_a_postgresql_database(pg):
    from textual.widgets import DataTable

    from posterm.center import app as capp

    url = pg.new_database()
    c = cdb.Center(url)
    traffic.generate(c, 40, "2026-11", seed=1)
    mids = c.user_mids("agent1")
    want = [t["tid"] for t in c.terminals(mids)]
    c.close()
    app = capp.CenterApp(url, today=TODAY)
    async with app.run_test(size=(150, 45)) as pilot:
        await pilot.click("#user")
        await pilot.press(*"agent1", "tab", *traffic.PASSWORD, "enter")
        await pilot.pause()
        assert isinstance(app.screen, capp.AgentScreen)
        table = app.screen.query_one("#terminals", DataTable)
        assert [table.get_row_at(i)[0] for i in range(table.row_count)] == want
        await pilot.press("s")
        await pilot.pause()
        await pilot.press(*"via postgresql", "enter")
        await pilot.pause()
    c = cdb.Center(url)
    assert c.state_of(c.terminal(want[0])) == "suspended"
    assert c.audit()[-1]["comment"] == "via postgresql"
    c.close()
