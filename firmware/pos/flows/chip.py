# A purchase read from a chip (插卡) or a contactless tap (挥卡/闪付), run as an overlay with
# the kernel (pos.emv.kernel) for this transaction only: the application chosen (on screen
# when the card has two), the card read, the cardholder verified (offline PIN by VERIFY
# where the card asks, else online PIN; a tap at or under the 双免 limit none), the first
# GENERATE AC. An ARQC goes online (22 = 051/052 or 071/072, 23, 55, 60.4 = 5 / 6); the
# center's answer is given to the card (91 issuer authentication, scripts 71/72, the second
# GENERATE AC): a TC is the approval journalled and printed; an AAC after the center
# approved is reversed at once (the reversal carries 95, 9F1E, 9F10, 9F36, DF31). A card
# that declines offline (AAC) is told on screen. A script's result goes to the center in a
# script advice (0620, 60.3 = 951) after the transaction.
# A chip that cannot be read is retried; the third failure lets the cashier swipe
# (fallback: 60.5 = 2).
from pos import card as cardmod
from pos import overlay, ui
from pos import keys as K
from pos.emv import kernel
from pos.request import financial, z

FAIL_LIMIT = 3
NO_CVM_LIMIT = 100000  # fen: CUP's usual 双免 limit (¥1,000) until the center sends one


def purchase(t, title, ev, amount=None):
    # Generator. ev: the reader's insert or tap event (pos.card).
    fails = 0
    while True:
        if amount is None:
            amount = yield from ui.enter_amount(t, title)
            if amount is None:
                return None
        got = yield from _run(t, title, ev, amount)
        if got != "failed":
            return got
        fails += 1
        t.emit(("beep", "error"))
        if fails >= FAIL_LIMIT:
            return (yield from _fallback(t, title, amount))
        ev = yield from _wait_reader(t, title, t.s("chip_read_again"), ("chip", "tap"))
        if ev is None:
            return None


def _wait_reader(t, title, text, kinds):
    # the next insert / tap (or swipe) -> the event, None on CANCEL or timeout
    ui.screen(t, title, [text])
    while True:
        ev = yield ("input", ("key",) + kinds, ui.IDLE_TIMEOUT)
        if ev[0] == "timeout":
            return None
        if ev[0] in kinds:
            return ev
        if ev[1] == K.CANCEL:
            return None
        if ev[1] == K.MENU:
            raise ui.GotoMenu()
        t.emit(("beep", "error"))


def _fallback(t, title, amount):
    # the chip failed three times: the stripe, with 60.5 = 2
    while True:
        ev = yield from _wait_reader(t, title, t.s("chip_fallback_swipe"), ("card",))
        if ev is None:
            return None
        card = cardmod.from_event(ev)
        ok = yield from cardmod.usable(t, title, card, chip_ok=True)
        if ok:
            from pos.flows import purchase

            return (yield from purchase.go_online(t, title, cardmod.as_fallback(card), amount))


def _terminal_data(t, amount, contactless):
    now = t.now
    sn = t.state.params.get("tid", "00000000")
    d = {
        0x9F02: bytes.fromhex(z(amount, 12)),
        0x9F03: bytes(6),
        0x9A: bytes.fromhex(z(now[0] % 100, 2) + z(now[1], 2) + z(now[2], 2)),
        0x9F21: bytes.fromhex(z(now[3], 2) + z(now[4], 2) + z(now[5], 2)),
        0x9C: b"\x00",
        0x9F37: _unpredictable(t),
        0x9F1E: (sn + "        ")[:8].encode(),
        0x9F41: bytes.fromhex(z(t.state.trace, 8)),
        0x9F7A: b"\x00",
    }
    if contactless:
        d[0x9F66] = b"\x26\x00\x00\x80"  # qPBOC TTQ: contactless, online PIN, signature
    return d


def _unpredictable(t):
    # 9F37: four bytes nobody can guess in advance (the terminal's random source, which a
    # recording fixes for its replay)
    from pos import vault

    return vault.random_bytes(4)


def _aids(t):
    got = t.state.extra.get("ic_aids")  # downloaded from the center (pos.flows.icload)
    if got:
        return [bytes.fromhex(a) for a in got]
    return [bytes.fromhex("A000000333")]  # any UnionPay application until then


