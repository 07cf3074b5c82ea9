# What every online financial transaction shares once its request is built:
# pending reversal first, arm the reversal when sending, judge the answer,
# journal an approval before printing, receipts, the result screen.
from pos import comm, ui, clock
from pos.flows import reversal, printing


def begin(t, title, supervisor=False, journalled=True):
    # Generator -> True when a transaction may start: the gates (sign-in, settlement,
    # full batch), then the supervisor's password where the transaction needs it.
    from pos.flows import gates

    ok = yield from gates.check(t, title, journalled)
    if ok and supervisor:
        from pos.flows import auth

        ok = yield from auth.require_supervisor(t, title)
    return ok


def run_online(t, title, kind, msg, rec, reversible=True):
    # Generator -> the journal record when approved, else None.
    reply = yield from send_online(t, title, kind, msg, reversible)
    if reply is None:
        return None
    rec = record_approval(t, kind, msg, reply, rec)
    if reversible:
        reversal.disarm(t)
    t.emit(("beep", "ok"))
    ui.screen(t, title, [t.s("resp_code", "00"), t.strings.response("00"), t.s("printing")])
    yield from printing.print_slips(t, rec)
    return rec


def send_online(t, title, kind, msg, reversible=True):
    # Generator: pending reversal first, a fresh trace, send (arming the
    # reversal), judge the answer. -> the reply when approved (a reversal of a
    # reversible request is still armed: the caller journals, then disarms),
    # else None after the failure screen.
    ok = yield from reversal.send_pending(t)
    if not ok:
        return None
    msg[11] = comm._z(t.state.take_trace(), 6)
    arm = (lambda tt: reversal.arm(tt, msg, kind)) if reversible else None
    res = yield from comm.exchange(t, msg, title, True, before_send=arm)
    if res.status in (comm.LINK,):
        if reversible:
            reversal.disarm(t)  # nothing left the terminal
        yield from comm.show_failure(t, title, res)
        return None
    if res.status in (comm.TIMEOUT, comm.LINK_LOST):
        # the reversal stays armed (reason 98) and goes before the next one
        yield from comm.show_failure(t, title, res)
        return None
    if res.status == comm.BAD_MAC:
        if reversible:
            reversal.set_reason(t, reversal.REASON_MAC)
        yield from comm.show_failure(t, title, res)
        return None
    if res.status == comm.BAD_REPLY:
        if reversible:
            reversal.set_reason(t, reversal.REASON_INCOMPLETE)
        t.emit(("log", "warn", "bad reply: %s" % res.detail))
        yield from comm.show_failure(t, title, res)
        return None
    code = res.code()
    if code != "00":
        if reversible:
            reversal.disarm(t)  # the center declined: nothing to undo
        _after_decline(t, code)
        yield from comm.show_failure(t, title, res)
        return None
    return res.reply


def record_approval(t, kind, msg, reply, rec):
    # Journal an approved transaction (durable before any receipt) -> rec.
    rec["type"] = kind
    rec["trace"] = msg[11]
    rec["batch"] = comm.batch_str(t)
    rec["date"] = clock.date8(t.now)
    rec["time"] = clock.hhmmss(t.now)
    rec["op"] = t.state.operator
    rec["rrn"] = reply.get(37, "")
    rec["auth"] = reply.get(38, "")
    rec["settle_date"] = reply.get(15, "")
    f44 = reply.get(44, "")
    if f44:
        rec["issuer"] = f44[:11].strip()
        rec["acquirer"] = f44[11:].strip()
    if t.training:
        rec["training"] = True
    t.journal.append(rec)  # durable before the receipt
    return rec


def _after_decline(t, code):
    st = t.state
    if code in ("A0", "99"):
        # new working keys needed: sign in again before the next transaction
        st.signin_date = ""
        st.save()
    elif code == "77":
        st.signin_date = ""
        st.extra["batch_mismatch"] = 1
        st.save()
    elif code == "94":
        # duplicate trace at the center: skip a number so the next one is new
        st.take_trace()


# -- helpers for transactions that refer to an original one --------------------
def find_entry(t, trace, kinds=None):
    # the current batch's journal record with this trace (of one of kinds), or None
    for e in t.journal.entries():
        if e.get("trace") == trace and (kinds is None or e.get("type") in kinds):
            return e
    return None


def is_voided(t, trace):
    for e in t.journal.entries():
        if e.get("orig_trace") == trace and e.get("type") in ("void", "completion_void"):
            return True
    return False


def enter_trace(t, title, prompt_key="tx_enter_orig_trace"):
    # -> a 6-digit trace string, or None on CANCEL
    text = yield from ui.enter_digits(t, title, t.s(prompt_key), 1, 6)
    if text is None:
        return None
    return comm._z(int(text), 6)


def enter_mmdd(t, title, prompt_key="tx_enter_orig_date"):
    # -> "MMDD" (a plausible month and day), or None on CANCEL
    while True:
        text = yield from ui.enter_digits(t, title, t.s(prompt_key), 4, 4)
        if text is None:
            return None
        m, d = int(text[:2]), int(text[2:])
        if 1 <= m <= 12 and 1 <= d <= 31:
            return text
        t.emit(("beep", "error"))
        yield from ui.notice(t, title, t.s("tx_bad_date"), timeout=5)


def check_card(t, title, card, pan):
    # Generator -> True when the card presented is the original's.
    if card[0] == pan:
        return True
    t.emit(("beep", "error"))
    yield from ui.notice(t, title, t.s("tx_card_mismatch"))
    return False


def refuse(t, title, key):
    t.emit(("beep", "error"))
    yield from ui.notice(t, title, t.s(key))


def show_original(t, title, e):
    # The original's type, card and amount; ENTER goes on, CANCEL stops.
    sign = "-" if e.get("type") in ("void", "refund", "preauth_void", "completion_void") else ""
    body = [
        t.s("tx_" + e.get("type", "")) + " " + e.get("trace", ""),
        "\uffe5" + sign + ui.format_amount(e.get("amount", 0)),
    ]
    return (yield from ui.confirm(t, title, body, t.s("tx_confirm_original")))
