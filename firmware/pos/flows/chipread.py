# The chip read of a purchase (pos.flows.chip), an overlay of its own: the kernel
# (pos.emv.kernel) selects the application (on screen when the card has two), reads the
# card, verifies the cardholder (offline PIN by VERIFY where the card asks, else online PIN;
# a tap at or under the 双免 limit none). What it returns is plain data: the kernel's code
# is dropped before the first cryptogram (pos.flows.chipdone.run) and the center.
from pos import clock, overlay, ui
from pos import keys as K
from pos.emv import apdu, kernel
from pos.compat import zpad as z  # (pos.request not loaded for the card's read)

NO_CVM_LIMIT = 100000  # fen: CUP's usual 双免 limit (¥1,000) until the center sends one


def read(t, title, ev, amount, ttype="00"):
    # Generator -> "failed" (the chip could not be read: the caller counts it), None (the
    # cashier cancelled), the string key of why the card cannot pay (said by the caller), or
    # (why, ctx, rule code, condition, no_cvm): the card read and verified, for
    # pos.flows.chipdone.run; why "pin": the online PIN is to be entered first (its CVM
    # rule's code and condition), "": no PIN goes online (code None). ttype: 9C, the EMV
    # transaction type (00 a purchase, 03 a pre-authorisation, 31 a balance inquiry)
    contactless = ev[0] == "tap"
    icc = apdu.icc_of(ev)
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
        ctx = kernel.start(icc, aid, _terminal_data(t, amount, contactless, ttype))
    except kernel.ChipError as e:
        t.emit(("log", "warn", "chip read failed: %s" % e))
        return "failed"
    except kernel.NoApplication as e:
        t.emit(("beep", "error"))
        return "chip_app_blocked" if str(e) == "blocked" else "chip_no_app"
    why = clock.expiry_problem(apdu.expiry(ctx), t.now)  # (resident: no pos.card, 2 KB)
    if why:
        t.emit(("beep", "error"))
        return why
    limit = t.state.params.get("qps_limit", NO_CVM_LIMIT)
    no_cvm = contactless and amount <= limit
    try:
        pin = yield from _cvm(t, title, icc, ctx, amount, no_cvm)
    except kernel.ChipError as e:
        t.emit(("log", "warn", "chip failed: %s" % e))
        return "failed"
    if pin is False:
        return None
    # the first cryptogram is a stage of its own (pos.flows.chipdone.run), with this
    # one's code (the kernel's read) out of the heap; the online PIN, when the card asks for
    # it, is entered between the two (pos.flows.chip). The card keeps its transaction in its
    # spec while its object is dropped (a virtual card)
    suspend = getattr(icc, "suspend", None)
    if suspend is not None:
        suspend()
    icc = None
    if type(pin) is tuple:
        return ("pin", ctx, pin[1], pin[2], no_cvm)
    return ("", ctx, None, None, no_cvm)


def _terminal_data(t, amount, contactless, ttype):
    now = t.now
    sn = t.state.params.get("tid", "00000000")
    d = {
        0x9F02: bytes.fromhex(z(amount, 12)),
        0x9F03: bytes(6),
        0x9A: bytes.fromhex(z(now[0] % 100, 2) + z(now[1], 2) + z(now[2], 2)),
        0x9F21: bytes.fromhex(z(now[3], 2) + z(now[4], 2) + z(now[5], 2)),
        0x9C: bytes.fromhex(ttype),
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
    # recording fixes for its replay); pos.vault not held through the card's read
    with overlay.scope():
        from pos import vault

        got = vault.random_bytes(4)
        del vault
    return got


def _aids(t):
    got = t.state.extra.get("ic_aids")  # downloaded from the center (pos.flows.icload)
    if got:
        return [bytes.fromhex(a) for a in got]
    return [bytes.fromhex("A000000333")]  # any UnionPay application until then


def _choose(t, title, apps):
    # the cardholder picks the application: a digit picks, ENTER takes the first, CANCEL
    # stops -> aid or None. A label wider than the screen wraps under its number (never cut:
    # "UnionPay Credit" is 17 cells with "2."), and a list taller than the screen is paged
    # with UP / DOWN (the pages' blocks never split an application).
    from pos import cells

    blocks = []
    for i in range(len(apps)):
        name = apps[i][1] or apps[i][0].hex().upper()
        head = "%d." % (i + 1)
        lines = cells.wrap(name, t.cols - len(head), dense=True) or [""]
        block = [(head + lines[0], "left")]
        for line in lines[1:]:
            block.append((" " * len(head) + line, "left"))
        blocks.append(block)
    pages = ui.paginate(blocks, t.rows - 1)
    page = 0
    while True:
        ui.screen(t, t.s("chip_choose_app"), [text for text, _ in pages[page]])
        k = yield from ui.wait_key(t, ui.IDLE_TIMEOUT)
        if k is None or k == K.CANCEL:
            return None
        if k == K.ENTER:
            return apps[0][0]
        if k in K.DIGITS and 1 <= int(k) <= len(apps):
            return apps[int(k) - 1][0]
        if k in (K.DOWN, K.UP) and len(pages) > 1:
            page = (page + (1 if k == K.DOWN else len(pages) - 1)) % len(pages)
            continue
        t.emit(("beep", "error"))


def _cvm(t, title, icc, ctx, amount, no_cvm):
    # -> "" (no PIN goes online), ("online", rule code, condition): the online PIN is to be
    # entered, or False when the cashier cancelled
    plan = kernel.cvm_plan(ctx, no_cvm)
    for method, next_if_fails, cond in plan:
        code = method | (0x40 if next_if_fails else 0)  # 9F34 byte 1 as the card's rule
        if method == kernel.CVM_NONE:
            apdu.cvm_done(ctx, code, cond, 2)
            return ""
        if method == kernel.CVM_SIGNATURE:
            apdu.cvm_done(ctx, code, cond, 0)
            return ""
        if method == kernel.CVM_ONLINE_PIN:
            return ("online", code, cond)  # the caller asks for it (after_pin)
        if method == kernel.CVM_OFFLINE_PIN:
            got = yield from _offline_pin(t, title, icc, ctx, amount)
            if got is None:
                return False
            if got == "ok":
                apdu.cvm_done(ctx, code, cond, 2)
                return ""
            if not next_if_fails:
                apdu.cvm_done(ctx, code, cond, 1)
                return ""
            continue
    apdu.cvm_done(ctx, kernel.CVM_FAIL, 0, 1)
    return ""


def _offline_pin(t, title, icc, ctx, amount):
    # -> "ok", "blocked" or "bypassed" (no PIN entered), None on CANCEL
    prompt = "\uffe5" + ui.format_amount(amount) + "\n" + t.s("chip_offline_pin")
    while True:
        pin = yield from ui.enter_digits(t, title, prompt, 4, 12, secret=True, allow_empty=True)
        if pin is None:
            return None
        if not pin:
            apdu.pin_not_entered(ctx)
            return "bypassed"
        got = kernel.verify(icc, ctx, pin)
        if got != "wrong":
            return got
        t.emit(("beep", "error"))
        yield from ui.notice(t, title, t.s("chip_pin_wrong", ctx.get("pin_tries", 0)), timeout=5)
