# A virtual PBOC 3.0 / EMV contact chip card at the APDU level: what a terminal's card
# reader talks to once a card is inserted. Built from a plain dict (the deck can hold it:
# the card keeps its counters, "atc" and "pin_tries", in that dict):
#   pan, seq ("01"), expiry (YYMM), holder, label, aid (hex), imk_ac (issuer master key
#   for cryptograms, 32 hex), pin, pin_tries (3), pin_limit (3), atc (0), offline_pin
#   (the CVM list asks for a plaintext offline PIN first), service_code ("220"), track2
#   ("PAN=YYMM..." as the deck writes it; built from the rest when absent), apps (a list of
#   {aid, label, priority} for a card with more than one application), broken (the chip
#   answers 6F00 to everything: the terminal falls back to the swipe), decline_offline
#   (its card risk management declines: every GENERATE AC gives an AAC), blocked (set by
#   an APPLICATION BLOCK script), qpboc (default true: through the PPSE the card answers a
#   qPBOC terminal's GPO with its ARQC; false: the full flow there too, as over contact),
#   ctq (its qPBOC card transaction qualifiers, 4 hex: "8000" online PIN above the no-CVM
#   limit, "4000" a signature).
# Commands: SELECT by name (PSE 1PAY.SYS.DDF01, PPSE 2PAY.SYS.DDF01, an AID or a prefix
# of one, P2 00 first / 02 next), READ RECORD, GET PROCESSING OPTIONS, GET DATA (9F36 ATC,
# 9F17 PIN try counter, 9F13 last online ATC), VERIFY (plaintext PIN), GENERATE AC (first:
# CDOL1 data, ATC incremented; second: CDOL2 data), EXTERNAL AUTHENTICATE (the ARPC),
# and the issuer script commands (CLA 84, secure messaging: the last 4 bytes are a MAC,
# ISO 9797-1 alg. 3 under the script session key over header || ATC || ARQC || data; the
# key: imk_smi, default imk_ac, derived as the AC key is): APPLICATION BLOCK (1E: SELECT
# then answers 6283 and GENERATE AC gives AAC), APPLICATION UNBLOCK (18), PIN UNBLOCK
# (24, P2 00: the PIN try counter back to its limit). They are accepted only after an
# ARQC in this transaction; the state goes to the spec dict (blocked, pin_tries).
# Anything else is a status word: 6D00 unknown INS, 6E00 wrong class, 6985 out of order.
from pos.emv import crypto, tlv

PSE = b"1PAY.SYS.DDF01"
PPSE = b"2PAY.SYS.DDF01"
DEBIT = "A000000333010101"
CREDIT = "A000000333010102"
ATR = bytes.fromhex("3B6500002063CB6800")

OK = b"\x90\x00"
SW_WRONG_LENGTH = b"\x67\x00"
SW_OUT_OF_ORDER = b"\x69\x85"  # conditions of use not satisfied
SW_PIN_BLOCKED = b"\x69\x83"
SW_BAD_DATA = b"\x6a\x80"
SW_NOT_SUPPORTED = b"\x6a\x81"
SW_NOT_FOUND = b"\x6a\x82"
SW_NO_RECORD = b"\x6a\x83"
SW_BAD_P1P2 = b"\x6a\x86"
SW_NO_DATA = b"\x6a\x88"
SW_UNKNOWN_INS = b"\x6d\x00"
SW_WRONG_CLASS = b"\x6e\x00"
SW_CHIP_FAULT = b"\x6f\x00"
SW_AUTH_FAILED = b"\x63\x00"

# cryptogram information data (9F27) by the type GENERATE AC's P1 asks for
AAC = 0x00
TC = 0x40
ARQC = 0x80

AIP = b"\x1c\x00"  # cardholder verification, terminal risk management, issuer authentication
AFL = bytes.fromhex("08010100" "10010200")  # SFI 1 record 1; SFI 2 records 1-2
PDOL = bytes.fromhex("9F7A01" "9F0206" "5F2A02")
# qPBOC (QuickPass, PBOC 3.0 part 12): selected through the PPSE, the card asks for the
# terminal's TTQ and the transaction data in its PDOL; a terminal whose TTQ says qPBOC
# (byte 1 bit 6) gets the online cryptogram in the GPO's answer, over the same data a
# contact card's first GENERATE AC covers (CDOL1's objects), and no GENERATE AC follows
QPDOL = bytes.fromhex("9F6604" "9F0206" "9F0306" "9F1A02" "9505" "5F2A02" "9A03" "9C01"
                      "9F3704")  # fmt: skip
