# Working keys delivered in field 62 of the 0810 sign-in reply (reference 4.1, 4.2, §11),
# parsed by the field's length (real hosts send every one of these):
#   24: PIK(8) chk(4) MAK(8) chk(4)                            single length (60.3 = 001)
#   40: PIK(16) chk(4) MAK(8) 00x8 chk(4)                      double length (003); a
#       double-length MAK(16) chk(4) when bytes 28..35 are not zero
#   44: the 40 layout + 4 bytes the terminal does not use      (a PAX fork's 003)
#   56: the 40 layout + TDK(16), no TDK check value            (004), or
#       PIK(24) chk(4) MAK(24) chk(4)                          triple length (3-key 3DES)
#   60: the 40 layout + TDK(16) chk(4)                         (004)
#   84: PIK(24) chk(4) MAK(24) chk(4) TDK(24) chk(4)           triple length with a TDK
# A MAK slot wider than the MAK is zero-filled after it (as in the 40 layout): a 24-byte
# slot holds an 8-byte MAK (16 zero bytes after it), a 16-byte one (8 zero bytes) or 24.
# Where a length has two layouts (56) the one whose check values all verify is taken (a
# 4-byte check value matches by chance once in 2**32, both of a layout's once in 2**64),
# and a field that verifies as neither, or as both, is refused with the reason.
# Keys are encrypted under the TMK (3DES for a 16-byte TMK). Check values: the first 4 bytes
# of the clear key encrypting 8 zero bytes (single DES for an 8-byte key, 3DES for 16 and
# 24: pos.des runs 3-key EDE for a 24-byte key, in the PIN block, the MAC and the TDK too).
# A TDK encrypts the track data of a request (encrypt_track) as CUP terminals do.
#
# The 44 layout, from the public source of that PAX fork (github.com/adjo202/PAX_BJB_A_930_B,
# TransOnline.posLogon, which checks "f62.length != 44 && != 60"): PIK at 0 (16) with its
# check value at 16, the MAK at 20 (its first 8 bytes used, repeated as MAK||MAK), the MAK's
# check value at 36, and a TDK read only when track encryption is on and the field is longer
# than 40 (at 40..59, which a 44-byte field does not hold): bytes 40..43 are never read.
# 56 and 84: no public parser of either was found; PAX's comment lists "24/40/56/60/84"
# ("工作密钥，若长度域不为24或40或56或60或84,格式有误", over a check for 40 / 60 only), a
# PIN-pad wrapper takes "24或40或56或60或84个字节" and hands them on unparsed, and the
# reference's source [ECOM62] names 56 and 84 as valid. The triple-length reading is the
# arithmetic of the others: 24 = 2 x (8 + 4), 40 = 2 x (16 + 4), 60 = 3 x (16 + 4), so
# 56 = 2 x (24 + 4) and 84 = 3 x (24 + 4).
#
# SM (国密) keys, asked for with 60.3 = 005 / 006, come as 40 / 60 bytes of SM4 keys: parsed
# by pos.smkeys (its sources there); 84 bytes there are refused.
from pos.des import CryptoError, DesKey

_ZERO8 = bytes(8)
SM_LAYOUTS = ("005", "006")  # 60.3 of an SM sign-in: without / with a TDK


class KeyCheckError(ValueError):
    # key: 'PIK', 'MAK' or 'TDK'; None when field 62 or the TMK itself is malformed.
    def __init__(self, key, reason):
        super().__init__((key + ": " + reason) if key else reason)
        self.key = key
        self.reason = reason


def _kcv(key):
    return DesKey(key).encrypt_block(_ZERO8)[:4]


def _take(tmk, name, enc, check):
    clear = tmk.decrypt(enc)
    if _kcv(clear) != check:
        raise KeyCheckError(
            name,
            "check value mismatch (got %s, key gives %s)"
            % (check.hex().upper(), _kcv(clear).hex().upper()),
        )
    return clear


def _tmk_key(tmk):
    try:
        return DesKey(tmk)
    except CryptoError as e:
        raise KeyCheckError(None, "TMK: " + str(e))


LAYOUTS = (24, 40, 44, 56, 60, 84)


def _mak_slot(t, f62, at, width, check):
    # the MAK of a slot of `width` bytes at `at`: the key, then zero bytes to the width
    n = width
    while n > 8 and f62[at + n - 8 : at + n] == _ZERO8:
        n -= 8
    return _take(t, "MAK", f62[at : at + n], check)


def _double(t, f62, n):
    # the 40 / 44 / 56 / 60 layouts: PIK(16) chk, MAK slot(16) chk[, TDK(16)[ chk]]
    pik = _take(t, "PIK", f62[0:16], f62[16:20])
    mak = _mak_slot(t, f62, 20, 16, f62[36:40])
    tdk = None
    if n == 60:
        tdk = _take(t, "TDK", f62[40:56], f62[56:60])
    elif n == 56:
        tdk = t.decrypt(f62[40:56])  # this layout has no check value for the TDK
    return pik, mak, tdk


