"""The back office (issue 16): users and roles, the append-only audit log, suspend / resume /
freeze / bind with their rules, and what the host then answers; the hook that records what
each terminal did."""

import io
import json
import sqlite3
import subprocess
import sys
from datetime import date

import pytest

from pos import des
from posterm.center import cli as center_cli
from posterm.center import db as cdb
from posterm.center import rules
from posterm.host.errors import ValidationError
from posterm.host.server import start_in_thread
from test_host_support import NOW, Terminal

MID = "898310048990001"  # the default terminal 12345678's merchant
MID2 = "898310048990002"  # 87654321's
POSTERM = [sys.executable, "-m", "posterm.cli"]


def run_cli(*argv, stdin=None, monkeypatch=None):
    out, err = io.StringIO(), io.StringIO()
    parser = center_cli.argparse.ArgumentParser(prog="posterm center")
    center_cli.configure(parser)
    args = parser.parse_args(list(argv))
    if stdin is not None and monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = center_cli.run(args, out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def center(tmp_path):
    c = cdb.Center(tmp_path / "host.db")
    c.add_merchant(MID, "测试商户一")
    c.add_merchant(MID2, "测试商户二")
    c.add_user("agent1", "agent", "secret1", [MID], display="王业务", phone="13800000001")
    c.add_user("agent2", "agent", "secret2", [MID2])
    c.add_user("mgr1", "manager", "secret3", [MID])
    c.add_user("risk1", "risk", "secret4", "all")
    yield c
    c.close()


# -- users -------------------------------------------------------------------------------------
def test_passwords_are_stored_hashed_and_checked(center):
    row = center.get_user("agent1")
    assert "secret1" not in row["hash"] and len(row["hash"]) == 128 and row["salt"]
    assert center.login("agent1", "secret1")["role"] == "agent"
    assert center.login("agent1", "secret2") is None
    assert center.login("nobody", "secret1") is None
    center.add_user("agent3", "agent", "secret1", [MID])
    assert center.get_user("agent3")["hash"] != row["hash"]  # salted


def test_bad_users_are_refused_with_a_clear_reason(center):
    with pytest.raises(ValidationError, match="at least 6"):
        center.add_user("x1", "agent", "short", [MID])
    with pytest.raises(ValidationError, match="--role"):
        center.add_user("x1", "boss", "secret11", [MID])
    with pytest.raises(ValidationError, match="already exists"):
        center.add_user("agent1", "agent", "secret11", [MID])
    with pytest.raises(ValidationError, match="MID"):
        center.add_user("x2", "agent", "secret11", ["123"])
    assert center.get_user("x1") is None and center.get_user("x2") is None


def test_users_add_reads_the_password_from_stdin_and_lists_no_hash(center, monkeypatch):
    code, out, _ = run_cli("--db", center.path, "users", "add", "mgr9", "--role", "manager",
                           "--merchants", f"{MID},{MID2}", stdin="pass-word-9\n",
                           monkeypatch=monkeypatch)
    assert code == 0 and "mgr9 (manager) added" in out
    c2 = cdb.Center(center.path)
    assert c2.login("mgr9", "pass-word-9") and c2.user_mids("mgr9") == [MID, MID2]
    c2.close()
    code, out, _ = run_cli("--db", center.path, "users", "list")
    assert "mgr9" in out and "pass-word-9" not in out and "risk1" in out


# -- the audit log -----------------------------------------------------------------------------
def test_audit_log_refuses_update_and_delete_in_the_schema(center):
    center.change_state("12345678", "suspend", "S01", "商户装修一周", "agent1")
    raw = sqlite3.connect(center.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE center_audit SET comment = 'nothing happened'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("DELETE FROM center_audit")
    raw.close()
    assert [r["comment"] for r in center.audit("12345678")] == ["商户装修一周"]


def test_a_log_rewritten_behind_the_triggers_fails_verification(center, tmp_path):
    center.change_state("12345678", "suspend", "S01", "装修", "agent1")
    center.change_state("12345678", "resume", "R01", "装修完毕", "agent1")
    assert center.verify_audit() is None
    code, out, _ = run_cli("--db", center.path, "audit", "--verify")
    assert code == 0 and "intact (2 entries)" in out
    raw = sqlite3.connect(center.path)
    raw.execute("DROP TRIGGER center_audit_no_update")
    raw.execute("UPDATE center_audit SET comment = 'x' WHERE action = 'suspend'")
    raw.commit()
    raw.close()
    first = center.audit()[0]["id"]
    assert center.verify_audit() == first
    code, out, _ = run_cli("--db", center.path, "audit", "--verify")
    assert code == 1 and f"broken at entry {first}" in out


# -- suspend / resume / freeze -----------------------------------------------------------------
def test_suspend_and_resume_change_what_the_host_answers_and_are_audited(center):
    center.now = lambda: NOW
    assert center.change_state("12345678", "suspend", "S02", "营业执照过期", "agent1") == \
        "suspended"
    t = center.store.get_terminal("12345678")
    assert (t["status"], t["freeze_code"]) == ("frozen", "B1")
    assert center.state_of(center.terminal("12345678")) == "suspended"
    center.change_state("12345678", "resume", "R02", "已补齐", "agent1")
    t = center.store.get_terminal("12345678")
    assert t["status"] == "registered"
    log = [dict(r) for r in center.audit("12345678")]
    assert [(r["user"], r["role"], r["action"], r["reason"], r["comment"]) for r in log] == [
        ("agent1", "agent", "suspend", "S02", "营业执照过期"),
        ("agent1", "agent", "resume", "R02", "已补齐"),
    ]
    assert log[0]["at"] == "2026-11-24T10:15:30" and "answers B1" in log[0]["detail"]


def test_an_agent_acts_only_on_their_own_merchants(center):
    code, _, err = run_cli("--db", center.path, "suspend", "87654321", "--reason", "S01",
                           "--comment", "x", "--as", "agent1")
    assert code == 2 and "not one of agent1's merchants" in err
    assert center.store.get_terminal("87654321")["status"] == "registered"
    assert center.audit() == []


def test_roles_and_reason_codes_are_checked(center):
    with pytest.raises(cdb.PermissionDenied, match="may not suspend"):
        center.change_state("12345678", "suspend", "S01", "x", "mgr1")
    with pytest.raises(cdb.PermissionDenied, match="may not suspend"):
        center.change_state("12345678", "suspend", "S01", "x", "risk1")
    with pytest.raises(ValidationError, match="suspend takes one of S01"):
        center.change_state("12345678", "suspend", "F01", "x", "agent1")
    with pytest.raises(ValidationError, match="suspend takes one of"):
        center.change_state("12345678", "suspend", "ZZ9", "x", "agent1")
    with pytest.raises(ValidationError, match="--comment"):
        center.change_state("12345678", "suspend", "S01", "  ", "agent1")
    with pytest.raises(ValidationError, match="not suspended or frozen"):
        center.change_state("12345678", "resume", "R01", "x", "agent1")
    assert center.audit() == []


def test_a_frozen_terminal_is_resumed_by_risk_only(center):
    center.change_state("12345678", "freeze", "F01", "跳码命中", "risk1")
    assert center.store.get_terminal("12345678")["freeze_code"] == "B2"
    with pytest.raises(cdb.PermissionDenied, match="only risk"):
        center.change_state("12345678", "resume", "R03", "x", "agent1")
    with pytest.raises(ValidationError, match="already frozen"):
        center.change_state("12345678", "freeze", "F02", "x", "agent1")
    center.change_state("12345678", "resume", "R03", "核实无异常", "risk1")
    assert center.store.get_terminal("12345678")["status"] == "registered"


def test_a_suspended_terminal_can_still_be_frozen_and_the_codes_are_settings(center):
    center.set_setting("suspend_response", "c7")
    center.change_state("12345678", "suspend", "S05", "违规", "agent1")
    assert center.store.get_terminal("12345678")["freeze_code"] == "C7"
    center.change_state("12345678", "freeze", "S05", "违规升级", "agent1")
    assert center.state_of(center.terminal("12345678")) == "frozen"
    with pytest.raises(ValidationError, match="response code"):
        center.set_setting("freeze_response", "123")
    with pytest.raises(ValidationError, match="unknown"):
        center.set_setting("no_such", "1")


# -- bind --------------------------------------------------------------------------------------
def test_bind_prints_the_tmk_once_with_its_check_value(center):
    code, out, _ = run_cli("--db", center.path, "bind", "20000001", MID, "--as", "agent1")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("TMK "))
    tmk, kcv = line.split()[1], line.split()[3]
    assert len(tmk) == 32 and kcv == des.kcv(bytes.fromhex(tmk)).hex().upper()[:6]
    row = center.store.get_terminal("20000001")
    assert (row["mid"], row["tmk"]) == (MID, tmk)
    log = center.audit("20000001")
    assert log[0]["action"] == "bind" and kcv in log[0]["detail"]
    assert tmk not in json.dumps([dict(r) for r in center.audit()])
    code, out, _ = run_cli("--db", center.path, "terminal", "20000001", "--format", "json")
    assert code == 0 and tmk not in out
    # an agent binds only for their merchants, and a terminal once
    code, _, err = run_cli("--db", center.path, "bind", "20000002", MID2, "--as", "agent1")
    assert code == 2 and "not one of agent1's merchants" in err
    code, _, err = run_cli("--db", center.path, "bind", "20000001", MID, "--as", "agent1")
    assert code == 2 and "already bound to" in err


def test_a_bound_terminal_signs_in_with_its_new_tmk(center, tmp_path):
    tmk, _ = center.bind("20000003", MID, "agent1")
    host = start_in_thread(center.path, now=lambda: NOW)
    try:
        t = Terminal(host.address, tid="20000003", mid=MID, tmk=bytes.fromhex(tmk))
        assert t.sign_in()[39] == "00"
    finally:
        host.stop()


# -- what the host answers, what the center records -------------------------------------------
def test_host_answers_a_suspended_terminal_with_the_code_and_records_what_it_did(center):
    host = start_in_thread(center.path, now=lambda: NOW)
    try:
        t = Terminal(host.address)
        assert t.sign_in()[39] == "00"
        assert t.purchase(amount=1234)[39] == "00"
        t.mid = "898100054110001"  # a merchant number it is not bound to
        # the host refuses it (issue 11 item 20: field 42 must be the terminal's merchant)
        assert t.purchase(amount=2345)[39] == "03"
        t.mid = MID
        center.change_state("12345678", "suspend", "S01", "商户装修", "agent1")
        assert t.sign_in()[39] == "B1"
        assert t.purchase(amount=100)[39] == "B1"
        center.change_state("12345678", "resume", "R01", "装修完毕", "agent1")
        assert t.sign_in()[39] == "00"
    finally:
        host.stop()
    row = center.terminal("12345678")
    assert row["last_seen"] == row["last_signin"] == row["last_tx"] == "2026-11-24T10:15:30"
    # the refused one is no approved 跳码 transaction: nothing to flag
    assert rules.risk(center, NOW.date()) == []


def test_a_failing_note_does_not_cost_the_terminal_its_reply(center):
    raw = sqlite3.connect(center.path)
    raw.execute("DROP TABLE center_tx_meta")
    raw.execute("CREATE TABLE center_tx_meta (x)")  # the note's insert now fails
    raw.commit()
    raw.close()
    host = start_in_thread(center.path, now=lambda: NOW)
    try:
        t = Terminal(host.address)
        assert t.sign_in()[39] == "00"
        assert t.purchase(amount=1234)[39] == "00"
    finally:
        host.stop()


def keys(data, *tokens):
    cmd = POSTERM + ["keys", "--data", str(data), "--date", "2026-11-24T09:00", *tokens]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    last = r.stdout.split("\n" + "-" * 16 + "\n")[-1]
    return "".join(line.strip() for line in last.splitlines())


def test_a_suspended_terminals_next_sign_in_says_whom_to_call(tmp_path, monkeypatch):
    data = tmp_path / "d"
    keys(data, "MENU")  # the terminal's first start makes the data dir and the host db
    db = str(data / "host.db")
    code, _, _ = run_cli("--db", db, "users", "add", "agent1", "--role", "agent",
                         "--merchants", MID, stdin="secret1\n", monkeypatch=monkeypatch)
    assert code == 0
    code, out, err = run_cli("--db", db, "suspend", "12345678", "--reason", "S01",
                             "--comment", "商户装修", "--as", "agent1")
    assert code == 0, err
    assert "answered B1" in out
    screen = keys(data, "MENU", "1", "1", "ENTER")
    assert "应答码:B1" in screen and "终端已停机" in screen and "请联系客户经理" in screen
    code, _, _ = run_cli("--db", db, "resume", "12345678", "--reason", "R01",
                         "--comment", "装修完毕", "--as", "agent1")
    screen = keys(data, "MENU", "1", "1", "ENTER")
    assert "请联系客户经理" not in screen and "B1" not in screen
    code, out, _ = run_cli("--db", db, "audit", "12345678", "--format", "csv")
    lines = out.splitlines()
    assert lines[0].startswith("id,at,user,role,action,tid")
    assert [ln.split(",")[4] for ln in lines[1:]] == ["suspend", "resume"]


def test_the_terminal_reports_in_and_the_center_records_what_it_said(tmp_path):
    from pos.keys import parse_token
    from posterm import paths
    from posterm.driver import Driver

    d = Driver(str(tmp_path / "t"), date=(2026, 11, 24, 9, 0, 0))
    try:
        d.start()
        d.terminal.state.params["heartbeat_min"] = 10
        d.terminal.state.params["location"] = "北京"

        def press(*tokens):
            for tok in tokens:
                for ev in parse_token(tok):
                    d.feed(ev)

        press("MENU", "4", "2", "ENTER", "CANCEL")  # sign-in, then its status upload
        c = cdb.Center(paths.host_db(d.data_dir))
        first = json.loads(c.terminal("12345678")["last_report"])
        assert (first["n"], first["paper"], first["loc"]) == ("0", "ok", "北京")
        assert c.terminal("12345678")["location"] == "北京"
        press("MENU", "1", "2", "2500", "ENTER", "CARD=6212142000000000012", "123456", "ENTER",
              "ENTER")
        d.feed(("printer", "paper_out"))
        d.feed(("tick", (2026, 11, 24, 9, 10, 0)))  # 10 idle minutes: it reports again
        row = c.terminal("12345678")
        report = json.loads(row["last_report"])
        assert (report["n"], report["amt"], report["paper"]) == ("1", "2500", "out")
        assert report["ver"] and report["op"] == d.terminal.state.operator
        assert row["last_seen"] == "2026-11-24T09:00:00" and row["last_tx"]
        # the sale is placed where the terminal says it is, not by its merchant number
        hits = rules.risk(c, date(2026, 11, 24))
        assert hits == []
        tx = c.db.execute("SELECT location FROM center_tx_meta").fetchall()
        assert [r["location"] for r in tx] == ["北京"]
        assert cdb.region_key("北京") == "1000"
        c.close()
    finally:
        d.close()
