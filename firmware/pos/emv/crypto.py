# Card keys and application cryptograms, EMV 4.3 Book 2 Annex A as CUP (PBOC 3.0) uses
# them. Keys and data are bytes; 3DES is pos.des, the MAC pos.mac's ISO 9797-1 alg. 3.
#   ICC master key   option A: 3DES(IMK)[Y || ~Y], Y = the rightmost 16 digits of
#                    PAN || PAN sequence number (zero-padded on the left), odd parity
#   session key      EMV common session key: 3DES(MK)[ATC F0 00.. || ATC 0F 00..]
#   ARQC / TC / AAC  ISO 9797-1 MAC algorithm 3, padding method 2 ('80' 00..), under the
#                    session key, over ac_data() (CDOL1 data || AIP || ATC || CVR)
#   ARPC method 1    3DES(SK)[ARQC xor (ARC || 00 * 6)]
from pos.des import CryptoError, DesKey
from pos.mac import x919_mac


def _need(name, value, n):
    if not isinstance(value, (bytes, bytearray)) or len(value) != n:
        raise CryptoError("%s must be %d bytes" % (name, n))


def odd_parity(key):
    # each byte's low bit set so that it has an odd number of 1 bits (as issuers store keys)
    out = bytearray(key)
    for i in range(len(out)):
        b = out[i] & 0xFE
        ones = 0
        v = b
        while v:
            ones += v & 1
            v >>= 1
        out[i] = b | (0 if ones & 1 else 1)
    return bytes(out)


def _digits(what, value):
    if isinstance(value, int):
        value = "%02d" % value
    if not isinstance(value, str) or not value or not value.isdigit():
        raise CryptoError("%s must be digits" % what)
    return value


def icc_master_key(imk, pan, psn="00"):
    # ICC master key (AC) of one card from the issuer master key, option A.
    _need("issuer master key", imk, 16)
    y = _digits("PAN", pan) + _digits("PAN sequence number", psn)
    y = y[len(y) - 16 :] if len(y) > 16 else "0" * (16 - len(y)) + y
    a = bytes.fromhex(y)
    b = bytes(x ^ 0xFF for x in a)
    return odd_parity(DesKey(imk).encrypt(a + b))


def session_key(mk, atc):
    # EMV common session key from the ICC master key and the 2-byte ATC.
    _need("ICC master key", mk, 16)
    _need("ATC", atc, 2)
    r = bytearray(16)
    r[0] = r[8] = atc[0]
    r[1] = r[9] = atc[1]
    r[2] = 0xF0
    r[10] = 0x0F
    return odd_parity(DesKey(mk).encrypt(r))


def pad2(data):
    # ISO 9797-1 padding method 2: '80' then '00' up to a multiple of 8
    n = len(data) + 1
    return bytes(data) + b"\x80" + bytes((8 - n % 8) % 8)


def mac3(key, data):
    # ISO 9797-1 MAC algorithm 3 (retail MAC), padding method 2, 8-byte result.
    _need("MAC key", key, 16)
    return x919_mac(key, pad2(data))


def cvr(iad):
    # The card verification results in CUP issuer application data (9F10): byte 1 length
    # (07), 2 key index, 3 cryptogram version, 4..7 CVR (its own length 03 + 3 bytes).
    if not isinstance(iad, (bytes, bytearray)) or len(iad) < 7:
        raise CryptoError("issuer application data is too short for a CVR")
    return bytes(iad[3:7])


def ac_data(cdol1_data, aip, atc, iad):
    # What the cryptogram is computed over (CUP CVN 01): CDOL1 data || AIP || ATC || CVR.
    _need("AIP", aip, 2)
    _need("ATC", atc, 2)
    return bytes(cdol1_data) + bytes(aip) + bytes(atc) + cvr(iad)


def cryptogram(sk, data):
    # ARQC, TC or AAC: the card tells which in the CID (9F27); the computation is one.
    return mac3(sk, data)


def arpc1(sk, arqc, arc):
    # ARPC method 1: the issuer's answer, which the card checks (EXTERNAL AUTHENTICATE).
    _need("session key", sk, 16)
    _need("ARQC", arqc, 8)
    _need("authorisation response code", arc, 2)
    block = bytearray(arqc)
    block[0] ^= arc[0]
    block[1] ^= arc[1]
    return DesKey(sk).encrypt_block(block)


def same(a, b):
    # constant-time comparison of two cryptograms
    if len(a) != len(b):
        return False
    d = 0
    for i in range(len(a)):
        d |= a[i] ^ b[i]
    return d == 0
