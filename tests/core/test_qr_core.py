# QR payments (扫码支付, issue 13.10-11) on the core: the amount first, then the customer's
# payment code scanned; the center answers at once or 09 (the customer confirms on the
# phone) and the terminal queries until a final answer, cancels by reversal on the timeout
# or on CANCEL; QR void and refund from the card items; settlement counts them.
from mptest import eq, true, contains
from pos import clock
from pos.qrfields import code_of as qr_code_of
import fakecenter
from txhelp import rig, buy, settle, last_of, SUPERVISOR

UNIONPAY = "6288880000000000011"
WECHAT = "134567890000000011"
ALIPAY = "281234567890000011"


def _at(r, seconds_after):
    # the terminal clock, `seconds_after` the start of the test's day (09:00:00)
    base = clock.to_seconds((2026, 11, 23, 9, 0, 0))
    r.tick(clock.from_seconds(base + seconds_after))


def _scan_sale(r, code, amount="2500"):
    r.press("MENU", "1", "9", amount, "ENTER", "SCAN=" + code)


def _financial(c, since=0):
    return [q for q in c.requests[since:] if q["mti"] in ("0200", "0220", "0400")]


def test_a_qr_sale_the_center_approves_at_once_prints_the_wallet_and_the_code():
    c = fakecenter.Center()
    r = rig(c)
    n = len(c.requests)
    _scan_sale(r, WECHAT)
    true(r.seen("请扫描顾客付款码"), "the code is asked after the amount")
    true(r.seen("交易成功"))
    q = _financial(c, n)[0]
    eq((q["mti"], q[3], q[22], q[25], q[60][:2]), ("0200", "000000", "032", "00", "22"))
    eq(qr_code_of(q[59]), WECHAT)
    eq(q[59][:5], "A3018")
    true(2 not in q and 35 not in q and 52 not in q, "no card, no PIN")
    e = last_of(r, "qr_sale")
    eq(e["amount"], 2500)
    eq(e["scheme"], "wechat")
    text = r.receipt_text()
    contains(text, "扫码支付")
    contains(text, "付款码:")
    contains(text, "支付方式:微信支付")
    true("持卡人签名" not in text and "记入本卡账户" not in text, "a wallet payment is not signed")
    eq(r.t.state.reversal(), None, "the approval disarmed the sale's reversal")


def test_a_code_that_is_no_payment_code_is_refused_and_another_can_be_scanned():
    c = fakecenter.Center()
    r = rig(c)
    n = len(c.requests)
    r.press("MENU", "1", "9", "100", "ENTER")
    r.event(("scan", "6901234567892123"))  # a product's barcode (a script's SCAN= refuses it)
    true(r.seen("不是付款码"))
    eq(_financial(c, n), [], "nothing sent")
    r.press("ENTER", "SCAN=" + ALIPAY)
    true(r.seen("交易成功"))
    eq(last_of(r, "qr_sale")["scheme"], "alipay")


def test_a_code_typed_on_the_keypad_pays_as_a_scanned_one():
    c = fakecenter.Center()
    r = rig(c)
    r.press("MENU", "1", "9", "100", "ENTER", UNIONPAY, "ENTER")
    true(r.seen("交易成功"))
    eq(last_of(r, "qr_sale")["scheme"], "unionpay")


def test_the_customer_confirms_on_the_phone_while_the_terminal_queries():
    c = fakecenter.Center()
    r = rig(c)
    c.then("code:09", "code:09", "ok")
    n = len(c.requests)
    _scan_sale(r, UNIONPAY, "8800")
    true(r.seen("请顾客在手机上确认"))
    contains(r.screen_flat(), "剩余60秒")
    eq(len(_financial(c, n)), 1, "no query before the first poll")
    _at(r, 1)
    contains(r.screen_flat(), "剩余59秒", "the countdown")
    _at(r, 5)
    qs = _financial(c, n)
    eq(len(qs), 2, "a query after 5 s")
    eq((qs[1][3], qs[1][60][:2], qs[1][22]), ("330000", "36", "032"))
    eq(qs[1][61], qs[0][60][2:8] + qs[0][11], "the query names the sale: batch + trace")
    eq(qr_code_of(qs[1][59]), UNIONPAY)
    true(r.t.state.reversal() is not None, "the sale's reversal stays armed while pending")
    true(r.seen("请顾客在手机上确认"), "still pending")
    _at(r, 10)
    true(r.seen("交易成功"), "confirmed at the second query")
    e = last_of(r, "qr_sale")
    eq(e["trace"], qs[0][11], "journalled under the sale's trace")
    eq(e["amount"], 8800)
    eq(r.t.state.reversal(), None)
    eq([q["mti"] for q in _financial(c, n)], ["0200", "0200", "0200"], "no reversal")


def test_enter_queries_at_once():
    c = fakecenter.Center()
    r = rig(c)
    c.then("code:09", "ok")
    n = len(c.requests)
    _scan_sale(r, UNIONPAY)
    r.press("ENTER")
    true(r.seen("交易成功"))
    eq(len(_financial(c, n)), 2)


def test_no_confirmation_within_a_minute_cancels_the_payment_by_its_reversal():
    c = fakecenter.Center()
    r = rig(c)
    c.then(*(["code:09"] * 12))
    n = len(c.requests)
    _scan_sale(r, WECHAT)
    for s in range(1, 61):
        _at(r, s)
    sent = _financial(c, n)
    eq([q["mti"] for q in sent], ["0200"] * 12 + ["0400"], "11 queries, then the reversal")
    rev = sent[-1]
    eq(rev[11], sent[0][11], "the reversal names the sale")
    eq(rev[39], "98")
    eq(qr_code_of(rev[59]), WECHAT)
    true(r.seen("支付超时,已撤销"))
    eq(r.t.state.reversal(), None, "the reversal was confirmed")
    eq(last_of(r, "qr_sale"), None, "nothing journalled")


