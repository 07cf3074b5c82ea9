# The end of a chip transaction (the last part of the terminal's EMV kernel: pos.emv.kernel
# reads the card, pos.flows.chipdone asks for the first cryptogram): the center's answer
# given to the card (issuer authentication with 91 through EXTERNAL AUTHENTICATE, issuer
# scripts 71 before and 72 after the second GENERATE AC, their results in DF31), and the
# tag sets of the reversal, the TC upload and the script advice; the journal record's chip
# fields.
from pos.emv import tlv
from pos.emv.apdu import (REVERSAL_TAGS, SCRIPT_TAGS, TC_TAGS, ChipError, build, cmd,
                          exchange, gac, pan_seq, set_tsi, set_tvr)  # fmt: skip


def record_fields(ctx, rec, contactless, no_cvm):
    # what the slip, the TC upload and the script advice need, into the journal record
    # (plain data, hex)
    rec["aid"] = ctx.get("aid", "")
    rec["app_label"] = ctx.get("label", "")
    rec["ac"] = ctx.get(0x9F26, b"").hex().upper()
    rec["ac_type"] = "ARQC" if contactless or "ac2" not in ctx else ctx["ac2"]
    rec["atc"] = ctx.get(0x9F36, b"").hex().upper()
    rec["tvr"] = ctx.get(0x95, b"").hex().upper()
    rec["tsi"] = ctx.get(0x9B, b"").hex().upper()
    rec["seq"] = pan_seq(ctx)
    rec["ic"] = "tap" if contactless else "chip"
    if no_cvm:
        rec["no_cvm"] = True
    rec["tc55"] = tc55(ctx).hex()
    if 0xDF31 in ctx:
        rec["script55"] = script55(ctx).hex()


def reversal55(ctx):
    return build(ctx, REVERSAL_TAGS)


def tc55(ctx):
    return build(ctx, TC_TAGS)


def script55(ctx):
    return build(ctx, SCRIPT_TAGS)


def reversal_subset(f55):
    # the reversal tag set out of a request's field 55 (bytes) -> bytes
    try:
        got = tlv.flatten(f55)
    except tlv.TlvError:
        return b""
    return build(got, REVERSAL_TAGS)


# --- after the center answered -------------------------------------------------------------
def unpack(trimmed):
    # pos.flows.chipdone.trim's packed ctx -> the ctx dict again (int tags -> bytes, str keys);
    # under "55" the request's field 55 (its objects are not in "tlv")
    ctx = {}
    for key in trimmed:
        if key != "tlv" and key != "55":
            ctx[key] = trimmed[key]
    for key in ("tlv", "55"):
        for tag, value in tlv.decode(trimmed.get(key, b"")):
            ctx[tag] = value
    return ctx


def complete(icc, ctx, reply55, arc, approved):
    # reply55: the answer's field 55 (bytes, may be empty), arc: its response code as 2
    # ASCII bytes (b"00"), approved: the center approved. -> "TC" or "AAC".
    # Unable to go online: arc = b"Z3", approved False.
    try:
        items = tlv.decode(reply55) if reply55 else []
    except tlv.TlvError:
        items = []
        set_tvr(ctx, 4, 0x40)
    iad = None
    scripts = []
    for tag, value in items:
        if tag == 0x91:
            iad = value
        elif tag in (0x71, 0x72):
            scripts.append((tag, value))
    ctx[0x8A] = bytes(arc)
    if iad is not None and ctx.get(0x82, b"\x00")[0] & 0x04:
        set_tsi(ctx, 0x10)
        data, sw = exchange(icc, cmd(0x00, 0x82, 0x00, 0x00, iad, le=False))
        if sw != b"\x90\x00":
            set_tvr(ctx, 4, 0x40)  # issuer authentication failed
    elif approved and ctx.get(0x82, b"\x00")[0] & 0x04:
        set_tvr(ctx, 4, 0x40)  # an approval without the issuer's authentication data
    results = bytearray()
    _run_scripts(icc, ctx, scripts, 0x71, results)
    p1 = 0x40 if approved else 0x00
    if "cdol2" not in ctx:
        raise ChipError("no CDOL2")
    got = gac(icc, ctx, p1, ctx["cdol2"], "second generate ac")
    if got == "ARQC":
        raise ChipError("an ARQC to the second generate ac")
    _run_scripts(icc, ctx, scripts, 0x72, results)
    if results:
        ctx[0xDF31] = bytes(results)
    ctx["ac2"] = got
    return got


def _run_scripts(icc, ctx, scripts, which, results):
    for tag, value in scripts:
        if tag != which:
            continue
        set_tsi(ctx, 0x04)
        try:
            inner = tlv.decode(value)
        except tlv.TlvError:
            inner = []
        sid = b"\x00\x00\x00\x00"
        n = 0
        status = 0x20  # successful
        for t2, v2 in inner:
            if t2 == 0x9F18 and len(v2) == 4:
                sid = v2
            elif t2 == 0x86:
                n += 1
                try:
                    _, sw = exchange(icc, v2)
                except ChipError:
                    sw = b"\x6f\x00"
                if sw[0] not in (0x90, 0x62, 0x63):
                    status = 0x10 | min(n, 15)  # failed at command n
                    break
        if n == 0:
            status = 0x00  # not performed
        if status & 0xF0 == 0x10:
            set_tvr(ctx, 4, 0x20 if which == 0x71 else 0x10)
        results.extend(bytes((status,)))
        results.extend(sid)
