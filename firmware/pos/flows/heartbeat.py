# The terminal reports in (issue 16.1): the CUP status upload, 0820 with 60.3 = 362, sent
# after a sign-in and whenever the terminal has been idle `heartbeat_min` minutes (a
# parameter in params.json; 0 = never; Terminal.heartbeat_due says when). Field 62
# carries what the terminal says of itself as key=value pairs separated by ';':
#   ver   the firmware version          paper  ok | out
#   n     today's sales (purchases and completions, training excluded)
#   amt   their amount in fen           op     the operator signed on
#   loc   the configured location (params "location": an area code or a place name)
# Also sent before the next transaction when a reply's header asks for it (processing
# requirement 2, reference §1: state.extra "status_due", one try).
# No MAC (a network-management message, like the sign-out). The answer is not shown: a
# declined one goes to the log (a suspended terminal learns it at its next transaction).
VERSION = "0.1.0"
SALES = ("purchase", "completion")


def report(t):
    # -> the field 62 text: what the terminal says of itself.
    today = t.today()
    count = 0
    amount = 0
    for e in t.journal.each():
        if e.get("type") in SALES and e.get("date") == today and not e.get("training"):
            count += 1
            amount += e.get("amount", 0)
    p = t.state.params
    parts = [
        "ver=" + VERSION,
        "paper=" + ("ok" if t.printer_ok else "out"),
        "n=%d" % count,
        "amt=%d" % amount,
        "op=" + (t.state.operator or ""),
    ]
    loc = p.get("location", "")
    if loc:
        parts.append("loc=" + str(loc).replace(";", ","))
    return ";".join(parts)


def run(t):
    # Generator -> True when the center acknowledged the report.
    from pos import center

    st = t.state
    msg = {"mti": "0820"}
    center.base_fields(t, msg, st.take_trace())
    msg[60] = "00" + center.batch_str(t) + "362"
    msg[62] = report(t).encode()
    res = yield from center.exchange(t, msg, t.s("heartbeat_title"), with_mac=False)
    st.extra.pop("status_due", None)  # asked by a reply's header: done, one try
    st.save()
    if res.approved():
        return True
    t.emit(("log", "warn", "status upload not acknowledged: %s %s" % (res.status, res.code())))
    return False
