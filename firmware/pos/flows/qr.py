# 扫码支付, a QR payment (reference §12, issue 13.10): the cashier enters the amount, then
# scans the customer's payment code (付款码) off the phone: UnionPay QR or a wallet the
# acquirer aggregates (WeChat Pay, Alipay; pos.paycode). The exchange, with the wait while
# the customer confirms on the phone, is an overlay of its own (pos.flows.qrpay), then the
# slips (pos.flows.txn.approved). A QR payment is voided (消费撤销) and refunded (退货) from
# the card items: pos.flows.void finds the original's type, the refund takes a scan at its
# card prompt (the catalog's qr_void / qr_refund).
from pos import overlay, paycode, ui
from pos.flows import gates


def sale(t, code=None):
    # code: a payment code scanned at the idle screen (the amount is asked first anyway)
    title = t.s("tx_qr_sale")
    ok = yield from gates.begin(t, title, "qr_sale")
    if not ok:
        return None
    amount = yield from ui.enter_amount(t, title)
    if amount is None:
        return None
    if code is None or paycode.scheme(code) is None:
        code = yield from scan(t, title, amount)
        if code is None:
            return None
    with overlay.scope():
        from pos.flows import qrpay

        rec = yield from qrpay.pay(t, title, code, amount)
        del qrpay
    if rec is None:
        return None
    with overlay.scope():
        from pos.flows import txn

        yield from txn.approved(t, title, rec)
        del txn
    return rec


def scan(t, title, amount=None):
    # Generator -> the customer's payment code, scanned (the reader port's ("scan", code))
    # or typed on the keypad (a terminal without a scanner, or a code the scanner cannot
    # read); None on CANCEL or after the idle timeout. The prompt is the catalog row's (a
    # code only: a card presented here is refused, pos.flows.present); a code of no scheme
    # is refused.
    from pos.flows import txn

    got = yield from txn.read_card(t, title, ("qr_sale",), amount)
    del txn
    return got[1][0] if got is not None else None
