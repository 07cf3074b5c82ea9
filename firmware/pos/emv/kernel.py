# The terminal's EMV / PBOC kernel, first part: the card's read, up to the cardholder's
# verification (the first cryptogram and the card's end after the center's answer are
# pos.emv.finish; what both use is pos.emv.apdu: the commands, the card's data, cvm_done).
# Sans-IO: it talks to the card through the reader port's icc.apdu() (pos.card) and to
# nobody else; the chip flow does the screens and the center. Run as an overlay for the
# read only (pos.flows.chipread): a board drops it before the first cryptogram.
# What it keeps between the steps is `ctx`, a plain dict: int tags -> bytes (the card's and
# the terminal's data objects) and a few str keys ("aid", "label", "cdol1", "cdol2" ...).
# The steps, in order:
#   candidates(icc, aids)      PSE (contact) or PPSE (contactless) directory, else the
#                              terminal's AID list one by one -> [(aid, label, priority)]
#   start(icc, aid, terminal)  SELECT the application, GET PROCESSING OPTIONS (PDOL),
#                              READ RECORD over the AFL, processing restrictions -> ctx
#   cvm_plan(ctx, no_cvm)      the card's CVM list as the terminal can do it
#   verify(icc, ctx, pin)      an offline plaintext PIN (VERIFY)
#   apdu.cvm_done              9F34 CVM results, TVR (95) and TSI (9B) bits
# then pos.emv.finish: risk(ctx), first_ac(icc, ctx) (1st GENERATE AC asking for an ARQC ->
# "ARQC" or "AAC"), field55(ctx) (the objects a CUP terminal sends in field 55), trim(ctx)
# (what the rest of the transaction needs, packed), unpack(trimmed) -> ctx and
# complete(icc, ctx, reply55, arc, approved): issuer authentication, scripts, the second
# GENERATE AC.
# A chip that answers nothing sensible (6F00, a broken template) raises ChipError: three of
# those let the cashier swipe (fallback).
from pos.emv import apdu, tlv
from pos.emv.apdu import ChipError, NoApplication, pan_seq  # noqa: F401 (the chip flow's)

# (the module's globals kept at 37 or fewer: MicroPython grows a module's table as its names are
# bound, 29 -> 37 -> 47 -> 59 slots; its 59-slot table was a 944 B block, its 47 a 752 B one,
# both wanted while a board's chip read had no such block: apdu's functions are read through
# the module, the constants used once are in the function that uses them)
# what this terminal is (CUP attended POS, online capable): 9F33 manual key entry, stripe,
# IC; plaintext offline PIN, enciphered online PIN, signature, no CVM; 9F35 22 attended
# merchant terminal; 9F09 application version 0030; China, yuan
TERMINAL = {
    0x9F33: b"\xe0\xe1\xc8",
    0x9F35: b"\x22",
    0x9F09: b"\x00\x30",
    0x9F1A: b"\x01\x56",
    0x5F2A: b"\x01\x56",
    0x9F40: b"\x60\x00\xf0\xa0\x01",
}
# CVM codes (EMV Book 3 C3), low 6 bits; 0x40 = apply the next rule if this one fails
CVM_FAIL = 0x00
CVM_OFFLINE_PIN = 0x01
CVM_ONLINE_PIN = 0x02
CVM_SIGNATURE = 0x1E
CVM_NONE = 0x1F


def candidates(icc, aids, contactless=False):
    # -> [(aid bytes, label str, priority int)] the card and the terminal both have, in
    # priority order. aids: the terminal's AIDs (bytes; partial selection allowed).
    try:
        icc.reset()
    except Exception as e:
        raise ChipError("power on: %s" % e)
    found = []
    data, sw = apdu.exchange(
        icc,
        apdu.cmd(0x00, 0xA4, 0x04, 0x00, b"2PAY.SYS.DDF01" if contactless else b"1PAY.SYS.DDF01"),
    )  # PPSE / PSE
    if sw == b"\x90\x00":
        items = apdu.parse(data, "directory")
        if contactless:
            found = _entries(items)
        else:
            sfi = None
            for tag, value, _ in items:
                if tag == 0x88 and len(value) == 1:
                    sfi = value[0]
            rec = 1
            while sfi is not None and rec < 16:
                d, s = apdu.exchange(icc, apdu.cmd(0x00, 0xB2, rec, (sfi << 3) | 4))
                if s != b"\x90\x00":
                    break
                found.extend(_entries(apdu.parse(d, "directory record")))
                rec += 1
    elif contactless:
        raise NoApplication()
    out = []
    for aid, label, prio in found:
        for want in aids:
            if aid[: len(want)] == want:
                out.append((aid, label, prio))
                break
    if not found:
        # no directory: the terminal's list, each AID selected in turn
        for want in aids:
            d, s = apdu.exchange(icc, apdu.cmd(0x00, 0xA4, 0x04, 0x00, want))
            if s == b"\x90\x00":
                fci = apdu.pick(d, "FCI", (0x84, 0x50, 0x87))
                aid = fci.get(0x84, want)
                out.append((aid, _text(fci.get(0x50, b"")), _prio(fci.get(0x87))))
    if not out:
        raise NoApplication()
    out.sort(key=lambda e: (e[2], e[0]))
    return out


