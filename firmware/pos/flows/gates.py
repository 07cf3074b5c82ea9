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


# -- what start-up found in the terminal's files --------------------------------
def at_start(t):
    # Generator, before the idle screen: a damaged journal's notice (how many records
    # could not be read, the copy kept); state files read from their previous copy;
    # and for a file of which no copy can be read, its screen until the supervisor
    # acknowledges it (nothing else runs until then).
    j = t.journal
    if j.unreadable:
        t.emit(
            (
                "log",
                "error",
                "journal: %d unreadable record(s), damaged file kept as %s"
                % (j.unreadable, j.damaged_copy or "(no copy: %s)" % j.error),
            )
        )
        t.emit(("beep", "error"))
        body = [t.s("journal_unreadable", j.unreadable)]
        if j.damaged_copy:
            body.append(t.s("journal_copy_kept"))
        yield from ui.notice(t, t.s("journal_damaged"), body)
    st = t.state
    for name, copy in st.damaged_copies:
        t.emit(("log", "error", "%s damaged, kept as %s" % (name, copy or "(no copy)")))
    if st.restored:
        t.emit(("log", "warn", "restored from the previous copy: " + ", ".join(st.restored)))
        if "state.json" in st.restored:
            # the previous copy may be a trace behind: go on past the journal's last
            _resume_counters(t)
            st.save()
        yield from ui.notice(t, t.s("state_title"), t.s("restored_from_backup"), timeout=10)
    while st.unreadable:
        name = st.unreadable[0]
        yield from _acknowledge(t, name)


def _acknowledge(t, name):
    from pos.state import REVERSAL_FILE
    from pos import overlay

    if name == REVERSAL_FILE:
        title = t.s("reversal_damaged_title")
        body = [t.s("reversal_unreadable"), t.s("call_acquirer"), t.s("supervisor_confirm")]
    else:
        title = t.s("state_damaged_title")
        body = [t.s("state_unreadable"), t.s("supervisor_confirm")]
    t.emit(("log", "error", "%s: no copy can be read; waiting for the supervisor" % name))
    t.emit(("beep", "error"))
    ui.screen(t, title, body)
    while True:
        k = yield from ui.wait_key(t, None, True)
        if k == K.ENTER:
            break
    ok = yield from overlay.run("pos.flows.auth", "require_supervisor", t, title)
    if not ok:
        return
    if name != REVERSAL_FILE:
        _resume_counters(t)
    t.state.acknowledge(name)
    t.emit(("log", "warn", "%s acknowledged by the supervisor" % name))
    yield from ui.notice(t, title, t.s("damaged_confirmed"), timeout=10)


def _resume_counters(t):
    # state.json is lost: carry on from the journal's batch and last trace, so that no
    # trace number of this batch is used twice
    st = t.state
    top = 0
    rev = st.reversal()
    if rev is not None and _digits(rev.get("11", "")):
        top = int(rev["11"])
    for e in t.journal.entries():
        try:
            n = int(e.get("trace", "0"))
            b = int(e.get("batch", "0"))
        except ValueError:
            continue
        if n > top:
            top = n
        if b > st.batch:
            st.batch = b
    if top >= st.trace:
        st.trace = 1 if top >= 999999 else top + 1


def _digits(s):
    for ch in s:
        if ch < "0" or ch > "9":
            return False
    return s != ""
