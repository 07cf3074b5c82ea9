# The terminal reports in (issue 16.1): the status upload 0820 / 60.3 = 362 after a
# sign-in and every heartbeat_min idle minutes, with its version, paper, the day's sales,
# the operator and the configured location.
from mptest import eq, true
from rig import Rig

PAN = "6212142000000000012"


def _reports(r):
    out = []
    for q in r.center.requests:
        if q["mti"] == "0820" and q.get(60, "")[8:11] == "362":
            out.append(q)
    return out


def _fields(q):
    out = {}
    for part in q[62].decode().split(";"):
        k, v = part.split("=", 1)
        out[k] = v
    return out


def _rig(minutes):
    r = Rig()
    r.t.state.params["heartbeat_min"] = minutes
    return r


def test_off_by_default_nothing_is_sent_however_long_the_terminal_idles():
    r = Rig().sign_in()
    n = len(r.center.requests)
    for hour in (10, 11, 12):
        r.tick((2026, 11, 23, hour, 0, 0))
    eq(len(r.center.requests), n)
    eq(_reports(r), [])


def test_a_sign_in_is_followed_by_a_report_of_the_terminals_state():
    r = _rig(5)
    r.t.state.params["location"] = "上海"
    r.sign_in()
    nets = [q.get(60, "")[8:11] for q in r.center.requests]
    eq(nets, ["003", "362"])
    q = _reports(r)[0]
    eq(q[41], "12345678")
    eq(q[42], "898310048990001")
    true(64 not in q, "no MAC on a network-management message")
    f = _fields(q)
    eq(sorted(f), ["amt", "loc", "n", "op", "paper", "ver"])
    eq((f["n"], f["amt"], f["paper"], f["loc"]), ("0", "0", "ok", "上海"))
    eq(f["op"], r.t.state.operator)
    true(r.seen("签到成功"), "the sign-in result was shown")


def test_every_n_idle_minutes_and_not_before():
    r = _rig(5).sign_in()
    eq(len(_reports(r)), 1)
    r.tick((2026, 11, 23, 9, 4, 59))
    eq(len(_reports(r)), 1, "4:59 idle: not yet")
    r.tick((2026, 11, 23, 9, 5, 0))
    eq(len(_reports(r)), 2, "5 minutes idle")
    r.tick((2026, 11, 23, 9, 5, 1))
    eq(len(_reports(r)), 2, "the report itself was talk: the next one 5 minutes later")
    r.tick((2026, 11, 23, 9, 10, 0))
    eq(len(_reports(r)), 3)
    true("签到" in r.screen_flat() or "欢迎" in r.screen_flat(), "back at the idle screen")


def test_the_report_counts_the_days_sales_and_a_sale_restarts_the_idle_time():
    r = _rig(5).sign_in()
    r.tick((2026, 11, 23, 9, 2, 0))
    r.press("MENU", "1", "2", "1234", "ENTER", "CARD=" + PAN, "123456", "ENTER", "ENTER")
    r.tick((2026, 11, 23, 9, 6, 0))
    eq(len(_reports(r)), 1, "the sale at 9:02 was talk with the center")
    r.tick((2026, 11, 23, 9, 7, 0))
    eq(len(_reports(r)), 2)
    f = _fields(_reports(r)[-1])
    eq((f["n"], f["amt"]), ("1", "1234"))


def test_paper_out_is_reported_and_no_report_without_a_sign_in():
    r = _rig(5)
    r.tick((2026, 11, 23, 9, 30, 0))
    eq(_reports(r), [], "not signed in: nothing to report to")
    r.sign_in()
    r.event(("printer", "paper_out"))
    r.tick((2026, 11, 23, 9, 40, 0))
    eq(_fields(_reports(r)[-1])["paper"], "out")


def test_a_suspended_terminal_keeps_idling_after_its_report_is_declined():
    r = _rig(5).sign_in()
    r.center.then("code:B1")
    r.tick((2026, 11, 23, 9, 5, 0))
    eq(len(_reports(r)), 2)
    true(any("status upload not acknowledged" in e[2] for e in r.logs), "logged")
    r.tick((2026, 11, 23, 9, 5, 1))
    true(r.t.waiting_for() == "input", "idle again, keys work")
