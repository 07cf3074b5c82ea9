"""A test double of a real CUP acquirer host, for the terminal's flows over loopback.

It shares nothing with the project: frames are built and parsed by hand here (not with
pos.iso8583 / pos.cupspec), DES is `cryptography`'s, the MAC is computed over the bytes as
sent and checked over the bytes as received. It answers the way real hosts do, in the
variants the terminal must accept (issue 12, reference §11), chosen per host:

    gbk63     approvals carry 63 = "CUP" + the issuer's and acquirer's names in GBK
    issuer    the issuer's name in 63.2 (str; GBK on the wire, 20 bytes space-padded)
    foreign   63.1 = "VIS" (a foreign card)
    fpad      F as the pad nibble of the odd-length fields it sends (2, 32, 60)
    long60    field 60 of 19 digits in every financial reply (True), or of N digits (an int:
              11 = 60.1-60.3, 13 [OP], 14 [CODETD], 19 [CNB], 21 [PAX], reference §11)
    balances  54 with two entries (ledger 01, then available 02)
    need      the processing requirement (low nibble of header byte 3) of every approval
    signin_need  the same in the answer to every sign-in (0800 / 001-006), as real hosts
              set 4 / 5 there when their CA keys or AIDs changed (reference §1, §11)
    layout    {60.3: length of field 62}: 001 -> 24, 003 -> 40 or 44, 004 -> 56 or 60;
              triple length (3-key 3DES, 24-byte keys): "56x3" (PIK, MAK) or 84 (PIK, MAK,
              TDK), each key + its check value, the MAK 8 bytes zero-filled to its slot
              (mak24: 24 bytes);
              SM keys (国密): 005 -> 40, 006 -> 60 (SM4 under the TMK, SM4 check values; then
              the SM MAC, the 16-byte SM4 PIN block in 52 and SM4 track encryption), or 84
              (no public layout: the 60 one + 24 zero bytes, to see it refused)
    mak24     a 24-byte MAK in the triple-length layouts
    menu      the answer to our private menu download 0800/930 (12 on a real host)
    optional  the answer to a management code it does not serve (12; 30 or 40 on some
              hosts): 0800 other than the sign-ins, 360 and 930; 0820 other than 002
              (sign-out), 301 (echo) and 362 (status upload), unless `ic`
    ic        it serves the IC downloads (reference §3.2, §12): 0820 372 -> 62 = "1" + 9F06
              RID 9F22 index DF05 expiry of each CA key, 0800 370 (62 naming one) -> "1" +
              the key's TLV, 371 the end; 0820 382 -> "1" + 9F06 of each AID, 0800 380 ->
              "1" + the AID's TLV (with DF21, the 双免 limit), 381; 0800 394 -> "1" + DF21
              (CONTACTLESS_LIMIT), 395
    badsum    {CA key index}: those keys go with a check sum (DF03) that is not theirs
              (one bit of the SHA-1 flipped); "nosum": every key without DF03
    script    an issuer script in every chip approval's 55 as 72 (after the final GENERATE
              AC): "pin_unblock", "block" or "unblock" (EMV Book 3 CLA 84 commands, the MAC
              by hand: ISO 9797-1 alg. 3 under the card's session key over header || ATC ||
              ARQC); script71 the same as 71 (before it)
    unknown   the terminal is not registered: 97 to everything, before anything else
    drop      {(MTI, n)}: the nth request of that MTI is processed (a sale booked) and its
              answer never sent (the line drops it)
    badmac    {(MTI, n)}: the answer to the nth request of that MTI goes with a MAC that
              is not its own
    reversal_codes  the answers to the successive 0400s (then 00): e.g. ["96"] refuses the
              first
    params    field 62 of a CUP parameter download 0800/360 (None: answered 12)
    upload    the answer to every 0320 (batch upload): 00, or 25 as some hosts do
    unbalanced  the 0510 says the totals differ (so the terminal uploads its batch)
    imk       the issuer master key of its chip cards (16 bytes): a chip request's (22 =
              05x / 07x) ARQC is checked (card key option A from PAN + sequence number,
              EMV common session key, ISO 9797-1 MAC alg. 3 over the CDOL1 data + AIP +
              ATC + CVR) and the answer carries 55 = 91 (ARPC method 1 || ARC); a
              cryptogram that does not verify is answered 05
    qr_confirm  QR payments (22 = 03x, the payment code in 59 as tag A3 + n3 length):
              0 pays at once; N > 0: the sale is answered 09 (in progress: the customer
              confirms on the phone) and the result query (3 = 330000, 61 = the sale's
              batch + trace) is answered 09 until its Nth asking, then 00; None: 09 for
              ever (the terminal must cancel by reversal)

What it saw is kept in `requests` (MTI, fields, raw body) and `reversals`.
"""

import hashlib
import os
import socket
import struct
import threading
import warnings

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

