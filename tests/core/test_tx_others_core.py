from mptest import eq, true, contains
import fakecenter
from txhelp import rig, buy, last_of, PAN, SUPERVISOR


def _refund(r, rrn, amount, mmdd="1123"):
    r.press("MENU", "1", "4", SUPERVISOR, "ENTER", "CARD=" + PAN, rrn, "ENTER", mmdd, "ENTER")
    r.press(amount, "ENTER", "ENTER")


def test_refund_sends_an_advice_against_the_reference_number_and_date():
    r = buy(rig())
    orig = last_of(r, "purchase")
    _refund(r, orig["rrn"], "3000")
    q = r.center.last("0220")
    eq(q[3], "200000")
    eq(q[25], "00")
    eq(q[60][:2], "25")
    eq(q[4], "000000003000")
    eq(q[37], orig["rrn"])
    eq(q[61], "000000000000" + "1123")
    eq(q[63], "000")
    rec = last_of(r, "refund")
    eq(rec["amount"], 3000)
    contains(r.receipt_text(), "退货")
    contains(r.receipt_text(), "RMB -30.00")
    eq(r.t.state.reversal(), None, "a refund is never reversed")


def test_refund_above_the_original_is_refused_on_the_terminal():
    r = buy(rig())
    orig = last_of(r, "purchase")
    n = len(r.center.requests)
    r.press("MENU", "1", "4", SUPERVISOR, "ENTER", "CARD=" + PAN, orig["rrn"], "ENTER")
    r.press("1123", "ENTER", "10001", "ENTER")
    contains(r.screen_flat(), "退货金额超过原交易")
    eq(len(r.center.requests), n)
    # the amount is asked again (the card, reference number and date are kept); a digit
    # that ends the notice is the new amount's first
    r.press("5")
    contains(r.screen_flat(), "请输入退货金额")
    contains(r.screen_flat(), "0.05")
    r.press("000", "ENTER", "ENTER")
    eq(r.center.last("0220")[4], "000000005000")
    eq(last_of(r, "refund")["amount"], 5000)


def test_refund_timeout_arms_no_reversal():
    c = fakecenter.Center()
    r = buy(rig(c))
    c.then("timeout")
    _refund(r, last_of(r, "purchase")["rrn"], "100")
    true(r.seen("交易超时"))
    eq(r.t.state.reversal(), None)
    eq(last_of(r, "refund"), None)


def test_refund_with_a_bad_date_asks_again():
    r = buy(rig())
    r.press("MENU", "1", "4", SUPERVISOR, "ENTER", "CARD=" + PAN, "112300000001", "ENTER")
    r.press("1399", "ENTER")
    true(r.seen("日期错误"))


def test_balance_inquiry_shows_field_54_and_is_not_journalled():
    c = fakecenter.Center()
    c.balance = 1234567
    r = rig(c)
    r.press("MENU", "1", "5", "CARD=" + PAN, "123456", "ENTER")
    q = c.last("0200")
    eq(q[3], "310000")
    eq(q[25], "00")
    eq(q[60][:2], "01")
    true(4 not in q, "no amount")
    true(52 in q, "PIN block")
    contains(r.screen_flat(), "12345.67")
    contains(r.screen_flat(), "余额")
    eq(len(r.t.journal.entries()), 0)
    eq(len(r.receipts), 0)
    eq(r.t.state.reversal(), None)


def test_balance_reply_with_two_entries_shows_the_available_balance():
    c = fakecenter.Center()
    c.balance = 1234567
    c.available = 1000000
    r = rig(c)
    r.press("MENU", "1", "5", "CARD=" + PAN, "123456", "ENTER")
    eq(len(c.replies[-1][54]), 40)
    contains(r.screen_flat(), "10000.00")
    true("12345.67" not in r.screen_flat(), "not the ledger balance")


def test_balance_needs_a_pin():
    r = rig()
    r.press("MENU", "1", "5", "CARD=" + PAN, "ENTER")
    eq(len(r.center.requests), 1, "only the sign-in went out")


def _preauth(r, amount="50000"):
    r.press("MENU", "1", "6", "1", amount, "ENTER", "CARD=" + PAN, "123456", "ENTER", "ENTER")
    r.press("CANCEL")


