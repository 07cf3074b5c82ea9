"""The back-office console (posterm center) driven with Textual's Pilot over a generated
month: the login gate, and each role's main view and actions, checked against the database."""

import csv
import shutil
from datetime import date

import pytest
from openpyxl import load_workbook
from textual.widgets import DataTable, Label

from posterm.center import app as capp
from posterm.center import db as cdb
from posterm.center import rules, traffic

TODAY = date(2026, 11, 29)
SIZE = (150, 45)


@pytest.fixture(scope="module")
def month_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("console") / "host.db"
    c = cdb.Center(path)
    plan = traffic.generate(c, 64, "2026-11", seed=7)
    c.close()
    return path, plan


@pytest.fixture
def db(month_db, tmp_path):
    path = tmp_path / "host.db"
    shutil.copy(month_db[0], path)
    return str(path)


async def login(pilot, name, password=traffic.PASSWORD):
    for field in ("#user", "#password"):
        pilot.app.screen.query_one(field).value = ""
    await pilot.click("#user")
    await pilot.press(*name, "tab", *password, "enter")
    await pilot.pause()


def rows(app, table_id):
    table = app.screen.query_one(f"#{table_id}", DataTable)
    return [table.get_row_at(i) for i in range(table.row_count)]


async def test_nothing_is_reachable_without_logging_in(db):
    app = capp.CenterApp(db, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, capp.LoginScreen)
        await login(pilot, "manager1", "wrong-password")
        assert isinstance(app.screen, capp.LoginScreen)
        assert str(app.screen.query_one("#login-error", Label).render()) == "用户名或密码错误"
        await pilot.press("s", "f", "a", "e")
        assert isinstance(app.screen, capp.LoginScreen) and not app.screen.query(DataTable)
        await login(pilot, "nobody")
        assert isinstance(app.screen, capp.LoginScreen)
        await login(pilot, "manager1")
        assert isinstance(app.screen, capp.ManagerScreen)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, capp.LoginScreen)


async def test_manager_sees_usage_chart_inactive_abnormal_and_fills_the_sheet(
        db, month_db, tmp_path):
    plan = month_db[1]
    app = capp.CenterApp(db, today=TODAY, export_dir=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, "manager1")
        c = app.center
        mids = c.user_mids("manager1")
        terms = c.terminals(mids)
        shown = rows(app, "terminals")
        assert [r[0] for r in shown] == [t["tid"] for t in terms]
        use = {u["tid"]: u for u in rules.usage(c, terms, TODAY)}
        first = shown[0]
        assert first[3] == str(use[first[0]]["today_count"])
        assert first[8] == capp.yuan(use[first[0]]["month_fen"])
        chart = app.screen.query_one("#chart")
        assert chart.series == rules.daily_counts(c, first[0], TODAY)
        await pilot.press("down")
        await pilot.pause()
        assert chart.series == rules.daily_counts(c, shown[1][0], TODAY)
        assert {r[0] for r in rows(app, "inactive")} == {
            t for t in plan.idle | plan.idle_tx if plan.mid_of[t] in mids}
        assert {(r[0], r[1], r[2]) for r in rows(app, "abnormal")} == {
            a for a in plan.abnormal if plan.mid_of[a[0]] in mids and a[1] >= "2026-11-23"}
        # the sheet: pick its first row, fill it in
        app.screen.query_one("#tabs").active = "tab-sheet"
        await pilot.pause()
        sheet = rows(app, "sheet-table")
        assert sheet, "the week has problem terminals"
        table = app.screen.query_one("#sheet-table", DataTable)
        table.focus()
        table.move_cursor(row=0)
        await pilot.pause()
        tid = sheet[0][0]
        await pilot.press("e")
        await pilot.pause()
        await pilot.click("#f-problem")
        await pilot.press(*"no sign-in")
        await pilot.click("#f-follow_up")
        await pilot.press(*"2026-12-02")
        await pilot.click("#ok")
        await pilot.pause()
        entry = c.sheet_entries("2026-W48")[tid]
        assert (entry["problem"], entry["follow_up"], entry["by_user"]) == (
            "no sign-in", "2026-12-02", "manager1")
        assert next(r for r in rows(app, "sheet-table") if r[0] == tid)[4] == "no sign-in"
        await pilot.press("x")
        await pilot.pause()
    base = tmp_path / "sheet-manager1-2026-W48"
    with open(f"{base}.csv", encoding="utf-8-sig") as f:
        got = list(csv.reader(f))
    assert got[0][1] == "终端号" and any(r[1] == tid and r[6] == "no sign-in" for r in got)
    ws = load_workbook(f"{base}.xlsx").active
    assert [("" if v is None else str(v)) for v in next(ws.iter_rows(values_only=True))] == got[0]


