# The SM (国密) key set of a terminal signed in with 60.3 = 005 / 006, on pos.sm4: the
# working keys in field 62, the SM MAC, the SM4 PIN block and SM4 track encryption. Loaded
# only when SM keys are asked for or in use (pos.keyload, pos.mac, pos.pinblock dispatch
# here), so that a terminal on 3DES keys carries none of it in its heap.
#
# Field 62 (every key 16 bytes, SM4-ECB under the 16-byte TMK; check value = the first 4
# bytes of SM4(key, 16 x 00)):
#   40: PIK(16) chk(4) MAK(16) chk(4)                          (005)
#   60: PIK(16) chk(4) MAK(16) chk(4) TDK(16) chk(4)           (006)
# Sources (public code): the PAX UnionPay fork github.com/adjo202/PAX_BJB_A_930_B
# (TransOnline.posLogon with SUPPORT_SM: the MAK taken whole, 16 bytes; Device.writeTPK/TAK/
# TDK: SM4_TMK -> SM4_TPK/TAK/TDK with ECheckMode.KCV_SM4_ENCRYPT_0), the Centerm C-POS app
# (com.centerm.epos.task.AsyncSignTask: SM4 keys as 3 x (16 + 4)) and a host, bestpay's
# POSP (M_SignInChecker.createTpkAndTak: 0800/006 answered with 120 hex characters = 60
# bytes, each key + the first 8 hex of its check value, no zero filler for SM4).
from pos.keyload import KeyCheckError
from pos.sm4 import CryptoError, Sm4Key, kcv


def _tmk(tmk):
    try:
        return Sm4Key(tmk)
    except CryptoError as e:
        raise KeyCheckError(None, "SM4 TMK: " + str(e))


def _take(tmk, name, enc, check):
    clear = tmk.decrypt(enc)
    if kcv(clear) != check:
        raise KeyCheckError(
            name,
            "check value mismatch (got %s, key gives %s)"
            % (check.hex().upper(), kcv(clear).hex().upper()),
        )
    return clear


def unpack(f62, tmk):
    # -> (pik, mak, tdk or None) of an SM sign-in's field 62
    n = len(f62)
    if n not in (40, 60):
        raise KeyCheckError(None, "field 62 is %d bytes; SM keys come as 40 or 60" % n)
    t = _tmk(tmk)
    pik = _take(t, "PIK", f62[0:16], f62[16:20])
    mak = _take(t, "MAK", f62[20:36], f62[36:40])
    tdk = _take(t, "TDK", f62[40:56], f62[56:60]) if n == 60 else None
    return pik, mak, tdk


def pack(tmk, pik, mak, tdk=None):
    # Host side: 40 bytes (005) or 60 with a TDK (006).
    for name, key in (("PIK", pik), ("MAK", mak), ("TDK", tdk)):
        if key is not None and (not isinstance(key, (bytes, bytearray)) or len(key) != 16):
            raise KeyCheckError(name, "must be 16 bytes")
    t = _tmk(tmk)
    out = t.encrypt(pik) + kcv(pik) + t.encrypt(mak) + kcv(mak)
    if tdk is not None:
        out += t.encrypt(tdk) + kcv(tdk)
    return out


# -- the SM MAC --------------------------------------------------------------------------------
_HEX = b"0123456789ABCDEF"
_last = [None, None]  # type: list  # one-entry cache: (MAK bytes, Sm4Key)


def _hex_upper(raw, n):
    out = bytearray(2 * n)
    for i in range(n):
        out[2 * i] = _HEX[raw[i] >> 4]
        out[2 * i + 1] = _HEX[raw[i] & 15]
    return out


