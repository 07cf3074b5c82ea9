# The end of an approved chip transaction (pos.flows.chip: the card gave its TC), an overlay
# of its own: journalled, the script advice kept, the screen, the slips, the advice sent.
# pos.actions.run runs it with the chip flow's module and frames dropped (a chip_ok job that
# pos.flows.chip.run hands back); a caller of chip.run that takes no job gets it run there.
from pos import overlay, ui


def approved(t, title, kind, msg, reply, rec):
    # journalled and disarmed as a card-swipe approval is (pos.flows.online.journal): short
    # of heap, collected and tried again, then from the reserve (an approved sale is kept);
    # a full disk, 存储失败 and the record kept pending; a reversal that cannot be cleared,
    # the sale kept all the same. (Before, a chip approval's journalling met a MemoryError
    # with no second try: the sale the card and the center had approved was reversed.)
    with overlay.scope():
        from pos.flows import online

        rec = yield from online.journal(t, title, kind, msg, reply, rec)
        del online
    if rec is None:
        return None
    if rec.get("script55"):
        t.state.extra["script_advice"] = {
            "trace": rec["trace"], "pan": msg.get(2, ""), "amount": rec["amount"],
            "55": rec["script55"], "entry": rec["entry"], "seq": rec.get("seq", ""),
        }  # fmt: skip
        t.state.save()
    t.emit(("beep", "ok"))
    body = [t.s("resp_code", "00"), t.strings.response("00"), t.s("printing")]
    if rec.get("ic") == "chip":
        body.append(t.s("chip_remove"))
        from pos.screen import layout

        if layout(t.rows, t.cols, title, body).cut:
            body.pop(2)  # no room for both (4x16, en): 请拔卡 matters more than 正在打印
    ui.screen(t, title, body)
    with overlay.scope():
        from pos.flows import printing

        yield from printing.print_slips(t, rec, False, title)
        del printing
    if t.state.extra.get("script_advice"):
        with overlay.scope():
            from pos.flows import icload

            yield from icload.script_advice(t, title)
            del icload
    return rec
