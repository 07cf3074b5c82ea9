# Journal query (交易查询): browse the current batch, newest first.
from pos import ui, receipt
from pos import keys as K
from pos.screen import Frame


def browse(t):
    title = t.s("journal_query")
    entries = [e for e in t.journal.entries() if e.get("type") in receipt.TYPE_KEYS]
    if not entries:
        yield from ui.notice(t, title, t.s("no_transactions"), timeout=10)
        return
    i = len(entries) - 1
    while True:
        e = entries[i]
        f = Frame(t.rows, t.cols)
        f.put(0, title + " " + str(len(entries) - i) + "/" + str(len(entries)), "center", True)
        lines = [
            t.s(receipt.TYPE_KEYS.get(e["type"], "tx_" + e["type"])) + " " + ui.format_amount(e.get("amount", 0)),
            ui.mask_pan(e.get("pan", "")),
            t.s("slip_trace") + e.get("trace", "") + " " + e.get("time", "")[0:2] + ":" + e.get("time", "")[2:4],
        ]
        for r in range(1, t.rows):
            if r - 1 < len(lines):
                f.put(r, lines[r - 1])
        t.show(f)
        k = yield from ui.wait_key(t, ui.IDLE_TIMEOUT)
        if k is None or k in (K.CANCEL, K.ENTER):
            return
        if k == K.UP:
            i = (i + 1) % len(entries)
        elif k == K.DOWN:
            i = (i - 1) % len(entries)
