"""The center's chip side (issue 13): the issuer's check of a chip card's ARQC, the answer's
field 55 (91 = ARPC || ARC, and an issuer script when one is configured), the test cards'
chip data, and the IC parameter downloads (CA public keys 370/371, AIDs 380/381).

Keys.  Every chip card's keys derive from an issuer master key (IMK) as EMV Book 2 says:
the card's AC master key from the IMK by PAN and PAN sequence number (option A), the
session key from the ATC; the center recomputes the ARQC over the CDOL1 data the request's
field 55 carries (the issuer knows its cards' CDOL1: pos.emv.card's), then answers with an
ARPC (method 1) over the ARQC and the response code.  The test issuer's key is
``TEST_IMK_AC`` unless a deck card's ``chip`` object names its own ``imk_ac``.

Deck.  A card of deck.json with a ``chip`` object is a chip card: the object holds what
pos.emv.card.Card needs beyond the card's own pan, expiry, pin, holder and track2 (``seq``,
``aid`` or ``apps``, ``label``, ``imk_ac``, ``offline_pin``, ``broken``, ``contactless``,
``qpboc``: false for a contactless card that runs the full flow, not qPBOC)
and, for the center, ``script``: an issuer script sent with the next approval of that card
(``pin_unblock``, ``block`` or ``unblock``; 72, run after the final GENERATE AC), and
``script71``: one of those sent as script 71, run before the final GENERATE AC (a ``block``
there makes the card refuse the approval: its AAC is reversed).  Both may be configured;
71 goes first in field 55, each with its own script identifier (9F18: 00000071 / 00000001).
``card_spec(deck_card)`` is the virtual card a front inserts for it.
"""

from __future__ import annotations

import logging

from pos.emv import card as emvcard
from pos.emv import crypto, tlv

log = logging.getLogger("posterm.host")

TEST_IMK_AC = "0123456789ABCDEFFEDCBA9876543210"
CHIP_ENTRY = ("05", "07")  # field 22's first two digits of a chip and a contactless read
SCRIPT_COMMANDS = {"block": 0x1E, "unblock": 0x18, "pin_unblock": 0x24}
_SCRIPT_ID = b"\x00\x00\x00\x01"
_SCRIPT71_ID = b"\x00\x00\x00\x71"

# CA public keys (9F06 RID, 9F22 index, DF05 expiry, DF06 hash algorithm, DF07 key
# algorithm, DF02 modulus, DF04 exponent, DF03 check sum) and AID parameters (9F06 AID,
# DF01 partial selection, 9F09 version, DF11-DF13 TAC default / denial / online, 9F1B floor
# limit, DF15 threshold, DF16 max target %, DF17 target %, DF14 default DDOL, DF18 online
# PIN, 9F7B EC limit, DF19 contactless offline floor limit, DF20 contactless limit, DF21
# CVM limit) as the center serves them.  The CA keys are the test ones (not secret).
def _test_modulus(label, size):
    # a test CA key's modulus: deterministic bytes, top bit and low bit set (the simulated
    # terminal does no offline data authentication, so the keys are stored, never used to
    # recover a certificate; real CUP CA keys are loaded the same way)
    import hashlib

    out = b""
    i = 0
    while len(out) < size:
        out += hashlib.sha256(f"{label}:{i}".encode()).digest()
        i += 1
    out = bytearray(out[:size])
    out[0] |= 0x80
    out[-1] |= 0x01
    return bytes(out).hex().upper()


CA_KEYS = (
    {"rid": "A000000333", "index": "08", "expiry": "20301231",
     "modulus": _test_modulus("posterm CUP test CA 08", 144), "exponent": "03"},
    {"rid": "A000000333", "index": "09", "expiry": "20301231",
     "modulus": _test_modulus("posterm CUP test CA 09", 176), "exponent": "03"},
)  # fmt: skip
AIDS = (
    {"aid": emvcard.DEBIT, "label": "UnionPay Debit"},
    {"aid": emvcard.CREDIT, "label": "UnionPay Credit"},
    {"aid": "A000000333010103", "label": "UnionPay Quasi"},
)
# the 双免 limit (no PIN, no signature on a tap) in fen: CUP's usual ¥1,000
NO_CVM_LIMIT_FEN = 100000


