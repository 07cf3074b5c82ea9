# The first cryptogram of a chip purchase (pos.flows.chip), an overlay of its own after the
# card's read (pos.flows.chipread) and the online PIN when the card asked for it: terminal
# risk management, the first GENERATE AC, field 55 and the kernel's data kept through the
# exchange, packed (the EMV kernel's middle part, loaded alone: neither the read's code,
# pos.emv.kernel, nor the card's end after the answer, pos.emv.finish, is in the heap with
# it). Plain functions: no screen, no wait.
from pos.emv import apdu, tlv
from pos.emv.apdu import SCRIPT_TAGS, TC_TAGS, ChipError, set_tsi, set_tvr


def run(t, ev, got, pin):
    # The first GENERATE AC. got: the read's (why, ctx, rule code, condition, no_cvm)
    # (pos.flows.chipread.read); pin: the online PIN entered, "" bypassed or not asked.
    # -> "failed" (the chip failed: the caller counts it), the string key of why the card
    # cannot pay (declined offline), or (card, pin, ctx): the card's PAN, expiry, track 2
    # equivalent, PAN sequence number and field 55 (pos.card.chip_card's, but the entry),
    # the online PIN, the kernel's data (small: what the rest needs, packed)
    ctx, code, cond, no_cvm = got[1], got[2], got[3], got[4]
    contactless = ev[0] == "tap"
    if code is not None and not (t.card_in or contactless):
        return "failed"  # a card pulled out at the PIN prompt makes no ARQC: read again
    icc = apdu.icc_of(ev)
    if icc is None:
        return "failed"
    if code is not None:  # the online PIN's rule
        if pin:
            apdu.cvm_done(ctx, code, cond, 0)
        else:
            apdu.pin_not_entered(ctx)
            apdu.cvm_done(ctx, code, cond, 1)
    try:
        risk(ctx, 0)
        ac = first_ac(icc, ctx)
    except ChipError as e:
        t.emit(("log", "warn", "chip failed: %s" % e))
        return "failed"
    if ac == "AAC":
        t.emit(("beep", "error"))
        return "chip_declined_offline"
    # the card's parts (pos.card.chip_card's but the entry: the request's scope builds it)
    card = (apdu.pan(ctx), apdu.expiry(ctx), apdu.track2(ctx), apdu.pan_seq(ctx), field55(ctx))
    if no_cvm:
        ctx["no_cvm"] = True
    suspend = getattr(icc, "suspend", None)
    if suspend is not None and not contactless:
        suspend()  # a virtual card keeps its transaction in its spec while it is dropped
    icc = None
    return (card, pin, trim(ctx))


# --- the kernel's middle part ------------------------------------------------------------
# field 55 of an online request (reference §12), in the order CUP terminals send it
F55_TAGS = (0x9F26, 0x9F27, 0x9F10, 0x9F37, 0x9F36, 0x95, 0x9A, 0x9C, 0x9F02, 0x5F2A, 0x82,
            0x9F1A, 0x9F03, 0x9F33, 0x9F34, 0x9F35, 0x9F1E, 0x84, 0x9F09, 0x9F41, 0x9F63,
            0x9F66)  # 9F66: a tap's TTQ  # fmt: skip


def risk(ctx, floor_limit=0):
    # floor limit in fen: a CUP online-only terminal has 0, so every purchase goes online
    if int(ctx.get(0x9F02, b"\x00").hex() or "0") >= floor_limit:
        set_tvr(ctx, 3, 0x80)  # transaction exceeds the floor limit
    set_tsi(ctx, 0x08)  # terminal risk management was performed


def first_ac(icc, ctx):
    # the terminal asks for an ARQC (it goes online): -> "ARQC" or "AAC" (the card declines
    # offline); a TC the card gives back to an ARQC request is not allowed (Book 3 9.3). A
    # qPBOC card gave it in its GPO answer: that one, with the TVR it covers
    if "qpboc" in ctx:
        ctx[0x95] = ctx.pop("qpboc")
        cid = ctx[0x9F27][0] & 0xC0
        got = "TC" if cid == 0x40 else ("ARQC" if cid == 0x80 else "AAC")
        set_tsi(ctx, 0x20)
    else:
        got = apdu.gac(icc, ctx, 0x80, ctx["cdol1"], "first generate ac")
    if got == "TC":
        raise ChipError("a TC to an ARQC request")
    ctx["ac1"] = got
    return got


def trim(ctx):
    # -> what the rest of the transaction needs of ctx (not the records' data), packed: it
    # waits in the heap while the center answers. Its str keys as they are, the data objects
    # as one TLV string under "tlv" (pos.emv.finish.unpack makes the dict again): ~25 small
    # bytes objects and their dict were ~2 KB of x64 heap through the exchange, ~0.2 KB so.
    # Field 55's objects are not in it: the request carries them (field55, the same bytes),
    # and pos.flows.chip gives them back for the card's end (under "55")
    items = []
    out = {}
    for key in ctx:
        if key in F55_TAGS:
            continue
        if (key in ("aid", "label", "cdol2", "ac1", "no_cvm", 0x5F34, 0x9B, 0x8A)
                or key in TC_TAGS or key in SCRIPT_TAGS):  # fmt: skip
            if type(key) is str:
                out[key] = ctx[key]
            else:
                items.append((key, ctx[key]))
    out["tlv"] = tlv.build(items)
    return out


def field55(ctx):
    return apdu.build(ctx, F55_TAGS)