def _run(t, title, ev, amount):
    # -> "failed" (the chip could not be read), or None / the journal record
    contactless = ev[0] == "tap"
    icc = cardmod.icc_of(ev)
    if icc is None:
        return "failed"
    ui.screen(t, title, [t.s("chip_processing"), t.s("chip_keep_card")])
    try:
        apps = kernel.candidates(icc, _aids(t), contactless)
        aid = apps[0][0]
        if kernel.must_choose(apps):
            aid = yield from _choose(t, title, apps)
            if aid is None:
                return None
        ui.screen(t, title, [t.s("chip_processing"), t.s("chip_keep_card")])
        ctx = kernel.start(icc, aid, _terminal_data(t, amount, contactless))
    except kernel.ChipError as e:
        t.emit(("log", "warn", "chip read failed: %s" % e))
        return "failed"
    except kernel.NoApplication as e:
        t.emit(("beep", "error"))
        key = "chip_app_blocked" if str(e) == "blocked" else "chip_no_app"
        yield from _remove(t, title, [t.s(key)])
        return None
    pan = kernel.pan(ctx)
    exp = kernel.expiry(ctx)
    why = cardmod.expiry_problem(exp, t.now)
    if why:
        t.emit(("beep", "error"))
        yield from _remove(t, title, [t.s(why)])
        return None
    limit = t.state.params.get("qps_limit", NO_CVM_LIMIT)
    no_cvm = contactless and amount <= limit
    try:
        pin = yield from _cvm(t, title, icc, ctx, amount, no_cvm)
        if pin is False:
            return None
        kernel.risk(ctx, 0)
        ac = kernel.first_ac(icc, ctx)
    except kernel.ChipError as e:
        t.emit(("log", "warn", "chip failed: %s" % e))
        return "failed"
    if ac == "AAC":
        t.emit(("beep", "error"))
        yield from _remove(t, title, [t.s("chip_declined_offline")])
        return None
    entry = cardmod.CONTACTLESS if contactless else cardmod.CHIP
    card = cardmod.chip_card(entry, pan, exp, kernel.track2(ctx), kernel.pan_seq(ctx),
                             kernel.field55(ctx))  # fmt: skip
    if contactless:
        ui.screen(t, title, [t.s("chip_remove_tap")])
    msg = financial(t, "0200", "000000", "00", "22", card, amount, pin or None)
    rec = {"pan": pan, "exp": exp, "entry": entry, "amount": amount}
    _chip_rec(ctx, rec, contactless, no_cvm)
    with overlay.scope():  # the exchange's code is dropped before the card is asked again
        from pos.flows import online

        reply = yield from online.send(t, title, "purchase", msg, True, pin or None)
        del online
    if contactless:
        # qUICS: the card has left the field; the ARQC stands for the transaction
        if reply is None:
            _reversal_tags(t, ctx)
            return None
        return (yield from _approved(t, title, msg, reply, rec, ctx))
    code = reply.get(39, "00") if reply is not None else ""
    try:
        if reply is None:
            # declined, or no answer (Z3: unable to go online): the card ends with an AAC
            kernel.complete(icc, ctx, b"", b"Z3", False)
            _reversal_tags(t, ctx)
            yield from _remove(t, title, None)
            return None
        result = kernel.complete(icc, ctx, reply.get(55) or b"", code.encode(), True)
    except kernel.ChipError as e:
        t.emit(("log", "warn", "chip failed after the answer: %s" % e))
        result = "AAC"
    _chip_rec(ctx, rec, contactless, no_cvm)
    if result != "TC":
        # the center approved, the card did not: undo it at the center now
        yield from _card_refused(t, title, ctx)
        return None
    got = yield from _approved(t, title, msg, reply, rec, ctx)
    return got


def _chip_rec(ctx, rec, contactless, no_cvm):
    # what the slip, the TC upload and the script advice need (plain data, hex)
    rec["aid"] = ctx.get("aid", "")
    rec["app_label"] = ctx.get("label", "")
    rec["ac"] = ctx.get(0x9F26, b"").hex().upper()
    rec["ac_type"] = "ARQC" if contactless or "ac2" not in ctx else ctx["ac2"]
    rec["atc"] = ctx.get(0x9F36, b"").hex().upper()
    rec["tvr"] = ctx.get(0x95, b"").hex().upper()
    rec["tsi"] = ctx.get(0x9B, b"").hex().upper()
    rec["seq"] = kernel.pan_seq(ctx)
    rec["ic"] = "tap" if contactless else "chip"
    if no_cvm:
        rec["no_cvm"] = True
    rec["tc55"] = kernel.tc55(ctx).hex()
    if 0xDF31 in ctx:
        rec["script55"] = kernel.script55(ctx).hex()


