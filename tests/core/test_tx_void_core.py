from mptest import eq, true, contains
from pos import iso8583, mac
import fakecenter
from txhelp import rig, buy, void, last_of, PAN, PAN2, SUPERVISOR


def test_void_sends_the_original_and_prints_a_negative_amount():
    r = buy(rig())
    orig = last_of(r, "purchase")
    void(r, orig["trace"])
    q = r.center.last("0200")
    eq(q[3], "200000")
    eq(q[25], "00")
    eq(q[60][:2], "23")
    eq(q[4], "000000010000", "the original amount")
    eq(q[37], orig["rrn"])
    eq(q[38], orig["auth"])
    eq(q[61], orig["batch"] + orig["trace"])
    eq(q[22], "022", "no PIN entered")
    true(mac.verify("ecb", fakecenter.MAK, iso8583.mab(q), q[64]))
    v = last_of(r, "void")
    eq(v["orig_trace"], orig["trace"])
    text = "\n".join(line[1] for line in r.receipts[-1])
    contains(text, "消费撤销")
    contains(text, "RMB -100.00")
    contains(text, "原凭证号:" + orig["trace"])
    eq(r.t.state.reversal(), None)


def test_void_asks_the_supervisor_password_first():
    r = buy(rig())
    r.press("MENU", "1", "3")
    contains(r.screen_flat(), "请输入主管密码")
    r.press("000000", "ENTER")
    true(r.seen("主管密码") and "原凭证号" not in r.screen_flat(), "wrong password refused")
    n = len(r.center.requests)
    r.press("CANCEL")
    eq(len(r.center.requests), n, "nothing sent without the supervisor")


def test_void_of_an_unknown_trace_or_twice_is_refused():
    r = buy(rig())
    trace = last_of(r, "purchase")["trace"]
    r.press("MENU", "1", "3", SUPERVISOR, "ENTER", "999", "ENTER")
    contains(r.screen_flat(), "原交易不存在")
    r.press("CANCEL")
    void(r, trace)
    r.press("CANCEL")
    n = len(r.center.requests)
    r.press("MENU", "1", "3", SUPERVISOR, "ENTER", trace, "ENTER")
    contains(r.screen_flat(), "原交易已撤销")  # OP's text (ERR_ALREADYVOID)
    eq(len(r.center.requests), n)
    # the void's own trace: a record that is no purchase, 原交易不可撤销 (ERR_OLDNOTVOID)
    r.press("CANCEL")
    r.press("MENU", "1", "3", SUPERVISOR, "ENTER", last_of(r, "void")["trace"], "ENTER")
    contains(r.screen_flat(), "原交易不可撤销")
    eq(len(r.center.requests), n)


def test_void_with_another_card_is_refused():
    r = buy(rig())
    trace = last_of(r, "purchase")["trace"]
    n = len(r.center.requests)
    r.press("MENU", "1", "3", SUPERVISOR, "ENTER", trace, "ENTER", "ENTER", "CARD=" + PAN2)
    contains(r.screen_flat(), "卡号与原交易不符")
    eq(len(r.center.requests), n)


def test_void_timeout_arms_a_reversal_of_the_void():
    c = fakecenter.Center()
    r = buy(rig(c))
    trace = last_of(r, "purchase")["trace"]
    c.then("timeout")
    void(r, trace, PAN, "123456")
    rev = r.t.state.reversal()
    eq(rev["mti"], "0400")
    eq(rev["3"], "200000")
    eq(rev["60"][:2], "23")
    eq(last_of(r, "void"), None)


def test_void_declined_shows_the_code_and_text():
    c = fakecenter.Center()
    r = buy(rig(c))
    trace = last_of(r, "purchase")["trace"]
    c.then("code:25")
    void(r, trace)
    true(r.seen("应答码:25"))
    eq(r.t.state.reversal(), None, "a decline leaves nothing to reverse")


def test_the_reversal_of_a_void_goes_out_as_the_reference_says():
    c = fakecenter.Center()
    r = buy(rig(c))
    orig = last_of(r, "purchase")
    c.then("timeout")
    void(r, orig["trace"], PAN, "123456")
    sent = c.last("0200")
    r.press("CANCEL")
    buy(r, "100")
    q = c.last("0400")
    eq(q[3], "200000")
    eq(q[4], sent[4], "the voided amount")
    eq(q[11], sent[11], "the void's own trace")
    eq(q[2], PAN, "the card by its PAN (the track is not kept)")
    eq(q[38], orig["auth"], "the original's auth code")
    eq(q[61], orig["batch"] + orig["trace"], "61: the original's batch and trace")
    eq(q[60][:2], "23")
    eq(q[39], "98")
    for f in (26, 35, 36, 37, 52, 53):
        true(f not in q, "field %d dropped from the reversal" % f)


def test_completion_void_carries_rrn_auth_and_batch_trace_date():
    c = fakecenter.Center()
    r = rig(c)
    r.press("MENU", "1", "6", "1", "5000", "ENTER", "CARD=" + PAN, "123456", "ENTER", "ENTER")
    pre = last_of(r, "preauth")
    r.press("CANCEL", "MENU", "1", "6", "3", "CARD=" + PAN, pre["auth"], "ENTER",
            pre["date"][4:8], "ENTER", "5000", "ENTER", "ENTER", "ENTER")
    comp = last_of(r, "completion")
    q = c.last("0200")
    eq((q[3], q[25], q[60][:2], q[38], q[61]), ("000000", "06", "20", pre["auth"],
                                                "000000000000" + pre["date"][4:8]))
    r.press("CANCEL", "MENU", "1", "6", "4", SUPERVISOR, "ENTER", comp["trace"], "ENTER",
            "ENTER", "CARD=" + PAN, "ENTER", "ENTER")
    q = c.last("0200")
    eq((q[3], q[25], q[60][:2]), ("200000", "06", "21"))
    eq(q[37], comp["rrn"])
    eq(q[38], comp["auth"])
    eq(q[61], comp["batch"] + comp["trace"] + comp["date"][4:8])
