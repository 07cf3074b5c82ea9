# A purchase (a pre-authorisation 预授权, a balance inquiry 余额查询: run() is given the
# catalog's type) read from a chip (插卡) or a contactless tap (挥卡/闪付), as an overlay with
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
# Stages, each an overlay: the read (pos.flows.chipread, with the kernel's read), the first
# GENERATE AC (pos.flows.chipdone; when the card asks for the online PIN, it is entered
# between the two), the exchange (pos.flows.online), the card's end (pos.flows.chipok.finish,
# with pos.emv.finish), the approval's journal and slips (pos.flows.chipok.approved): the
# kernel's code is not in the heap while the center is called, and no stage holds another's
# code. pos.actions runs this flow with the calling flow's modules dropped
# (pos.flows.txn.chip_job), and the exchange, the card's end (answered) and the approval's
# end each with the stage before dropped (hand_back: this module is not in the heap while
# the center is called).
from pos import overlay, ui
from pos import keys as K

FAIL_LIMIT = 3


def run(t, title, ev, amount=None, kind="purchase", ttype="00", hand_back=False):
    # Generator. ev: the reader's insert or tap event (pos.card); kind: the catalog's type,
    # ttype its 9C (the processing code's first two digits: 00, 03, 31); amount 0: none
    # (an inquiry: 9F02 = 0, no field 4). An inquiry (not reversible) -> the center's answer
    # and the PAN for its caller to show (the card still inserted), else the record or None;
    # hand_back: an approval -> ("chip_ok", title, kind, msg, reply, rec), journalled and
    # printed by the caller (pos.actions.run: pos.flows.chipok.approved), not here.
    fails = 0
    while True:
        if amount is None:
            amount = yield from ui.enter_amount(t, title)
            if amount is None:
                return None
        got = yield from _run(t, title, ev, amount, kind, ttype, hand_back)
        if got != "failed":
            return got
        fails += 1
        t.emit(("beep", "error"))
        if fails >= FAIL_LIMIT:
            return (yield from _fallback(t, title, amount, kind))
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


def _fallback(t, title, amount, kind):
    # the chip failed three times: the stripe, with 60.5 = 2
    from pos import card as cardmod  # (not loaded through a chip's exchange: 2 KB)

    while True:
        ev = yield from _wait_reader(t, title, t.s("chip_fallback_swipe"), ("card",))
        if ev is None:
            return None
        card = cardmod.from_event(ev)
        ok = yield from cardmod.usable(t, title, card, chip_ok=True)
        if ok:  # the type's own flow: pos.flows.<kind>.go_online
            flow = __import__("pos.flows." + kind, None, None, ("go_online",))
            return (yield from flow.go_online(t, title, cardmod.as_fallback(card), amount))


def _run(t, title, ev, amount, kind, ttype, hand_back):
    # -> "failed" (the chip could not be read), or None / the journal record
    with overlay.scope():
        from pos.flows import chipread

        got = yield from chipread.read(t, title, ev, amount, ttype)
        del chipread
    pin = ""
    if type(got) is tuple and got[0] == "pin":
        # the online PIN, entered with the kernel's code out of the heap (a board has room
        # for it or for the exchange after, not for both at once); an inquiry has no
        # amount: its PIN prompt shows none (not ￥0.00). (Here, not pos.flows.purchase's
        # prompt: that module, its gates and txn are not loaded through a chip's exchange)
        prompt = t.s("enter_pin")
        if amount:
            prompt = "\uffe5" + ui.format_amount(amount) + "\n" + prompt
        pin = yield from ui.enter_digits(t, title, prompt, 4, 12, secret=True, allow_empty=True)
        if pin is None:  # cancelled, or the card pulled out: read again (读卡失败) at once
            return None if t.card_in else "failed"
    if type(got) is tuple:
        # the first cryptogram, a stage of its own (the read's code out of the heap)
        with overlay.scope(collect=True):
            from pos.flows import chipdone

            got = chipdone.run(t, ev, got, pin)
            del chipdone
    if got is None or got == "failed":
        return got
    if isinstance(got, str):  # why it ended: the string key of the screen
        yield from _remove(t, title, [t.s(got)], tap=ev[0] == "tap")
        return None
    card, pin, ctx = got
    got = None
    pin = pin or None
    with overlay.scope():  # (pos.request and pos.card not held through the exchange: 3 KB)
        from pos import card as cardmod
        from pos import request

        card = cardmod.chip_card(cardmod.CONTACTLESS if ev[0] == "tap" else cardmod.CHIP, *card)
        msg = request.financial(t, kind, card, amount or None, pin)
        del request, cardmod
    rec = {"pan": card[0], "exp": card[1], "entry": card[2], "amount": amount}
    if ctx.get("no_cvm"):
        rec["no_cvm"] = True
    card = None
    if ev[0] == "tap":
        ui.screen(t, title, [t.s("chip_remove_tap")])
    # a list, not a tuple: answered() empties it, so that what its caller still holds of it
    # (a local, a stale stack slot) keeps none of the request past the exchange
    job = ["chip_online", title, kind, ev, msg, pin, ctx, rec]
    if hand_back:
        # the request sent by pos.actions.run with this module and this flow's frames
        # dropped (~1.5 KB of a board's heap where it has the least), then answered()
        return job
    with overlay.scope():  # the exchange's code is dropped before the card is asked again
        from pos.flows import online

        rev = online.reversible(kind)
        reply = yield from online.send(t, title, kind, msg, pin)
        del online
    msg = ctx = rec = None
    return (yield from answered(t, job, reply, rev, False))


