# Prompts and inputs, written as generators a flow drives with `yield from`.
from pos import keys as K
from pos import cells
from pos.screen import layout, Frame

IDLE_TIMEOUT = 60  # a result screen goes back to idle after this many seconds


class GotoMenu(Exception):
    # MENU pressed where a flow does not handle it: back to the main menu.
    pass


def screen(t, title=None, body=None, footer=None):
    f = layout(t.rows, t.cols, title, body, footer)
    t.show(f)
    return f


def wait_input(t, timeout=None, card=False, menu_key=False):
    # -> ("key", name) | ("card", pan, expiry) | ("timeout",)
    kinds = ("key", "card") if card else ("key",)
    while True:
        ev = yield ("input", kinds, timeout)
        if ev[0] == "key" and ev[1] == K.MENU and not menu_key:
            raise GotoMenu()
        return ev


def wait_key(t, timeout=None, menu_key=False):
    # -> key name, or None on timeout
    ev = yield from wait_input(t, timeout, False, menu_key)
    if ev[0] == "timeout":
        return None
    return ev[1]


def confirm(t, title, body, footer=None):
    # ENTER -> True, CANCEL (or timeout) -> False; other keys are ignored.
    screen(t, title, body, footer)
    while True:
        k = yield from wait_key(t, IDLE_TIMEOUT)
        if k == K.ENTER:
            return True
        if k == K.CANCEL or k is None:
            return False
        t.emit(("beep", "error"))


def notice(t, title, body, footer=None, timeout=IDLE_TIMEOUT):
    # Show and wait for any key (or the timeout). Returns the key.
    screen(t, title, body, footer)
    return (yield from wait_key(t, timeout))


def show_progress(t, title, text, seconds_left=None):
    f = layout(t.rows, t.cols, title, text)
    if seconds_left is not None and t.rows >= 3:
        f.put(t.rows - 1, str(seconds_left), "right")
    t.show(f)


def format_amount(fen):
    yuan = fen // 100
    cents = fen % 100
    return str(yuan) + "." + ("0" + str(cents) if cents < 10 else str(cents))


def enter_amount(t, title, prompt=None, max_fen=99999999):
    # Digits typed in fen, as on a real terminal: 1 0 0 0 0 -> 100.00.
    # CLEAR deletes the last digit; CANCEL gives None; ENTER on zero beeps.
    digits = ""
    prompt = prompt or t.s("enter_amount")
    while True:
        fen = int(digits) if digits else 0
        f = layout(t.rows, t.cols, title, prompt)
        f.put(t.rows - 1, "\uffe5" + format_amount(fen), "right")
        t.show(f)
        k = yield from wait_key(t, IDLE_TIMEOUT)
        if k is None or k == K.CANCEL:
            return None
        if k == K.ENTER:
            if fen > 0:
                return fen
            t.emit(("beep", "error"))
        elif k == K.CLEAR:
            digits = digits[:-1]
        elif k in K.DIGITS:
            nd = (digits + k).lstrip("0")
            if nd and int(nd) > max_fen:
                t.emit(("beep", "error"))
            else:
                digits = nd
        else:
            t.emit(("beep", "error"))


def enter_digits(t, title, prompt, min_len=1, max_len=19, secret=False, allow_empty=False,
                 initial=""):
    # A run of digits (trace number, operator number, PIN, PAN ...).
    # -> the string, "" if allow_empty and ENTER on nothing, None on CANCEL.
    digits = initial
    while True:
        f = layout(t.rows, t.cols, title, prompt)
        shown = ("*" * len(digits)) if secret else digits
        f.put(t.rows - 1, cells.clip(shown[-t.cols:], t.cols), "right")
        t.show(f)
        k = yield from wait_key(t, IDLE_TIMEOUT)
        if k is None or k == K.CANCEL:
            return None
        if k == K.ENTER:
            if len(digits) == 0 and allow_empty:
                return ""
            if min_len <= len(digits) <= max_len:
                return digits
            t.emit(("beep", "error"))
        elif k == K.CLEAR:
            digits = digits[:-1]
        elif k in K.DIGITS and len(digits) < max_len:
            digits += k
        else:
            t.emit(("beep", "error"))


