# Entry of more than digits on a keypad that has only digits, "." and function keys:
#   enter_chars  a fixed key -> character map (IP addresses: digits and ".";
#                hex: digits, F1-F4 = A-D, UP = E, DOWN = F)
#   enter_name   letters by multi-tap, as on a phone: press 2 once for A, again for B,
#                C, 2; another key starts the next character; DOWN ends a character
#                so that two letters of one key can follow each other (A, DOWN, A)
#   choose       pick one of a few options by its digit
# CLEAR deletes the last character, CANCEL gives None, ENTER gives the text. typed: a key
# already pressed (the one that ended the notice before the prompt, ui.notice_key), taken first.
from pos import cells, ui
from pos import keys as K
from pos.screen import layout, Frame

HEX_KEYS = {K.F1: "A", K.F2: "B", K.F3: "C", K.F4: "D", K.UP: "E", K.DOWN: "F"}
for _d in K.DIGITS:
    HEX_KEYS[_d] = _d
IP_KEYS = {".": "."}
for _d in K.DIGITS:
    IP_KEYS[_d] = _d
TAP = {
    "1": "1.-&/",
    "2": "ABC2",
    "3": "DEF3",
    "4": "GHI4",
    "5": "JKL5",
    "6": "MNO6",
    "7": "PQRS7",
    "8": "TUV8",
    "9": "WXYZ9",
    "0": " 0",
}
HEX_DIGITS = "0123456789ABCDEFabcdef"


def is_hex(text):
    for ch in text:
        if ch not in HEX_DIGITS:
            return False
    return len(text) > 0


def tail(text, width):
    # the end of text that fits in width cells (what a one-row input field shows)
    out = ""
    w = 0
    i = len(text) - 1
    while i >= 0:
        cw = cells.char_width(text[i])
        if w + cw > width:
            break
        out = text[i] + out
        w += cw
        i -= 1
    return out


def _draw(t, title, prompt, hint, value):
    body = [prompt]
    if hint:
        body.append(hint)
    f = layout(t.rows, t.cols, title, body, reserve=1)
    f.put(t.rows - 1, tail(value, t.cols), "right")
    t.show(f)


def enter_chars(t, title, prompt, keymap, max_len, initial="", hint=None, typed=None):
    text = initial
    while True:
        _draw(t, title, prompt, hint, text)
        k = typed if typed is not None else (yield from ui.wait_key(t, ui.IDLE_TIMEOUT))
        typed = None
        if k is None or k == K.CANCEL:
            return None
        if k == K.ENTER:
            return text
        if k == K.CLEAR:
            text = text[:-1]
        elif k in keymap and len(text) < max_len:
            text += keymap[k]
        else:
            t.emit(("beep", "error"))


def enter_name(t, title, prompt, max_cells, initial="", hint=None, typed=None):
    text = initial
    last = None  # the key whose letter is still being chosen
    turn = 0
    while True:
        _draw(t, title, prompt, hint, text)
        k = typed if typed is not None else (yield from ui.wait_key(t, ui.IDLE_TIMEOUT))
        typed = None
        if k is None or k == K.CANCEL:
            return None
        if k == K.ENTER:
            return text
        if k == K.CLEAR:
            text = text[:-1]
            last = None
        elif k == K.DOWN:
            last = None
        elif k in TAP:
            group = TAP[k]
            if k == last:
                turn = (turn + 1) % len(group)
                text = text[:-1] + group[turn]
            elif cells.width(text) < max_cells:
                last = k
                turn = 0
                text += group[0]
            else:
                t.emit(("beep", "error"))
        else:
            t.emit(("beep", "error"))


def choose(t, title, options, current=None):
    # options: labels; the current one is marked "*". -> index, or None (CANCEL)
    per = max(1, t.rows - 1)
    pages = (len(options) + per - 1) // per
    page = 0
    while True:
        f = Frame(t.rows, t.cols)
        f.put(0, title, "center", True)
        for r in range(per):
            i = page * per + r
            if i < len(options):
                mark = "*" if i == current else ""
                f.put(r + 1, str(i + 1) + "." + options[i] + mark)
        t.show(f)
        k = yield from ui.wait_key(t, ui.IDLE_TIMEOUT)
        if k is None or k == K.CANCEL:
            return None
        if k == K.ENTER and current is not None:
            return current
        if k == K.DOWN and pages > 1:
            page = (page + 1) % pages
        elif k == K.UP and pages > 1:
            page = (page - 1) % pages
        elif k in K.DIGITS and k != "0" and int(k) <= len(options):
            return int(k) - 1
        else:
            t.emit(("beep", "error"))
