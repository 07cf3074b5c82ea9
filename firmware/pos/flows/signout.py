# Sign-out (签退), reference §3.2: 0820 / 60.3 = 002 with 11, 41, 42 (no operator, no
# MAC, as CUP terminals send it). A signed-out terminal
# must sign in again before the next transaction.
from pos import ui, overlay


def run(t):
    title = t.s("settle_signout_title")
    go = yield from ui.confirm(t, title, t.s("settle_signout_confirm"))
    if not go:
        return False
    return (yield from sign_out(t, title))


def sign_out(t, title, before=None):
    # Generator -> True when the center acknowledged; the result screen either way (the
    # exchange runs as an overlay, the screen after it). before: lines shown above the
    # acknowledgement (settlement's result).
    with overlay.scope():  # the exchange's code (codec, keys) is dropped before the screen
        ok, lines = yield from exchange(t, title)
    body = list(before or []) + lines if ok else lines
    t.emit(("beep", "ok" if ok else "error"))
    yield from ui.notice(t, title, body)
    return ok


def exchange(t, title):
    # Generator -> (acknowledged?, the lines for the screen). The working keys are
    # forgotten either way once the message has been tried: signing out is what the
    # cashier asked for, and sign-in brings fresh ones.
    from pos import center

    st = t.state
    msg = {"mti": "0820"}
    center.base_fields(t, msg, st.take_trace())
    msg[60] = "00" + center.batch_str(t) + "002"  # 11, 41, 42, 60: as CUP terminals send it
    res = yield from center.exchange(t, msg, title, with_mac=False)
    st.signin_date = ""
    st.save()
    if res.approved():
        return True, [t.s("settle_signout_ok")]
    t.emit(("log", "warn", "sign-out not acknowledged: %s %s" % (res.status, res.code())))
    return False, center.failure_lines(t, res)
