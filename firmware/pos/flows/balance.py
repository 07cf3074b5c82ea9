# Balance inquiry (余额查询), reference §3.1: card, PIN, 0200 / 310000 /
# 25=00 / 60.1=01; the balance comes back in field 54 (account type 2, amount
# type 2, currency 3, sign C/D, amount 12). Not reversed, not journalled. A chip card
# inserted is read by the kernel (pos.flows.chip, 9C = 31: 22, 23, 55, 60.4 as a purchase).
from pos import ui, overlay
from pos.request import financial


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
    # the gates and the card's prompt as one overlay: not held while the center answers
    # (go_online), where a board has the least heap. (One import of both: __import__ looks
    # each level of "pos.flows" up among the interned names twice, ~30,000 instructions of
    # the unix port an import; the gates, then txn.read_card's and its prompt's were three)
    got = None
    with overlay.scope():
        from pos.flows import gates, present

        if (yield from gates.begin(t, title, "balance")):
            got = yield from present.read(t, title, ("balance",))
        del gates, present
    if got is None:
        return None
    card = got[1]
    if card[0] in ("chip", "tap"):  # a reader event: the chip kernel reads it, 9C = 31
        with overlay.scope():
            from pos import catalog

            ttype = catalog.emv_type("balance")
            del catalog
        with overlay.scope():
            from pos.flows import chip

            got = yield from chip.run(t, title, card, 0, "balance", ttype)
            del chip
        if type(got) is not tuple:  # cancelled, declined, or a fallback's balance (fen)
            return got
        fen = yield from show(t, title, got[1], got[0])
        from pos.flows.main import card_out

        yield from card_out(t, title)  # 请拔卡 until the card leaves the reader
        return fen
    return (yield from go_online(t, title, card))


def go_online(t, title, card, amount=None):
    # a card read from its stripe (or keyed): the PIN, the 0200, the balance shown
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
    return (yield from show(t, title, card[0], reply))


def show(t, title, pan, reply):
    # the center's answer (field 54) on screen -> the balance in fen, None when unreadable
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
