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


def test_unanswered_reversal_is_retried_one_try_per_transaction_then_kept_in_the_journal():
    c = fakecenter.Center()
    r = Rig(center=c).sign_in()
    c.then("timeout")
    _buy(r)
    first = c.last("0200")
    reasons = []
    for i in range(3):
        c.then("timeout")
        r.press("CANCEL")
        m = r.mark()
        _buy(r, "500")
        rq = c.last("0400")
        reasons.append(rq[39])
        eq(c.requests[-1]["mti"], "0400", "one try, then no purchase: try %d" % (i + 1))
        if i < 2:
            true(r.t.state.reversal() is not None, "still pending after try %d" % (i + 1))
            true(not r.seen("冲正未成功", m), "not given up yet")
    eq(reasons, ["98", "06", "06"], "first try keeps its reason, retries say 06")
    eq(len([q for q in c.requests if q["mti"] == "0400"]), 3, "three tries, spaced")
    eq(r.t.state.reversal(), None)
    contains(r.screen_flat(), "冲正未成功")
    kept = [e for e in r.t.journal.entries() if e.get("type") == "reversal_failed"]
    eq(len(kept), 1, "the unconfirmed reversal stays in the journal")
    eq(kept[0]["trace"], first[11])
    eq(kept[0]["amount"], 10000)
    eq(kept[0]["pan"], "621214*********0012", "masked at rest")
    eq(r.t.journal.pan(kept[0]), PAN, "the whole PAN sealed for settlement")
    r.press("ENTER")  # the operator has seen it: the purchase goes ahead
    eq(c.requests[-1]["mti"], "0200")


def test_settlement_slip_shows_an_unconfirmed_reversal():
    c = fakecenter.Center()
    r = Rig(center=c).sign_in()
    r.t.state.params["retries"] = 1
    c.then("timeout", "timeout")
    _buy(r)
    r.press("CANCEL", "MENU", "1", "7", "ENTER")
    contains(r.screen_flat(), "冲正未成功")
    r.press("ENTER")
    slip = "\n".join(line[1] for rc in r.receipts for line in rc)
    contains(slip, "冲正未成功 1笔")
    eq(r.t.state.extra.get("settle"), None, "settlement ended")


def test_reversal_answered_a0_asks_for_a_sign_in_and_stays_pending():
    c = fakecenter.Center()
    r = Rig(center=c).sign_in()
    c.then("timeout", "code:A0")
    _buy(r)
    r.press("CANCEL")
    _buy(r, "500")
    true(not r.t.signed_in_today(), "A0 on the reversal: sign in again")
    true(r.t.state.reversal() is not None, "the reversal is kept")
    # the 0400 left and was answered: a try (counted as it leaves), so a center that
    # answers A0 to every reversal cannot keep it pending for ever
    eq(r.t.state.reversal()["tries"], 1, "an A0 is a try")
    r.press("CANCEL")
    r.press("MENU", "1", "2")
    contains(r.screen_flat(), "请做终端签到")
    r.press("CANCEL").sign_in()
    _buy(r, "700")
    eq([q["mti"] for q in c.requests[-2:]], ["0400", "0200"])
    eq(r.t.state.reversal(), None)


def test_a_reversal_answered_a0_every_time_is_given_up_after_its_tries():
    # never a loop: a center that answers A0 to each try (after each sign-in) gets the
    # retries' tries, then the reversal is kept in the journal for settlement; the sale of
    # the last try waits for the sign-in the A0 asks for
    c = fakecenter.Center()
    r = Rig(center=c).sign_in()
    c.then("timeout")
    _buy(r)
    for i in range(3):
        r.press("CANCEL").sign_in()
        c.then("code:A0")
        _buy(r, "500")
        eq(c.requests[-1]["mti"], "0400", "a try, then no purchase")
        true((r.t.state.reversal() is None) == (i == 2), "pending until the last try")
    contains(r.screen_flat(), "冲正未成功")
    r.press("ENTER")
    eq(c.requests[-1]["mti"], "0400", "no purchase with keys the center refused")
    eq(len([q for q in c.requests if q["mti"] == "0400"]), 3)
    kept = [e for e in r.t.journal.entries() if e.get("type") == "reversal_failed"]
    eq(len(kept), 1, "kept in the journal for settlement")
    r.press("CANCEL").sign_in()
    _buy(r, "600")
    eq(c.requests[-1]["mti"], "0200", "signed in: the next sale goes alone")


