# Working keys delivered in field 62 of the 0810 sign-in reply (reference 4.1, 4.2).
#
#   001 (24 bytes): PIK(8) chk(4) MAK(8) chk(4)
#   003 (40 bytes): PIK(16) chk(4) MAK(8) 00x8 chk(4)   (MAK(16) chk(4) if bytes 28..35 are
#                   not zero: a double-length MAK)
#   004 (60 bytes): 003 + TDK(16) chk(4)
# Keys are encrypted under the TMK (3DES for a 16-byte TMK). Check values: the first 4 bytes
# of the clear key encrypting 8 zero bytes (single DES for an 8-byte key, 3DES for 16).
from pos.des import CryptoError, DesKey

_ZERO8 = bytes(8)


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


def unpack_signin_keys_all(f62, tmk):
    # -> (pik, mak, tdk or None)
    if not isinstance(f62, (bytes, bytearray)):
        raise KeyCheckError(None, "field 62 must be bytes")
    f62 = bytes(f62)
    n = len(f62)
    t = _tmk_key(tmk)
    if n == 24:
        pik = _take(t, "PIK", f62[0:8], f62[8:12])
        mak = _take(t, "MAK", f62[12:20], f62[20:24])
        return pik, mak, None
    if n not in (40, 60):
        raise KeyCheckError(None, f"field 62 is {n} bytes; expected 24, 40 or 60")
    pik = _take(t, "PIK", f62[0:16], f62[16:20])
    if f62[28:36] == _ZERO8:
        mak = _take(t, "MAK", f62[20:28], f62[36:40])
    else:
        mak = _take(t, "MAK", f62[20:36], f62[36:40])
    tdk = None
    if n == 60:
        tdk = _take(t, "TDK", f62[40:56], f62[56:60])
    return pik, mak, tdk


def unpack_signin_keys(f62, tmk):
    # -> (pik, mak); a TDK in a 60-byte field is checked and dropped.
    keys = unpack_signin_keys_all(f62, tmk)
    return keys[0], keys[1]


def pack_signin_keys(tmk, pik, mak):
    # Host side: the 40-byte 003 layout.
    if not isinstance(pik, (bytes, bytearray)) or len(pik) != 16:
        raise KeyCheckError("PIK", "must be 16 bytes")
    if not isinstance(mak, (bytes, bytearray)) or len(mak) != 8:
        raise KeyCheckError("MAK", "must be 8 bytes")
    t = _tmk_key(tmk)
    return t.encrypt(pik) + _kcv(pik) + t.encrypt(mak) + _ZERO8 + _kcv(mak)
