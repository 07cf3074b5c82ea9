# Reversal (冲正), reference §6.2. A copy of every reversible request is
# saved as an 0400 and armed the moment the request is sent. A timeout or a
# bad MAC leaves it pending; it goes out before the next transaction (and
# before settlement), retried up to the "retries" parameter.
from pos import center, ui

_DROP = (26, 35, 36, 37, 52, 53, 64)  # reference §6.2 (64 gets a new MAC)
_BINARY = (52, 55, 62, 64)

REASON_TIMEOUT = "98"
REASON_MAC = "A0"
REASON_INCOMPLETE = "96"
REASON_OTHER = "06"


def to_record(msg, reason=REASON_TIMEOUT):
    rec = {"mti": "0400", "tries": 0}
    for k in msg:
        if k == "mti" or k in _DROP:
            continue
        v = msg[k]
        rec[str(k)] = v.hex() if k in _BINARY else v
    rec["39"] = reason
    return rec


def to_message(rec):
    msg = {"mti": rec["mti"]}
    for k in rec:
        if k in ("mti", "tries", "kind"):
            continue
        f = int(k)
        msg[f] = bytes.fromhex(rec[k]) if f in _BINARY else rec[k]
    return msg


def arm(t, msg, kind):
    rec = to_record(msg)
    rec["kind"] = kind
    t.state.set_reversal(rec)


def set_reason(t, reason):
    rec = t.state.reversal()
    if rec is not None:
        rec["39"] = reason
        t.state.set_reversal(rec)


def disarm(t):
    t.state.set_reversal(None)


def pending(t):
    return t.state.reversal()


def _already_journalled(t, rec):
    # a power cut between journalling an approval and clearing its reversal
    for e in t.journal.entries():
        if e.get("trace") == rec.get("11") and e.get("batch") == rec.get("60", "")[2:8]:
            return True
    return False


def send_pending(t):
    # Generator -> True when no reversal is pending any more (sent, answered,
    # or given up after the retries), False when the center cannot be reached
    # (the reversal stays and the transaction must not go ahead).
    rec = t.state.reversal()
    if rec is None:
        return True
    if _already_journalled(t, rec):
        disarm(t)
        return True
    title = t.s("reversal")
    retries = int(t.state.params.get("retries", 3))
    while rec["tries"] < retries:
        msg = to_message(rec)
        res = yield from center.exchange(t, msg, title, True)
        if res.status == center.LINK:
            yield from center.show_failure(t, title, res)
            return False
        rec["tries"] += 1
        t.state.set_reversal(rec)
        if res.status == center.OK and res.code() in ("00", "25", "12"):
            disarm(t)
            t.emit(("log", "info", "reversal of trace %s done (%s)" % (rec.get("11"), res.code())))
            return True
        if res.status == center.OK and res.code() == "A0":
            yield from center.show_failure(t, title, res)
            return False
    disarm(t)
    text = "reversal of trace %s dropped after %d tries" % (rec.get("11"), retries)
    t.emit(("log", "warn", text))
    yield from ui.notice(t, title, t.s("reversal_dropped"), timeout=10)
    return True
