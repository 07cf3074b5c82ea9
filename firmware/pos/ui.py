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


def wait_input(t, timeout=None, card=False, menu_key=False, scan=False):
    # -> ("key", name) | ("card", pan, expiry) | ("timeout",); with card, also an insert
    # or a tap: ("chip", icc) | ("tap", icc) (pos.card's reader port); with scan, a
    # scanned payment code ("scan", code)
    kinds = ("key", "card", "chip", "tap") if card else ("key",)
    if scan:
        kinds = kinds + ("scan",)
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


def work_step(t, work):
    # Generator: work() as a step of its own once the screen shown is drawn (pos.terminal: a
    # ("work", what) step, run by a board's loop right after the draw, a key pressed
    # meanwhile handled after it; a desktop driver runs it at once): a key's heavy part
    # (the original's PAN opened with 3DES in Python) is not in its time, the screen is
    yield ("work", "card")
    work()


def confirm(t, title, body, footer=None, work=None):
    # ENTER -> True, CANCEL (or timeout) -> False; other keys are ignored.
    # A footer (the keys' hint) that leaves no room for the body gives way to the short
    # hint (确认/取消). work: run as a step of its own once the screen is drawn (work_step)
    short = t.s("confirm_keys_short") if footer else None
    t.show(layout(t.rows, t.cols, title, body, footer, footer_short=short))
    if work is not None:
        yield from work_step(t, work)
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
    f = layout(t.rows, t.cols, title, text, reserve=1 if seconds_left is not None else 0)
    if seconds_left is not None and t.rows >= 3:
        f.put(t.rows - 1, str(seconds_left), "right")
    t.show(f)


def format_amount(fen):
    # one str made (str() of each part and each + were five, each looked for among the
    # interned names on MicroPython: ~6,500 instructions each on the unix port)
    return "%d.%02d" % (fen // 100, fen % 100)


def notice_key(t, title, why):
    # A notice of what was wrong with an entry, until a key (or 5 s): -> the key when it is
    # one to type (a digit, CLEAR ...), so that the cashier who reads it and types on loses
    # no key; None for ENTER or CANCEL (either only ends the notice: the entry is asked
    # again, a second CANCEL leaves it) or the timeout.
    k = yield from notice(t, title, why, timeout=5)
    return None if k == K.ENTER or k == K.CANCEL else k


def enter_amount(t, title, prompt=None, max_fen=99999999, work=None, typed=None):
    # Digits typed in fen, as on a real terminal: 1 0 0 0 0 -> 100.00.
    # CLEAR deletes the last digit; CANCEL gives None; ENTER on zero says the amount is 0.
    # work: run as a step of its own once the first screen is drawn (work_step). typed: a
    # key that ended a notice (notice_key: the one before this prompt, or this prompt's own),
    # handled as typed here
    digits = ""
    prompt = prompt or t.s("enter_amount")
    base = layout(t.rows, t.cols, title, prompt, reserve=1)  # laid out once, not per key
    while True:
        fen = int(digits) if digits else 0
        f = base.copy()
        f.put(t.rows - 1, "\uffe5" + format_amount(fen), "right")
        t.show(f)
        if work is not None:
            yield from work_step(t, work)
            work = None
        k = typed if typed is not None else (yield from wait_key(t, IDLE_TIMEOUT))
        typed = None
        if k is None or k == K.CANCEL:
            return None
        if k == K.ENTER:
            if fen > 0:
                return fen
            t.emit(("beep", "error"))
            typed = yield from notice_key(t, title, t.s("amount_zero"))
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
                 initial="", typed=None):
    # A run of digits (trace number, operator number, PIN, PAN ...).
    # -> the string, "" if allow_empty and ENTER on nothing, None on CANCEL (or the chip
    # card pulled out while it was in the reader: t.card_in). ENTER on too
    # few digits says how many are needed. typed: a key already pressed (the one that ended
    # the notice before this prompt, notice_key), handled first.
    digits = initial
    base = layout(t.rows, t.cols, title, prompt, reserve=1)  # laid out once, not per key
    while True:
        f = base.copy()
        shown = ("*" * len(digits)) if secret else digits
        f.put(t.rows - 1, cells.clip(shown[-t.cols:], t.cols), "right")
        t.show(f)
        k = typed
        typed = None
        if k is None and t.card_in:
            # a chip card in the reader (its PIN): pulled out, the prompt ends at once (None)
            ev = yield ("input", ("key", "removed"), IDLE_TIMEOUT)
            if ev[0] == "key" and ev[1] == K.MENU:
                raise GotoMenu()
            k = ev[1] if ev[0] == "key" else None
        elif k is None:
            k = yield from wait_key(t, IDLE_TIMEOUT)
        if k is None or k == K.CANCEL:
            return None
        if k == K.ENTER:
            if len(digits) == 0 and allow_empty:
                return ""
            if min_len <= len(digits) <= max_len:
                return digits
            # too short: say why (a password is typed again from the start)
            t.emit(("beep", "error"))
            if secret and min_len == max_len:
                why = t.s("input_pw_digits", min_len)
            elif min_len == max_len:
                why = t.s("input_digits", min_len)
            else:
                why = t.s("input_digits_range", min_len, max_len)
            typed = yield from notice_key(t, title, why)
            if secret:
                digits = ""
        elif k == K.CLEAR:
            digits = digits[:-1]
        elif k in K.DIGITS and len(digits) < max_len:
            digits += k
        else:
            t.emit(("beep", "error"))


