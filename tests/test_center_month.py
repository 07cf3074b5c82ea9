"""A scripted month of traffic (posterm.center.traffic) and what each role sees in it: the
inactive and abnormal lists, every planted 跳码 found and none invented, the weekly tracking
sheet (edited, exported as CSV and XLSX and read back), the thresholds as settings."""

import csv
import io
import json
import shutil
from datetime import date

import pytest
from openpyxl import load_workbook

from posterm.center import db as cdb
from posterm.center import rules, traffic
from test_center import run_cli

TODAY = date(2026, 11, 30)


@pytest.fixture(scope="module")
def month_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("month") / "host.db"
    c = cdb.Center(path)
    plan = traffic.generate(c, 240, "2026-11", seed=16)
    c.close()
    return path, plan


@pytest.fixture
def month(month_db, tmp_path):
    """A private copy of the month per test (tests change settings, sheets, states)."""
    src, plan = month_db
    path = tmp_path / "host.db"
    shutil.copy(src, path)
    c = cdb.Center(path)
    yield c, plan
    c.close()


def _mine(c, plan):
    return [t for t in c.terminals() if t["tid"] in plan.mid_of]


def test_the_month_has_a_few_hundred_terminals_and_its_plan(month):
    c, plan = month
    assert plan.terminals == 240 and plan.transactions > 50000
    assert len(plan.idle) == len(plan.idle_tx) == 6 and len(plan.jumps) == 4
    assert {p for _, _, p in plan.abnormal} == {"volume", "round", "card", "night"}


def test_inactive_lists_exactly_the_idle_terminals(month):
    c, plan = month
    rows = rules.inactive(c, _mine(c, plan), TODAY)
    assert {r["tid"] for r in rows} == plan.idle | plan.idle_tx
    for r in rows:
        assert r["why"] == (["signin", "tx"] if r["tid"] in plan.idle else ["tx"])
        assert r["days_tx"] >= 10


def test_a_merchants_own_threshold_wins(month):
    c, plan = month
    tid = sorted(plan.idle_tx)[0]
    days = rules.inactive(c, _mine(c, plan), TODAY)
    days = next(r["days_tx"] for r in days if r["tid"] == tid)
    c.add_merchant(plan.mid_of[tid], "宽限商户", inactive_signin_days=days + 1,
                   inactive_tx_days=days + 1)
    after = {r["tid"] for r in rules.inactive(c, _mine(c, plan), TODAY)}
    assert tid not in after
    assert after == (plan.idle | plan.idle_tx) - {t for t in plan.idle_tx | plan.idle
                                                   if plan.mid_of[t] == plan.mid_of[tid]}


def test_abnormal_finds_each_planted_pattern_and_nothing_else(month):
    c, plan = month
    rows = rules.abnormal(c, _mine(c, plan), TODAY)
    assert {(r["tid"], r["day"], r["pattern"]) for r in rows} == plan.abnormal


def test_risk_finds_every_planted_jump_and_invents_none(month):
    c, plan = month
    hits = rules.risk(c, TODAY)
    region = {(h["pan"], tuple(t["id"] for t in h["txs"])) for h in hits
              if h["kind"] == "region"}
    assert region == plan.jumps
    for h in hits:
        if h["kind"] == "region":
            assert h["regions"][0] != h["regions"][1] and h["minutes"] <= 30
    mids = [h for h in hits if h["kind"] == "mid"]
    assert [h["tids"] for h in mids] == [[plan.foreign_tid]]
    assert mids[0]["sent"] == [plan.foreign_mid] and mids[0]["bound"] == \
        plan.mid_of[plan.foreign_tid]


def test_the_thresholds_are_settings(month):
    c, plan = month
    c.set_setting("jump_minutes", 10)  # the planted jumps are 5.5, 11.5, 17.5, 23.5 min
    assert len([h for h in rules.risk(c, TODAY) if h["kind"] == "region"]) == 1
    c.set_setting("card_day_max", 8)
    c.set_setting("night_end_hour", 2)
    patterns = {r["pattern"] for r in rules.abnormal(c, _mine(c, plan), TODAY)}
    assert patterns == {"volume", "round"}
    code, out, _ = run_cli("--db", c.path, "settings", "jump_minutes")
    assert out.strip() == "10"
    code, _, err = run_cli("--db", c.path, "settings", "jump_minutes", "soon")
    assert code == 2 and "whole number" in err


