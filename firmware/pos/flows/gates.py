# Checks made before any transaction (reference §6.1), and the storage screens: a
# journal that cannot be written (disk full) stops every transaction until the
# record waiting for it is written.
from pos import ui
from pos import keys as K
from pos.journal import JournalWriteError


def settlement_pending(t):
    return bool(t.state.extra.get("settle"))


def batch_full(t):
    limit = int(t.state.params.get("max_tx", 300) or 300)
    return t.journal.count >= limit


def check(t, title, journalled=True):
    # Generator -> True if a transaction may start now; else shows why.
    # journalled: the transaction adds a journal record (all but the balance inquiry).
    # Every transaction (the balance inquiry too: it would send a pending reversal)
    # waits for the journal: while an approved record is not written, its reversal
    # stays armed and must not go out.
    ok = yield from storage_ok(t, title)
    if not ok:
        return False
    if t.state.unreadable:
        reason = t.s("supervisor_confirm")
    elif settlement_pending(t):
        reason = t.s("settle_first")
    elif not t.signed_in_today():
        reason = t.s("please_sign_in")
    elif journalled and batch_full(t):
        reason = t.s("settle_batch_full")
    else:
        if t.state.extra.get("param_due") and not t.journal.count:
            # the center asked for a parameter download (reply header) and no batch is
            # open: it goes first (pos.flows.paramload)
            from pos import overlay

            yield from overlay.run("pos.flows.paramload", "due", t, title)
        return True
    t.emit(("beep", "error"))
    yield from ui.notice(t, title, reason)
    return False


def _storage_failed(t, title, footer=None):
    t.emit(("beep", "error"))
    return (yield from ui.notice(t, title, [t.s("storage_failed"), t.s("storage_call")], footer))


def storage_ok(t, title):
    # Generator -> True when the journal can take a record now. Records left pending by
    # a failed write are written first (their slips print now); when the storage still
    # fails: 存储失败 / 请联系维护, and False.
    j = t.journal
    if j.ready():
        return True
    try:
        done = j.flush()
    except JournalWriteError as e:
        t.emit(("log", "error", "%s (%d record(s) pending)" % (e, len(j.pending))))
        yield from _storage_failed(t, title)
        return False
    yield from _late_slips(t, done)
    return True


def cannot_journal(t, title):
    # Generator, when an approved record could not be written: 存储失败 / 请联系维护,
    # ENTER tries again. -> True once it is written (the caller prints the slips),
    # False when the cashier gives up: the record stays pending (the next transaction
    # writes it first) and its reversal stays armed (sent before the next transaction
    # if the terminal restarts before the record is written).
    while True:
        k = yield from _storage_failed(t, title, t.s("storage_retry"))
        if k != K.ENTER:
            return False
        try:
            t.journal.flush()
        except JournalWriteError as e:
            t.emit(("log", "error", str(e)))
            continue
        t.emit(("log", "info", "journal written on retry"))
        return True


def _late_slips(t, done):
    # the slips of approvals written after their transaction's screen had gone
    if not done:
        return
    from pos import overlay

    t.emit(("log", "info", "journal: %d pending record(s) written" % len(done)))
    for rec in done:
        title = t.s("tx_" + rec.get("type", ""))
        t.emit(("beep", "ok"))
        ui.screen(t, title, [t.s("storage_written"), t.s("printing")])
        yield from overlay.run("pos.flows.printing", "print_slips", t, rec, False, title)