def mask_pan(pan):
    # 6 + 4 shown, the middle masked, on every screen, receipt and log
    if len(pan) <= 10:
        return pan
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def screen_pan(pan, cols):
    # mask_pan for a screen row: 6 + 4 shown, fewer stars when the row is too narrow
    masked = mask_pan(pan)
    if len(masked) <= cols or len(pan) <= 10:
        return masked
    return pan[:6] + "*" * max(1, cols - 10) + pan[-4:]


def luhn_ok(pan):
    total = 0
    alt = False
    i = len(pan) - 1
    while i >= 0:
        d = ord(pan[i]) - 48
        if d < 0 or d > 9:
            return False
        if alt:
            d *= 2
            if d > 9:
                d -= 9
        total += d
        alt = not alt
        i -= 1
    return total % 10 == 0


def read_card(t, title, amount=None):
    # Swipe (a presented card) or key the PAN in by hand.
    # -> a card (pos.card: pan, expiry, entry "02" swiped / "01" keyed, track 2, track 3)
    # whose expiry may be used today, or None.
    from pos import card as cardmod

    digits = ""
    while True:
        if digits:
            f = layout(t.rows, t.cols, title, t.s("manual_pan"))
            f.put(t.rows - 1, cells.clip(digits[-t.cols:], t.cols), "right")
        else:
            body = [t.s("swipe_or_key")]
            f = layout(t.rows, t.cols, title, body)
            if amount is not None:
                f.put(t.rows - 1, "\uffe5" + format_amount(amount), "right")
        t.show(f)
        ev = yield from wait_input(t, IDLE_TIMEOUT, card=True)
        if ev[0] == "timeout":
            return None
        if ev[0] == "card":
            card = cardmod.from_event(ev)
            ok = yield from card_usable(t, title, card)
            if ok:
                return card
            continue
        k = ev[1]
        if k == K.CANCEL:
            return None
        if k == K.CLEAR:
            digits = digits[:-1]
        elif k in K.DIGITS and len(digits) < 19:
            digits += k
        elif k == K.ENTER and digits:
            if len(digits) < 13 or not luhn_ok(digits):
                yield from notice(t, title, t.s("bad_pan"), timeout=5)
                digits = ""
                continue
            while True:
                exp = yield from enter_digits(t, title, t.s("enter_expiry"), 4, 4,
                                              allow_empty=True)
                if exp is None:
                    return None
                card = cardmod.keyed(digits, exp)
                ok = yield from card_usable(t, title, card)
                if ok:
                    return card
        else:
            t.emit(("beep", "error"))


def card_usable(t, title, card):
    # Generator -> True when the card read can be used today; else says why (an unreadable
    # track, an impossible or a past expiry) and -> False.
    from pos import card as cardmod

    why = "card_unreadable" if card is None else cardmod.expiry_problem(card[1], t.now)
    if why is None:
        return True
    t.emit(("beep", "error"))
    yield from notice(t, title, t.s(why), timeout=10)
    return False


def blank(t):
    t.show(Frame(t.rows, t.cols))


def pager(t, title, lines, group=1, numbered=True):
    # A read-only list under an inverse title: lines are (text, align) pairs; UP/DOWN page,
    # ENTER/CANCEL (or the timeout) leave. `group` keeps that many lines together on a page
    # (a label and its value); the title shows "n/N" when `numbered` (always) or when there is
    # more than one page (numbered=False).
    from pos.screen import Frame

    per = max(group, ((t.rows - 1) // group) * group)
    pages = max(1, (len(lines) + per - 1) // per)
    page = 0
    while True:
        f = Frame(t.rows, t.cols)
        head = title
        if numbered or pages > 1:
            head = title + " " + str(page + 1) + "/" + str(pages)
        f.put(0, head, "center", True)
        for j in range(per):
            i = page * per + j
            if i >= len(lines) or 1 + j >= t.rows:
                break
            f.put(1 + j, lines[i][0], lines[i][1])
        t.show(f)
        k = yield from wait_key(t, IDLE_TIMEOUT)
        if k is None or k in (K.CANCEL, K.ENTER):
            return
        if k == K.DOWN:
            page = (page + 1) % pages
        elif k == K.UP:
            page = (page - 1) % pages
