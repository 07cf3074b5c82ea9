# 2.打印 and the batch views of 3.管理: reprint any slip by trace, the
# transaction detail and totals on paper, the totals on screen (统计), and
# deleting a stuck reversal (删除冲正, supervisor only).
from pos import catalog, ui, receipt, settlement, center
from pos.flows import printing, txn, reversal


def reprint_any(t):
    title = t.s("print_reprint_any")
    trace = yield from txn.enter_trace(t, title, "print_enter_trace")
    if trace is None:
        return
    rec = txn.find_entry(t, trace, catalog.journal_kinds())
    if rec is None:
        yield from ui.notice(t, title, t.s("tx_not_found"), timeout=10)  # OP: 交易不存在
        return
    ui.screen(t, title, t.s("printing"))
    yield from printing.print_slips(t, rec, True, title)


def _entries(t):
    kinds = catalog.journal_kinds()
    return [e for e in t.journal.entries() if e.get("type") in kinds]


def print_detail(t):
    title = t.s("print_detail_title")
    entries = _entries(t)
    if not entries:
        yield from ui.notice(t, title, t.s("no_transactions"), timeout=10)
        return
    ui.screen(t, title, t.s("printing"))
    yield from printing.print_lines(t, receipt.detail_slip(t, entries, center.batch_str(t)))


def print_totals(t):
    title = t.s("print_totals_title")
    tot = settlement.totals(t.journal.entries())
    ui.screen(t, title, t.s("printing"))
    yield from printing.print_lines(t, receipt.totals_slip(t, tot, center.batch_str(t)))


def reprint_settlement(t):
    from pos.flows import settle

    yield from settle.reprint(t)


def total_lines(t):
    # the 统计 screen's (label, value) pairs: one per type with a count, then debit and
    # credit, then the debits read by chip, by tap and from a QR code
    tot = settlement.totals(t.journal.entries())
    lines = []
    for kind in catalog.journal_kinds():
        row = tot["types"].get(kind)
        if row:
            sign = "-" if catalog.negative(kind) and row[1] else ""
            name = t.s(catalog.title_key(kind))
            lines.append(
                (
                    name + " " + str(row[0]) + t.s("print_count_unit"),
                    sign + ui.format_amount(row[1]),
                )
            )
    for key, side in (("settle_debit", "debit"), ("settle_credit", "credit")):
        row = tot[side]
        lines.append(
            (t.s(key) + " " + str(row[0]) + t.s("print_count_unit"), ui.format_amount(row[1]))
        )
    lines.extend(receipt.mode_lines(t, tot))  # of the debits: 插卡, 挥卡, 扫码
    return lines


def totals(t):
    # 交易统计: pages of the totals, a label never apart from its value; UP/DOWN page,
    # ENTER/CANCEL leave
    blocks = [ui.pair(label, value, t.cols) for label, value in total_lines(t)]
    yield from ui.pager(t, t.s("tx_totals_title"), blocks)


def delete_reversal(t):
    title = t.s("tx_delete_reversal_title")
    if reversal.pending(t) is None:
        yield from ui.notice(t, title, t.s("tx_delete_reversal_none"), timeout=10)
        return
    from pos.flows import auth

    ok = yield from auth.require_supervisor(t, title)
    if not ok:
        return
    rec = reversal.pending(t)
    body = [t.s("tx_delete_reversal_confirm")]
    body.extend(ui.label_value(t.s("slip_trace"), rec.get("11", ""), t.cols))
    go = yield from ui.confirm(t, title, body)
    if not go:
        return
    # never confirmed: it stays in the journal for settlement (its slip lists it)
    from pos import overlay

    with overlay.scope():
        from pos.flows import reversalsend

        done = reversalsend.give_up(t, rec, "deleted")
        del reversalsend
    if not done:  # its record cannot be journalled (a full disk): nothing deleted
        t.emit(("beep", "error"))
        yield from ui.notice(t, title, [t.s("storage_failed"), t.s("storage_call")])
        return
    t.emit(("log", "warn", "reversal of trace %s deleted by the supervisor" % rec.get("11")))
    t.emit(("beep", "ok"))
    yield from ui.notice(t, title, t.s("tx_delete_reversal_done"), timeout=10)