TMK = bytes.fromhex("11111111111111112222222222222222")
ACQ = "银联商务".encode("gbk")
TEST_IMK = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
# the CDOL1 of the test issuer's chip cards (what its ARQCs are computed over)
CDOL1 = ((0x9F02, 6), (0x9F03, 6), (0x9F1A, 2), (0x95, 5), (0x5F2A, 2), (0x9A, 3), (0x9C, 1),
         (0x9F37, 4))  # fmt: skip

SIGN_INS = ("001", "003", "004", "005", "006")
IC_CODES = ("370", "371", "372", "380", "381", "382", "394", "395")
# the IC downloads it serves with `ic`: two CA keys of the CUP RID, two AIDs, the limits
RID = bytes.fromhex("A000000333")
CONTACTLESS_LIMIT = "000000050000"  # ¥500.00, DF21 of the 394 answer (n12)
AID_LIMIT = "000000030000"  # DF21 of each AID's parameters


def _capk(index, n):
    modulus = bytes((index * 37 + i * 11) % 256 for i in range(n)) or b"\x01"
    modulus = b"\xc1" + modulus[1:]
    exponent = b"\x03"
    digest = hashlib.sha1(RID + bytes((index,)) + modulus + exponent).digest()
    return index, modulus, exponent, digest


CAPKS = (_capk(0x01, 128), _capk(0x02, 176))
AIDS = (bytes.fromhex("A000000333010101"), bytes.fromhex("A000000333010102"))


# field -> (kind, length type, max): kind "n" BCD digits (right-aligned when fixed and
# odd, except "nl" left-aligned), "z" track (BCD, D separator), "a" characters (bytes),
# "b" binary; length type 0 fixed, 2 one BCD byte, 3 two BCD bytes
FORMATS = {
    2: ("n", 2, 19), 3: ("n", 0, 6), 4: ("n", 0, 12), 11: ("n", 0, 6), 12: ("n", 0, 6),
    13: ("n", 0, 4), 14: ("n", 0, 4), 15: ("n", 0, 4), 22: ("nl", 0, 3), 23: ("n", 0, 3),
    25: ("n", 0, 2), 26: ("n", 0, 2), 32: ("n", 2, 11), 35: ("z", 2, 37), 36: ("z", 3, 104),
    37: ("a", 0, 12), 38: ("a", 0, 6), 39: ("a", 0, 2), 41: ("a", 0, 8), 42: ("a", 0, 15),
    44: ("a", 2, 25), 48: ("n", 3, 322), 49: ("a", 0, 3), 52: ("b", 0, 8), 53: ("n", 0, 16),
    54: ("a", 3, 40), 55: ("b", 3, 255), 59: ("a", 3, 999), 60: ("n", 3, 999),
    61: ("n", 3, 29),
    62: ("b", 3, 512), 63: ("a", 3, 163), 64: ("b", 0, 8),
}  # fmt: skip


# -- DES (cryptography) ---------------------------------------------------------------------
def _des(key, data, decrypt=False):
    full = {8: key * 3, 16: key + key[:8]}.get(len(key), key)  # 24: 3-key as it is
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cipher = Cipher(TripleDES(full), modes.ECB())
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    return ctx.update(data) + ctx.finalize()


def kcv(key):
    return _des(key, bytes(8))[:4]


def ecb_mac(mak, mab):
    # the CUP "ECB" MAC (reference §4.4), from its description
    mab = mab + bytes(-len(mab) % 8)
    r = bytearray(8)
    for i, c in enumerate(mab):
        r[i % 8] ^= c
    h = r.hex().upper().encode()
    e1 = _des(mak, h[:8])
    t = bytes(a ^ b for a, b in zip(e1, h[8:], strict=True))
    return _des(mak, t)[:4].hex().upper().encode()


# -- SM4 (cryptography): the SM (国密) key set -----------------------------------------------
def _sm4(key, data, decrypt=False):
    cipher = Cipher(algorithms.SM4(key), modes.ECB())
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    return ctx.update(data) + ctx.finalize()


def sm_kcv(key):
    return _sm4(key, bytes(16))[:4]


def sm_mac(mak, mab):
    # the CUP SM MAC, from its description (PAX EMac.CUP with SM; CSDN qq_31143595): XOR the
    # 16-byte blocks, 32 hex characters, SM4 the first 16, XOR the last 16, SM4, 8 hex chars
    mab = mab + bytes(-len(mab) % 16)
    r = bytes(16)
    for i in range(0, len(mab), 16):
        r = bytes(a ^ b for a, b in zip(r, mab[i : i + 16], strict=True))
    h = r.hex().upper().encode()
    e1 = _sm4(mak, h[:16])
    e2 = _sm4(mak, bytes(a ^ b for a, b in zip(e1, h[16:], strict=True)))
    return e2[:4].hex().upper().encode()


