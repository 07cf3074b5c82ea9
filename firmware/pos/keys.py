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
    def __init__(self, token, reason, what="unknown key"):
        # what: "unknown key", or "bad card token" for a CARD=/CHIP=/TAP=/SCAN= that names
        # no card or code the terminal can be given
        super().__init__("%s %r: %s" % (what, token, reason))
        self.token = token
        self.reason = reason


def is_key(name):
    return name in NAMED or (len(name) == 1 and (name in DIGITS or name == "."))


REMOVE = "REMOVE"  # a script's token for pulling the inserted card out (拔卡)


def parse_token(token, deck=None):
    # A script's token (a key, a run of digits, CARD= / CHIP= / TAP= / SCAN=, REMOVE) -> its
    # events; KeyTokenError when it is none. The parser is pos.keytokens: the fronts that
    # read scripts call it, a board (keys from its keypad) never loads it, and this module
    # is resident there (each function costs heap).
    from pos import keytokens

    return keytokens.parse(token, deck)