def test_freeze_from_a_hit(month):
    c, plan = month
    hit = next(h for h in rules.risk(c, TODAY) if h["kind"] == "region")
    tid = hit["txs"][1]["tid"]
    c.change_state(tid, "freeze", "F01", f"跳码 {hit['id']}", "risk1")
    assert c.store.get_terminal(tid)["freeze_code"] == "B2"
    assert c.audit(tid)[0]["comment"] == f"跳码 {hit['id']}"


def test_each_manager_sees_only_their_merchants(month):
    c, plan = month
    mids1 = set(plan.managers["manager1"])
    code, out, _ = run_cli("--db", c.path, "terminals", "--as", "manager1", "--date",
                           "2026-11-30", "--format", "json")
    rows = json.loads(out)
    assert rows and {r["mid"] for r in rows} <= mids1
    assert len(rows) == len([t for t, m in plan.mid_of.items() if m in mids1])
    code, out, _ = run_cli("--db", c.path, "inactive", "--as", "manager2", "--date",
                           "2026-11-30", "--format", "json")
    assert {r["tid"] for r in json.loads(out)} == {
        t for t in plan.idle | plan.idle_tx if plan.mid_of[t] in plan.managers["manager2"]}
    code, out, _ = run_cli("--db", c.path, "risk", "--as", "manager1", "--date",
                           "2026-11-30", "--format", "json")
    for h in json.loads(out):
        assert any(t["mid"] in mids1 or t["bound_mid"] in mids1 for t in h["txs"])


def test_usage_counts_today_week_and_month(month):
    c, plan = month
    tid = plan.tids[0]
    rows = c.db.execute(
        "SELECT date, amount_fen FROM transactions WHERE tid = ? AND result = '00'"
        " AND type = 'purchase'", (tid,)).fetchall()
    use = rules.usage(c, [c.terminal(tid)], TODAY)[0]
    assert use["today_count"] == sum(1 for r in rows if r["date"] == "2026-11-30")
    assert TODAY.weekday() == 0  # a Monday: this week is today alone
    assert use["week_count"] == use["today_count"]
    use = rules.usage(c, [c.terminal(tid)], date(2026, 11, 29))[0]
    assert use["week_count"] == sum(1 for r in rows if "2026-11-23" <= r["date"] <= "2026-11-29")
    assert use["month_fen"] == sum(r["amount_fen"] for r in rows
                                   if "2026-11-01" <= r["date"] <= "2026-11-29")
    code, out, _ = run_cli("--db", c.path, "terminal", tid, "--date", "2026-11-29",
                           "--format", "json")
    info = json.loads(out)
    assert info["daily"][-1] == use["today_count"] and len(info["daily"]) == 28


