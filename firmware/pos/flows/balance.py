# Balance inquiry (余额查询), reference §3.1: card, PIN, 0200 / 310000 /
# 25=00 / 60.1=01; the balance comes back in field 54 (account type 2, amount
# type 2, currency 3, sign C/D, amount 12). Not reversed, not journalled.
from pos import ui, overlay
from pos.request import financial
from pos.flows import gates, txn


def parse_balance(f54):
    # -> the balance in fen (negative for a "D" sign), or None if unreadable. A reply may
    # carry several 20-character entries (ledger and available, reference §11): the
    # available balance (amount type 02) is shown, else the first entry.
    if len(f54) < 20 or len(f54) % 20:
        return None
    entry = f54[0:20]
    for i in range(0, len(f54), 20):
        if f54[i + 2 : i + 4] == "02":
            entry = f54[i : i + 20]
            break
    digits = entry[8:20]
    if not digits.isdigit() or entry[7] not in "CD":
        return None
    fen = int(digits)
    return -fen if entry[7] == "D" else fen


def run(t):
    title = t.s("tx_balance")
    ok = yield from gates.begin(t, title, "balance")
    if not ok:
        return None
    got = yield from txn.read_card(t, title, ("balance",))
    if got is None:
        return None
    card = got[1]
    pan = card[0]
    pin = yield from ui.enter_digits(t, title, t.s("enter_pin"), 4, 12, secret=True)
    if pin is None:
        return None
    msg = financial(t, "balance", card, None, pin)
    with overlay.scope():  # the exchange's code is dropped before the balance is shown
        from pos.flows import online

        reply = yield from online.send(t, title, "balance", msg, pin)
        del online
    if reply is None:
        return None
    fen = parse_balance(reply.get(54) or "")
    if fen is None:
        yield from ui.notice(t, title, t.s("bad_reply"))
        return None
    t.emit(("beep", "ok"))
    sign = "-" if fen < 0 else ""
    amount = "\uffe5" + sign + ui.format_amount(abs(fen))
    body = [ui.screen_pan(pan, t.cols), t.s("tx_balance_is"), amount]
    yield from ui.notice(t, title, body)
    return fen