def _prio(v):
    return (v[0] & 0x0F) or 15 if v else 15


def _text(b):
    out = ""
    for x in b:
        out += chr(x) if 32 <= x < 127 else "?"
    return out


def _entries(items):
    out = []
    aid = label = prio = None
    for tag, value, _ in items:
        if tag == 0x61:
            if aid is not None:
                out.append((aid, label, prio))
            aid, label, prio = None, "", 15
        elif tag == 0x4F:
            aid = value
        elif tag == 0x50:
            label = _text(value)
        elif tag == 0x87:
            prio = _prio(value)
    if aid is not None:
        out.append((aid, label, prio))
    return out


def must_choose(apps):
    # the cardholder confirms or picks when the card has more than one application, or its
    # only one asks to be confirmed (priority bit 8)
    return len(apps) > 1


# --- from SELECT to the last record -------------------------------------------------------
# what a qPBOC card's GPO answer carries beyond the AIP and the AFL: the cryptogram, its CID,
# the ATC, the issuer application data, the track 2 equivalent, the PAN sequence number,
# the card transaction qualifiers
_QPBOC_TAGS = (0x9F26, 0x9F27, 0x9F36, 0x9F10, 0x57, 0x5F34, 0x9F6C)
_GPO_TAGS = (0x80, 0x82, 0x94) + _QPBOC_TAGS  # format 1 (80), or 77's objects


def start(icc, aid, terminal):
    # SELECT, GPO, READ RECORD. terminal: {tag: bytes} the terminal's objects of this
    # transaction (9F02 amount, 9F03, 9A date, 9C type, 9F21 time, 9F37 unpredictable number,
    # 9F1E IFD serial, 9F41 sequence counter, 9F66 ...). -> ctx
    data, sw = apdu.exchange(icc, apdu.cmd(0x00, 0xA4, 0x04, 0x00, aid))
    if sw == b"\x62\x83":
        raise NoApplication("blocked")  # the issuer blocked the application
    if sw != b"\x90\x00":
        raise ChipError("select application", sw)
    fci = apdu.pick(data, "FCI", (0x84, 0x9F12, 0x50, 0x9F38))
    # ctx's table made for all it will hold now (~36 entries: the terminal's objects, the
    # card's, the steps'), while the heap has its blocks, not grown as the records come in
    # (a 464-592 B table wanted between the APDUs' garbage: where a board's read ran out)
    ctx = dict.fromkeys(range(40))  # (one table of 40: MicroPython sizes it by the length)
    for i in range(40):
        del ctx[i]  # emptied: the table stays
    for tag in terminal:
        ctx[tag] = terminal[tag]
    for tag in TERMINAL:
        ctx[tag] = TERMINAL[tag]
    ctx[0x84] = fci.get(0x84, aid)
    ctx["aid"] = ctx[0x84].hex().upper()
    ctx["label"] = _text(fci.get(0x9F12) or fci.get(0x50) or b"")
    ctx[0x95] = bytes(5)
    ctx[0x9B] = bytes(2)
    apdu.set_tvr(ctx, 0, 0x80)  # offline data authentication not performed (online only)
    pdol = fci.get(0x9F38, b"")
    gpo = tlv.encode(0x83, tlv.build_dol_data(pdol, ctx) if pdol else b"")
    data = apdu.ok(icc, apdu.cmd(0x80, 0xA8, 0x00, 0x00, gpo), "get processing options")
    got = apdu.pick(data, "GPO", _GPO_TAGS)
    if 0x80 in got:  # format 1: AIP (2) then the AFL
        v = got[0x80]
        if len(v) < 2:
            raise ChipError("GPO format 1 too short")
        ctx[0x82], afl = v[:2], v[2:]
    else:
        if 0x82 not in got or 0x94 not in got:
            raise ChipError("GPO without AIP or AFL")
        ctx[0x82], afl = got[0x82], got[0x94]
        if 0x9F26 in got and 0x9F66 in ctx:
            # qPBOC: the card answered a contactless GPO with its cryptogram (no GENERATE
            # AC follows); the TVR it covers is the one field 55 carries
            for tag in _QPBOC_TAGS:
                if tag in got:
                    ctx[tag] = got[tag]
            if 0x9F27 not in ctx or 0x9F36 not in ctx:
                raise ChipError("qPBOC GPO without CID or ATC")
            ctx["qpboc"] = ctx[0x95]
    # the SELECT's and the GPO's answers (and their dicts) let go before the records are
    # read: the card's answers come in through the link's buffers then, where a board's
    # read ran out (board sim, ESP32, ROMFS: a 137 B block in boards.cardlink at 96 KB)
    fci = got = data = gpo = v = None
    if len(afl) % 4:
        raise ChipError("AFL length")
    for i in range(0, len(afl), 4):
        sfi = afl[i] >> 3
        for rec in range(afl[i + 1], afl[i + 2] + 1):
            d = apdu.ok(icc, apdu.cmd(0x00, 0xB2, rec, (sfi << 3) | 4), "read record")
            # what the terminal keeps of the card's records (the rest is read and let go: a
            # board's heap): track 2 equivalent, PAN, expiry, effective date, PAN sequence,
            # service code, CDOL1, CDOL2, CVM list; the first of each, as read
            apdu.pick(
                d, "record", (0x57, 0x5A, 0x5F24, 0x5F25, 0x5F34, 0x5F30, 0x8C, 0x8D, 0x8E), ctx
            )
            d = None
    for tag in (0x5A, 0x57) if "qpboc" in ctx else (0x5A, 0x8C, 0x57):
        if tag not in ctx:
            raise ChipError("mandatory object %X missing" % tag)
    if 0x8C in ctx:
        ctx["cdol1"] = ctx.pop(0x8C).hex()
    if 0x8D in ctx:
        ctx["cdol2"] = ctx.pop(0x8D).hex()
    _restrictions(ctx)
    return ctx


