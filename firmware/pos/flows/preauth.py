# The pre-authorisation family, reference §3.1 (25 = 06 for all four; the codes, the
# supervisor and how the original is found are the catalog's, pos.catalog):
#   预授权         0100 / 030000 / 60.1=10  amount, card, PIN (a chip inserted or tapped:
#                                            the kernel, pos.flows.chip, 9C = 03)
#   预授权撤销     0100 / 200000 / 60.1=11  supervisor; original auth code (38),
#                                            date (61 = 12 zeros + MMDD), amount
#   预授权完成     0200 / 000000 / 60.1=20  original auth code, date, amount
#   预授权完成撤销 0200 / 200000 / 60.1=21  supervisor; the completion's trace
# Every one of them is reversible.
from pos import ui
from pos.request import financial
from pos.flows import gates, txn, purchase, void


def preauth(t):
    title = t.s("tx_preauth")
    ok = yield from gates.begin(t, title, "preauth")
    if not ok:
        return None
    amount = yield from ui.enter_amount(t, title)
    if amount is None:
        return None
    got = yield from txn.read_card(t, title, ("preauth",), amount)
    if got is None:
        return None
    card = got[1]
    if card[0] in ("chip", "tap"):  # a reader event: the chip kernel reads it, 9C = 03
        from pos import overlay

        with overlay.scope():
            from pos import catalog

            ttype = catalog.emv_type("preauth")
            del catalog
        return txn.chip_job(title, card, amount, "preauth", ttype)  # run by pos.actions
    return (yield from go_online(t, title, card, amount))


def go_online(t, title, card, amount):
    # a card read from its stripe (or keyed, or a chip's fallback): the PIN, the 0100
    pan, exp, entry = card[0], card[1], card[2]
    pin = yield from purchase.enter_pin(t, title, amount)
    if pin is None:
        return None
    msg = financial(t, "preauth", card, amount, pin)
    rec = {"pan": pan, "exp": exp, "entry": entry, "amount": amount}
    return (yield from txn.run_online(t, title, "preauth", msg, rec, pin=pin))


def preauth_void(t):
    return (yield from _by_auth_code(t, "preauth_void"))


def completion(t):
    return (yield from _by_auth_code(t, "completion"))


def completion_void(t):
    return (yield from void.void_of(t, "completion_void"))


def _by_auth_code(t, kind):
    # A pre-auth void or a completion: the pre-auth may be from an earlier
    # batch, so it is named by its auth code and date, as on the slip.
    title = t.s("tx_" + kind)  # the type's name (pos.catalog.title_key)
    ok = yield from gates.begin(t, title, kind)
    if not ok:
        return None
    got = yield from txn.read_card(t, title, (kind,))
    if got is None:
        return None
    card = got[1]
    pan, exp, entry = card[0], card[1], card[2]
    code = yield from ui.enter_digits(t, title, t.s("tx_enter_orig_auth"), 6, 6)
    if code is None:
        return None
    mmdd = yield from txn.enter_mmdd(t, title)
    if mmdd is None:
        return None
    prompt = t.s("tx_enter_preauth_amount" if kind == "preauth_void" else "enter_amount")
    amount = yield from ui.enter_amount(t, title, prompt)
    if amount is None:
        return None
    pin = yield from purchase.enter_pin(t, title, amount)
    if pin is None:
        return None
    msg = financial(t, kind, card, amount, pin)
    msg[38] = code
    msg[61] = "000000000000" + mmdd
    rec = {
        "pan": pan,
        "exp": exp,
        "entry": entry,
        "amount": amount,
        "orig_auth": code,
        "orig_date": mmdd,
    }
    return (yield from txn.run_online(t, title, kind, msg, rec, pin=pin))
