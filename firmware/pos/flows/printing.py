# Printing: receipts through the printer port, paper-out handling, reprints. The slips'
# lines are built by pos.receipt as an overlay (pos.overlay): its code is not held while
# the terminal waits for the cashier (the tear-off prompt).
from pos import ui, overlay
from pos import keys as K


def print_lines(t, lines):
    # Generator -> True when printed, False when the cashier gave up (paper out).
    # Out of paper: the slip is printed when the paper is back AND the cashier presses
    # ENTER (确认), as the prompt says; never by itself when the paper comes back.
    if not t.printer_ok:
        t.emit(("beep", "error"))
        while True:
            if t.printer_ok:
                body = t.s("paper_back_hint")
            else:
                body = [t.s("paper_out"), t.s("paper_out_hint")]
            ui.screen(t, t.s("printer_title"), body)
            ev = yield ("input", ("key", "printer"), 0)
            if ev[0] != "key":
                continue
            if ev[1] == K.CANCEL:
                return False
            if ev[1] == K.MENU:
                raise ui.GotoMenu()
            if ev[1] == K.ENTER and t.printer_ok:
                break
            t.emit(("beep", "error"))
    t.emit(("print", lines))
    return True


def print_slips(t, rec, reprint=False, title=None):
    # Merchant copy, then the cardholder copy when the cashier confirms. The prompt keeps
    # the transaction's title row (the display redraws only the rows that change).
    # The slips are built as a step of their own, after the caller's screen (正在打印...)
    # is drawn (pos.terminal: a ("work",) step). With the overlay cache on (a board with heap
    # to spare: pos.overlaycache) the cardholder copy is built with the merchant's, so that
    # the ENTER that prints it only hands it to the printer. rec: the record, or its place in
    # the journal (a reprint: Journal.at decodes it here, in the work step, not in the key
    # that asked for it; a record's JSON makes ~40 strs, ~300,000 instructions on a Pico)
    yield ("work",)
    rec = t.journal.at(rec)
    if title is None:
        kind = rec.get("type")
        with overlay.scope():  # read, not held at the tear-off prompt
            from pos import catalog

            title = t.s(catalog.title_key(kind) if catalog.journalled(kind) else "print_title")
            del catalog
    ahead = None
    with overlay.scope():  # the slip's code is not held at the tear-off prompt
        from pos import receipt

        lines = receipt.build(t, rec, "merchant", reprint)
        if overlay.CACHE is not None:
            ahead = receipt.build(t, rec, "cardholder", reprint)
        del receipt
    yield from print_lines(t, lines)
    lines = None
    ui.screen(t, title, [t.s("tear_merchant_copy")], t.s("enter_print_cardholder"))
    k = yield from ui.wait_key(t, 30)
    if k == K.ENTER:
        if ahead is None:
            with overlay.scope():
                from pos import receipt

                ahead = receipt.build(t, rec, "cardholder", reprint)
                del receipt
        yield from print_lines(t, ahead)


def print_settlement(t, summary, reprint=False):
    # Generator: the settlement slip (结算单) -> True when printed; built as a step of its
    # own after the caller's screen (正在打印...) is drawn, as print_slips
    yield ("work",)
    with overlay.scope():
        from pos import receipt

        lines = receipt.settlement_slip(t, summary, reprint)
        del receipt
    return (yield from print_lines(t, lines))


def last_ref(t):
    # -> the place in the journal of the newest record of the journalled types, or None
    with overlay.scope():
        from pos import catalog

        kinds = catalog.journal_kinds()
        del catalog
    # each record's type compared in its bytes (journal.kinds), none decoded; the newest
    # record first (a batch most often ends with a sale, a void or a refund: one record
    # read, not the batch: ~45,000 instructions of the unix port a record walked)
    j = t.journal
    newest = j.newest()
    if newest is not None:
        for ref, kind, _o in j.kinds("type", kinds, None, newest):
            if kind is not None:
                return ref
    last = None
    for ref, kind, _o in j.kinds("type", kinds):
        if kind is not None:
            last = ref
    return last


def reprint_last(t):
    title = t.s("reprint_last")
    ref = last_ref(t)
    if ref is None:
        yield from ui.notice(t, title, t.s("no_transactions"), timeout=10)
        return
    ui.screen(t, title, t.s("printing"))
    yield from print_slips(t, ref, True, title)  # the record decoded in its work step