def _restrictions(ctx):
    # processing restrictions (Book 3 10.4): dates against the transaction date 9A
    today = ctx.get(0x9A, b"")
    if 0x5F24 in ctx and today and ctx[0x5F24] < today:
        apdu.set_tvr(ctx, 1, 0x40)  # expired application
    if 0x5F25 in ctx and today and ctx[0x5F25] > today:
        apdu.set_tvr(ctx, 1, 0x20)  # application not yet effective
    apdu.set_tvr(ctx, 0, 0x80)  # offline data authentication was not performed (online only)


# --- cardholder verification --------------------------------------------------------------
def cvm_plan(ctx, no_cvm=False):
    # -> [(method, next_if_fails, cond)] of the card's CVM list (8E) that apply here, in the
    # card's order; no_cvm (a tap below the no-PIN limit) -> no CVM. A card without a list
    # gets online PIN (what CUP terminals do).
    if no_cvm:
        return [(CVM_NONE, False, 0)]
    if "qpboc" in ctx:
        # the card has left the field (no offline PIN): its CTQ says online PIN (byte 1 bit
        # 8) or a signature (bit 7); online PIN when it says neither
        ctq = ctx.get(0x9F6C) or b"\x80"
        sig = not ctq[0] & 0x80 and ctq[0] & 0x40
        return [(CVM_SIGNATURE if sig else CVM_ONLINE_PIN, False, 0)]
    lst = ctx.get(0x8E, b"")
    amount = int(ctx.get(0x9F02, b"\x00").hex() or "0")
    x = int.from_bytes(lst[0:4], "big") if len(lst) >= 8 else 0
    y = int.from_bytes(lst[4:8], "big") if len(lst) >= 8 else 0
    out = []
    for i in range(8, len(lst) - 1, 2):
        code, cond = lst[i], lst[i + 1]
        method = code & 0x3F
        if not _applies(cond, method, amount, x, y):
            continue
        out.append((method, bool(code & 0x40), cond))
    if not out and not lst:
        out.append((CVM_ONLINE_PIN, False, 0))
    return out


def _applies(cond, method, amount, x, y):
    if cond in (0x00, 0x02):  # always; if not unattended cash, manual cash or cashback
        return True
    if cond == 0x03:  # if the terminal supports the CVM
        return method in (CVM_OFFLINE_PIN, CVM_ONLINE_PIN, CVM_SIGNATURE, CVM_NONE)
    if cond == 0x06:  # in the application currency and under X
        return amount < x
    if cond == 0x07:
        return amount > x
    if cond == 0x08:
        return amount < y
    if cond == 0x09:
        return amount > y
    return False  # unattended cash (01), manual cash (04), cashback (05)


def verify(icc, ctx, pin):
    # VERIFY a plaintext offline PIN -> "ok", "wrong" (tries left in ctx["pin_tries"]),
    # "blocked"
    block = bytearray(b"\xff" * 8)
    digits = "2" + "%X" % len(pin) + pin + "F" * (14 - len(pin))
    block[:] = bytes.fromhex(digits)
    _, sw = apdu.exchange(icc, apdu.cmd(0x00, 0x20, 0x00, 0x80, bytes(block), le=False))
    if sw == b"\x90\x00":
        return "ok"
    if sw[0] == 0x63 and sw[1] & 0xF0 == 0xC0:
        ctx["pin_tries"] = sw[1] & 0x0F
        if sw[1] & 0x0F == 0:
            apdu.set_tvr(ctx, 2, 0x20)  # PIN try limit exceeded
            return "blocked"
        return "wrong"
    if sw in (b"\x69\x83", b"\x69\x84"):
        apdu.set_tvr(ctx, 2, 0x20)
        return "blocked"
    raise ChipError("verify", sw)
