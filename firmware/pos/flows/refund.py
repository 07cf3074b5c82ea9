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
    card = yield from ui.read_card(t, title)
    if card is None:
        return None
    pan, exp, entry = card[0], card[1], card[2]
    rrn = yield from ui.enter_digits(t, title, t.s("tx_enter_orig_rrn"), 12, 12)
    if rrn is None:
        return None
    mmdd = yield from txn.enter_mmdd(t, title)
    if mmdd is None:
        return None
    limit = _refundable(t, rrn, pan)
    amount = yield from ui.enter_amount(t, title, t.s("tx_enter_refund_amount"))
    if amount is None:
        return None
    if limit is not None and amount > limit:
        # the original is in this batch: the terminal knows the ceiling itself
        yield from txn.refuse(t, title, "tx_refund_too_much")
        return None
    pin = yield from purchase.enter_pin(t, title, amount)
    if pin is None:
        return None
    msg = financial(t, "refund", card, amount, pin)
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
    return (yield from txn.run_online(t, title, "refund", msg, rec, pin=pin))


def _refundable(t, rrn, pan):
    # what is left to refund of an original in this batch's journal, else None
    orig = None
    done = 0
    with overlay.scope():
        from pos import catalog

        kinds = catalog.original("refund")[1]
        del catalog
    for e in t.journal.entries():
        if e.get("rrn") == rrn and e.get("type") in kinds:
            orig = e
        elif e.get("type") == "refund" and e.get("orig_rrn") == rrn:
            done += e.get("amount", 0)
    if orig is None or t.journal.pan(orig) != pan:
        return None
    return orig.get("amount", 0) - done