def mask_pan(pan, stars=None):
    # 6 + 4 shown, the middle masked (stars: that many, not one a hidden digit), on every
    # screen, receipt and log. The digits' bytes masked in place and made a str once (the
    # slices, the stars and each + were five strs, each looked for among the interned names
    # on MicroPython)
    n = len(pan)
    if n <= 10:
        return pan
    b = pan.encode()
    if len(b) != n:  # (a card number is digits: ASCII)
        return pan[:6] + "*" * (n - 10 if stars is None else stars) + pan[-4:]
    m = bytearray(b)
    m[6 : n - 4] = b"*" * (n - 10 if stars is None else stars)
    return m.decode()


def screen_pan(pan, cols):
    # mask_pan for a screen row: 6 + 4 shown, fewer stars when the row is too narrow
    if len(pan) <= cols or len(pan) <= 10:
        return mask_pan(pan)
    return mask_pan(pan, max(1, cols - 10))


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


def blank(t):
    t.show(Frame(t.rows, t.cols))


def pair(label, value, cols):
    # A label and its value as rows that show both whole: one row (label left, value
    # right) when they fit side by side, else the label's rows then the value right-aligned.
    # -> [(text, align)], kept together on one page by paginate().
    lw = cells.width(label)
    vw = cells.width(value)
    gap = cols - lw - vw
    if gap > 0:
        # one str: the gap's spaces cut from a constant by the precision (the spaces' str
        # and the two +'s were three)
        if gap <= 32:
            return [("%s%.*s%s" % (label, gap, "                                ", value), "left")]
        return [(label + " " * gap + value, "left")]
    rows = [(line, "left") for line in cells.wrap(label, cols)]
    for line in cells.wrap(value, cols):
        rows.append((line, "right"))
    return rows


def label_value(label, value, cols):
    # body lines of a label and its value: one line when it fits, else the value on its own
    if cells.width(label) + cells.width(value) <= cols:
        return [label + value]
    return [label, value]


def paginate(blocks, per):
    # blocks: lists of rows that belong together (a label and its value); -> pages of at
    # most `per` rows, a block never split across two pages unless it is taller than a page
    pages = []
    cur = []
    for b in blocks:
        if cur and len(cur) + len(b) > per:
            pages.append(cur)
            cur = []
        while len(b) > per:
            pages.append(b[:per])
            b = b[per:]
        cur = cur + b
    if cur or not pages:
        pages.append(cur)
    return pages


def page_frame(t, head, rows):
    f = Frame(t.rows, t.cols)
    f.put(0, head, "center", True)
    for j in range(len(rows)):
        f.put(1 + j, rows[j][0], rows[j][1])
    return f


def pager(t, title, blocks, numbered=True):
    # A read-only list under an inverse title: blocks of (text, align) rows (see pair());
    # UP/DOWN page, ENTER/CANCEL (or the timeout) leave. The title shows "n/N" when
    # `numbered` (always) or when there is more than one page (numbered=False).
    pages = paginate(blocks, t.rows - 1)
    page = 0
    n = len(pages)
    while True:
        head = title
        if numbered or n > 1:
            head = "%s %d/%d" % (title, page + 1, n)  # one str (the +'s made five)
        t.show(page_frame(t, head, pages[page]))
        k = yield from wait_key(t, IDLE_TIMEOUT)
        if k is None or k in (K.CANCEL, K.ENTER):
            return
        if k == K.DOWN:
            page = (page + 1) % n
        elif k == K.UP:
            page = (page - 1) % n
