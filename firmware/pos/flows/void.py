# Purchase void (消费撤销) and completion void (预授权完成撤销), reference §3.1: the
# supervisor's password, the original's trace, the same card, PIN optional. The request's
# codes, the original's types and the supervisor come from the catalog (pos.catalog);
# the request carries the original amount, its RRN (37), auth code (38) and batch + trace
# (61; a completion void adds the original's date). Reversible; the slip prints the
# amount negative.
from pos import overlay
from pos.request import financial
from pos.flows import gates, txn, purchase


def run(t):
    # 消费撤销 voids a card purchase, or a QR payment (qr_void: no card, the payment code
    # in 59): the original's type decides
    return (yield from void_of(t, "void", "qr_void"))


def void_of(t, kind, qr_kind=None):
    # The void of an original of this batch, found by its trace in the journal.
    with overlay.scope():  # the catalog is read, not held (the heap at the prompts)
        from pos import catalog

        title = t.s(catalog.title_key(kind))
        kinds = catalog.original(kind)[1]
        qr_of = catalog.original(qr_kind)[1] if qr_kind else ()
        by_trace = catalog.journal_kinds("trace")
        rules = (catalog.journalled(kind), catalog.supervisor(kind))  # (gates.begin's)
        del catalog
    ok = yield from gates.begin(t, title, kind, rules[0], rules[1])
    if not ok:
        return None
    trace = yield from txn.enter_trace(t, title)
    if trace is None:
        return None
    ref, orig, voided = txn.find_unvoided(t, trace, kinds + qr_of, by_trace)
    if orig is None:
        # a record of another type under that trace (a void, a refund): 原交易不可撤销,
        # else 原交易不存在 (OP's texts)
        other = txn.find_entry(t, trace) is not None
        yield from txn.refuse(t, title, "tx_not_voidable" if other else "tx_no_original")
        return None
    if voided:
        yield from txn.refuse(t, title, "tx_already_voided")
        return None
    # the original's screen from the fields found (type, trace, amount); its record read
    # whole and its PAN (sealed in the journal: 3DES in Python) opened once that screen is
    # drawn, while the cashier reads it (a work step: not in a key's time)
    opened = []

    def work():
        e = t.journal.at(ref)
        opened.append(e)
        opened.append(t.journal.pan(e))

    go = yield from txn.show_original(t, title, orig, work)
    if not go:
        return None
    if not opened:
        work()
    orig, orig_pan = opened[0], opened[1]
    amount = orig.get("amount", 0)
    if orig.get("type") in qr_of:
        # a QR payment: the customer's code is the original's (no card, no PIN)
        kind = qr_kind
        from pos import qrfields

        card = qrfields.card(orig_pan)
        pin = None
    else:
        got = yield from txn.read_card(t, title, (kind,), amount)
        if got is None:
            return None
        card = got[1]
        ok = yield from txn.check_card(t, title, card, orig_pan)
        if not ok:
            return None
        pin = yield from purchase.enter_pin(t, title, amount)
        if pin is None:
            return None
    pan, exp, entry = card[0], card[1], card[2]
    msg = financial(t, kind, card, amount, pin)
    msg[37] = orig.get("rrn", "")
    if orig.get("auth"):
        msg[38] = orig["auth"]
    f61 = orig.get("batch", "") + orig.get("trace", "")
    if msg[25] == "06":  # the pre-authorisation family: 61 adds the original's date
        f61 += orig.get("date", "00000000")[4:8]
    msg[61] = f61
    rec = {
        "pan": pan,
        "exp": exp,
        "entry": entry,
        "amount": amount,
        "orig_trace": trace,
        "orig_rrn": orig.get("rrn", ""),
        "orig_auth": orig.get("auth", ""),
    }
    if orig.get("foreign"):
        rec["foreign"] = True  # totalled with the foreign cards, as its original
    if orig.get("scheme"):
        rec["scheme"] = orig["scheme"]  # a QR payment's wallet, for the slip
    return txn.online_job(title, kind, msg, rec, pin)  # sent by pos.actions.run
