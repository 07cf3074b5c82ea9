# What the two parts of the terminal's EMV kernel share (pos.emv.kernel reads the card up to
# the cardholder's verification, pos.emv.finish runs the first cryptogram and ends the
# transaction after the center's answer): the commands and their status words, TVR / TSI
# bits, GENERATE AC, the card's data read out of ctx, the CVM results, the tag sets of the
# messages after the request. Split so that a board loads only the part it runs.
from pos.emv import tlv

REVERSAL_TAGS = (0x95, 0x9F1E, 0x9F10, 0x9F36, 0xDF31)
TC_TAGS = (0x9F26, 0x9F27, 0x9F10, 0x9F37, 0x9F36, 0x95, 0x9A, 0x9C, 0x9F02, 0x5F2A, 0x82,
           0x9F1A, 0x9F03, 0x9F33, 0x9F34, 0x9F35, 0x9F1E, 0x84, 0x9F09, 0x9F41, 0x8A, 0x9B,
           0xDF31)  # DF31: the issuer scripts' results, when the card ran any
SCRIPT_TAGS = (0x9F26, 0x9F36, 0x95, 0x9F10, 0x9F37, 0x82, 0x9F1A, 0x9A, 0xDF31)


def icc_of(ev):
    # The card an insert or a tap event presents (pos.card's reader port), as an object
    # answering APDUs; a dict is built into a virtual card (pos.emv.card). -> None when
    # there is none or the spec is not a card (the chip is then unreadable, as a dead chip
    # is). (Here, not in pos.card: a chip's stages do not load pos.card, 2 KB of a board's
    # heap, but to check the expiry and to build the card for the request.)
    if not ev or ev[0] not in ("chip", "tap") or len(ev) < 2:  # pos.card's insert, tap
        return None
    icc = ev[1]
    if isinstance(icc, dict):
        try:
            from pos.emv import card as emvcard
        except ImportError:  # a board: its cards answer in their reader (boards.cardlink)
            return None
        try:
            return emvcard.Card(icc)
        except emvcard.CardSpecError:
            return None
    if hasattr(icc, "apdu"):
        return icc
    return None


class ChipError(Exception):
    # the card did not answer as a card does (what and the status word, when there is one)
    def __init__(self, what, sw=None):
        super().__init__(what + ((" (SW %s)" % sw.hex()) if sw else ""))
        self.sw = sw


class NoApplication(Exception):
    # the card answered but holds no application this terminal takes
    pass


def cmd(cla, ins, p1, p2, data=None, le=True):
    out = bytearray((cla, ins, p1, p2))
    if data is not None:
        out.append(len(data))
        out.extend(data)
    if le:
        out.append(0)
    return bytes(out)


def exchange(icc, apdu):
    # -> (data, sw) of one command; a reader that fails or a reply without a status word
    # is a chip error
    try:
        r = icc.apdu(apdu)
    except MemoryError:
        raise  # the terminal's heap, not the chip: 内存不足, never a chip that failed
    except Exception as e:  # a real reader's I/O error: the chip read failed
        raise ChipError("reader: %s" % e)
    if not isinstance(r, (bytes, bytearray)) or len(r) < 2:
        raise ChipError("no status word")
    sw = bytes(r[-2:])
    if sw == b"\x6f\x00":
        raise ChipError("chip fault", sw)
    return bytes(r[:-2]), sw


def ok(icc, apdu, what):
    data, sw = exchange(icc, apdu)
    if sw != b"\x90\x00":
        raise ChipError(what, sw)
    return data


def parse(data, what):
    try:
        return tlv.walk(data)
    except tlv.TlvError as e:
        raise ChipError("%s: %s" % (what, e))


def pick(data, what, tags, out=None):
    # tlv.pick, a broken template being a chip error
    try:
        return tlv.pick(data, tags, out)
    except tlv.TlvError as e:
        raise ChipError("%s: %s" % (what, e))


# --- application selection --------------------------------------------------------------
def set_tvr(ctx, byte, bit):
    v = bytearray(ctx.get(0x95) or bytes(5))
    v[byte] |= bit
    ctx[0x95] = bytes(v)


def set_tsi(ctx, bit):
    v = bytearray(ctx.get(0x9B) or bytes(2))
    v[0] |= bit
    ctx[0x9B] = bytes(v)


def pan_seq(ctx):
    v = ctx.get(0x5F34)
    return "%02d" % (int(v.hex()) % 100) if v else ""


def gac(icc, ctx, p1, dol_hex, what):
    data = tlv.build_dol_data(bytes.fromhex(dol_hex), ctx)
    raw = ok(icc, cmd(0x80, 0xAE, p1, 0x00, data), what)
    items = parse(raw, what)
    if items and items[0][0] == 0x80:  # format 1: CID, ATC, AC, IAD
        v = items[0][1]
        if len(v) < 11:
            raise ChipError(what + ": format 1 too short")
        got = {0x9F27: v[0:1], 0x9F36: v[1:3], 0x9F26: v[3:11]}
        if len(v) > 11:
            got[0x9F10] = v[11:]
    else:
        got = tlv.flatten(raw)
    for tag in (0x9F27, 0x9F36, 0x9F26):
        if tag not in got:
            raise ChipError(what + ": %X missing" % tag)
    for tag in got:
        ctx[tag] = got[tag]
    set_tsi(ctx, 0x20)  # card risk management was performed
    cid = got[0x9F27][0] & 0xC0
    return "TC" if cid == 0x40 else ("ARQC" if cid == 0x80 else "AAC")


def build(ctx, tags):
    items = []
    for tag in tags:
        v = ctx.get(tag)
        if v is not None:
            items.append((tag, v))
    return tlv.build(items)


# --- the card's data and the cardholder's verification (both parts: the read, the first
# cryptogram after the online PIN) ---------------------------------------------------------
def pan(ctx):
    return ctx[0x5A].hex().upper().rstrip("F")


def track2(ctx):
    # the track 2 equivalent (57) as a swipe reads it: digits, "=" the separator
    t = ctx.get(0x57, b"").hex().upper().rstrip("F")
    return t.replace("D", "=")


def expiry(ctx):
    v = ctx.get(0x5F24)
    if v:
        return v.hex()[0:4]
    t = track2(ctx)
    return t.split("=")[1][0:4] if "=" in t else ""


def cvm_done(ctx, code, cond, result):
    # code: the CVM rule's code byte as the card's list has it (0x40 = apply the next rule
    # if this one fails); result: 0 unknown (online PIN, signature), 1 failed, 2 successful
    ctx[0x9F34] = bytes((code, cond, result))
    method = code & 0x3F
    set_tsi(ctx, 0x40)
    if result == 1:
        set_tvr(ctx, 2, 0x80)  # cardholder verification was not successful
    if method == 0x02 and result != 1:  # (pos.emv.kernel.CVM_ONLINE_PIN)
        set_tvr(ctx, 2, 0x04)  # online PIN entered


def pin_not_entered(ctx):
    set_tvr(ctx, 2, 0x08)  # PIN pad present but the PIN was not entered
