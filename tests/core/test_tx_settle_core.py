from mptest import eq, true, contains
import fakecenter
from rig import Rig
from txhelp import rig, buy, void, settle, last_of


def _mtis(c, since):
    return [q["mti"] + "/" + q.get(60, "")[8:11] for q in c.requests[since:]]


def test_balanced_settlement_ends_the_batch_prints_and_signs_out():
    c = fakecenter.Center()
    r = rig(c)
    buy(r, "10000")
    buy(r, "2000")
    void(r, last_of(r, "purchase")["trace"])
    r.press("CANCEL")
    n = len(c.requests)
    settle(r)
    eq(_mtis(c, n), ["0500/201", "0320/207", "0820/002"])
    q = c.requests[n]
    eq(q[48][:30], "000000012000002000000002000001", "debit 120.00 x2, credit 20.00 x1")
    eq(q[48][30:], "0" * 32)
    eq(q[63], "01 ")
    eq(c.requests[n + 1][48], "0000")
    text = r.receipt_text()
    contains(text, "结算单")
    contains(text, "对账平")
    contains(text, "消费 2笔")
    contains(text, "-20.00")
    eq(r.t.state.batch, 2)
    eq(len(r.t.journal.entries()), 0, "the journal starts a new batch")
    eq(r.t.state.extra.get("settle"), None)
    true(r.seen("签退成功"))
    true(not r.t.signed_in_today(), "signed out after settlement")
    r.press("CANCEL", "MENU", "1", "2")
    contains(r.screen_flat(), "请做终端签到")
    # 重打结算单 keeps the closed batch's totals
    r.press("CANCEL", "MENU", "2", "5")
    contains(r.receipt_text(), "重打印")
    contains(r.receipt_text(), "批次号:000001")
    contains(r.receipt_text(), "120.00")


def test_unbalanced_settlement_uploads_eight_records_a_message_then_202():
    c = fakecenter.Center()
    r = rig(c)
    for i in range(10):
        buy(r, str(100 + i))
    n = len(c.requests)
    c.then("unbalanced")
    settle(r)
    eq(_mtis(c, n), ["0500/201", "0320/201", "0320/201", "0320/202", "0820/002"])
    first = c.requests[n + 1][48]
    eq(first[:2], "08")
    eq(len(first), 2 + 8 * 40)
    e0 = r.t.state.extra["last_settle"]
    eq(first[2:42], "00" + "000002" + "0" * 1 + "6212142000000000012" + "000000000100")
    eq(c.requests[n + 2][48][:2], "02")
    eq(c.requests[n + 3][48], "0010")
    contains(r.receipt_text(), "对账不平")
    eq(e0["uploaded"], 10)


def test_interrupted_settlement_resumes_at_each_step_without_double_counting():
    c = fakecenter.Center()
    r = rig(c)
    for _i in range(9):
        buy(r, "100")
    c.then("timeout")  # a reversal that cannot go through yet
    buy(r, "5000")
    # step 1: the pending reversal cannot reach the center
    c.then("link")
    settle(r)
    eq(r.t.state.extra["settle"]["step"], 1)
    r.press("CANCEL", "MENU", "1", "2")
    contains(r.screen_flat(), "请先结算")
    r.press("CANCEL")
    # step 2: the reversal goes, the 0500 times out
    c.then("ok", "timeout")
    settle(r)
    eq(r.t.state.reversal(), None)
    eq(r.t.state.extra["settle"]["step"], 2)
    # step 3: balanced = no; the first upload is acknowledged, the second times out
    c.then("unbalanced", "ok", "timeout")
    r.press("CANCEL")
    settle(r)
    eq(r.t.state.extra["settle"]["step"], 3)
    eq(r.t.state.extra["settle"]["sent"], 8)
    # power cut: a new terminal on the same storage, paper out at the slip
    r2 = Rig(center=c, storage=r.storage)
    r2.event(("printer", "paper_out"))
    n = len(c.requests)
    settle(r2)
    eq(_mtis(c, n), ["0320/201", "0320/202"], "only the records not acknowledged, then the end")
    eq(c.requests[n][48][:2], "01")
    eq(c.requests[n + 1][48], "0009")
    eq(r2.t.state.extra["settle"]["step"], 5)
    eq(r2.t.state.batch, 2)
    # power cut again while the slip waits for paper
    r3 = Rig(center=c, storage=r.storage)
    n = len(c.requests)
    settle(r3)
    eq(r3.t.state.batch, 2, "the batch goes up once")
    eq(len(r3.t.journal.entries()), 0)
    eq(r3.t.state.extra.get("settle"), None)
    eq(_mtis(c, n), ["0820/002"])
    tot = r3.t.state.extra["last_settle"]["totals"]
    eq(tot["debit"], [9, 900], "the timed-out purchase was reversed, nothing counted twice")
    contains(r3.receipt_text(), "对账不平")
    eq([q[48][:30] for q in c.requests if q["mti"] == "0500"],
       ["000000000900009000000000000000"] * 2)