async def test_agent_suspends_with_a_reason_and_binds_a_terminal(db):
    app = capp.CenterApp(db, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, "agent1")
        assert isinstance(app.screen, capp.AgentScreen)
        c = app.center
        mids = c.user_mids("agent1")
        shown = rows(app, "terminals")
        assert {r[1] for r in shown} <= set(mids) and len(shown) == len(c.terminals(mids))
        tid = shown[0][0]
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, capp.ActionDialog)
        await pilot.click("#ok")  # no comment: refused, the dialog stays
        await pilot.pause()
        assert isinstance(app.screen, capp.ActionDialog)
        await pilot.click("#comment")
        await pilot.press(*"merchant away", "enter")
        await pilot.pause()
        assert isinstance(app.screen, capp.AgentScreen)
        assert c.state_of(c.terminal(tid)) == "suspended"
        log = c.audit(tid)[-1]
        assert (log["user"], log["action"], log["reason"], log["comment"]) == (
            "agent1", "suspend", "S01", "merchant away")
        assert rows(app, "terminals")[0][3] == "suspended"
        await pilot.press("a")
        await pilot.pause()
        assert [r[3] for r in rows(app, "audit-table")] == ["suspend"]
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("b")
        await pilot.pause()
        await pilot.click("#f-tid")
        await pilot.press(*"30000001")
        await pilot.click("#ok")
        await pilot.pause()
        assert isinstance(app.screen, capp.MessageDialog)
        text = str(app.screen.query_one("#message").render())
        tmk = c.store.get_terminal("30000001")["tmk"]
        assert f"TMK {tmk}" in text and "KCV " in text and c.terminal("30000001")["mid"] == mids[0]


async def test_risk_sees_the_hits_and_freezes_from_one(db, month_db):
    plan = month_db[1]
    app = capp.CenterApp(db, today=TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, "risk1")
        assert isinstance(app.screen, capp.RiskScreen)
        c = app.center
        hits = rules.risk(c, TODAY)
        assert [r[0] for r in rows(app, "hits")] == [h["id"] for h in hits]
        assert {r[0] for r in rows(app, "hits") if r[1] == "region"} == {
            f"J{a}-{b}" for _, (a, b) in plan.jumps}
        first = hits[0]
        assert [r[0] for r in rows(app, "hit-txs")] == [str(t["id"]) for t in first["txs"]]
        txs = app.screen.query_one("#hit-txs", DataTable)
        txs.focus()
        await pilot.press("down")  # the hit's second transaction: freeze its terminal
        await pilot.pause()
        tid = first["txs"][1]["tid"]
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, capp.ActionDialog)
        await pilot.click("#ok")
        await pilot.pause()
        assert c.state_of(c.terminal(tid)) == "frozen"
        log = c.audit(tid)[-1]
        assert (log["user"], log["action"], log["reason"], log["comment"]) == (
            "risk1", "freeze", "F01", f"跳码 {first['id']}")


def test_console_and_serve_refuse_a_bad_day_clearly(db):
    from test_center import run_cli

    for cmd in ((), ("serve",)):
        code, _, err = run_cli("--db", db, *cmd, *(("--today", "tomorrow")))
        assert code == 2 and "--today: expected YYYY-MM-DD" in err


async def test_a_database_without_users_says_how_to_add_one(tmp_path):
    c = cdb.Center(tmp_path / "host.db")
    c.close()
    app = capp.CenterApp(str(tmp_path / "host.db"), today=TODAY, lang="en")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        text = str(app.screen.query_one("#login-error", Label).render())
        assert "posterm center users add" in text
        assert isinstance(app.screen, capp.LoginScreen)
