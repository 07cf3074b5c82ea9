# MACs over an ISO 8583 MAC block (reference 4.4): CUP "ECB", ANSI X9.9 and X9.19, and
# "sm4", the CUP SM MAC of a terminal signed in with SM keys (pos.smkeys). Each returns the
# 8-byte value for field 64.
from pos.des import CryptoError, DesKey

ALGOS = ("ecb", "x9.9", "x9.19", "sm4")
_HEX = b"0123456789ABCDEF"


def _key(k):
    # A DesKey, from bytes or as given (not cached: a board loads this module for one MAC,
    # pos.comm, and a kept schedule is ~3 KB of heap)
    if isinstance(k, DesKey):
        return k
    return DesKey(k)


def _check(mab):
    if not isinstance(mab, (bytes, bytearray, memoryview)):
        raise CryptoError("MAC block must be bytes")


def _hex_upper(raw, n):
    # ASCII uppercase hex of the first n bytes of raw.
    out = bytearray(2 * n)
    for i in range(n):
        out[2 * i] = _HEX[raw[i] >> 4]
        out[2 * i + 1] = _HEX[raw[i] & 15]
    return out


def ecb_mac(mak, mab):
    # 1. XOR every 8-byte block (00-padded)  2. R -> 16 hex chars H
    # 3. E1 = DES(H[0:8])  4. E2 = DES(E1 ^ H[8:16])  5. hex of E2[0:4] = 8 ASCII chars
    _check(mab)
    key = _key(mak)
    r = bytearray(8)
    for i in range(len(mab)):
        r[i & 7] ^= mab[i]
    h = _hex_upper(r, 8)
    e = bytearray(8)
    key.encrypt_into(h, 0, e, 0)
    for i in range(8):
        e[i] ^= h[8 + i]
    key.encrypt_into(e, 0, e, 0)
    return bytes(_hex_upper(e, 4))


def _cbc(key, mab):
    # CBC-MAC with 00 padding (an empty block counts as one zero block); returns a bytearray.
    n = len(mab)
    c = bytearray(8)
    i = 0
    while True:
        for j in range(8):
            if i + j < n:
                c[j] ^= mab[i + j]
        key.encrypt_into(c, 0, c, 0)
        i += 8
        if i >= n:
            return c


def x99_mac(mak, mab):
    # ANSI X9.9: single-DES CBC-MAC (first 8 bytes of a longer key), full 8-byte result.
    _check(mab)
    if not isinstance(mak, (bytes, bytearray)) or len(mak) < 8:
        raise CryptoError("MAK must be at least 8 bytes")
    return bytes(_cbc(_key(mak[:8]), mab))


def x919_mac(key16, mab):
    # ANSI X9.19 / ISO 9797-1 algorithm 3: CBC under K1, then D(K2), E(K1) on the result.
    _check(mab)
    if not isinstance(key16, (bytes, bytearray)) or len(key16) != 16:
        raise CryptoError("X9.19 needs a 16-byte key")
    k1 = DesKey(key16[:8])
    c = _cbc(k1, mab)
    DesKey(key16[8:]).decrypt_into(c, 0, c, 0)
    k1.encrypt_into(c, 0, c, 0)
    return bytes(c)


def compute(algo, mak, mab):
    if algo == "ecb":
        return ecb_mac(mak, mab)
    if algo == "x9.9":
        return x99_mac(mak, mab)
    if algo == "x9.19":
        if isinstance(mak, (bytes, bytearray)) and len(mak) == 8:
            mak = bytes(mak) + bytes(mak)
        return x919_mac(mak, mab)
    if algo == "sm4":
        from pos import smkeys

        return smkeys.mac(mak, mab)
    raise CryptoError(f"unknown MAC algorithm {algo!r} (use one of ecb, x9.9, x9.19, sm4)")


def verify(algo, mak, mab, mac):
    # Constant-time comparison of the received field 64 with the computed MAC.
    want = compute(algo, mak, mab)
    if not isinstance(mac, (bytes, bytearray)) or len(mac) != len(want):
        return False
    diff = 0
    for i in range(len(want)):
        diff |= want[i] ^ mac[i]
    return diff == 0