def test_preauth_family_uses_its_codes():
    c = fakecenter.Center()
    r = rig(c)
    _preauth(r)
    q = c.last("0100")
    eq((q[3], q[25], q[60][:2]), ("030000", "06", "10"))
    pa = last_of(r, "preauth")
    contains("".join(x[1] for x in r.receipts[-2]), "预授权")
    # completion: card, auth code, date, amount
    r.press("MENU", "1", "6", "3", "CARD=" + PAN, pa["auth"], "ENTER", "1123", "ENTER")
    r.press("45000", "ENTER", "123456", "ENTER", "CANCEL", "CANCEL")
    q = c.last("0200")
    eq((q[3], q[25], q[60][:2]), ("000000", "06", "20"))
    eq(q[38], pa["auth"])
    eq(q[61], "0000000000001123")
    comp = last_of(r, "completion")
    eq(comp["amount"], 45000)
    # completion void: supervisor, the completion's trace
    r.press("MENU", "1", "6", "4", SUPERVISOR, "ENTER", comp["trace"], "ENTER", "ENTER")
    r.press("CARD=" + PAN, "ENTER", "CANCEL", "CANCEL")
    q = c.last("0200")
    eq((q[3], q[25], q[60][:2]), ("200000", "06", "21"))
    eq(q[37], comp["rrn"])
    eq(q[61], comp["batch"] + comp["trace"] + "1123")
    true(last_of(r, "completion_void") is not None)
    # pre-auth void: supervisor, card, auth, date, amount
    r.press("MENU", "1", "6", "2", SUPERVISOR, "ENTER", "CARD=" + PAN, pa["auth"], "ENTER")
    r.press("1123", "ENTER", "50000", "ENTER", "ENTER", "CANCEL", "CANCEL")
    q = c.last("0100")
    eq((q[3], q[25], q[60][:2]), ("200000", "06", "11"))
    eq(q[38], pa["auth"])
    true(last_of(r, "preauth_void") is not None)
    kinds = [e["type"] for e in r.t.journal.entries()]
    eq(kinds, ["preauth", "completion", "completion_void", "preauth_void"])


def test_preauth_timeout_arms_a_reversal_sent_before_the_next_one():
    c = fakecenter.Center()
    r = rig(c)
    c.then("timeout")
    _preauth(r)
    eq(r.t.state.reversal()["3"], "030000")
    buy(r, "100")
    mtis = [q["mti"] for q in c.requests[-2:]]
    eq(mtis, ["0400", "0200"])


def test_declines_show_the_code_and_its_text_for_every_table_code():
    from pos.compat import json

    c = fakecenter.Center()
    r = rig(c)
    table = json.loads(r.resources.read("respcodes.json"))
    codes = sorted(k for k in table if k not in ("00",))
    for code in codes:
        c.then("code:" + code)
        m = r.mark()
        r.press("MENU", "1", "2", "100", "ENTER", "CARD=" + PAN, "123456", "ENTER")
        text = r.t.strings.response(code)
        true(r.seen("应答码:" + code, m), code)
        true(r.seen(text.replace(" ", "")[:6], m), code + " " + text)
        r.press("CANCEL")
        if code in ("A0", "99", "77"):
            r.sign_in()
    eq(len(r.t.journal.entries()), 0)


def test_unknown_code_shows_transaction_failed():
    c = fakecenter.Center()
    r = rig(c)
    c.then("code:Q7")
    r.press("MENU", "1", "2", "100", "ENTER", "CARD=" + PAN, "123456", "ENTER")
    contains(r.screen_flat(), "应答码:Q7")
    contains(r.screen_flat(), "交易失败")


def test_58_and_97_keep_the_seed_wording():
    c = fakecenter.Center()
    r = rig(c)
    for code, text in (("58", "不允许终端交易"), ("97", "终端未登记")):
        c.then("code:" + code)
        r.press("MENU", "1", "2", "100", "ENTER", "CARD=" + PAN, "123456", "ENTER")
        contains(r.screen_flat(), text)
        r.press("CANCEL")


def test_a_date_retyped_at_once_after_a_bad_date_keeps_its_first_digit():
    # 日期错误,请重新输入 read, the cashier types the date again at once: 1123 is whole
    r = buy(rig())
    orig = last_of(r, "purchase")
    r.press("MENU", "1", "4", SUPERVISOR, "ENTER", "CARD=" + PAN, orig["rrn"], "ENTER", "1399",
            "ENTER")  # fmt: skip
    contains(r.screen_flat(), "日期错误")
    r.press("1123", "ENTER")
    contains(r.screen_flat(), "金额")
    r.press("3000", "ENTER", "ENTER")
    eq(r.center.last("0220")[4], "000000003000")
