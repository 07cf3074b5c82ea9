# The card prompt of a transaction, driven by the catalog's entry column (pos.catalog): the
# screen asks only for what the type's row allows (请插卡/刷卡/挥卡 或手输卡号 for a purchase,
# 请刷卡或手输卡号 for a type that reads no chip, 请扫描顾客付款码 for a QR sale), and a card
# presented in a mode the row does not allow is told on screen (该交易不支持挥卡) and the
# prompt asked again: nothing is sent, nothing journalled. Run as an overlay at the prompt
# (what it returns is plain data: a card tuple, or the reader's insert / tap event).
# Entry modes (the catalog's letters): c chip inserted, s swiped, t tapped, k the PAN keyed,
# q a payment code scanned (or typed when the prompt takes no keyed PAN: a code the scanner
# cannot read).
from pos import card as cardmod
from pos import catalog, ui
from pos import keys as K
from pos.screen import layout

# the order of the letters in a prompt's strings key (entry_<modes>): a tuple, as a str's
# letters taken out one by one are each interned on MicroPython (~6,500 instructions each)
ORDER = ("c", "s", "t", "k", "q")


def modes_of(kinds):
    # -> the entry modes any of the types allows, in ORDER; {mode: the first type allowing it}
    # (the catalog's letters looked for in its column: only the modes' str is made)
    by = {}
    for kind in kinds:
        allowed = catalog.entry_modes(kind)
        for m in ORDER:
            if m not in by and m in allowed:
                by[m] = kind
    return "".join([m for m in ORDER if m in by]), by


def prompt_key(modes):
    return "entry_" + modes


def mode_of(ev):
    # the entry mode letter of a reader event ("" for a key)
    k = ev[0] if ev else None
    if k == cardmod.SWIPE_EVENT:
        return "s"
    if k == cardmod.INSERT_EVENT:
        return "c"
    if k == cardmod.TAP_EVENT:
        return "t"
    if k == cardmod.SCAN_EVENT:
        return "q"
    return ""


def read(t, title, kinds, amount=None, first=None, swiped=None):
    # Generator -> (kind, got) or None (CANCEL, the idle timeout). kinds: the types this
    # prompt serves (a refund's: refund, qr_refund: the mode presented says which); got is a
    # card (pos.card's tuple: swiped, keyed, or a scanned code as ("<code>", "", "03", "",
    # "")) or, for a chip or a tap, the reader's event (the chip kernel reads it:
    # pos.flows.chip). first: a reader event already presented at the idle screen (an
    # insert, a tap, a scan); swiped: the card a swipe there read (() when its track could
    # not be read).
    modes, by = modes_of(kinds)
    typed_code = "k" not in modes and "q" in modes  # digits typed are a payment code
    digits = ""
    ev = first
    if swiped is not None:
        ev = ("swiped",)
    while True:
        if ev is None:
            _prompt(t, title, modes, amount, digits, typed_code)
            ev = yield ("input", ("key", "card", "chip", "tap", "scan"), ui.IDLE_TIMEOUT)
            if ev[0] == "timeout":
                return None
        if ev[0] == "key":
            k = ev[1]
            ev = None
            if k == K.MENU:
                raise ui.GotoMenu()
            if k == K.CANCEL:
                return None
            if k == K.CLEAR:
                digits = digits[:-1]
                continue
            mode = "q" if typed_code else "k"
            if k in K.DIGITS:
                if mode not in modes:
                    ev = _typed((yield from refuse(t, title, mode)))
                elif len(digits) < (24 if typed_code else 19):
                    digits += k
                continue
            if k != K.ENTER or not digits:
                t.emit(("beep", "error"))
                continue
            text, digits = digits, ""
            if typed_code:
                got = _code(text)
                if got is None:
                    ev = _typed((yield from _bad_code(t, title)))
                    continue
                return (by["q"], got)
            if len(text) < 13 or not ui.luhn_ok(text):
                # 卡号错误: the key that ends the notice is typed (the next number's first
                # digit, CLEAR, CANCEL), ENTER only ends it
                ev = _typed((yield from ui.notice_key(t, title, t.s("bad_pan"))))
                continue
            card = yield from _keyed(t, title, text, "c" not in modes)
            if card is None:
                return None
            return (by["k"], card)
        mode = "s" if ev[0] == "swiped" else mode_of(ev)
        if mode not in modes:
            swiped = None
            ev = _typed((yield from refuse(t, title, mode)))
            continue
        if mode in ("c", "t"):
            return (by[mode], ev)
        if mode == "q":
            got = _code(cardmod.scan_code(ev))
            ev = None
            if got is None:
                ev = _typed((yield from _bad_code(t, title)))
                continue
            return (by["q"], got)
        at_idle = ev[0] == "swiped"
        card = (swiped or None) if at_idle else cardmod.from_event(ev)
        ev = swiped = None
        if "c" in modes and card is not None and cardmod.needs_chip(card) and (
                cardmod.expiry_problem(card[1], t.now) is None):  # fmt: skip
            # a chip card swiped: 请插卡, and the insert (or a tap) goes on with this
            # transaction (its amount kept) right there
            got = yield from _insert_instead(t, title, modes, amount)
            if got is None:
                return None
            return (by[mode_of(got)], got)
        # a transaction that does not read chips takes a chip card's stripe
        ok = yield from cardmod.usable(t, title, card, chip_ok="c" not in modes)
        if ok:
            return (by["s"], card)
        if at_idle:
            return None  # a card swiped at the idle screen that cannot pay: idle again


