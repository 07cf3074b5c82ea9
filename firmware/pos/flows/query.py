# Journal query (交易查询): browse the current batch, newest first, with
# UP/DOWN; ENTER asks for a trace and jumps to it; CANCEL leaves.
from pos import ui
from pos import kinds
from pos import keys as K
from pos.screen import Frame
from pos.flows import txn


def entry_lines(t, e):
    kind = e.get("type", "")
    sign = "-" if kind in kinds.NEGATIVE else ""
    tm = e.get("time", "")
    lines = [
        t.s(kinds.TYPE_KEYS.get(kind, "tx_" + kind)) + " " + sign
        + ui.format_amount(e.get("amount", 0)),
        ui.screen_pan(e.get("pan", ""), t.cols),
        t.s("slip_trace") + e.get("trace", "") + " " + tm[0:2] + ":" + tm[2:4],
    ]
    if txn.is_voided(t, e.get("trace")):
        lines.append(t.s("tx_query_voided"))
    if e.get("rrn"):
        lines.append(t.s("slip_rrn") + e["rrn"])
    if e.get("auth"):
        lines.append(t.s("slip_auth") + e["auth"])
    return lines


def browse(t):
    title = t.s("journal_query")
    entries = [e for e in t.journal.entries() if e.get("type") in kinds.TYPE_KEYS]
    if not entries:
        yield from ui.notice(t, title, t.s("no_transactions"), timeout=10)
        return
    i = len(entries) - 1
    while True:
        e = entries[i]
        f = Frame(t.rows, t.cols)
        f.put(0, title + " " + str(len(entries) - i) + "/" + str(len(entries)), "center", True)
        lines = entry_lines(t, e)
        for r in range(1, t.rows):
            if r - 1 < len(lines):
                f.put(r, lines[r - 1])
        t.show(f)
        k = yield from ui.wait_key(t, ui.IDLE_TIMEOUT)
        if k is None or k == K.CANCEL:
            return
        if k == K.UP:
            i = (i + 1) % len(entries)
        elif k == K.DOWN:
            i = (i - 1) % len(entries)
        elif k == K.ENTER:
            trace = yield from txn.enter_trace(t, title, "tx_query_enter_trace")
            if trace is None:
                continue
            found = None
            for j in range(len(entries)):
                if entries[j].get("trace") == trace:
                    found = j
            if found is None:
                yield from ui.notice(t, title, t.s("tx_no_original"), timeout=10)
            else:
                i = found