def test_reply_without_field_39_is_a_bad_reply_and_keeps_the_reversal():
    c = fakecenter.Center()
    r = Rig(center=c).sign_in()
    c.then("drop:39")
    _buy(r)
    rev = r.t.state.reversal()
    true(rev is not None, "reversal armed")
    eq(rev["39"], "96")
    contains(r.screen_flat(), "应答报文错误")
    eq(len(r.t.journal.entries()), 0)
    eq(len(r.receipts), 0)


def test_approval_lacking_a_mandatory_field_is_a_bad_reply():
    for f in (11, 41, 42, 37, 3, 4):
        c = fakecenter.Center()
        r = Rig(center=c).sign_in()
        c.then("drop:%d" % f)
        _buy(r)
        true(r.t.state.reversal() is not None, "field %d missing: reversal armed" % f)
        eq(r.t.state.reversal()["39"], "96")


def test_decline_with_a_garbage_mac_is_not_believed():
    c = fakecenter.Center()
    r = Rig(center=c).sign_in()
    c.then("code:51+badmac")
    _buy(r)
    rev = r.t.state.reversal()
    true(rev is not None, "a decline that fails its MAC leaves the reversal armed")
    eq(rev["39"], "A0")
    contains(r.screen_flat(), "MAC")
    true(not r.t.signed_in_today(), "and the terminal signs in again")


def test_decline_with_a_good_mac_is_a_decline():
    c = fakecenter.Center()
    r = Rig(center=c).sign_in()
    c.then("code:51")
    _buy(r)
    true(64 in c.replies[-1], "the decline carried a MAC")
    eq(r.t.state.reversal(), None)
    true(r.t.signed_in_today())


def test_reversal_of_a_bad_mac_approval_carries_the_auth_code():
    c = fakecenter.Center()
    r = Rig(center=c).sign_in()
    c.then("badmac")
    _buy(r)
    eq(r.t.state.reversal()["38"], "654321")
    r.press("CANCEL").sign_in()
    _buy(r, "500")
    eq(c.last("0400")[38], "654321")
    eq(c.last("0400")[39], "A0")


def test_header_processing_requirement_3_means_sign_in_before_the_next_one():
    c = fakecenter.Center()
    r = Rig(center=c).sign_in()
    c.then("need:3")
    _buy(r)
    eq(len(r.t.journal.entries()), 1, "the approval stands")
    true(not r.t.signed_in_today(), "sign in again before the next transaction")
    r.press("ENTER", "CANCEL", "MENU", "1", "2")
    contains(r.screen_flat(), "请做终端签到")


def test_a0_from_the_center_requires_a_new_sign_in():
    c = fakecenter.Center()
    r = Rig(center=c).sign_in()
    c.then("code:A0")
    _buy(r)
    true(not r.t.signed_in_today())


def test_approval_with_f_pads_and_gbk_in_63_is_checked_over_the_bytes_received():
    for modes in ("fpad", "gbk63", "fpad+gbk63"):
        c = fakecenter.Center()
        r = Rig(center=c).sign_in()
        c.then(modes)
        _buy(r)
        eq(r.t.state.reversal(), None, modes + ": not reversed")
        eq(len(r.t.journal.entries()), 1, modes + ": journalled")
        contains(r.screen_flat(), "请撕下商户存根")
        true(r.t.signed_in_today(), modes)


def test_amount_entry_clear_and_cancel():
    r = Rig().sign_in()
    r.press("MENU", "1", "2", "123", "CLEAR")
    contains(r.screen_flat(), "0.12")
    r.press("CANCEL")
    eq(len([q for q in r.center.requests if q["mti"] == "0200"]), 0)


def test_a_key_typed_on_the_amount_is_0_notice_is_typed_not_swallowed():
    # the cashier reads 金额不能为0 and types the amount: 10000 is ¥100.00, not ¥0.00 (the
    # first 1 only ending the notice) nor ¥1,000 later
    r = Rig().sign_in()
    r.press("MENU", "1", "2", "0", "ENTER")
    contains(r.screen_flat(), "金额不能为0")
    r.press("12345")
    contains(r.screen_flat(), "123.45")
    r.press("ENTER", "CARD=" + PAN, "123456", "ENTER")
    eq(r.center.last("0200")[4], "000000012345")
    # ENTER and CANCEL only end the notice (the amount is asked again: a bot that dismisses
    # it either way and types on loses no key); CANCEL at the amount leaves it
    r = Rig().sign_in()
    r.press("MENU", "1", "2", "ENTER", "ENTER")
    contains(r.screen_flat(), "0.00")
    r.press("ENTER", "CANCEL")
    contains(r.screen_flat(), "请输入金额")
    r.press("500")
    contains(r.screen_flat(), "5.00")
    r.press("CANCEL")
    eq(len([q for q in r.center.requests if q["mti"] == "0200"]), 0)
    true("金额" not in r.screen_flat(), r.screen_flat())


