# Refund (退货), reference §3.1: supervisor password, card, the original's
# reference number (37) and date (MMDD), the amount (not more than the
# original), PIN optional. 0220 / 200000 / 25=00 / 60.1=25 (pos.catalog), 61 = twelve
# zeros + MMDD, 63 = "000". An advice: never reversed.
from pos import overlay, ui
from pos.request import financial
from pos.flows import gates, txn, purchase


def run(t):
    title = t.s("tx_refund")
    ok = yield from gates.begin(t, title, "refund")
    if not ok:
        return None
    # a card, or the customer's payment code scanned: the refund of a QR payment
    got = yield from txn.read_card(t, title, ("refund", "qr_refund"))
    if got is None:
        return None
    kind, card = got
    pan, exp, entry = card[0], card[1], card[2]
    rrn = yield from ui.enter_digits(t, title, t.s("tx_enter_orig_rrn"), 12, 12)
    if rrn is None:
        return None
    mmdd = yield from txn.enter_mmdd(t, title)
    if mmdd is None:
        return None
    # what is left to refund of the original (its PAN opened: 3DES in Python), found once the
    # amount's screen is drawn, while the cashier types (a work step: not in a key's time).
    # More than that (the original is in this batch: the terminal knows the ceiling itself)
    # says 退货金额超过原交易 and asks for the amount again, as a mistyped amount is
    limit = []
    typed = None
    while True:
        work = None if limit else (lambda: limit.append(_refundable(t, kind, rrn, pan)))
        amount = yield from ui.enter_amount(
            t, title, t.s("tx_enter_refund_amount"), work=work, typed=typed
        )
        if amount is None:
            return None
        if not limit:
            limit.append(_refundable(t, kind, rrn, pan))
        if limit[0] is None or amount <= limit[0]:
            break
        t.emit(("beep", "error"))
        typed = yield from ui.notice_key(t, title, t.s("tx_refund_too_much"))
    pin = None
    if kind == "refund":
        pin = yield from purchase.enter_pin(t, title, amount)
        if pin is None:
            return None
    msg = financial(t, kind, card, amount, pin)
    msg[37] = rrn
    msg[61] = "000000000000" + mmdd
    msg[63] = "000"
    rec = {
        "pan": pan,
        "exp": exp,
        "entry": entry,
        "amount": amount,
        "orig_rrn": rrn,
        "orig_date": mmdd,
    }
    if kind == "qr_refund":
        from pos import paycode

        rec["scheme"] = paycode.scheme(pan)
    return txn.online_job(title, kind, msg, rec, pin)  # sent by pos.actions.run


def _refundable(t, kind, rrn, pan):
    # what is left to refund of an original in this batch's journal, else None (a QR
    # payment: the customer's code changes every minute, the original is found by its
    # reference number alone)
    orig = None
    done = 0
    with overlay.scope():
        from pos import catalog

        kinds = catalog.original(kind)[1]
        del catalog
    for e in t.journal.each(txn._quoted(rrn)):  # the records that name the RRN, decoded
        if e.get("rrn") == rrn and e.get("type") in kinds:
            orig = e
        elif e.get("type") == kind and e.get("orig_rrn") == rrn:
            done += e.get("amount", 0)
    if orig is None or (kind == "refund" and t.journal.pan(orig) != pan):
        return None
    return orig.get("amount", 0) - done
