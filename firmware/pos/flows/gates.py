# Checks made before any transaction (reference §6.1).
from pos import ui


def check(t, title):
    # Generator -> True if a transaction may start now; else shows why.
    if not t.signed_in_today():
        t.emit(("beep", "error"))
        yield from ui.notice(t, title, t.s("please_sign_in"))
        return False
    return True