def test_a_digit_typed_on_a_too_short_password_notice_starts_the_password_again():
    r = Rig()
    r.press("MENU", "3", "4", "1", "0000", "ENTER")
    contains(r.screen_flat(), "密码为6位数字")
    r.press("123456", "ENTER")  # the supervisor's: all six digits count
    true("密码为6位数字" not in r.screen_flat() and "主管密码错" not in r.screen_flat(),
         r.screen_flat())


def test_a_wrong_supervisor_password_retyped_at_once_counts_every_digit():
    r = Rig()
    r.press("MENU", "3", "4", "1", "654321", "ENTER")
    contains(r.screen_flat(), "还可输入2次")
    r.press("123456", "ENTER")  # typed on the notice: the first 1 is the password's
    contains(r.screen_flat(), "请输入操作员号")


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


def test_a_swipe_sends_the_tracks_and_no_pan():
    r = Rig().sign_in()
    track2 = PAN + "=30121201234567890"  # service code 120: no chip (2xx asks for it)
    track3 = "996212142000000000012=15615600000000000000030000001140000" + "49120=0000000000"
    r.press("MENU", "1", "2", "10000", "ENTER")
    r.event(("card", PAN, "3012", track2, track3))
    r.press("123456", "ENTER")
    q = r.center.last("0200")
    true(2 not in q, "no field 2 on a swipe")
    eq(q[35], track2)
    eq(q[36], track3)
    eq(q[14], "3012", "14 from the track")
    eq(q[22], "021")
    eq(q[60][11:13], "20", "60.4 magstripe reader, 60.5 no IC condition")
    eq(pinblock.decrypt_pin(fakecenter.PIK, q[52], PAN), "123456", "PIN block on the track's PAN")
    e = r.t.journal.entries()[-1]
    eq(r.t.journal.pan(e), PAN)
    eq(e["entry"], "02")


def test_a_keyed_card_sends_pan_and_expiry_with_entry_mode_01():
    r = Rig().sign_in()
    r.press("MENU", "1", "2", "10000", "ENTER", PAN, "ENTER", "2712", "ENTER", "ENTER")
    q = r.center.last("0200")
    eq(q[2], PAN)
    eq(q[14], "2712")
    eq(q[22], "012", "keyed, no PIN")
    true(35 not in q and 36 not in q)
    true(53 not in q, "no PIN, no clear tracks: no security control")


def test_reversal_of_a_swipe_names_the_card_by_its_pan():
    c = fakecenter.Center()
    r = Rig(center=c).sign_in()
    c.then("timeout")
    _buy(r)
    r.press("CANCEL")
    _buy(r, "500")
    rq = c.last("0400")
    eq(rq[2], PAN)
    true(35 not in rq and 36 not in rq, "no track data in a reversal")


def test_an_impossible_or_expired_expiry_is_refused_on_entry():
    r = Rig(now=(2026, 11, 23, 9, 0, 0)).sign_in()
    for token, text in (("CARD=" + PAN + "=2001", "过期"), ("CARD=" + PAN + "=2713", "有效期")):
        m = r.mark()
        r.press("MENU", "1", "2", "10000", "ENTER", token)
        true(r.seen(text, m), token)
        r.press("CANCEL", "CANCEL")
    m = r.mark()
    r.press(token)  # swiped at idle
    true(r.seen("有效期错误", m))
    r.press("CANCEL")
    m = r.mark()
    r.press("MENU", "1", "2", "10000", "ENTER", PAN, "ENTER", "2613", "ENTER")
    true(r.seen("有效期错误", m), "keyed month 13")
    r.press("ENTER", "2610", "ENTER")
    true(r.seen("过期", m), "keyed, expired last month")
    eq(len([q for q in r.center.requests if q["mti"] == "0200"]), 0, "nothing sent")
    r.press("ENTER", "2611", "ENTER", "ENTER")
    eq(r.center.last("0200")[14], "2611", "valid to the end of its month")