class ChipDecline(Exception):
    """The chip data does not let the issuer approve (a field 39 code)."""

    def __init__(self, code, why):
        super().__init__(why)
        self.code = code


def _deck_chips():
    from posterm.host.store import DECK

    out = {}
    for c in DECK:
        if isinstance(c.get("chip"), dict):
            out[c["pan"]] = c["chip"]
    return out


# PAN -> the deck card's chip object (tests may add one)
CHIPS = _deck_chips()


def card_spec(deck_card, chip=None):
    """The virtual chip card (pos.emv.card spec) of a deck card."""
    chip = dict(chip if chip is not None else deck_card.get("chip") or {})
    spec = {
        "pan": deck_card["pan"],
        "expiry": deck_card.get("expiry", "3012"),
        "pin": deck_card.get("pin", "123456"),
        "seq": "01",
        "imk_ac": TEST_IMK_AC,
    }
    if deck_card.get("holder"):
        spec["holder"] = deck_card["holder"]
    track2 = deck_card.get("track2")
    if track2 and "=" in track2:
        spec["track2"] = track2
        spec["service_code"] = track2.split("=")[1][4:7]
    chip.pop("script", None)
    chip.pop("script71", None)
    spec.update(chip)
    return spec


def imk_of(pan):
    return bytes.fromhex((CHIPS.get(pan) or {}).get("imk_ac", TEST_IMK_AC))


def is_chip(req):
    return str(req.get(22, ""))[0:2] in CHIP_ENTRY


def _seq(req):
    f23 = str(req.get(23, "") or "")
    return f23[-2:] if f23 else "00"


def _tags(req):
    f55 = req.get(55)
    if not f55:
        raise ChipDecline("30", "a chip read without field 55")
    try:
        return tlv.flatten(bytes(f55))
    except tlv.TlvError as e:
        raise ChipDecline("30", f"field 55: {e}") from None


def session_key(pan, seq, atc):
    mk = crypto.icc_master_key(imk_of(pan), pan, seq)
    return crypto.session_key(mk, atc)


def check_arqc(req, pan):
    """The issuer's check of the request's ARQC -> (session key, ARQC, ATC); raises
    ChipDecline (05) when the cryptogram is not the card's, (30) when 55 lacks an object."""
    tags = _tags(req)
    for tag in (0x9F26, 0x9F27, 0x9F10, 0x9F36, 0x82):
        if tag not in tags:
            raise ChipDecline("30", f"field 55 lacks {tag:X}")
    if tags[0x9F27][0] & 0xC0 != 0x80:
        raise ChipDecline("30", "field 55 carries no ARQC (9F27)")
    atc = tags[0x9F36]
    sk = session_key(pan, _seq(req), atc)
    cdol1 = tlv.build_dol_data(emvcard.CDOL1, tags)
    try:
        want = crypto.cryptogram(sk, crypto.ac_data(cdol1, tags[0x82], atc, tags[0x9F10]))
    except crypto.CryptoError as e:
        raise ChipDecline("30", f"field 55: {e}") from None
    if not crypto.same(want, tags[0x9F26]):
        raise ChipDecline("05", "ARQC does not verify")
    return sk, tags[0x9F26], atc


def answer55(chk, code, pan=None):
    """The reply's field 55: 91 = ARPC || ARC for the response code; for an approval, the
    issuer scripts the card has configured (71: run before the final GENERATE AC, 72: after
    it)."""
    sk, arqc, atc = chk
    arc = code.encode("ascii")[:2]
    items = [(0x91, crypto.arpc1(sk, arqc, arc) + arc)]
    chip = (CHIPS.get(pan) or {}) if pan and code == "00" else {}
    for tag, key, sid in ((0x71, "script71", _SCRIPT71_ID), (0x72, "script", _SCRIPT_ID)):
        script = chip.get(key)
        if script in SCRIPT_COMMANDS:
            items.append((tag, [(0x9F18, sid), (0x86, script_command(pan, atc, arqc, script))]))
    return tlv.build(items)