def _reversal_tags(t, ctx):
    # the armed reversal carries the reversal tag set, not the whole request's 55
    rec = t.state.reversal()
    if rec is not None and "55" in rec:
        rec["55"] = kernel.reversal55(ctx).hex()
        t.state.set_reversal(rec)


def _card_refused(t, title, ctx):
    from pos.flows import reversal

    _reversal_tags(t, ctx)
    reversal.set_reason(t, reversal.REASON_OTHER)
    t.emit(("beep", "error"))
    yield from _remove(t, title, [t.s("chip_card_refused")], wait=False)
    yield from reversal.send_pending(t)
    yield from _remove(t, title, [t.s("chip_card_refused")])


def _approved(t, title, msg, reply, rec, ctx):
    from pos.flows import reversal
    from pos.journal import JournalWriteError

    try:
        with overlay.scope():
            from pos.flows import online

            online.record_approval(t, "purchase", msg, reply, rec)
            del online
    except JournalWriteError as e:
        t.emit(("log", "error", "%s; trace %s pending, reversal armed" % (e, msg[11])))
        with overlay.scope():
            from pos.flows import storagefail

            ok = yield from storagefail.cannot_journal(t, title)
            del storagefail
        if not ok:
            return None
    reversal.disarm(t)
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


def _remove(t, title, body, wait=True):
    # the outcome, then 请拔卡 until the card leaves (or a key, or a few seconds)
    lines = list(body or []) + [t.s("chip_remove")]
    ui.screen(t, title, lines)
    if not wait:
        return
    while True:
        ev = yield ("input", ("key", "removed"), 10)
        if ev[0] in ("timeout", "removed", "key"):
            return


def _choose(t, title, apps):
    # the cardholder picks the application: a digit picks, CANCEL stops -> aid or None
    rows = []
    for i in range(len(apps)):
        name = apps[i][1] or apps[i][0].hex().upper()
        rows.append(("%d." % (i + 1) + name)[: t.cols])
    while True:
        ui.screen(t, t.s("chip_choose_app"), rows[: t.rows - 1])
        k = yield from ui.wait_key(t, ui.IDLE_TIMEOUT)
        if k is None or k == K.CANCEL:
            return None
        if k == K.ENTER:
            return apps[0][0]
        if k in K.DIGITS and 1 <= int(k) <= len(apps):
            return apps[int(k) - 1][0]
        t.emit(("beep", "error"))


def _cvm(t, title, icc, ctx, amount, no_cvm):
    # -> the online PIN ("" none), or False when the cashier cancelled
    plan = kernel.cvm_plan(ctx, no_cvm)
    for method, next_if_fails, cond in plan:
        code = method | (0x40 if next_if_fails else 0)  # 9F34 byte 1 as the card's rule
        if method == kernel.CVM_NONE:
            kernel.cvm_done(ctx, code, cond, 2)
            return ""
        if method == kernel.CVM_SIGNATURE:
            kernel.cvm_done(ctx, code, cond, 0)
            return ""
        if method == kernel.CVM_ONLINE_PIN:
            from pos.flows import purchase

            pin = yield from purchase.enter_pin(t, title, amount)
            if pin is None:
                return False
            if pin:
                kernel.cvm_done(ctx, code, cond, 0)
            else:
                kernel.pin_not_entered(ctx)
                kernel.cvm_done(ctx, code, cond, 1)
            return pin
        if method == kernel.CVM_OFFLINE_PIN:
            got = yield from _offline_pin(t, title, icc, ctx, amount)
            if got is None:
                return False
            if got == "ok":
                kernel.cvm_done(ctx, code, cond, 2)
                return ""
            if not next_if_fails:
                kernel.cvm_done(ctx, code, cond, 1)
                return ""
            continue
    kernel.cvm_done(ctx, kernel.CVM_FAIL, 0, 1)
    return ""


def _offline_pin(t, title, icc, ctx, amount):
    # -> "ok", "blocked" or "bypassed" (no PIN entered), None on CANCEL
    prompt = "\uffe5" + ui.format_amount(amount) + "\n" + t.s("chip_offline_pin")
    while True:
        pin = yield from ui.enter_digits(t, title, prompt, 4, 12, secret=True, allow_empty=True)
        if pin is None:
            return None
        if not pin:
            kernel.pin_not_entered(ctx)
            return "bypassed"
        got = kernel.verify(icc, ctx, pin)
        if got != "wrong":
            return got
        t.emit(("beep", "error"))
        yield from ui.notice(t, title, t.s("chip_pin_wrong", ctx.get("pin_tries", 0)), timeout=5)