def _insert_instead(t, title, modes, amount):
    # 请插卡 until the card is inserted (or tapped, where the type takes taps) -> the event,
    # None on CANCEL or the idle timeout
    t.emit(("beep", "error"))
    ui.screen(t, title, _with_amount(t, [t.s("chip_insert_card")], amount))
    while True:
        got = yield ("input", ("key", "card", "chip", "tap", "scan"), ui.IDLE_TIMEOUT)
        if got[0] == "timeout" or (got[0] == "key" and got[1] == K.CANCEL):
            return None
        if got[0] == "key" and got[1] == K.MENU:
            raise ui.GotoMenu()
        mode = mode_of(got)
        if mode in ("c", "t") and mode in modes:
            return got
        t.emit(("beep", "error"))


def _with_amount(t, lines, amount):
    if amount is not None and len(lines) < t.rows - 1:
        lines = lines + ["\uffe5" + ui.format_amount(amount)]
    return lines


def _prompt(t, title, modes, amount, digits, typed_code):
    if digits:
        f = layout(t.rows, t.cols, title, t.s("qr_scan" if typed_code else "manual_pan"),
                   reserve=1)  # fmt: skip
        f.put(t.rows - 1, digits[-t.cols :], "right")
    else:
        body = t.s(prompt_key(modes)).split("\n")
        f = layout(t.rows, t.cols, title, body, reserve=1 if amount is not None else 0)
        if amount is not None:
            f.put(t.rows - 1, "\uffe5" + ui.format_amount(amount), "right")
    t.show(f)


def _typed(k):
    # the key that ended a notice (ui.notice_key) as the prompt's next event, or None
    return None if k is None else ("key", k)


def refuse(t, title, mode):
    # a card presented in a mode the transaction does not take: 该交易不支持挥卡
    # -> the key that ended the notice when it is one to type (ui.notice_key)
    t.emit(("beep", "error"))
    return (yield from ui.notice_key(t, title, t.s("entry_refused", t.s("entry_name_" + mode))))


def _code(code):
    # a scanned (or typed) payment code of a scheme -> the card tuple of a QR payment
    from pos import paycode

    if code is None or not code.isdigit() or paycode.scheme(code) is None:
        return None
    return (code, "", cardmod.QR, "", "")


def _bad_code(t, title):
    t.emit(("beep", "error"))
    return (yield from ui.notice_key(t, title, t.s("qr_bad_code")))


def _keyed(t, title, digits, chip_ok):
    # a PAN keyed that passed the Luhn check: its expiry -> the keyed card, None (CANCEL)
    while True:
        exp = yield from ui.enter_digits(t, title, t.s("enter_expiry"), 4, 4, allow_empty=True)
        if exp is None:
            return None
        card = cardmod.keyed(digits, exp)
        ok = yield from cardmod.usable(t, title, card, chip_ok=chip_ok)
        if ok:
            return card
