# Purchase (消费): amount, card, PIN, 0200 with the MAC, the answer, the slip.
from pos import ui
from pos.request import financial
from pos.flows import gates, txn


def run(t, card=None):
    title = t.s("tx_purchase")
    ok = yield from gates.begin(t, title, "purchase")
    if not ok:
        return
    if card is None:
        amount = yield from ui.enter_amount(t, title)
        if amount is None:
            return
        card = yield from ui.read_card(t, title, amount, chip=True)
        if card is None:
            return
    elif card[0] in ("chip", "tap"):
        amount = None  # inserted or tapped at idle: the amount first (pos.flows.chip)
    else:
        # swiped at idle (an empty card: the track could not be read)
        from pos import card as cardmod

        ok = yield from cardmod.usable(t, title, card or None)
        if not ok:
            return
        prompt = ui.screen_pan(card[0], t.cols) + "\n" + t.s("enter_amount")
        amount = yield from ui.enter_amount(t, title, prompt)
        if amount is None:
            return
    if card[0] in ("chip", "tap"):  # a reader event: the chip kernel reads the card
        from pos import overlay

        with overlay.scope():
            from pos.flows import chip

            yield from chip.purchase(t, title, card, amount)
            del chip
        return
    yield from go_online(t, title, card, amount)


def go_online(t, title, card, amount):
    pan, exp, entry = card[0], card[1], card[2]
    pin = yield from enter_pin(t, title, amount)
    if pin is None:
        return
    msg = financial(t, "purchase", card, amount, pin)
    rec = {"pan": pan, "exp": exp, "entry": entry, "amount": amount}
    yield from txn.run_online(t, title, "purchase", msg, rec, pin=pin)


def enter_pin(t, title, amount=None):
    prompt = t.s("enter_pin")
    if amount is not None:
        prompt = "\uffe5" + ui.format_amount(amount) + "\n" + prompt
    return (yield from ui.enter_digits(t, title, prompt, 4, 12, secret=True, allow_empty=True))