def mac(mak, mab):
    # The CUP "ECB" MAC on SM4's 16-byte blocks, as CUP SM (国密二期) terminals compute it
    # (PAX's EMac.CUP with SUPPORT_SM: XOR of 16-byte blocks, then Device.calcMac =
    # ped.getMacSM with a zero IV over the 32 hex characters; the same steps written out in
    # https://blog.csdn.net/qq_31143595/article/details/97785248):
    # 1. XOR every 16-byte block (00-padded)  2. R -> 32 hex chars H
    # 3. E1 = SM4(H[0:16])  4. E2 = SM4(E1 ^ H[16:32])  5. hex of E2[0:4] = 8 ASCII chars
    if not isinstance(mab, (bytes, bytearray, memoryview)):
        raise CryptoError("MAC block must be bytes")
    if not isinstance(mak, (bytes, bytearray)) or len(mak) != 16:
        raise CryptoError("an SM MAK is 16 bytes")
    if _last[0] != mak:
        _last[1] = Sm4Key(mak)
        _last[0] = bytes(mak)
    key = _last[1]
    r = bytearray(16)
    for i in range(len(mab)):
        r[i & 15] ^= mab[i]
    h = _hex_upper(r, 16)
    e = bytearray(16)
    key.encrypt_into(h, 0, e, 0)
    for i in range(16):
        e[i] ^= h[16 + i]
    key.encrypt_into(e, 0, e, 0)
    return bytes(_hex_upper(e, 4))


# -- the SM4 PIN block ------------------------------------------------------------------------
# ISO 9564 format 0 widened to SM4's 16-byte block: PIN field 0 L PIN F.. (32 nibbles) XOR
# PAN field 20 zeros + the 12 PAN digits before the check digit, SM4-ECB under the PIK
# (PAX: ped.getPinBlockSM4 with ISO9564_0; the worked example of
# https://blog.csdn.net/M_Kerry/article/details/104625499: PIN 123654, PAN
# 6230606601007726888 -> 06123654FFFFFFFFFFFF99FEFF88D977 before encryption).
def clear_pin_block(pin, pan):
    from pos.pinblock import PinBlockError, _pan_field

    if type(pin) is not str or not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise PinBlockError("PIN must be 4..12 digits")
    text = "0" + "0123456789ABC"[len(pin)] + pin
    text += "F" * (32 - len(text))
    block = bytearray(bytes.fromhex(text))
    p = _pan_field(pan)
    for i in range(8):
        block[8 + i] ^= p[i]
    return bytes(block)


def pin_block(pik, pin, pan):
    return Sm4Key(pik).encrypt_block(clear_pin_block(pin, pan))


def clear_of_pin_block(pik, block, pan):
    # host side: the SM4 PIN block decrypted and the PAN field taken off (16 bytes)
    from pos.pinblock import _pan_field

    clear = bytearray(Sm4Key(pik).decrypt_block(block))
    p = _pan_field(pan)
    for i in range(8):
        clear[8 + i] ^= p[i]
    return clear


# -- SM4 track encryption ---------------------------------------------------------------------
def encrypt_track(tdk, raw, n):
    # raw: the packed track (bytearray, right pad 0), n its nibble count. The 16 bytes that
    # end before the track's last byte are SM4-encrypted in place; a track too short for
    # that (a track 2 of a 16-digit PAN is often 16 bytes) has its bytes before the last
    # FF-filled to 16, encrypted, and the last byte after them, as PAX's onEncTrack does: 34
    # nibbles (33 when odd). -> the nibbles as uppercase hex.
    end = len(raw) - 1
    key = Sm4Key(tdk)
    if end >= 16:
        raw[end - 16 : end] = key.encrypt_block(bytes(raw[end - 16 : end]))
        return raw.hex().upper()[:n]
    block = bytearray(b"\xff" * 16)
    block[0:end] = raw[0:end]
    out = key.encrypt_block(bytes(block)) + bytes(raw[end:])
    return out.hex().upper()[: 34 - (n & 1)]


def decrypt_track(tdk, raw, n):
    # encrypt_track undone -> the nibbles (D the separator); a short track's FF fill is
    # dropped (track data has no F nibble)
    end = len(raw) - 1
    if end < 16:
        return raw.hex().upper()[:n]
    raw[end - 16 : end] = Sm4Key(tdk).decrypt_block(bytes(raw[end - 16 : end]))
    text = raw.hex().upper()[:n]
    if end == 16:
        head = text[0:32]
        while head.endswith("F"):
            head = head[:-1]
        text = head + text[32:]
    return text