QAFL = bytes.fromhex("10010100")  # SFI 2 record 1: PAN, expiry, sequence number
CTQ = b"\x80\x00"  # card transaction qualifiers: online PIN above the no-CVM limit
CDOL1 = bytes.fromhex("9F0206" "9F0306" "9F1A02" "9505" "5F2A02" "9A03" "9C01" "9F3704")
CDOL2 = bytes.fromhex("8A02" "9F0206" "9F0306" "9F1A02" "9505" "5F2A02" "9A03" "9C01" "9F3704")
_DKI = 0x01  # derivation key index
_CVN = 0x01  # cryptogram version: the CUP one (ac_data in pos.emv.crypto)


class CardSpecError(ValueError):
    # a card dict the card cannot be built from; names the key
    def __init__(self, key, msg):
        super().__init__("card %s: %s" % (key, msg))
        self.key = key


def _bcd(digits, pad_f=True):
    if len(digits) & 1:
        digits = digits + ("F" if pad_f else "0")
    return bytes.fromhex(digits)


def _last_day(yymm):
    y = 2000 + int(yymm[0:2])
    m = int(yymm[2:4])
    if m == 2:
        return 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def _digits(spec, key, lo, hi, default=None):
    v = spec.get(key, default)
    if isinstance(v, int) and not isinstance(v, bool):
        v = "%02d" % v
    if not isinstance(v, str) or not v.isdigit() or not (lo <= len(v) <= hi):
        raise CardSpecError(key, "must be %d to %d digits" % (lo, hi))
    return v


def _ascii(spec, key, default, hi):
    v = spec.get(key, default)
    if not isinstance(v, str) or len(v) > hi:
        raise CardSpecError(key, "must be text of at most %d characters" % hi)
    for ch in v:
        if not " " <= ch <= "~":
            raise CardSpecError(key, "must be printable ASCII (the chip holds it as 'ans')")
    return v.encode()


def _hex(value, key, lo, hi):
    try:
        b = bytes.fromhex(value)
    except (ValueError, TypeError):
        raise CardSpecError(key, "must be hex")
    if not (lo <= len(b) <= hi):
        raise CardSpecError(key, "must be %d to %d bytes" % (lo, hi))
    return b