def answered(t, job, reply, rev, hand_back=True):
    # Generator: the chip's transaction after the exchange: the card's end, then the card's
    # refusal reversed, the approval (handed back as a chip_ok job for pos.actions.run, or
    # run here) or an inquiry's answer. job: _run's ["chip_online", title, kind, ev, msg,
    # pin, ctx, rec] (emptied here); reply: the center's approval, or None; rev: the type
    # is reversible
    title, kind, ev, msg, ctx, rec = job[1], job[2], job[3], job[4], job[6], job[7]
    del job[1:]
    job = None
    # all an approval reads of the request (pos.flows.online.journal: the trace, set by
    # send unless a pending reversal stopped it; the script advice: the PAN): its 55, 35,
    # 52, 64 and table not held through the card's end
    ctx["55"] = msg.get(55, b"")  # the kernel's objects it carries (chipdone.trim left them)
    got = {2: msg.get(2, ""), 11: msg.get(11, "")}
    msg.clear()  # (emptied, not only let go: the exchange's caller may hold it in a stack slot)
    msg = got
    with overlay.scope(collect=True):  # the card's code again, after the exchange's
        from pos.flows import chipok

        result, ctx = chipok.finish(t, ev, ctx, reply, rec, rev)
        del chipok
    if ctx is not None:  # the armed reversal's 55: the reversal tag set as the card ended
        t.state.update_reversal("55", ctx)
    ctx = None  # what the rest needs is in rec now (chipok.finish: the kernel's data, journalled)
    if reply is None:
        if ev[0] != "tap":
            yield from _remove(t, title, None)
        return None
    if result != "TC":
        # the center approved, the card did not: undo it at the center now
        # (an inquiry moved no money: nothing to undo)
        yield from _card_refused(t, title, rev)
        return None
    if not rev:
        return (reply, rec["pan"])  # an inquiry: the caller shows it (pos.flows.balance)
    # the approval's journal and script advice read only these of the answer
    # (pos.flows.online.record_approval, chipok.approved): the rest (55, 64, the dict's
    # table) is not held through the journal and the slips
    got = {}
    for k in (15, 37, 38, 44, 63):
        got[k] = reply.get(k, "")
    reply.clear()  # (as the request: a caller's stack slot may hold it)
    reply = got
    if hand_back:
        # journalled and printed by pos.actions.run with this module dropped (chipok_job)
        return ("chip_ok", title, kind, msg, reply, rec)
    with overlay.scope():
        from pos.flows import chipok

        rec = yield from chipok.approved(t, title, kind, msg, reply, rec)
        del chipok
    return rec


def _card_refused(t, title, rev):
    t.emit(("beep", "error"))
    if rev:
        from pos.flows import reversal

        reversal.set_reason(t, reversal.REASON_OTHER)
        yield from _remove(t, title, [t.s("chip_card_refused")], wait=False)
        yield from reversal.send_pending(t)
    yield from _remove(t, title, [t.s("chip_card_refused" if rev else "chip_declined_offline")])


def _remove(t, title, body, wait=True, tap=False):
    # the outcome, then 请拔卡 until the card leaves the reader (pos.flows.main.card_out); a
    # tapped card is not in a slot: 请移开卡片, the outcome until a key (or a few seconds),
    # as is the outcome of a card already pulled out
    if not tap and (t.card_in or not t.removal_wait):
        if wait:
            from pos.flows.main import card_out

            yield from card_out(t, title, body)
        else:
            ui.screen(t, title, list(body or []) + [t.s("chip_remove")])
        return
    lines = list(body or []) + ([t.s("chip_remove_tap")] if tap else [])
    if not lines:
        return
    ui.screen(t, title, lines)
    if not wait:
        return
    while True:
        ev = yield ("input", ("key", "removed"), 10)
        if ev[0] in ("timeout", "removed", "key"):
            return