def script_command(pan, atc, arqc, name, seq="01"):
    """One issuer script command with its 4-byte MAC (header || ATC || ARQC || data)."""
    chip = CHIPS.get(pan) or {}
    imk = bytes.fromhex(chip.get("imk_smi") or chip.get("imk_ac") or TEST_IMK_AC)
    mk = crypto.icc_master_key(imk, pan, chip.get("seq", seq))
    sk = crypto.session_key(mk, atc)
    header = bytes((0x84, SCRIPT_COMMANDS[name], 0x00, 0x00, 0x04))
    return header + crypto.mac3(sk, header + atc + arqc)[:4]


def script_results(req):
    """DF31 of a script advice or reversal: [(script id hex, "done" | "failed" |
    "not performed")]."""
    try:
        v = tlv.flatten(bytes(req.get(55) or b"")).get(0xDF31, b"")
    except tlv.TlvError:
        return []
    out = []
    for i in range(0, len(v) - 4, 5):
        r = v[i] >> 4
        what = "done" if r == 2 else ("failed" if r == 1 else "not performed")
        out.append((v[i + 1 : i + 5].hex(), what))
    return out


# --- IC parameter downloads (0800 60.3 = 370/371 CA keys, 380/381 AIDs) -------------------
def capk_tlv(key):
    import hashlib

    rid, index = bytes.fromhex(key["rid"]), bytes.fromhex(key["index"])
    modulus, exponent = bytes.fromhex(key["modulus"]), bytes.fromhex(key["exponent"])
    return tlv.build(
        [
            (0x9F06, rid),
            (0x9F22, index),
            (0xDF05, key["expiry"].encode()),
            (0xDF06, b"\x01"),
            (0xDF07, b"\x01"),
            (0xDF02, modulus),
            (0xDF04, exponent),
            # the check sum (EMV Book 2 §11.2.2): SHA-1 of RID || index || modulus || exponent
            (0xDF03, hashlib.sha1(rid + index + modulus + exponent).digest()),
        ]
    )


def aid_tlv(aid, no_cvm_limit=None):
    if no_cvm_limit is None:
        no_cvm_limit = NO_CVM_LIMIT_FEN
    return tlv.build(
        [
            (0x9F06, bytes.fromhex(aid["aid"])),
            (0xDF01, b"\x00"),
            (0x9F09, b"\x00\x30"),
            (0xDF11, bytes.fromhex("D84000A800")),
            (0xDF12, bytes.fromhex("0010000000")),
            (0xDF13, bytes.fromhex("D84004F800")),
            (0x9F1B, bytes(4)),
            (0xDF15, bytes(4)),
            (0xDF16, b"\x00"),
            (0xDF17, b"\x00"),
            (0xDF14, bytes.fromhex("9F3704")),
            (0xDF18, b"\x01"),
            (0xDF21, bytes.fromhex("%012d" % no_cvm_limit)),
        ]
    )


# 0820 372 / 382 status query -> 62 = "1" + what the center has (9F06 RID 9F22 index DF05
# expiry per CA key; 9F06 per AID), "0" when nothing; 0800 370 / 380 with 62 naming one (9F06
# [+ 9F22]) -> 62 = "1" + that key's / AID's TLV ("0": not here); 0800 371 / 381: the end.
# 0800 394 -> 62 "1" + the contactless parameters (DF21 the 双免 no-CVM limit, DF20 the
# contactless transaction limit, DF19 the contactless offline floor limit, n12 fen); 395 end.
IC_CODES = ("370", "371", "372", "380", "381", "382", "394", "395")
CONTACTLESS_LIMIT_FEN = 99999999999


def contactless_tlv(no_cvm_limit=None):
    if no_cvm_limit is None:
        no_cvm_limit = NO_CVM_LIMIT_FEN
    return tlv.build(
        [
            (0xDF21, bytes.fromhex("%012d" % no_cvm_limit)),
            (0xDF20, bytes.fromhex("%012d" % CONTACTLESS_LIMIT_FEN)),
            (0xDF19, bytes(6)),
        ]
    )


def _key_of(f62):
    try:
        have = tlv.flatten(bytes(f62 or b""))
    except tlv.TlvError:
        return None, None
    rid = have.get(0x9F06)
    idx = have.get(0x9F22)
    return (rid.hex().upper() if rid else None), (idx.hex().upper() if idx else None)


