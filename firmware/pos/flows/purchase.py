# Purchase (消费): amount, card, PIN, 0200 with the MAC, the answer, the slip.
from pos import ui
from pos.request import financial
from pos.flows import gates, txn


def run(t, card=None):
    # card: what was presented at the idle screen: the reader's insert or tap event, or the
    # card a swipe read (() when its track could not be read); None from the menu
    title = t.s("tx_purchase")
    ok = yield from gates.begin(t, title, "purchase")
    if not ok:
        return
    amount = None
    if card is None:
        amount = yield from ui.enter_amount(t, title)
        if amount is None:
            return
        got = yield from txn.read_card(t, title, ("purchase",), amount)
    elif card and card[0] in ("chip", "tap"):
        # inserted or tapped at idle (as the row allows): the amount first (pos.flows.chip)
        got = yield from txn.read_card(t, title, ("purchase",), first=card)
    else:
        # swiped at idle: a chip card is asked for its chip (请插卡) and goes on inserted
        got = yield from txn.read_card(t, title, ("purchase",), swiped=card)
    if got is None:
        return
    card = got[1]
    if card[0] in ("chip", "tap"):  # a reader event: the chip kernel reads the card, once
        return txn.chip_job(title, card, amount)  # this flow's modules are dropped
    if amount is None:
        # (the two lines as a list: the layout is the same, and no joined str is made)
        prompt = [ui.screen_pan(card[0], t.cols), t.s("enter_amount")]
        amount = yield from ui.enter_amount(t, title, prompt)
        if amount is None:
            return
    return (yield from request(t, title, card, amount))


def go_online(t, title, card, amount):
    # the PIN, the 0200 and its exchange (a chip's fallback to its stripe: pos.flows.chip)
    job = yield from request(t, title, card, amount)
    if job is not None:
        yield from txn.run_online(t, job[1], job[2], job[3], job[4], job[5])


def request(t, title, card, amount):
    # Generator -> the 0200 to send (txn.online_job: pos.actions.run sends it once this
    # flow's modules are dropped), or None when the PIN was cancelled
    pan, exp, entry = card[0], card[1], card[2]
    pin = yield from enter_pin(t, title, amount)
    if pin is None:
        return None
    msg = financial(t, "purchase", card, amount, pin)
    rec = {"pan": pan, "exp": exp, "entry": entry, "amount": amount}
    return txn.online_job(title, "purchase", msg, rec, pin)


def enter_pin(t, title, amount=None):
    prompt = t.s("enter_pin")
    if amount is not None:
        prompt = "\uffe5" + ui.format_amount(amount) + "\n" + prompt
    return (yield from ui.enter_digits(t, title, prompt, 4, 12, secret=True, allow_empty=True))
