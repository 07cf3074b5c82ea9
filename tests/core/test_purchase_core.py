from mptest import eq, true, contains
from rig import Rig
from pos import iso8583, mac, pinblock
import fakecenter

PAN = "6212142000000000012"


def _buy(r, amount="10000", pin="123456"):
    r.press("MENU", "1", "2", amount, "ENTER", "CARD=" + PAN, pin, "ENTER")


def test_purchase_is_approved_printed_and_journalled():
    r = Rig().sign_in()
    _buy(r)
    q = r.center.last("0200")
    eq(q[3], "000000")
    eq(q[4], "000000010000")
    eq(q[22], "021")
    eq(q[25], "00")
    eq(q[49], "156")
    eq(q[60][:2], "22")
    eq(pinblock.decrypt_pin(fakecenter.PIK, q[52], PAN), "123456")
    true(mac.verify("ecb", fakecenter.MAK, iso8583.mab(q), q[64]), "request MAC")
    true(r.seen("应答码:00"))
    eq(len(r.receipts), 1, "merchant copy printed")
    text = r.receipt_text()
    contains(text, "621214*********0012")
    contains(text, "RMB 100.00")
    contains(text, "商户存根")
    entries = r.t.journal.entries()
    eq(len(entries), 1)
    eq(entries[0]["amount"], 10000)
    eq(r.t.state.reversal(), None, "no reversal left after an approval")
    r.press("ENTER")
    eq(len(r.receipts), 2, "cardholder copy on ENTER")
    contains(r.receipt_text(), "持卡人存根")


def test_card_swiped_at_idle_starts_a_purchase():
    r = Rig().sign_in()
    r.press("CARD=" + PAN, "2500", "ENTER", "123456", "ENTER")
    eq(r.center.last("0200")[4], "000000002500")


def test_purchase_without_sign_in_today_asks_for_it():
    r = Rig()
    r.press("MENU", "1", "2")
    contains(r.screen_flat(), "请做终端签到")


def test_timeout_leaves_a_reversal_that_goes_before_the_next_transaction():
    c = fakecenter.Center()
    r = Rig(center=c).sign_in()
    c.then("timeout")
    _buy(r)
    contains(r.screen_flat(), "交易超时")
    rev = r.t.state.reversal()
    eq(rev["39"], "98")
    eq(rev["mti"], "0400")
    first = r.center.last("0200")
    r.press("CANCEL")
    _buy(r, "500")
    mtis = [q["mti"] for q in c.requests[-2:]]
    eq(mtis, ["0400", "0200"], "reversal first")
    rq = c.last("0400")
    eq(rq[11], first[11], "reversal carries the original trace")
    eq(rq[39], "98")
    true(52 not in rq and 26 not in rq, "no PIN data in a reversal")
    true(mac.verify("ecb", fakecenter.MAK, iso8583.mab(rq), rq[64]))
    eq(r.t.state.reversal(), None)


def test_bad_mac_on_the_answer_arms_a_reversal_with_reason_a0():
    c = fakecenter.Center()
    r = Rig(center=c).sign_in()
    c.then("badmac")
    _buy(r)
    eq(r.t.state.reversal()["39"], "A0")
    eq(len(r.t.journal.entries()), 0)


def test_decline_clears_the_reversal_and_shows_the_text():
    c = fakecenter.Center()
    r = Rig(center=c).sign_in()
    c.then("code:51")
    _buy(r)
    contains(r.screen_flat(), "应答码:51")
    contains(r.screen_flat(), "余额不足")
    eq(r.t.state.reversal(), None)
    eq(len(r.receipts), 0)


def test_link_down_before_sending_arms_nothing():
    c = fakecenter.Center()
    r = Rig(center=c).sign_in()
    c.then("link")
    _buy(r)
    eq(r.t.state.reversal(), None)
    contains(r.screen_flat(), "连接中心失败")


def test_unanswered_reversal_is_retried_then_dropped():
    c = fakecenter.Center()
    r = Rig(center=c).sign_in()
    c.then("timeout", "timeout", "timeout", "timeout")
    _buy(r)
    r.press("CANCEL")
    _buy(r, "500")
    eq(len([q for q in c.requests if q["mti"] == "0400"]), 3, "three tries")
    eq(r.t.state.reversal(), None)


def test_a0_from_the_center_requires_a_new_sign_in():
    c = fakecenter.Center()
    r = Rig(center=c).sign_in()
    c.then("code:A0")
    _buy(r)
    true(not r.t.signed_in_today())


def test_amount_entry_clear_and_cancel():
    r = Rig().sign_in()
    r.press("MENU", "1", "2", "123", "CLEAR")
    contains(r.screen_flat(), "0.12")
    r.press("CANCEL")
    eq(len([q for q in r.center.requests if q["mti"] == "0200"]), 0)


def test_manual_pan_entry_checks_luhn():
    r = Rig().sign_in()
    r.press("MENU", "1", "2", "100", "ENTER", "6212142000000000013", "ENTER")
    contains(r.screen_flat(), "卡号错误")


def test_reprint_last_says_reprint():
    r = Rig().sign_in()
    _buy(r)
    r.press("CANCEL", "MENU", "2", "1")
    contains(r.receipt_text(), "重打印")


def test_reversal_copy_drops_pin_track_and_reference_fields():
    from pos.flows import reversal

    msg = {"mti": "0200", 2: PAN, 3: "200000", 11: "000007", 26: "12", 35: PAN + "=3012",
           37: "112309000002", 52: b"\x01" * 8, 53: "2600000000000000", 64: b"12345678"}
    back = reversal.to_message(reversal.to_record(msg, "98"))
    eq(back["mti"], "0400")
    eq(back[39], "98")
    eq(back[11], "000007", "the original trace")
    for f in (26, 35, 37, 52, 53, 64):
        true(f not in back, "field %d dropped" % f)
