# Checks made before any transaction (reference §6.1).
from pos import ui


def settlement_pending(t):
    return bool(t.state.extra.get("settle"))


def batch_full(t):
    limit = int(t.state.params.get("max_tx", 300) or 300)
    return t.journal.count >= limit


def check(t, title, journalled=True):
    # Generator -> True if a transaction may start now; else shows why.
    # journalled: the transaction adds a journal record (all but the balance inquiry).
    if settlement_pending(t):
        reason = t.s("settle_first")
    elif not t.signed_in_today():
        reason = t.s("please_sign_in")
    elif journalled and batch_full(t):
        reason = t.s("settle_batch_full")
    else:
        return True
    t.emit(("beep", "error"))
    yield from ui.notice(t, title, reason)
    return False