def test_the_weekly_sheet_lists_the_problem_terminals_and_keeps_the_managers_notes(month):
    c, plan = month
    week = "2026-W48"  # 11-23 .. 11-29
    rows = rules.sheet(c, _mine(c, plan), week, TODAY)
    in_week = {t for t, d, _ in plan.abnormal if "2026-11-23" <= d <= "2026-11-29"}
    assert {r["tid"] for r in rows} == plan.idle | plan.idle_tx | in_week
    tid = sorted(plan.idle)[0]
    mgr = next(u for u, mids in plan.managers.items() if plan.mid_of[tid] in mids)
    other = "manager2" if mgr == "manager1" else "manager1"
    code, _, err = run_cli("--db", c.path, "note", tid, "--as", other, "--week", week,
                           "--problem", "x")
    assert code == 2 and "not one of" in err
    code, out, err = run_cli("--db", c.path, "note", tid, "--as", mgr, "--week", week,
                             "--problem", "店主不会签到", "--action", "上门培训",
                             "--follow-up", "2026-12-03")
    assert code == 0, err
    code, _, err = run_cli("--db", c.path, "note", tid, "--as", mgr, "--week", week,
                           "--follow-up", "next week")
    assert code == 2 and "YYYY-MM-DD" in err
    xlsx = c.path.replace("host.db", "sheet.xlsx")
    code, out, _ = run_cli("--db", c.path, "sheet", "--as", mgr, "--week", week,
                           "--date", "2026-11-30", "--format", "csv", "--xlsx", xlsx)
    table = list(csv.reader(io.StringIO(out)))
    assert table[0][:5] == ["周次", "终端号", "商户号", "商户名称", "本周开单笔数"]
    mine = {r[1]: r for r in table[1:]}
    assert mine[tid][6:9] == ["店主不会签到", "上门培训", "2026-12-03"]
    assert set(mine) == {t for t in plan.idle | plan.idle_tx | in_week
                         if plan.mid_of[t] in plan.managers[mgr]}
    ws = load_workbook(xlsx).active
    back = [[("" if v is None else str(v)) for v in row] for row in ws.iter_rows(values_only=True)]
    assert back == table
    code, _, err = run_cli("--db", c.path, "sheet", "--week", "2026-48")
    assert code == 2 and "YYYY-Www" in err


def test_cli_rejects_a_bad_date_clearly(month):
    c, _ = month
    code, _, err = run_cli("--db", c.path, "inactive", "--date", "30/11/2026")
    assert code == 2 and "--date: expected YYYY-MM-DD" in err
    code, _, err = run_cli("--db", c.path, "terminal", "99999999")
    assert code == 2 and "unknown terminal 99999999" in err


def test_the_sheet_as_html_charts_each_terminals_daily_sales(month):
    import re

    c, plan = month
    html = c.path.replace("host.db", "sheet.html")
    code, _, err = run_cli("--db", c.path, "sheet", "--week", "2026-W48", "--date",
                           "2026-11-29", "--html", html)
    assert code == 0, err
    text = open(html, encoding="utf-8").read()
    rows = rules.sheet(c, _mine(c, plan), "2026-W48", date(2026, 11, 29))
    assert text.count("<svg") == len(rows) and "终端POS机使用问题跟踪表 2026-W48" in text
    tid = sorted(plan.idle)[0]
    chart = text.split(f"<h2>{tid} ", 1)[1].split("</svg>", 1)[0]
    got = [(d, int(n)) for d, n in re.findall(r"<title>(\d{4}-\d\d-\d\d): (\d+)</title>", chart)]
    want = [(d.isoformat(), n) for d, n in rules.daily_counts(c, tid, date(2026, 11, 29))]
    assert got == want and got[-1][1] == 0  # an idle terminal's last days are empty


@pytest.mark.parametrize("n, seed", [(40, 1), (57, 2)])
def test_small_months_plant_and_find_the_same_cases(tmp_path, n, seed):
    c = cdb.Center(tmp_path / "host.db")
    plan = traffic.generate(c, n, "2026-10", seed)
    today = date(2026, 10, 31)
    terms = _mine(c, plan)
    hits = rules.risk(c, today)
    assert {(h["pan"], tuple(t["id"] for t in h["txs"])) for h in hits
            if h["kind"] == "region"} == plan.jumps
    assert [h["tids"] for h in hits if h["kind"] == "mid"] == [[plan.foreign_tid]]
    assert {(r["tid"], r["day"], r["pattern"]) for r in rules.abnormal(c, terms, today)} == \
        plan.abnormal
    assert {r["tid"] for r in rules.inactive(c, terms, today)} == plan.idle | plan.idle_tx
    c.close()


def test_generate_refuses_too_few_terminals_and_a_second_month_clearly(tmp_path):
    db = str(tmp_path / "host.db")
    code, _, err = run_cli("--db", db, "generate", "--terminals", "20")
    assert code == 2 and "--terminals: at least 40" in err
    code, out, err = run_cli("--db", db, "generate", "--terminals", "40", "--month", "2026-10")
    assert code == 0 and "40 terminals" in out, err
    code, _, err = run_cli("--db", db, "generate", "--terminals", "40", "--month", "2026-10")
    assert code == 2 and "already has a generated month" in err