def ic_answer(code, f62):
    """(field 39, field 62 or None) of the answer to an IC download message."""
    if code == "372":
        body = b"".join(
            tlv.build([(0x9F06, bytes.fromhex(k["rid"])), (0x9F22, bytes.fromhex(k["index"])),
                       (0xDF05, k["expiry"].encode())])
            for k in CA_KEYS
        )  # fmt: skip
        return "00", (b"1" + body) if body else b"0"
    if code == "382":
        body = b"".join(tlv.build([(0x9F06, bytes.fromhex(a["aid"]))]) for a in AIDS)
        return "00", (b"1" + body) if body else b"0"
    if code in ("371", "381", "395"):
        return "00", None
    if code == "394":
        return "00", b"1" + contactless_tlv()
    rid, idx = _key_of(f62)
    if rid is None:
        return "30", None
    if code == "370":
        for k in CA_KEYS:
            if k["rid"] == rid and k["index"] == idx:
                return "00", b"1" + capk_tlv(k)
        return "00", b"0"
    for a in AIDS:
        if a["aid"] == rid:
            return "00", b"1" + aid_tlv(a)
    return "00", b"0"


# --- the processor's hooks (posterm.host.processor) ---------------------------------------
def check(req, pan):
    """A chip request's ARQC checked -> what the answer needs (None for a stripe or a keyed
    card); raises the processor's Decline (05 the cryptogram is not the card's, 30 field 55
    is malformed)."""
    if not is_chip(req):
        return None
    from posterm.host.processor import Decline

    try:
        return check_arqc(req, pan)
    except ChipDecline as e:
        log.info("chip: %s -> %s", e, e.code)
        raise Decline(e.code) from None


def reply_fields(chip, code, pan=None):
    """{55: ...} for the answer to a chip request (91 with the code's ARC), else {}."""
    if chip is None:
        return {}
    return {55: answer55(chip, code, pan if code == "00" else None)}


def serves(mti, code):
    return (
        (mti == "0620" and code == "951")
        or (mti in ("0800", "0820") and code in IC_CODES)
        or (mti == "0320" and code in ("203", "205"))
    )


def check_tc(req, pan):
    """A TC upload's cryptogram -> "TC" (it verifies), "bad" (it does not) or "none"."""
    try:
        tags = tlv.flatten(bytes(req.get(55) or b""))
    except tlv.TlvError:
        return "none"
    if tags.get(0x9F27, b"\x00")[0] & 0xC0 != 0x40 or 0x9F26 not in tags or 0x9F36 not in tags:
        return "none"
    sk = session_key(pan, _seq(req), tags[0x9F36])
    cdol2 = tlv.build_dol_data(emvcard.CDOL2, tags)
    try:
        want = crypto.cryptogram(
            sk, crypto.ac_data(cdol2, tags.get(0x82, b""), tags[0x9F36], tags.get(0x9F10, b""))
        )
    except crypto.CryptoError:
        return "bad"
    return "TC" if crypto.same(want, tags[0x9F26]) else "bad"


def serve(proc, req, raw, now):
    """The answer to an IC download message or a script result advice."""
    term = proc._terminal(req)
    proc._bound(req, term, raw)
    code = str(req.get(60, ""))[8:11]
    if req["mti"] == "0320":
        # a TC upload: the transaction's trace is in 61 (11 is the upload's own)
        f61 = str(req.get(61, ""))
        pan = str(req.get(2, ""))
        verdict = check_tc(req, pan)
        log.info("TC upload from %s: trace %s, TC %s, scripts %s", term["tid"], f61[6:12],
                 verdict, script_results(req) or "-")  # fmt: skip
        batch = str(req.get(60, ""))[2:8]
        amount = int(req.get(4, "0") or 0)
        trace = f61[6:12] or req.get(11)
        proc.store.record_upload(term["tid"], batch, code, 0, trace, pan, amount)
        return proc.answer(req, "00", now)
    if req["mti"] == "0620":
        results = script_results(req)
        log.info("script advice from %s: %s trace %s: %s", term["tid"], req.get(2, ""),
                 req.get(11, ""), results)  # fmt: skip
        return proc.answer(req, "00", now)
    if (req["mti"] == "0820") != (code in ("372", "382")):
        from posterm.host.processor import Decline

        raise Decline("12")
    rc, f62 = ic_answer(code, req.get(62))
    return proc.answer(req, rc, now, {62: f62} if f62 is not None else None)