def test_cancel_while_the_customer_confirms_reverses_the_sale():
    c = fakecenter.Center()
    r = rig(c)
    c.then("code:09")
    n = len(c.requests)
    _scan_sale(r, ALIPAY)
    r.press("MENU")
    true(r.seen("请顾客在手机上确认"), "MENU does not leave a payment being confirmed")
    r.press("CANCEL")
    sent = _financial(c, n)
    eq([q["mti"] for q in sent], ["0200", "0400"])
    eq(sent[1][39], "06")
    true(r.seen("交易已撤销"))
    eq(last_of(r, "qr_sale"), None)


def test_a_reversal_that_does_not_get_through_stays_for_the_next_transaction():
    c = fakecenter.Center()
    r = rig(c)
    c.then("code:09", "timeout")
    _scan_sale(r, ALIPAY)
    r.press("CANCEL")
    true(r.seen("交易超时"), "the reversal's own failure screen")
    r.press("ENTER")
    true(r.seen("撤销未成功"))
    true(r.t.state.reversal() is not None, "armed, sent before the next transaction")
    n = len(c.requests)
    buy(r)
    eq([q["mti"] for q in _financial(c, n)], ["0400", "0200"])


def test_the_customer_refusing_on_the_phone_is_final_and_not_reversed():
    c = fakecenter.Center()
    r = rig(c)
    c.then("code:09", "code:05")
    n = len(c.requests)
    _scan_sale(r, UNIONPAY)
    r.press("ENTER")
    true(r.seen("应答码:05"))
    eq([q["mti"] for q in _financial(c, n)], ["0200", "0200"])
    eq(r.t.state.reversal(), None)


def test_a_qr_payment_is_voided_from_the_void_item_without_a_card():
    c = fakecenter.Center()
    r = rig(c)
    _scan_sale(r, WECHAT, "3000")
    r.press("ENTER", "CANCEL")
    sale = last_of(r, "qr_sale")
    n = len(c.requests)
    r.press("MENU", "1", "3", SUPERVISOR, "ENTER", sale["trace"], "ENTER", "ENTER")
    true(r.seen("交易成功"), "no card asked")
    q = _financial(c, n)[0]
    eq((q["mti"], q[3], q[60][:2], q[22], q[4]), ("0200", "200000", "23", "032", "000000003000"))
    eq(qr_code_of(q[59]), WECHAT)
    eq(q[61], sale["batch"] + sale["trace"])
    eq(q[37], sale["rrn"])
    v = last_of(r, "qr_void")
    eq(v["orig_trace"], sale["trace"])
    contains(r.receipt_text(), "扫码撤销")
    r.press("ENTER", "CANCEL")
    m = r.mark()
    r.press("MENU", "1", "3", SUPERVISOR, "ENTER", sale["trace"], "ENTER")
    true(r.seen("原交易已撤销", m), "a second void is refused")


def test_a_qr_payment_is_refunded_with_the_code_scanned_at_the_card_prompt():
    c = fakecenter.Center()
    r = rig(c)
    _scan_sale(r, ALIPAY, "5000")
    r.press("ENTER", "CANCEL")
    sale = last_of(r, "qr_sale")
    n = len(c.requests)
    r.press("MENU", "1", "4", SUPERVISOR, "ENTER")
    true(r.seen("扫码"), "the card prompt says a code may be scanned")
    r.press("SCAN=" + ALIPAY, sale["rrn"], "ENTER", "1123", "ENTER", "6000", "ENTER")
    true(r.seen("退货金额超过原交易"), "more than the original is refused")
    eq(_financial(c, n), [])
    r.press("ENTER", "2000", "ENTER")  # the amount asked again
    true(r.seen("交易成功"), "no PIN asked")
    q = _financial(c, n)[-1]
    eq((q["mti"], q[3], q[60][:2], q[22], q[37]), ("0220", "200000", "25", "032", sale["rrn"]))
    eq(qr_code_of(q[59]), ALIPAY)
    e = last_of(r, "qr_refund")
    eq((e["amount"], e["orig_rrn"], e["scheme"]), (2000, sale["rrn"], "alipay"))


def test_settlement_counts_qr_payments_on_its_totals_and_slip():
    c = fakecenter.Center()
    r = rig(c)
    buy(r, "10000")
    _scan_sale(r, WECHAT, "2500")
    r.press("ENTER", "CANCEL")
    sale = last_of(r, "qr_sale")
    r.press("MENU", "1", "3", SUPERVISOR, "ENTER", sale["trace"], "ENTER", "ENTER")
    r.press("ENTER", "CANCEL")
    _scan_sale(r, UNIONPAY, "700")
    r.press("ENTER", "CANCEL")
    n = len(c.requests)
    settle(r)
    q = [x for x in c.requests[n:] if x["mti"] == "0500"][0]
    eq(q[48][:30], "000000013200003000000002500001", "debit 132.00 x3, credit 25.00 x1")
    text = r.receipt_text()
    contains(text, "扫码支付 2笔")
    contains(text, "扫码撤销 1笔")
    true(r.seen("对账平"))
