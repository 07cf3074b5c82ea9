# What every online financial transaction shares once its request is built:
# pending reversal first, arm the reversal when sending, judge the answer,
# journal an approval before printing, receipts, the result screen.
from pos import comm, ui, clock
from pos.flows import reversal, printing


def run_online(t, title, kind, msg, rec, reversible=True):
    # Generator -> the journal record when approved, else None.
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
    reply = res.reply
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
    if reversible:
        reversal.disarm(t)
    t.emit(("beep", "ok"))
    ui.screen(t, title, [t.s("resp_code", "00"), t.strings.response("00"), t.s("printing")])
    yield from printing.print_slips(t, rec)
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
