# Sending a pending reversal (冲正, reference §6.2, §11): an overlay of pos.flows.reversal,
# loaded only when a reversal is pending.
from pos import center, ui
from pos.flows.reversal import REASON_INCOMPLETE, REASON_OTHER, UNCONFIRMED, disarm, to_message


def _already_journalled(t, rec):
    # a power cut between journalling an approval and clearing its reversal
    for e in t.journal.each():
        if e.get("trace") == rec.get("11") and e.get("batch") == rec.get("60", "")[2:8]:
            return True
    return False


def send_pending(t):
    # Generator -> True when no reversal is pending any more (confirmed, or given up
    # after the retries and kept in the journal), False when the transaction must not go
    # ahead (the reversal stays for the next one).
    # One try per call: a try that fails is retried before the next transaction (or
    # settlement), never back-to-back; the first carries the reason (98 / A0 / 96), the
    # retries 06 (reference §11). A try is counted (written with the reversal) the moment
    # it leaves, before its answer: whatever ends it after that (a MemoryError checking the
    # answer, a power cut, an answer that fails its check, A0) the next try is the next one
    # and says 06, so the same 0400 never goes twice and the tries stay bounded. Only a try
    # that never left (the link could not be had) is not counted. After the last try the
    # operator sees 冲正未成功,请联系收单行 and the record stays in the journal for
    # settlement.
    rec = t.state.reversal()
    if rec is None:
        return True
    if _already_journalled(t, rec):
        disarm(t)
        return True
    title = t.s("reversal")
    retries = int(t.state.params.get("retries", 3) or 1)
    tries = rec.get("tries", 0)
    if tries >= retries:
        # every try went out and none was answered in a way the terminal could read
        return (yield from _given_up(t, title, rec, "unanswered"))
    if tries == 0 and t.unfinished is not None and t.unfinished == rec.get("11"):
        # its answer came and could not be checked or journalled (short of heap): 96, the
        # POS got the response but could not complete (reference §6.2)
        rec["39"] = REASON_INCOMPLETE
    t.unfinished = None
    msg = to_message(rec)
    if tries > 0:
        msg[39] = REASON_OTHER

    def leaving(tt):
        rec["tries"] = tries + 1
        tt.state.set_reversal(rec)

    res = yield from center.exchange(t, msg, title, True, before_send=leaving)
    code = res.code() if res.status == center.OK else ""
    if res.status == center.LINK:
        # nothing left the terminal: not a try
        if rec.get("tries", 0) != tries:
            rec["tries"] = tries
            t.state.set_reversal(rec)
        yield from center.show_failure(t, title, res)
        return False
    if code in ("00", "25", "12"):
        disarm(t)
        t.emit(("log", "info", "reversal of trace %s done (%s)" % (rec.get("11"), code)))
        return True
    # (A0: the center's keys are not ours; pos.comm has asked for a sign-in first)
    what = code or res.status
    if rec["tries"] < retries:
        t.emit(
            (
                "log",
                "warn",
                "reversal of trace %s: try %d of %d failed (%s)"
                % (rec.get("11"), rec["tries"], retries, what),
            )
        )
        yield from center.show_failure(t, title, res)
        return False
    if not (yield from _given_up(t, title, rec, what)):
        return False
    # the transaction goes ahead, unless the answer asked for a sign-in first (A0, a MAC
    # that fails: pos.comm)
    return t.signed_in_today()


def _given_up(t, title, rec, why):
    # -> True when given up; False when its record could not be journalled (a full disk):
    # 存储失败 / 请联系维护, the transaction does not go ahead
    t.emit(("beep", "error"))
    if not give_up(t, rec, why):
        yield from ui.notice(t, title, [t.s("storage_failed"), t.s("storage_call")])
        return False
    yield from ui.notice(t, title, t.s("reversal_dropped"))
    return True


def give_up(t, rec, why):
    # The reversal was never confirmed: the record goes into the journal (settlement
    # shows it; the acquirer settles it by hand), then the pending copy is cleared. ->
    # False when the journal cannot take it (a full disk): the record waits in RAM
    # (written before the next transaction, pos.flows.storagefail), the reversal stays
    # armed until then (then found journalled and dropped: a power cut meanwhile loses
    # neither)
    from pos import clock
    from pos.journal import JournalWriteError

    f60 = rec.get("60", "")
    waiting = False  # its record already waits for the journal (a try before failed)
    for e in t.journal.pending:
        if e.get("type") == UNCONFIRMED and e.get("trace") == rec.get("11", ""):
            waiting = True
    try:
        if waiting:
            t.journal.flush()
        else:
            _append(t, rec, why, f60, clock)
    except JournalWriteError as e:
        t.emit(("log", "error", "reversal of trace %s not journalled: %s" % (rec.get("11"), e)))
        return False
    disarm(t)
    t.emit(
        (
            "log",
            "warn",
            "reversal of trace %s unconfirmed after %d tries (%s): kept in the "
            "journal for settlement" % (rec.get("11"), rec.get("tries", 0), why),
        )
    )
    return True


def _append(t, rec, why, f60, clock):
    t.journal.append(
        {
            "type": UNCONFIRMED,
            "of": rec.get("kind", ""),
            "trace": rec.get("11", ""),
            "batch": f60[2:8],
            "pan": rec.get("2", ""),
            "amount": int(rec.get("4", "0") or 0),
            "auth": rec.get("38", ""),
            "date": clock.date8(t.now),
            "time": clock.hhmmss(t.now),
            "why": why,
        }
    )
