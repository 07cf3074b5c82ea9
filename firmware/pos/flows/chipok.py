# The chip's end of a purchase (pos.flows.chip), each part an overlay of its own: after the
# exchange the center's answer given to the card (finish, with pos.emv.finish: issuer
# authentication with 91, scripts 71 / 72, the second GENERATE AC) and the kernel's data put
# where the journal, the reversal and the advice need it (plain function: no screen, no
# wait); then, when the card gave its TC, the approval (approved): journalled, the script
# advice kept, the screen, the slips, the advice sent.
# pos.actions.run runs it with the chip flow's module and frames dropped (a chip_ok job that
# pos.flows.chip.answered hands back); a caller of chip.run that takes no job gets it run there.
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


def finish(t, ev, ctx, reply, rec, rev=True):
    # -> (result, r55): result "TC" (the card accepts the approval), "AAC" (it refuses it),
    # or None (declined or no answer: the card was closed with an AAC); r55 the reversal tag
    # set as the card ended (hex) for the armed reversal, or None. reply: the center's
    # approval, or None. rev: the type is reversible (an inquiry arms no reversal)
    from pos.emv import apdu, finish as emvend  # (here: not loaded with the approval's journal)

    contactless = ev[0] == "tap"
    result = None
    ctx = emvend.unpack(ctx)  # (pos.flows.chipdone.trim packed it for the exchange)
    if not contactless:
        # pulled out before the second GENERATE AC: no TC (an approval is then reversed)
        icc = apdu.icc_of(ev) if t.card_in else None
        try:
            if icc is None:
                raise emvend.ChipError("the card is gone")
            declined = getattr(t, "declined", None)
            t.declined = None
            if reply is None and declined:
                # the issuer declined: its ARC (and 91, so the card authenticates it)
                emvend.complete(icc, ctx, declined[1], declined[0].encode(), False)
            elif reply is None:
                # no answer (Z3: unable to go online): the card ends with an AAC
                emvend.complete(icc, ctx, b"", b"Z3", False)
            else:
                code = reply.get(39, "00")
                result = emvend.complete(icc, ctx, reply.get(55) or b"", code.encode(), True)
        except emvend.ChipError as e:
            t.emit(("log", "warn", "chip failed after the answer: %s" % e))
            result = "AAC" if reply is not None else None
        icc = None
    elif reply is not None:
        result = "TC"  # qUICS: the card has left the field; the ARQC stands for it
    emvend.record_fields(ctx, rec, contactless, rec.get("no_cvm", False))
    # the armed reversal carries the reversal tag set as the card ends (TVR, DF31 ...)
    # (its PAN stays sealed: no 3DES while the card's code is loaded), put there by the
    # caller with this stage's code dropped (the state's read: a board's heap)
    return result, emvend.reversal55(ctx).hex() if rev else None