def _triple(t, f62, n):
    # the 56 / 84 layouts: PIK(24) chk, MAK slot(24) chk[, TDK(24) chk]
    pik = _take(t, "PIK", f62[0:24], f62[24:28])
    mak = _mak_slot(t, f62, 28, 24, f62[52:56])
    tdk = _take(t, "TDK", f62[56:80], f62[80:84]) if n == 84 else None
    return pik, mak, tdk


def unpack_signin_keys_all(f62, tmk, sm=False):
    # -> (pik, mak, tdk or None). sm: the sign-in asked for SM keys (60.3 = 005 / 006).
    if not isinstance(f62, (bytes, bytearray)):
        raise KeyCheckError(None, "field 62 must be bytes")
    f62 = bytes(f62)
    n = len(f62)
    if sm:
        from pos import smkeys

        try:
            return smkeys.unpack(f62, tmk)
        except KeyCheckError:
            raise
        except ValueError as e:
            # pos.smkeys kept from an earlier load of this module (an overlay drops and
            # loads pos.keyload again; smkeys may stay) raises that load's KeyCheckError, a
            # class the caller's `except keyload.KeyCheckError` does not know: it showed
            # 系统错误 for a refused SM field 62. Given again as this module's
            if not hasattr(e, "reason"):
                raise
            raise KeyCheckError(getattr(e, "key", None), getattr(e, "reason", str(e)))
    if n not in LAYOUTS:
        raise KeyCheckError(None, f"field 62 is {n} bytes; expected 24, 40, 44, 56, 60 or 84")
    t = _tmk_key(tmk)
    if n == 24:
        pik = _take(t, "PIK", f62[0:8], f62[8:12])
        mak = _take(t, "MAK", f62[12:20], f62[20:24])
        return pik, mak, None
    if n == 84:
        return _triple(t, f62, n)
    if n != 56:
        return _double(t, f62, n)
    # 56: double length + a TDK without check value, or triple length without a TDK
    found = []
    why = []
    for name, parse in (("double+TDK", _double), ("triple", _triple)):
        try:
            found.append(parse(t, f62, n))
        except KeyCheckError as e:
            why.append(name + " " + str(e))
    if len(found) == 1:
        return found[0]
    if found:
        raise KeyCheckError(None, "field 62 is 56 bytes: both layouts verify, refused")
    why = "; ".join(why)
    raise KeyCheckError(None, "field 62 is 56 bytes and no layout verifies (" + why + ")")


def unpack_signin_keys(f62, tmk):
    # -> (pik, mak); a TDK in a 60-byte field is checked and dropped.
    keys = unpack_signin_keys_all(f62, tmk)
    return keys[0], keys[1]


def _track_raw(track):
    # track digits with "=" (or hex nibbles) -> (packed bytes, right pad 0, nibble count)
    nib = track.replace("=", "D")
    n = len(nib)
    return bytearray(bytes.fromhex(nib + ("0" if n & 1 else ""))), n


def _tdb(raw):
    # the 8 bytes encrypted: those before the last byte (reference: CUP track encryption)
    end = len(raw) - 1
    return end - 8, end


def encrypt_track(tdk, track, sm=False):
    # Track data under the TDK as CUP terminals send it: the 8 bytes that end before the
    # track's last byte are 3DES-encrypted in place; a track shorter than 9 bytes goes as it
    # is. -> the nibbles as uppercase hex ("=" is D), as many as the track had. sm: an SM4
    # TDK (pos.smkeys: 16 bytes, a short track FF-filled).
    raw, n = _track_raw(track)
    if sm:
        from pos import smkeys

        return smkeys.encrypt_track(tdk, raw, n)
    a, b = _tdb(raw)
    if a < 0:
        return track
    raw[a:b] = DesKey(tdk).encrypt_block(bytes(raw[a:b]))
    return raw.hex().upper()[:n]


def decrypt_track(tdk, track, sm=False):
    # encrypt_track undone (the center's side) -> the track with "=".
    raw, n = _track_raw(track)
    if sm:
        from pos import smkeys

        return smkeys.decrypt_track(tdk, raw, n).replace("D", "=")
    a, b = _tdb(raw)
    if a >= 0:
        raw[a:b] = DesKey(tdk).decrypt_block(bytes(raw[a:b]))
    return raw.hex().upper()[:n].replace("D", "=")


def pack_signin_keys(tmk, pik, mak):
    # Host side: the 40-byte 003 layout.
    if not isinstance(pik, (bytes, bytearray)) or len(pik) != 16:
        raise KeyCheckError("PIK", "must be 16 bytes")
    if not isinstance(mak, (bytes, bytearray)) or len(mak) != 8:
        raise KeyCheckError("MAK", "must be 8 bytes")
    t = _tmk_key(tmk)
    return t.encrypt(pik) + _kcv(pik) + t.encrypt(mak) + _ZERO8 + _kcv(mak)


def pack_signin_keys_sm(tmk, pik, mak, tdk=None):
    # Host side: SM keys, 40 bytes (005) or 60 with a TDK (006).
    from pos import smkeys

    return smkeys.pack(tmk, pik, mak, tdk)
