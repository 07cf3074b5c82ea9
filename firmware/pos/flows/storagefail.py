# The storage screens, loaded only when the journal could not be written (disk full):
# 存储失败 / 请联系维护, the retry, and the slips of records written late.
from pos import ui
from pos import keys as K
from pos.journal import JournalWriteError


def _storage_failed(t, title, footer=None):
    t.emit(("beep", "error"))
    return (yield from ui.notice(t, title, [t.s("storage_failed"), t.s("storage_call")], footer))


def retry(t, title):
    # Generator (gates.storage_ok, when the journal is not ready) -> True once the
    # records left pending by a failed write are written (their slips print now); when
    # the storage still fails: 存储失败 / 请联系维护, and False.
    j = t.journal
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
    # the slips of approvals written after their transaction's screen had gone (a
    # reversal given up is no approval: it has no slip; the settlement slip lists it)
    if not done:
        return
    from pos import overlay

    t.emit(("log", "info", "journal: %d pending record(s) written" % len(done)))
    for rec in done:
        if rec.get("type") == "reversal_failed":  # pos.flows.reversal.UNCONFIRMED
            continue
        title = t.s("tx_" + rec.get("type", ""))
        t.emit(("beep", "ok"))
        ui.screen(t, title, [t.s("storage_written"), t.s("printing")])
        with overlay.scope():
            from pos.flows import printing

            yield from printing.print_slips(t, rec, False, title)
            del printing