def test_full_batch_asks_for_settlement():
    r = rig()
    r.t.state.params["max_tx"] = 2
    buy(r, "100")
    buy(r, "100")
    r.press("MENU", "1", "2")
    contains(r.screen_flat(), "交易满请结算")
    r.press("CANCEL", "MENU", "1", "5")
    contains(r.screen_flat(), "刷卡", "a balance inquiry adds nothing to the journal")


def test_without_auto_signout_settlement_signs_in_again():
    c = fakecenter.Center()
    r = rig(c)
    r.t.state.params["auto_signout"] = 0
    buy(r)
    n = len(c.requests)
    settle(r)
    eq(_mtis(c, n), ["0500/201", "0320/207", "0800/003"])
    eq(c.requests[-1][60][2:8], "000002", "sign-in with the new batch")
    true(r.t.signed_in_today())


def test_sign_out_needs_a_new_sign_in():
    c = fakecenter.Center()
    r = rig(c)
    r.press("MENU", "1", "8", "ENTER")
    q = c.last()
    eq(q["mti"], "0820")
    # what CUP terminals send (reference §3.2): 11, 41, 42 and 60 = 00 + batch + 002; no
    # operator, no MAC
    eq(sorted([k for k in q if k != "mti"]), [11, 41, 42, 60])
    eq(q[60], "00" + "%06d" % r.t.state.batch + "002")
    contains(r.screen_flat(), "签退成功")
    r.press("CANCEL", "MENU", "1", "2")
    contains(r.screen_flat(), "请做终端签到")


def test_foreign_cards_are_totalled_apart_and_flagged_in_the_upload():
    c = fakecenter.Center()
    r = rig(c)
    buy(r, "10000")
    c.then("org:VIS")
    buy(r, "2500")
    eq(last_of(r, "purchase").get("foreign"), True)
    n = len(c.requests)
    c.then("unbalanced")
    settle(r)
    q = c.requests[n]
    eq(q[48][:31], "000000010000001000000000000000" + "0", "domestic: 100.00 x1")
    eq(q[48][31:], "000000002500001000000000000000" + "0", "foreign: 25.00 x1")
    up = [x for x in c.requests[n:] if x["mti"] == "0320" and x[60][8:11] == "201"][0]
    recs = [up[48][2 + 40 * i : 42 + 40 * i] for i in range(int(up[48][:2]))]
    eq(sorted([x[0:2] for x in recs]), ["00", "01"], "the foreign record is flagged 01")


def test_the_slip_names_the_issuer_the_center_gives_in_gbk():
    c = fakecenter.Center()
    r = rig(c)
    c.then("gbk63")
    r.press("MENU", "1", "2", "10000", "ENTER", "CARD=" + fakecenter_pan(), "123456", "ENTER")
    contains(r.receipt_text(), "发卡行:中国工商银行")
    eq(last_of(r, "purchase")["org"], "CUP")
    true(not last_of(r, "purchase").get("foreign"))


def fakecenter_pan():
    return "6212142000000000012"


def test_non_00_answers_to_a_batch_upload_count_as_delivered():
    for code in ("25", "96", "12"):
        c = fakecenter.Center()
        r = rig(c)
        for amount in ("1000", "2000", "3000"):
            buy(r, amount)
        n = len(c.requests)
        c.then("unbalanced", "code:" + code)
        settle(r)
        mtis = _mtis(c, n)
        eq(mtis[:3], ["0500/201", "0320/201", "0320/202"], code)
        eq(r.t.state.extra.get("settle"), None, "settlement ended after a %s" % code)
        eq(len(r.t.journal.entries()), 0)
        r.press("CANCEL", "CANCEL")
        r.press("MENU", "1", "2")
        true("请先结算" not in r.screen_flat(), "never stuck on 请先结算")