def sm_pin_of(pik, block, pan):
    clear = _sm4(pik, block, decrypt=True)
    pan_block = bytes.fromhex("0" * 20 + pan[-13:-1])
    x = bytes(a ^ b for a, b in zip(clear, pan_block, strict=True)).hex().upper()
    if x[2 + int(x[1], 16) :] != "F" * (30 - int(x[1], 16)):
        return "(bad filler)"
    return x[2 : 2 + int(x[1], 16)]


def sm_decrypt_track(tdk, nibbles):
    # the 16 bytes before the last byte; a track that was shorter came FF-filled (PAX)
    odd = len(nibbles) % 2
    raw = bytearray.fromhex(nibbles + ("0" if odd else ""))
    if len(raw) < 17:
        return nibbles
    raw[-17:-1] = _sm4(tdk, bytes(raw[-17:-1]), decrypt=True)
    h = raw.hex().upper()
    head = h[:-2].rstrip("F")  # no track digit is F: trailing Fs are the fill
    return head + h[-2:][: 1 if odd else 2]


def tdb_span(raw):
    end = len(raw) - 1
    return end - 8, end


def decrypt_track(tdk, nibbles):
    # CUP track encryption undone: the 8 bytes before the last byte of the packed track
    raw = bytearray.fromhex(nibbles + ("0" if len(nibbles) % 2 else ""))
    a, b = tdb_span(raw)
    if a >= 0:
        raw[a:b] = _des(tdk, bytes(raw[a:b]), decrypt=True)
    return raw.hex().upper()[: len(nibbles)]


def pin_of(pik, block, pan):
    clear = _des(pik, block, decrypt=True)
    pan_block = bytes.fromhex("0000" + pan[-13:-1])
    x = bytes(a ^ b for a, b in zip(clear, pan_block, strict=True)).hex().upper()
    return x[2 : 2 + int(x[1], 16)]


