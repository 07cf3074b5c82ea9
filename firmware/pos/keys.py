# Key names shared by every front: scripts, lessons, the emulator, the keypad.
# Digits and "." are themselves; the function keys have names.
MENU = "MENU"
ENTER = "ENTER"  # 确认
CANCEL = "CANCEL"  # 取消
CLEAR = "CLEAR"  # 退格/清除
UP = "UP"
DOWN = "DOWN"
F1 = "F1"
F2 = "F2"
F3 = "F3"
F4 = "F4"

NAMED = (MENU, ENTER, CANCEL, CLEAR, UP, DOWN, F1, F2, F3, F4)
DIGITS = "0123456789"


class KeyTokenError(ValueError):
    def __init__(self, token, reason):
        super().__init__("unknown key %r: %s" % (token, reason))
        self.token = token
        self.reason = reason


def is_key(name):
    return name in NAMED or (len(name) == 1 and (name in DIGITS or name == "."))


def parse_token(token):
    # One script token -> a list of events: ("key", name) or ("card", pan, expiry, track2,
    # track3). "123" is the keys 1, 2, 3; "CARD=<PAN>[=YYMM]" swipes a test card (its
    # track 2 is PAN=YYMM + service code 120 + discretionary data, pos.card.track_for);
    # "CARD=<PAN>=<YYMM><more digits>" swipes that track 2 as written. A keyed card is
    # typed on the keypad, as on the terminal.
    t = token.strip()
    if not t:
        return []
    up = t.upper()
    if up.startswith("CARD="):
        from pos import card

        rest = t[5:]
        parts = rest.split("=")
        pan = parts[0]
        data = parts[1] if len(parts) > 1 else ""
        if len(parts) > 2 or not (12 <= len(pan) <= 19) or not _all_digits(pan):
            raise KeyTokenError(token, "a card is CARD=<12-19 digit PAN>[=YYMM]")
        if data and (len(data) < 4 or len(data) > 36 - len(pan) or not _all_digits(data)):
            raise KeyTokenError(token, "card expiry is 4 digits YYMM (then the track's rest)")
        track2 = pan + "=" + data if len(data) > 4 else card.track_for(pan, data)
        # the event's expiry is what the token names ("" when none: the track has one)
        return [("card", pan, data[0:4], track2, "")]
    if up in NAMED:
        return [("key", up)]
    out = []
    for ch in t:
        if ch in DIGITS or ch == ".":
            out.append(("key", ch))
        else:
            raise KeyTokenError(
                token, "keys are 0-9, ., " + ", ".join(NAMED) + " or CARD=<PAN>"
            )
    return out


def _all_digits(s):
    for ch in s:
        if ch not in DIGITS:
            return False
    return len(s) > 0