class Card:
    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise CardSpecError("spec", "must be a dict")
        self.spec = spec
        self.broken = bool(spec.get("broken", False))
        self.pan = _digits(spec, "pan", 12, 19)
        self.seq = _digits(spec, "seq", 2, 2, "00")
        self.expiry = _digits(spec, "expiry", 4, 4)
        if not 1 <= int(self.expiry[2:]) <= 12:
            raise CardSpecError("expiry", "month must be 01 to 12")
        self.pin = _digits(spec, "pin", 4, 12)
        self.imk = _hex(spec.get("imk_ac"), "imk_ac", 16, 16)
        self.holder = _ascii(spec, "holder", "", 26)
        label = spec.get("label", "UnionPay")
        self.service_code = _digits(spec, "service_code", 3, 3, "220")
        for key in ("atc", "pin_tries", "pin_limit"):
            v = spec.get(key, 0 if key == "atc" else 3)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise CardSpecError(key, "must be a whole number")
        if not 0 <= spec.get("atc", 0) <= 0xFFFF:
            raise CardSpecError("atc", "must be 0 to 65535")
        if not 1 <= spec.get("pin_limit", 3) <= 15:
            raise CardSpecError("pin_limit", "must be 1 to 15")
        apps = spec.get("apps") or [{"aid": spec.get("aid", DEBIT), "label": label}]
        self.apps = []
        for i in range(len(apps)):
            a = apps[i]
            if not isinstance(a, dict):
                raise CardSpecError("apps", "each application must be a dict")
            aid = _hex(a.get("aid"), "aid", 5, 16)
            prio = a.get("priority", i + 1)
            if not isinstance(prio, int) or not 1 <= prio <= 15:
                raise CardSpecError("priority", "must be 1 to 15")
            self.apps.append((aid, _ascii(a, "label", label, 16), prio))
        track2 = spec.get("track2") or (
            self.pan + "=" + self.expiry + self.service_code + "0000000000"
        )
        t2 = track2.replace("=", "D")
        try:
            self.track2 = _bcd(t2)
        except ValueError:
            raise CardSpecError("track2", "must be digits with one '='")
        self.ctq = _hex(spec.get("ctq", CTQ.hex()), "ctq", 2, 2)
        keys = spec.pop("_keys", None)  # its own keys, kept by suspend() (no 3DES again)
        if keys and "_txn" in spec:
            self.mk = bytes.fromhex(keys[0])
            self.mk_smi = bytes.fromhex(keys[1])
        else:
            self.mk = crypto.icc_master_key(self.imk, self.pan, self.seq)
            smi = spec.get("imk_smi")
            smi = _hex(smi, "imk_smi", 16, 16) if smi else self.imk
            self.mk_smi = crypto.icc_master_key(smi, self.pan, self.seq)
        self.reset()
        txn = spec.pop("_txn", None)
        if txn:
            self._resume(txn)

    # --- the counters, kept in the spec dict -------------------------------------------
    def atc(self):
        return self.spec.get("atc", 0)

    def pin_tries(self):
        return self.spec.get("pin_tries", 3)

    def reset(self):
        # power on (insertion): the answer to reset; selection and transaction forgotten
        self._dir = None  # PSE or PPSE when a directory is selected
        self._cl = False  # the card is in the contactless field (the terminal read the PPSE)
        self._app = None  # index into self.apps of the selected application
        self._gpo = False
        self._gac = 0  # GENERATE ACs done in this transaction
        self._sk = None  # session key of the transaction (set by the first GENERATE AC)
        self._arqc = None
        self._script_arqc = None  # the ARQC the issuer's script MACs refer to
        # CVR after its length byte (as CUP/VIS cards): byte 1 bits 8-7 second AC (00 AAC,
        # 01 TC, 10 not asked), 6-5 first AC (00 AAC, 01 TC, 10 ARQC), 4 issuer
        # authentication failed, 3 offline PIN performed, 2 offline PIN failed; byte 2
        # bit 6 PIN try limit exceeded
        self._cvr = bytearray(3)
        self._ext_auth = None  # None not tried, True passed, False failed
        return ATR

    def suspend(self):
        # The transaction in progress into the spec dict (plain data), so that the terminal
        # can drop this object, and this module, while it talks to the center; Card(spec)
        # takes it back (a real card in the reader keeps its RAM the same way).
        def h(b):
            return b.hex() if b is not None else None

        self.spec["_keys"] = [self.mk.hex(), self.mk_smi.hex()]
        self.spec["_txn"] = [self._app, self._gpo, self._gac, h(self._sk), h(self._arqc),
                             h(self._script_arqc), bytes(self._cvr).hex(), self._ext_auth,
                             h(self._dir)]  # fmt: skip

    def _resume(self, txn):
        def b(v):
            return bytes.fromhex(v) if v is not None else None

        self._app, self._gpo, self._gac = txn[0], txn[1], txn[2]
        self._sk, self._arqc, self._script_arqc = b(txn[3]), b(txn[4]), b(txn[5])
        self._cvr = bytearray(bytes.fromhex(txn[6]))
        self._ext_auth = txn[7]
        self._dir = b(txn[8])

    # --- the data -----------------------------------------------------------------------
    def _directory_entries(self):
        out = []
        for aid, label, prio in self.apps:
            out.append((0x61, [(0x4F, aid), (0x50, label), (0x87, bytes((prio,)))]))
        return out

    def _records(self):
        # {(sfi, record): bytes} of the selected application
        y = self.expiry
        exp = bytes.fromhex(y + "%02d" % _last_day(y))
        cvm = bytearray(8)  # amounts X and Y zero
        if self.spec.get("offline_pin"):
            cvm.extend(b"\x41\x03")  # plaintext offline PIN if supported, else next rule
        cvm.extend(b"\x42\x03\x1e\x03\x1f\x03")  # online PIN, signature, no CVM
        r1 = [(0x57, self.track2)]
        if self.holder:
            r1.append((0x5F20, self.holder))
        r2 = [
            (0x5A, _bcd(self.pan)),
            (0x5F34, bytes.fromhex(self.seq)),
            (0x5F24, exp),
            (0x5F25, b"\x20\x01\x01"),
            (0x5F28, b"\x01\x56"),
            (0x9F07, b"\xff\x00"),
            (0x8C, CDOL1),
            (0x8D, CDOL2),
            (0x8E, bytes(cvm)),
            (0x9F0D, bytes.fromhex("D84000A800")),
            (0x9F0E, bytes(5)),
            (0x9F0F, bytes.fromhex("D84004F800")),
        ]
        r3 = [
            (0x9F08, b"\x00\x30"),
            (0x9F42, b"\x01\x56"),
            (0x9F44, b"\x02"),
            (0x5F30, bytes.fromhex("0" + self.service_code)),
            (0x9F4A, b"\x82"),
        ]
        return {(1, 1): r1, (2, 1): r2, (2, 2): r3}

    def _iad(self):
        return bytes((0x07, _DKI, _CVN, 0x03)) + bytes(self._cvr)

    # --- APDUs ------------------------------------------------------------------------------
    def apdu(self, cmd):
        # One command APDU (bytes) -> the response: data then SW1 SW2.
        if self.broken:
            return SW_CHIP_FAULT
        if not isinstance(cmd, (bytes, bytearray)) or len(cmd) < 4:
            return SW_WRONG_LENGTH
        cla, ins, p1, p2 = cmd[0], cmd[1], cmd[2], cmd[3]
        data = b""
        if len(cmd) > 5:
            lc = cmd[4]
            if lc == 0 or len(cmd) not in (5 + lc, 6 + lc):
                return SW_WRONG_LENGTH
            data = bytes(cmd[5 : 5 + lc])
        handler = _COMMANDS.get(ins)
        if handler is None:
            return SW_UNKNOWN_INS
        if cla != handler[0]:
            return SW_WRONG_CLASS
        return handler[1](self, p1, p2, data)

    def _select(self, p1, p2, name):
        if p1 != 0x04:
            return SW_NOT_SUPPORTED  # only selection by DF name
        if p2 not in (0x00, 0x02) or not name:
            return SW_BAD_P1P2 if name else SW_WRONG_LENGTH
        prev = self._app
        cl = self._cl or name == PPSE
        self.reset()
        self._cl = cl  # the contactless interface (the PPSE was selected) until power off
        if name in (PSE, PPSE):
            self._dir = name
            if name == PSE:
                prop = [(0x88, b"\x01"), (0x5F2D, b"zhen")]
            else:
                prop = [(0xBF0C, self._directory_entries())]
            return tlv.build([(0x6F, [(0x84, name), (0xA5, prop)])]) + OK
        start = 0
        if p2 == 0x02 and prev is not None:
            start = prev + 1
        for i in range(start, len(self.apps)):
            aid, label, prio = self.apps[i]
            if aid[: len(name)] == name:
                self._app = i
                if self.spec.get("blocked"):
                    self._app = None
                    return tlv.build([(0x6F, [(0x84, aid)])]) + b"\x62\x83"
                prop = [
                    (0x50, label),
                    (0x87, bytes((prio,))),
                    (0x9F38, self._pdol()),
                    (0x5F2D, b"zhen"),
                    (0x9F11, b"\x01"),
                ]
                return tlv.build([(0x6F, [(0x84, aid), (0xA5, prop)])]) + OK
        return SW_NOT_FOUND

    def _pdol(self):
        return QPDOL if self._cl and self.spec.get("qpboc", True) else PDOL

    def _read_record(self, p1, p2, data):
        if p2 & 7 != 4 or p1 == 0:
            return SW_BAD_P1P2
        key = (p2 >> 3, p1)
        if self._dir == PPSE:
            return SW_NOT_FOUND  # the PPSE's directory is in its FCI, it has no records
        if self._dir == PSE:
            recs = {(1, 1): self._directory_entries()}
        elif self._app is not None:
            recs = self._records()
        else:
            return SW_OUT_OF_ORDER
        body = recs.get(key)
        if body is None:
            return SW_NO_RECORD
        return tlv.build([(0x70, body)]) + OK

    def _gpo_cmd(self, p1, p2, data):
        if p1 or p2:
            return SW_BAD_P1P2
        if self._app is None or self._gpo:
            return SW_OUT_OF_ORDER
        try:
            items = tlv.decode(data)
        except tlv.TlvError:
            return SW_BAD_DATA
        if len(items) != 1 or items[0][0] != 0x83:
            return SW_BAD_DATA
        pdol = self._pdol()
        if len(items[0][1]) != tlv.dol_length(pdol):
            return SW_WRONG_LENGTH
        self._gpo = True
        if pdol is QPDOL and items[0][1][0] & 0x20:
            return self._qpboc(tlv.split_dol_data(QPDOL, items[0][1]))
        return tlv.build([(0x77, [(0x82, AIP), (0x94, AFL)])]) + OK

    def _qpboc(self, values):
        # the qPBOC answer: the ARQC (or an AAC when the card declines) over CDOL1's objects
        # taken from the PDOL data, with what the terminal needs to go online; the
        # transaction ends here for the card (it may leave the field)
        want = AAC if (self.spec.get("blocked") or self.spec.get("decline_offline")) else ARQC
        atc = self.atc()
        if atc >= 0xFFFF:
            return SW_OUT_OF_ORDER
        self.spec["atc"] = atc + 1
        atc = self._atc_bytes()
        self._sk = crypto.session_key(self.mk, atc)
        self._cvr[0] = 0x80 | (0x20 if want == ARQC else 0)
        iad = self._iad()
        data = tlv.build_dol_data(CDOL1, values)
        ac = crypto.cryptogram(self._sk, crypto.ac_data(data, AIP, atc, iad))
        self._gac = 2  # no GENERATE AC in this transaction
        body = [(0x82, AIP), (0x94, QAFL), (0x9F36, atc), (0x9F26, ac),
                (0x9F27, bytes((want,))), (0x9F10, iad), (0x57, self.track2),
                (0x5F34, bytes.fromhex(self.seq)), (0x9F6C, self.ctq)]  # fmt: skip
        return tlv.build([(0x77, body)]) + OK

    def _get_data(self, p1, p2, data):
        tag = (p1 << 8) | p2
        if tag == 0x9F36:
            value = self._atc_bytes()
        elif tag == 0x9F17:
            value = bytes((self.pin_tries(),))
        elif tag == 0x9F13:
            value = self._atc_bytes(self.spec.get("last_online_atc", 0))
        else:
            return SW_NO_DATA
        return tlv.encode(tag, value) + OK

    def _atc_bytes(self, v=None):
        if v is None:
            v = self.atc()
        return bytes((v >> 8, v & 0xFF))

    def _verify(self, p1, p2, data):
        if p1 != 0 or p2 != 0x80:
            return SW_BAD_P1P2  # plaintext PIN only (88, enciphered, is not held)
        if self._app is None:
            return SW_OUT_OF_ORDER
        if len(data) != 8:
            return SW_WRONG_LENGTH
        n = data[0] & 0x0F
        digits = data.hex()
        if data[0] >> 4 != 2 or not 4 <= n <= 12:
            return SW_BAD_DATA
        pin = digits[2 : 2 + n]
        if not pin.isdigit() or digits[2 + n :] != "f" * (14 - n):
            return SW_BAD_DATA
        tries = self.pin_tries()
        if tries == 0:
            return SW_PIN_BLOCKED
        self._cvr[0] |= 0x04  # offline PIN performed
        if crypto.same(pin.encode(), self.pin.encode()):
            self.spec["pin_tries"] = self.spec.get("pin_limit", 3)
            self._cvr[0] &= 0xFD
            return OK
        tries -= 1
        self.spec["pin_tries"] = tries
        self._cvr[0] |= 0x02  # offline PIN failed
        if tries == 0:
            self._cvr[1] |= 0x20  # PIN try limit exceeded
        return bytes((0x63, 0xC0 | tries))

    def _generate_ac(self, p1, p2, data):
        if p2 != 0 or p1 & 0x3F:
            return SW_BAD_P1P2  # no CDA (0x10): the card holds no RSA key
        want = p1 & 0xC0
        if want == 0xC0:
            return SW_BAD_P1P2
        if not self._gpo or self._gac >= 2 or (self._gac == 1 and self._arqc is None):
            return SW_OUT_OF_ORDER
        if self._gac == 0:
            dol = CDOL1
        else:
            dol = CDOL2
            if want == ARQC:
                return SW_BAD_P1P2  # the second GENERATE AC ends the transaction
        if len(data) != tlv.dol_length(dol):
            return SW_WRONG_LENGTH
        if self.spec.get("blocked") or self.spec.get("decline_offline"):
            want = AAC
        if self._gac == 0:
            atc = self.atc()
            if atc >= 0xFFFF:
                return SW_OUT_OF_ORDER  # ATC exhausted: the card is at the end of its life
            self.spec["atc"] = atc + 1
            self._sk = crypto.session_key(self.mk, self._atc_bytes())
            self._cvr[0] = (self._cvr[0] & 0x0F) | 0x80 | {ARQC: 0x20, TC: 0x10, AAC: 0}[want]
        else:
            values = tlv.split_dol_data(dol, data)
            arc = values[0x8A]
            if want == TC and (self._ext_auth is False or arc not in (b"00", b"10", b"11")):
                want = AAC  # declined online or the issuer not authenticated: no TC
            self._cvr[0] = (self._cvr[0] & 0x3F) | (0x40 if want == TC else 0)
        iad = self._iad()
        atc = self._atc_bytes()
        ac = crypto.cryptogram(self._sk, crypto.ac_data(data, AIP, atc, iad))
        self._gac += 1
        self._arqc = ac if (want == ARQC and self._gac == 1) else None
        if self._arqc is not None:
            self._script_arqc = ac
        if self._gac == 1 and want != ARQC:
            self._gac = 2  # an offline TC or an AAC ends the transaction
        body = [(0x9F27, bytes((want,))), (0x9F36, atc), (0x9F26, ac), (0x9F10, iad)]
        return tlv.build([(0x77, body)]) + OK

    def _external_authenticate(self, p1, p2, data):
        # The issuer authentication data (91): ARPC (8) || ARC (2), after an ARQC.
        if p1 or p2:
            return SW_BAD_P1P2
        if self._arqc is None or self._ext_auth is not None:
            return SW_OUT_OF_ORDER
        if len(data) != 10:
            return SW_WRONG_LENGTH
        good = crypto.same(crypto.arpc1(self._sk, self._arqc, data[8:10]), data[:8])
        self._ext_auth = good
        if good:
            self.spec["last_online_atc"] = self.atc()
            return OK
        self._cvr[0] |= 0x08  # issuer authentication failed
        return SW_AUTH_FAILED


    def _script(self, ins, p1, p2, data):
        # an issuer script command with its MAC (the last 4 bytes of the data)
        if self._script_arqc is None:
            return SW_OUT_OF_ORDER
        if len(data) < 4:
            return SW_WRONG_LENGTH
        body, mac = data[:-4], data[-4:]
        sk = crypto.session_key(self.mk_smi, self._atc_bytes())
        header = bytes((0x84, ins, p1, p2, len(data)))
        want = crypto.mac3(sk, header + self._atc_bytes() + self._script_arqc + body)[:4]
        if not crypto.same(want, mac):
            return b"\x69\x88"  # secure messaging data objects incorrect
        if ins == 0x1E:
            self.spec["blocked"] = True
        elif ins == 0x18:
            self.spec.pop("blocked", None)
        elif ins == 0x24:
            if p2 != 0 or body:
                return SW_BAD_P1P2  # only the unblock (no new PIN)
            self.spec["pin_tries"] = self.spec.get("pin_limit", 3)
        return OK

    def _app_block(self, p1, p2, data):
        return self._script(0x1E, p1, p2, data)

    def _app_unblock(self, p1, p2, data):
        return self._script(0x18, p1, p2, data)

    def _pin_unblock(self, p1, p2, data):
        return self._script(0x24, p1, p2, data)


# INS -> (CLA, handler)
_COMMANDS = {
    0xA4: (0x00, Card._select),
    0xB2: (0x00, Card._read_record),
    0xA8: (0x80, Card._gpo_cmd),
    0xCA: (0x80, Card._get_data),
    0x20: (0x00, Card._verify),
    0xAE: (0x80, Card._generate_ac),
    0x82: (0x00, Card._external_authenticate),
    0x1E: (0x84, Card._app_block),
    0x18: (0x84, Card._app_unblock),
    0x24: (0x84, Card._pin_unblock),
}