# -- chip: BER-TLV and the EMV Book 2 keys and cryptograms, by hand ---------------------------
def tlv_items(data):
    """-> {tag int: value} of every primitive object (templates opened)."""
    out = {}
    i = 0
    while i < len(data):
        if data[i] in (0x00, 0xFF):
            i += 1
            continue
        start = i
        tag = data[i]
        i += 1
        if tag & 0x1F == 0x1F:
            while True:
                tag = (tag << 8) | data[i]
                i += 1
                if not data[i - 1] & 0x80:
                    break
        n = data[i]
        i += 1
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(data[i : i + k], "big")
            i += k
        value = bytes(data[i : i + n])
        if len(value) != n:
            raise ValueError(f"TLV at {start} runs past the end")
        i += n
        first = tag >> (8 * ((tag.bit_length() - 1) // 8))
        if first & 0x20:
            out.update(tlv_items(value))
        else:
            out.setdefault(tag, value)
    return out


def tlv(tag, value):
    t = tag.to_bytes((tag.bit_length() + 7) // 8, "big")
    n = len(value)
    if n < 0x80:
        length = bytes((n,))
    else:  # BER long form (a CA key's modulus is up to 248 bytes)
        length = bytes((0x81, n)) if n < 0x100 else b"\x82" + n.to_bytes(2, "big")
    return t + length + value


def _parity(key):
    return bytes((b & 0xFE) | (1 - bin(b & 0xFE).count("1") % 2) for b in key)


def card_key(imk, pan, seq):
    y = bytes.fromhex((pan + seq)[-16:].rjust(16, "0"))
    return _parity(_des(imk, y + bytes(b ^ 0xFF for b in y)))


def session_key(mk, atc):
    return _parity(_des(mk, atc + b"\xf0" + bytes(5) + atc + b"\x0f" + bytes(5)))


def retail_mac(key, data):
    data = data + b"\x80" + bytes(-(len(data) + 1) % 8)
    c = bytes(8)
    for i in range(0, len(data), 8):
        block = bytes(a ^ b for a, b in zip(c, data[i : i + 8], strict=True))
        c = _des(key[:8] if i + 8 < len(data) else key, block)
    return c


SCRIPT_INS = {"block": 0x1E, "unblock": 0x18, "pin_unblock": 0x24}


def script_command(sk, atc, arqc, name):
    # an issuer script command, secure messaging for integrity (EMV Book 2 §9.2): CLA 84,
    # Lc 4 = the MAC alone, over CLA INS P1 P2 Lc || ATC || ARQC
    header = bytes((0x84, SCRIPT_INS[name], 0x00, 0x00, 0x04))
    return header + retail_mac(sk, header + atc + arqc)[:4]


def arpc(sk, arqc, arc):
    return _des(sk, bytes(a ^ b for a, b in zip(arqc, arc + bytes(6), strict=True)))


# -- frames, by hand ----------------------------------------------------------------------------
def _bcd_len(n, size):
    s = f"{n:0{2 * size}d}"
    return bytes.fromhex(s)


def pack_field(f, value, pad="0"):
    kind, lt, _mx = FORMATS[f]
    if kind in ("n", "nl", "z"):
        digits = value.replace("=", "D")
        n = len(digits)
        if n % 2:
            digits = ("0" + digits) if (kind == "n" and lt == 0) else digits + pad
        data = bytes.fromhex(digits)
    else:
        data = value
        n = len(data)
    if lt == 0:
        return data
    return _bcd_len(n, 1 if lt == 2 else 2) + data


def build(mti, fields, fpad=()):
    """MTI + bitmap + fields (n/z values are digit strings, a/b values bytes); the fields in
    `fpad` get F as the pad nibble. Field 64, when present, is left as given."""
    bitmap = 0
    for f in fields:
        bitmap |= 1 << (64 - f)
    out = bytes.fromhex(mti) + bitmap.to_bytes(8, "big")
    for f in sorted(fields):
        out += pack_field(f, fields[f], "F" if f in fpad else "0")
    return out


def parse(body):
    """-> (mti, {field: value}): n/z as str (track "D" as "=", other nibbles as hex), a and b
    as bytes."""
    mti = body[0:2].hex()
    bitmap = int.from_bytes(body[2:10], "big")
    pos = 10
    out = {}
    for f in range(2, 65):
        if not bitmap & (1 << (64 - f)):
            continue
        kind, lt, mx = FORMATS[f]
        if lt:
            n = int(body[pos : pos + (1 if lt == 2 else 2)].hex())
            pos += 1 if lt == 2 else 2
        else:
            n = mx
        if kind in ("n", "nl", "z"):
            size = (n + 1) // 2
            hexs = body[pos : pos + size].hex().upper()
            if n % 2 and kind == "n" and lt == 0:
                hexs = hexs[1:]
            value = hexs[:n]
            if kind == "z":
                value = value.replace("D", "=")
        else:
            size = n
            value = bytes(body[pos : pos + size])
        out[f] = value
        pos += size
    if pos != len(body):
        raise ValueError(f"{len(body) - pos} bytes after the last field")
    return mti, out


def read_exact(conn, n):
    """n bytes from the socket, or None when it closes first (frames read by hand)."""
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def frame(tpdu, header, body):
    return struct.pack(">H", 11 + len(body)) + tpdu + header + body


# -- the host ------------------------------------------------------------------------------------
class RealHost:
    def __init__(self, **variant):
        self.v = {
            "gbk63": False, "foreign": False, "fpad": False, "long60": False,
            "balances": False, "need": 0, "layout": {}, "menu": "12", "params": None,
            "upload": "00", "unbalanced": False, "imk": TEST_IMK, "qr_confirm": 0,
            "issuer": "中国工商银行", "mak24": False, "optional": "12", "ic": False,
            "unknown": False, "drop": (), "badmac": (), "reversal_codes": (),
            "script": None, "script71": None, "signin_need": 0, "badsum": (),
        }  # fmt: skip
        self.v.update(variant)
        self.keys = {}
        self.requests = []
        self.reversals = []
        self.approved = []
        self.chip = []  # (trace, {tag: value}) of the chip requests whose ARQC verified
        self.qr = {}  # sale trace -> {"code", "rrn", "asked"} of the QR payments seen
        self.problems = []  # what the terminal sent wrong (a MAC, a PIN, a track)
        self.rrn = 0
        self.counts = {}  # MTI -> how many came
        self.status_uploads = []  # field 62 of each 0820 / 362
        self.advices = []  # the fields of each 0620 (script result advice)
        # the host's books, to check the terminal's settlement by hand (reference §3.4,
        # §3.5): trace -> (debit | credit, amount, foreign) of every card approval kept
        self.book = {}
        self.uploaded = []  # (code 00/01, trace, PAN, amount) of every 0320 / 201 record
        self.ic_uploads = 0  # 0320 / 203 and 205 (a chip transaction's TC)
        self._reversal_codes = list(self.v["reversal_codes"])
        self._srv = socket.create_server(("127.0.0.1", 0))
        self.address = self._srv.getsockname()
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def hostport(self):
        return f"{self.address[0]}:{self.address[1]}"

    def close(self):
        self._stop = True
        try:
            socket.create_connection(self.address, timeout=1).close()
        except OSError:
            pass
        self._srv.close()
        self._thread.join(timeout=5)

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self._srv.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    head = read_exact(conn, 2)
                    if head is None:
                        continue
                    data = read_exact(conn, struct.unpack(">H", head)[0])
                    if data is None:
                        continue
                    reply = self.answer(data)
                    if reply is not None:
                        conn.sendall(reply)
                except Exception as e:  # a test double: say it, do not hang the terminal
                    self.problems.append(f"host error: {e!r}")

    # -- answering ------------------------------------------------------------------------
    def _parse(self, body):
        # a terminal signed in with SM keys sends the 16-byte SM4 PIN block in 52: read it
        # as such when the 8-byte reading fails or names an SM terminal
        try:
            mti, req = parse(body)
            if not (52 in req and self.keys.get(req.get(41, b"").decode(), {}).get("sm")):
                return mti, req
        except ValueError:
            if not body[8] & 0x10:
                raise
        FORMATS[52] = ("b", 0, 16)
        try:
            return parse(body)
        finally:
            FORMATS[52] = ("b", 0, 8)

    @staticmethod
    def _mac(k, mab):
        return sm_mac(k["mak"], mab) if k.get("sm") else ecb_mac(k["mak"], mab)

    def answer(self, data):
        tpdu, header, body = data[0:5], data[5:11], data[11:]
        mti, req = self._parse(body)
        self.requests.append((mti, req, body))
        rep = {f: req[f] for f in (3, 4, 11, 25, 41, 42, 49) if f in req}
        rmti = f"{int(mti) + 10:04d}"
        net = req.get(60, "")[8:11]
        self.counts[mti] = self.counts.get(mti, 0) + 1
        nth = (mti, self.counts[mti])
        need = 0
        maced = mti in ("0100", "0200", "0220", "0400") and not self.v["unknown"]
        code = "00"
        if maced:
            code = self._check(body, req)
        if self.v["unknown"]:
            code = "97"  # before anything else
        elif mti == "0800" and net == "360":
            code = "12" if self.v["params"] is None else "00"
            if code == "00":
                rep[62] = self.v["params"]
        elif mti == "0800" and net == "930":
            code = self.v["menu"]
        elif mti == "0800" and net in SIGN_INS:
            rep.update(self._sign_in(req, net))
            need = self.v["signin_need"]
        elif mti in ("0800", "0820") and self.v["ic"] and net in IC_CODES:
            code, f62 = self._ic(req, net)
            rep[60] = req.get(60, "")
            if f62 is not None:
                rep[62] = f62
        elif mti == "0800" or (mti == "0820" and net not in ("002", "301", "362")):
            code = self.v["optional"]
        elif mti in ("0100", "0200", "0220") and code == "00":
            got = self._approve(req)
            code = got.pop(39, b"00").decode()
            rep.update(got)
            need = self.v["need"] if code == "00" else 0
            kind = {"22": "debit", "20": "debit", "23": "credit", "21": "credit",
                    "25": "credit"}.get(req.get(60, "")[:2])  # fmt: skip
            if code == "00" and req.get(3) == "330000":  # a QR payment confirmed: its sale
                order = self.qr.get(req.get(61, "")[6:12])
                self.book[req[61][6:12]] = ("debit", order["amount"], False)
            elif code == "00" and kind:
                self.book[req.get(11)] = (kind, int(req.get(4, "0")), self.v["foreign"])
        elif mti == "0400" and code == "00":
            self._check_reversal(req)
            code = self._reversal_codes.pop(0) if self._reversal_codes else "00"
            if code == "00":
                self.reversals.append(req)
                self.book.pop(req.get(11), None)
            rep[60] = req.get(60, "")
        elif mti == "0500":
            rep.update(self._settle(req))
        elif mti == "0320":
            code = self.v["upload"]
            rep[60] = req.get(60, "")
            self._upload(req, net)
        elif mti == "0820":
            rep[60] = req.get(60, "")
            if net == "362":
                self.status_uploads.append(req.get(62, b""))
        elif mti == "0620":
            self.advices.append(req)
        rep[39] = code.encode()
        tid = req.get(41, b"").decode()
        k = self.keys.get(tid, {})
        fpad = (2, 32, 60) if self.v["fpad"] else ()
        if maced and code != "A0" and k.get("mak"):
            rep[64] = bytes(8)
            out = bytearray(build(rmti, rep, fpad))
            out[-8:] = self._mac(k, bytes(out[:-8]))  # over the bytes as sent
            if nth in self.v["badmac"]:
                out[-8:] = bytes(b ^ 0x01 for b in out[-8:])
            out = bytes(out)
        else:
            out = build(rmti, rep, fpad)
        if nth in self.v["drop"]:
            return None  # processed; the answer lost on the line
        hd = header[:2] + bytes(((header[2] & 0xF0) | need,)) + header[3:]
        return frame(tpdu[0:1] + tpdu[3:5] + tpdu[1:3], hd, out)

    def _ic(self, req, net):
        # the IC downloads, by hand: -> (39, field 62 or None)
        asked = tlv_items(req.get(62) or b"")
        if net == "372":
            return "00", b"1" + b"".join(
                tlv(0x9F06, RID) + tlv(0x9F22, bytes((i,))) + tlv(0xDF05, b"20301231")
                for i, *_ in CAPKS
            )  # fmt: skip
        if net == "370":
            for i, modulus, exponent, digest in CAPKS:
                if asked.get(0x9F06) == RID and asked.get(0x9F22) == bytes((i,)):
                    if self.v["badsum"] != "nosum" and i in self.v["badsum"]:
                        digest = bytes((digest[0] ^ 0x01,)) + digest[1:]
                    body = (tlv(0x9F06, RID) + tlv(0x9F22, bytes((i,))) + tlv(0xDF05, b"20301231")
                            + tlv(0xDF06, b"\x01") + tlv(0xDF07, b"\x01")
                            + tlv(0xDF02, modulus) + tlv(0xDF04, exponent))  # fmt: skip
                    if self.v["badsum"] != "nosum":
                        body += tlv(0xDF03, digest)
                    return "00", b"1" + body
            self.problems.append(f"370 asks for no key of ours: {req.get(62)!r}")
            return "25", None
        if net == "382":
            return "00", b"1" + b"".join(tlv(0x9F06, a) for a in AIDS)
        if net == "380":
            if asked.get(0x9F06) not in AIDS:
                self.problems.append(f"380 asks for no AID of ours: {req.get(62)!r}")
                return "25", None
            body = (tlv(0x9F06, asked[0x9F06]) + tlv(0xDF01, b"\x00")
                    + tlv(0x9F09, b"\x00\x20") + tlv(0xDF21, bytes.fromhex(AID_LIMIT)))
            return "00", b"1" + body
        if net == "394":
            return "00", b"1" + tlv(0xDF21, bytes.fromhex(CONTACTLESS_LIMIT))
        return "00", None  # 371, 381, 395: the end

    def _check(self, body, req):
        tid = req.get(41, b"").decode()
        k = self.keys.get(tid)
        if k is None or 64 not in req or self._mac(k, body[:-8]) != req[64]:
            self.problems.append(f"request MAC does not verify ({tid})")
            return "A0"
        return "00"

    def _pan(self, req):
        tid = req.get(41, b"").decode()
        if 2 in req:
            return req[2]
        track = req.get(35, "")
        if req.get(53, "000")[2] == "1" and self.keys[tid].get("sm"):
            track = sm_decrypt_track(self.keys[tid]["tdk"], track.replace("=", "D"))
            track = track.replace("D", "=")
        elif req.get(53, "000")[2] == "1":
            track = decrypt_track(self.keys[tid]["tdk"], track.replace("=", "D"))
            track = track.replace("D", "=")
        pan = track.split("=")[0]
        if not pan.isdigit():
            self.problems.append(f"unreadable track {track!r}")
        return pan

    def _sign_in(self, req, net):
        tid = req[41].decode()
        if net in ("005", "006"):
            return self._sign_in_sm(req, net, tid)
        n = self.v["layout"].get(net) or {"001": 24, "003": 40, "004": 60}.get(net, 40)
        if n in ("56x3", 84):
            return self._sign_in_triple(req, net, tid, n)
        pik = os.urandom(8 if n == 24 else 16)
        mak = os.urandom(8)
        tdk = os.urandom(16) if n in (56, 60) else None
        if n == 24:
            f62 = _des(TMK, pik) + kcv(pik) + _des(TMK, mak) + kcv(mak)
        else:
            f62 = _des(TMK, pik) + kcv(pik) + _des(TMK, mak) + bytes(8) + kcv(mak)
            if n == 44:
                f62 += b"\x00\x00\x00\x00"
            elif n == 56:
                f62 += _des(TMK, tdk)
            elif n == 60:
                f62 += _des(TMK, tdk) + kcv(tdk)
        self.keys[tid] = {"pik": pik, "mak": mak, "tdk": tdk, "layout": n}
        self.rrn += 1
        return {
            12: "093000", 13: "1123", 32: "48020000", 37: f"{self.rrn:012d}".encode(),
            60: "00" + req.get(60, "00000001")[2:8] + net, 62: f62,
        }  # fmt: skip

    def _sign_in_triple(self, req, net, tid, n):
        # triple-length keys: PIK(24) kcv, MAK slot(24) kcv[, TDK(24) kcv] (56 / 84 bytes)
        pik = os.urandom(24)
        mak = os.urandom(24 if self.v["mak24"] else 8)
        tdk = os.urandom(24) if n == 84 else None
        f62 = _des(TMK, pik) + kcv(pik) + _des(TMK, mak) + bytes(24 - len(mak)) + kcv(mak)
        if tdk is not None:
            f62 += _des(TMK, tdk) + kcv(tdk)
        self.keys[tid] = {"pik": pik, "mak": mak, "tdk": tdk, "layout": len(f62)}
        self.rrn += 1
        return {
            12: "093000", 13: "1123", 32: "48020000", 37: f"{self.rrn:012d}".encode(),
            60: "00" + req.get(60, "00000001")[2:8] + net, 62: f62,
        }  # fmt: skip

    def _sign_in_sm(self, req, net, tid):
        # SM (国密) keys, as bestpay's POSP answers 0800/006: SM4 under the (SM4) TMK, each
        # key 16 bytes + the first 4 bytes of its SM4 check value; 005 without the TDK
        n = self.v["layout"].get(net) or {"005": 40, "006": 60}[net]
        pik, mak = os.urandom(16), os.urandom(16)
        tdk = os.urandom(16) if n >= 60 else None
        f62 = _sm4(TMK, pik) + sm_kcv(pik) + _sm4(TMK, mak) + sm_kcv(mak)
        if tdk is not None:
            f62 += _sm4(TMK, tdk) + sm_kcv(tdk)
        f62 += bytes(n - len(f62))
        self.keys[tid] = {"pik": pik, "mak": mak, "tdk": tdk, "layout": n, "sm": True}
        self.rrn += 1
        return {
            12: "093000", 13: "1123", 32: "48020000", 37: f"{self.rrn:012d}".encode(),
            60: "00" + req.get(60, "00000001")[2:8] + net, 62: f62,
        }  # fmt: skip

    def _chip(self, req, pan):
        """The issuer's check of a chip request's ARQC -> (session key, ARQC) or None when
        the cryptogram is not the card's."""
        tags = tlv_items(req[55])
        atc = tags[0x9F36]
        seq = req.get(23, "000")[-2:]
        sk = session_key(card_key(self.v["imk"], pan, seq), atc)
        cdol1 = b"".join(tags.get(t, bytes(n)) for t, n in CDOL1)
        data = cdol1 + tags[0x82] + atc + tags[0x9F10][3:7]
        if tags[0x9F27][0] & 0xC0 != 0x80 or retail_mac(sk, data) != tags[0x9F26]:
            self.problems.append(f"ARQC does not verify ({pan})")
            return None
        self.chip.append((req.get(11), tags))
        return sk, tags[0x9F26], atc

    def _qr(self, req):
        """A QR request: the payment code read out of 59 by hand (tag, n3 length, value)."""
        f59 = req.get(59, b"").decode("ascii", "replace")
        code = ""
        i = 0
        while i + 5 <= len(f59):
            n = int(f59[i + 2 : i + 5])
            if f59[i : i + 2] == "A3":
                code = f59[i + 5 : i + 5 + n]
            i += 5 + n
        if not (16 <= len(code) <= 24 and code.isdigit()):
            self.problems.append(f"no payment code in 59: {f59!r}")
            return {39: b"14"}
        if 2 in req or 35 in req or 52 in req:
            self.problems.append("a QR request carries a card field")
        confirm = self.v["qr_confirm"]
        proc = req.get(3)
        self.rrn += 1
        approved = {15: "1123", 37: f"{self.rrn:012d}".encode(), 38: b"Q1R2C3",
                    60: req.get(60, "")}  # fmt: skip
        if proc == "000000":  # the sale
            order = {"code": code, "rrn": approved[37], "asked": 0,
                     "amount": int(req.get(4, "0"))}  # fmt: skip
            self.qr[req.get(11)] = order
            if confirm == 0:
                self.approved.append((req.get(11), int(req.get(4, "0"))))
                return approved
            return {39: b"09", 15: "1123", 37: order["rrn"], 60: req.get(60, "")}
        if proc == "330000":  # the result query
            order = self.qr.get(req.get(61, "")[6:12])
            if order is None or order["code"] != code:
                self.problems.append(f"a query of no sale: 61 = {req.get(61)!r}")
                return {39: b"25"}
            order["asked"] += 1
            if confirm is None or order["asked"] < confirm:
                return {39: b"09", 37: order["rrn"], 60: req.get(60, "")}
            approved[37] = order["rrn"]
            return approved
        return approved  # a void or a refund of a QR payment

    def _approve(self, req):
        tid = req[41].decode()
        if req.get(22, "")[0:2] == "03":
            return self._qr(req)
        pan = self._pan(req)
        chip = None
        if req.get(22, "")[0:2] in ("05", "07") and 55 in req:
            chip = self._chip(req, pan)
            if chip is None:
                return {39: b"05"}
        if 52 in req and self.keys[tid].get("sm"):
            pin = sm_pin_of(self.keys[tid]["pik"], req[52], pan)
            if len(req[52]) != 16 or pin != "123456":
                self.problems.append(f"SM4 PIN block gives {pin!r}")
        elif 52 in req:
            pin = pin_of(self.keys[tid]["pik"], req[52], pan)
            if pin != "123456":
                self.problems.append(f"PIN block gives {pin!r}")
        if 52 in req and not self.keys[tid].get("sm"):
            # 53 (reference §2, §11): d1 2 (X9.8 with the PAN), d2 the keys in use: 0 single
            # DES, 6 3DES (double- and triple-length alike: the reference has no other value)
            f53 = req.get(53, "")
            want = "0" if len(self.keys[tid]["pik"]) == 8 else "6"
            if len(f53) != 16 or f53[0] != "2" or f53[1] != want:
                self.problems.append(
                    f"field 53 {f53!r} for a {len(self.keys[tid]['pik'])}-byte PIK: "
                    f"digit 2 must be {want}"
                )
        self.rrn += 1
        out = {
            2: pan, 12: "100000", 13: "1123", 15: "1123", 32: "48020000000",
            37: f"{self.rrn:012d}".encode(), 38: b"A1B2C3",
            44: b"01020000   48020000   ", 60: req.get(60, ""),
        }  # fmt: skip
        if self.v["long60"]:
            n = 19 if self.v["long60"] is True else self.v["long60"]
            out[60] = (req.get(60, "") + "0" * n)[:n]
        if self.v["gbk63"]:
            name = self.v["issuer"].encode("gbk")
            out[63] = b"CUP" + name + b" " * (20 - len(name)) + ACQ + b" " * (20 - len(ACQ))
        elif self.v["foreign"]:
            out[63] = b"VIS"
        if req.get(3) == "310000":
            entries = b"1001156C000000888888"
            if self.v["balances"]:
                entries += b"1002156C000000666666"
            out[54] = entries
        elif req.get(3) in ("000000", "030000"):
            self.approved.append((req.get(11), int(req.get(4, "0"))))
        if chip is not None:
            out[23] = req.get(23, "")
            out[55] = tlv(0x91, arpc(chip[0], chip[1], b"00") + b"00")
            for tag, name, sid in ((0x71, "script71", b"\x00\x00\x00\x71"),
                                   (0x72, "script", b"\x00\x00\x00\x01")):  # fmt: skip
                if self.v[name]:
                    cmd = script_command(chip[0], chip[2], chip[1], self.v[name])
                    out[55] += tlv(tag, tlv(0x9F18, sid) + tlv(0x86, cmd))
        return out

    def _check_reversal(self, req):
        # reference §6.2: the original's copy: 11 its trace, 4 its amount, no 26 35 36 52 53
        # (nor 37 for a sale), 39 the reason (98 / A0 / 96 first, 06 on a retry)
        orig = [r for m, r, _ in self.requests[:-1]
                if m in ("0100", "0200") and r.get(11) == req.get(11)]  # fmt: skip
        if not orig:
            self.problems.append(f"a reversal of trace {req.get(11)} never sent")
            return
        o = orig[-1]
        if o.get(4) != req.get(4) or o.get(3) != req.get(3):
            self.problems.append(f"reversal of {req.get(11)}: 3/4 are not the original's")
        left = [f for f in (26, 35, 36, 52, 53) if f in req]
        if 37 in req and o.get(3) == "000000":
            left.append(37)
        if left:
            self.problems.append(f"reversal of {req.get(11)} carries {left}")
        if req.get(39) not in (b"98", b"A0", b"96", b"06"):
            self.problems.append(f"reversal of {req.get(11)}: reason {req.get(39)!r}")
        if 2 not in req and req.get(22, "")[:2] != "03":  # a QR payment has no card
            self.problems.append(f"reversal of {req.get(11)} names no PAN in 2")

    def _upload(self, req, net):
        # the batch upload read by hand (reference §3.5): 201 = NN + NN records of 00 / 01
        # (domestic / foreign) + trace 6 + PAN right-aligned in 20 + amount 12, each one of
        # the host's approvals; 202 / 207 = the count of records uploaded, n4
        f48 = req.get(48, "")
        if net == "201":
            n = int(f48[:2] or "0")
            if len(f48) != 2 + 40 * n or not 1 <= n <= 8:
                self.problems.append(f"0320/201 field 48 of {len(f48)} digits for {n}")
                return
            for i in range(n):
                r = f48[2 + 40 * i : 42 + 40 * i]
                code, trace, pan, amount = r[:2], r[2:8], r[8:28].lstrip("0"), int(r[28:40])
                self.uploaded.append((code, trace, pan, amount))
                kept = self.book.get(trace)
                if kept is None or kept[1] != amount or code != ("01" if kept[2] else "00"):
                    self.problems.append(f"uploaded record {r} is none of the host's {kept}")
                if not (pan.isdigit() and 13 <= len(pan) <= 19):
                    self.problems.append(f"uploaded record {r}: the PAN is not whole")
        elif net in ("203", "205"):
            self.ic_uploads += 1
        elif net in ("202", "207"):
            want = len(self.uploaded) + self.ic_uploads
            if f48 != f"{want:04d}":
                self.problems.append(f"0320/{net} says {f48!r} records, {want} uploaded")

    def _totals(self, foreign):
        out = ""
        for kind in ("debit", "credit"):
            got = [a for k, a, f in self.book.values() if k == kind and f == foreign]
            out += f"{sum(got):012d}{len(got):03d}"
        return out

    def _settle(self, req):
        f48 = req.get(48, "0" * 62)
        mine = self._totals(False) + "0" + self._totals(True) + "0"
        if not self.v["unbalanced"] and f48 != mine:
            self.problems.append(f"0500 field 48 {f48}, the host's books {mine}")
        flag = "2" if self.v["unbalanced"] else "1"
        self.rrn += 1
        return {
            15: "1123", 37: f"{self.rrn:012d}".encode(), 60: req.get(60, ""),
            48: f48[0:30] + flag + f48[31:61] + "1",
        }  # fmt: skip
