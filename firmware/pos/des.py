# DES and 3DES (EDE) in pure Python for MicroPython and CPython.
#
# Every value in the hot path stays below 2**16: a 32-bit half block is kept as two 16-bit
# words, the S-box + P-permutation tables ("SP boxes") are split into a high and a low
# 16-bit table, and the initial/final permutations are done with masked bit swaps
# (R. Outerbridge's method) on those words. No big ints, so no heap churn on MicroPython.
# 3DES runs one IP, 48 rounds and one FP (FP followed by IP is the identity).


from array import array


class CryptoError(ValueError):
    pass


# FIPS 46-3 tables, 1-based bit numbers.
_PC1 = (
    57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27,
    19, 11, 3, 60, 52, 44, 36, 63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
    14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
)  # fmt: skip
_PC2 = (
    14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
    41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36,
    29, 32,
)  # fmt: skip
_SHIFTS = (1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1)
_P = (
    16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
    2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
)  # fmt: skip
# The eight S-boxes, each 4 rows of 16, as hex digits.
_SBOX = (
    ("e4d12fb83a6c5907" "0f74e2d1a6cb9538" "41e8d62bfc973a50" "fc8249175b3ea06d"),
    ("f18e6b34972dc05a" "3d47f28ec01a69b5" "0e7ba4d158c6932f" "d8a13f42b67c05e9"),
    ("a09e63f51dc7b428" "d709346a285ecbf1" "d6498f30b12c5ae7" "1ad069874fe3b52c"),
    ("7de3069a1285bc4f" "d8b56f03472c1ae9" "a690cb7df13e5284" "3f06a1d8945bc72e"),
    ("2c417ab6853fd0e9" "eb2c47d150fa3986" "421bad78f9c5630e" "b8c71e2d6f09a453"),
    ("c1af92680d34e75b" "af427c9561de0b38" "9ef528c3704a1db6" "432c95fabe17608d"),
    ("4b2ef08d3c975a61" "d0b7491ae35c2f86" "14bdc37eaf680592" "6bd814a7950fe23c"),
    ("d2846fb1a93e50c7" "1fd8a374c56b0e92" "7b419ce206adf358" "21e74a8dfc90356b"),
)  # fmt: skip

_SPH = None  # 8 x 64 entries: high 16 bits of P(S_i(x) in its place)
_SPL = None  # low 16 bits
_SP32 = None  # CPython only: the two halves joined (32-bit values would allocate on MicroPython)

try:
    import sys as _sys

    _WIDE = _sys.implementation.name != "micropython"
except AttributeError:
    _WIDE = False


def _build_sp():
    global _SPH, _SPL
    hi = []
    lo = []
    for s in range(8):
        box = _SBOX[s]
        for x in range(64):
            row = ((x >> 4) & 2) | (x & 1)
            col = (x >> 1) & 15
            v = int(box[row * 16 + col], 16)
            # S-box output bits are f-bits 4s+1 .. 4s+4 (1-based, MSB first).
            out_h = 0
            out_l = 0
            for i in range(32):
                src = _P[i] - 1  # f-bit (0-based) feeding output bit i
                if src >> 2 == s and (v >> (3 - (src & 3))) & 1:
                    if i < 16:
                        out_h |= 0x8000 >> i
                    else:
                        out_l |= 0x8000 >> (i - 16)
            hi.append(out_h)
            lo.append(out_l)
    # 16-bit arrays: 1 KB each on MicroPython where a tuple of 512 small ints takes 2 KB
    _SPH = array("H", hi)
    _SPL = array("H", lo)
    if _WIDE:
        global _SP32
        _SP32 = tuple((hi[i] << 16) | lo[i] for i in range(512))


def _schedule(key8):
    # 16 round keys, each as 8 S-box inputs pre-offset by 64*s into the flat SP tables.
    # C and D are 28-bit ints (small ints on MicroPython: shifts stay below 2**30).
    c = 0
    d = 0
    for i in range(56):
        p = _PC1[i] - 1
        bit = (key8[p >> 3] >> (7 - (p & 7))) & 1
        if i < 28:
            c = (c << 1) | bit
        else:
            d = (d << 1) | bit
    rounds = []
    for r in range(16):
        n = _SHIFTS[r]
        c = ((c << n) | (c >> (28 - n))) & 0xFFFFFFF
        d = ((d << n) | (d >> (28 - n))) & 0xFFFFFFF
        groups = []
        for s in range(8):
            v = 0
            for i in range(6 * s, 6 * s + 6):
                p = _PC2[i]
                if p <= 28:
                    v = (v << 1) | ((c >> (28 - p)) & 1)
                else:
                    v = (v << 1) | ((d >> (56 - p)) & 1)
            groups.append(v | (s << 6))
        rounds.append(groups)
    return rounds


def _pairs(rounds):
    return tuple(tuple(rounds[i] + rounds[i + 1]) for i in range(0, 16, 2))


class DesKey:
    # A DES (8-byte) or 3DES EDE (16 or 24-byte) key with pre-computed round keys.
    def __init__(self, key):
        if not isinstance(key, (bytes, bytearray)):
            raise CryptoError("key must be bytes")
        n = len(key)
        if n not in (8, 16, 24):
            raise CryptoError(f"key must be 8, 16 or 24 bytes, got {n}")
        if _SPH is None:
            _build_sp()
        k1 = _schedule(key[0:8])
        if n == 8:
            self._enc = (_pairs(k1),)
            self._dec = (_pairs(k1[::-1]),)
        else:
            k2 = _schedule(key[8:16])
            k3 = _schedule(key[16:24]) if n == 24 else k1
            # EDE: E(k1) D(k2) E(k3); decryption: D(k3) E(k2) D(k1).
            self._enc = (_pairs(k1), _pairs(k2[::-1]), _pairs(k3))
            self._dec = (_pairs(k3[::-1]), _pairs(k2), _pairs(k1[::-1]))
        self.size = n

    def encrypt_block(self, block):
        out = bytearray(8)
        _crypt(self._enc, block, 0, out, 0)
        return bytes(out)

    def decrypt_block(self, block):
        out = bytearray(8)
        _crypt(self._dec, block, 0, out, 0)
        return bytes(out)

    def encrypt_into(self, src, src_off, dst, dst_off):
        # Encrypt src[src_off:src_off+8] into the bytearray dst at dst_off (no allocation).
        _crypt(self._enc, src, src_off, dst, dst_off)

    def decrypt_into(self, src, src_off, dst, dst_off):
        _crypt(self._dec, src, src_off, dst, dst_off)

    def encrypt(self, data):
        return _ecb(self._enc, data)

    def decrypt(self, data):
        return _ecb(self._dec, data)


def _crypt32(stages, src, i, dst, o):
    # CPython path: the same algorithm on 32-bit halves (fewer lookups, same tables).
    if len(src) < i + 8:
        raise CryptoError("block must be 8 bytes")
    sp = _SP32
    a = (src[i] << 24) | (src[i + 1] << 16) | (src[i + 2] << 8) | src[i + 3]
    b = (src[i + 4] << 24) | (src[i + 5] << 16) | (src[i + 6] << 8) | src[i + 7]
    w = ((a >> 4) ^ b) & 0x0F0F0F0F
    b ^= w
    a ^= w << 4
    w = ((a >> 16) ^ b) & 0x0000FFFF
    b ^= w
    a ^= w << 16
    w = ((b >> 2) ^ a) & 0x33333333
    a ^= w
    b ^= w << 2
    w = ((b >> 8) ^ a) & 0x00FF00FF
    a ^= w
    b ^= w << 8
    w = ((b << 1) ^ a) & 0xAAAAAAAA
    a ^= w
    b ^= w >> 1
    b &= 0xFFFFFFFF
    for ks in stages:
        for k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15 in ks:
            a ^= (
                sp[(((b << 5) | (b >> 27)) & 0x3F) ^ k0]
                ^ sp[((b >> 23) & 0x3F) ^ k1]
                ^ sp[((b >> 19) & 0x3F) ^ k2]
                ^ sp[((b >> 15) & 0x3F) ^ k3]
                ^ sp[((b >> 11) & 0x3F) ^ k4]
                ^ sp[((b >> 7) & 0x3F) ^ k5]
                ^ sp[((b >> 3) & 0x3F) ^ k6]
                ^ sp[(((b << 1) | (b >> 31)) & 0x3F) ^ k7]
            )
            b ^= (
                sp[(((a << 5) | (a >> 27)) & 0x3F) ^ k8]
                ^ sp[((a >> 23) & 0x3F) ^ k9]
                ^ sp[((a >> 19) & 0x3F) ^ k10]
                ^ sp[((a >> 15) & 0x3F) ^ k11]
                ^ sp[((a >> 11) & 0x3F) ^ k12]
                ^ sp[((a >> 7) & 0x3F) ^ k13]
                ^ sp[((a >> 3) & 0x3F) ^ k14]
                ^ sp[(((a << 1) | (a >> 31)) & 0x3F) ^ k15]
            )
        a, b = b, a
    w = ((b << 1) ^ a) & 0xAAAAAAAA
    a ^= w
    b ^= w >> 1
    w = ((b >> 8) ^ a) & 0x00FF00FF
    a ^= w
    b ^= w << 8
    w = ((b >> 2) ^ a) & 0x33333333
    a ^= w
    b ^= w << 2
    w = ((a >> 16) ^ b) & 0x0000FFFF
    b ^= w
    a ^= w << 16
    w = ((a >> 4) ^ b) & 0x0F0F0F0F
    b ^= w
    a ^= w << 4
    dst[o] = (a >> 24) & 0xFF
    dst[o + 1] = (a >> 16) & 0xFF
    dst[o + 2] = (a >> 8) & 0xFF
    dst[o + 3] = a & 0xFF
    dst[o + 4] = (b >> 24) & 0xFF
    dst[o + 5] = (b >> 16) & 0xFF
    dst[o + 6] = (b >> 8) & 0xFF
    dst[o + 7] = b & 0xFF


def _crypt16(stages, src, i, dst, o):
    # MicroPython path: every intermediate value stays below 2**16 (no big ints).
    if len(src) < i + 8:
        raise CryptoError("block must be 8 bytes")
    sph = _SPH
    spl = _SPL
    ah = (src[i] << 8) | src[i + 1]
    al = (src[i + 2] << 8) | src[i + 3]
    bh = (src[i + 4] << 8) | src[i + 5]
    bl = (src[i + 6] << 8) | src[i + 7]
    # initial permutation (A = L, B = R)
    w = ((ah >> 4) ^ bh) & 0x0F0F
    bh ^= w
    ah ^= w << 4
    w = ((al >> 4) ^ bl) & 0x0F0F
    bl ^= w
    al ^= w << 4
    ah, bl = bl, ah
    w = ((bh >> 2) ^ ah) & 0x3333
    ah ^= w
    bh ^= w << 2
    w = ((bl >> 2) ^ al) & 0x3333
    al ^= w
    bl ^= w << 2
    w = ((bh >> 8) ^ ah) & 0x00FF
    ah ^= w
    bh ^= w << 8
    w = ((bl >> 8) ^ al) & 0x00FF
    al ^= w
    bl ^= w << 8
    w = ((bh << 1) ^ ah) & 0xAAAA
    ah ^= w
    bh ^= w >> 1
    w = ((bl << 1) ^ al) & 0xAAAA
    al ^= w
    bl ^= w >> 1
    for ks in stages:
        for k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15 in ks:
            # A ^= f(B, k)
            i1 = (((bl & 1) << 5) | (bh >> 11)) ^ k0
            i2 = ((bh >> 7) & 0x3F) ^ k1
            i3 = ((bh >> 3) & 0x3F) ^ k2
            i4 = (((bh & 0x1F) << 1) | (bl >> 15)) ^ k3
            i5 = (((bh & 1) << 5) | (bl >> 11)) ^ k4
            i6 = ((bl >> 7) & 0x3F) ^ k5
            i7 = ((bl >> 3) & 0x3F) ^ k6
            i8 = (((bl & 0x1F) << 1) | (bh >> 15)) ^ k7
            ah ^= sph[i1] ^ sph[i2] ^ sph[i3] ^ sph[i4] ^ sph[i5] ^ sph[i6] ^ sph[i7] ^ sph[i8]
            al ^= spl[i1] ^ spl[i2] ^ spl[i3] ^ spl[i4] ^ spl[i5] ^ spl[i6] ^ spl[i7] ^ spl[i8]
            # B ^= f(A, k')
            i1 = (((al & 1) << 5) | (ah >> 11)) ^ k8
            i2 = ((ah >> 7) & 0x3F) ^ k9
            i3 = ((ah >> 3) & 0x3F) ^ k10
            i4 = (((ah & 0x1F) << 1) | (al >> 15)) ^ k11
            i5 = (((ah & 1) << 5) | (al >> 11)) ^ k12
            i6 = ((al >> 7) & 0x3F) ^ k13
            i7 = ((al >> 3) & 0x3F) ^ k14
            i8 = (((al & 0x1F) << 1) | (ah >> 15)) ^ k15
            bh ^= sph[i1] ^ sph[i2] ^ sph[i3] ^ sph[i4] ^ sph[i5] ^ sph[i6] ^ sph[i7] ^ sph[i8]
            bl ^= spl[i1] ^ spl[i2] ^ spl[i3] ^ spl[i4] ^ spl[i5] ^ spl[i6] ^ spl[i7] ^ spl[i8]
        # undo the last Feistel swap: pre-output is R16 || L16; the next stage starts there
        ah, bh = bh, ah
        al, bl = bl, al
    # final permutation (inverse of the above, steps in reverse order)
    w = ((bh << 1) ^ ah) & 0xAAAA
    ah ^= w
    bh ^= w >> 1
    w = ((bl << 1) ^ al) & 0xAAAA
    al ^= w
    bl ^= w >> 1
    w = ((bh >> 8) ^ ah) & 0x00FF
    ah ^= w
    bh ^= w << 8
    w = ((bl >> 8) ^ al) & 0x00FF
    al ^= w
    bl ^= w << 8
    w = ((bh >> 2) ^ ah) & 0x3333
    ah ^= w
    bh ^= w << 2
    w = ((bl >> 2) ^ al) & 0x3333
    al ^= w
    bl ^= w << 2
    ah, bl = bl, ah
    w = ((ah >> 4) ^ bh) & 0x0F0F
    bh ^= w
    ah ^= w << 4
    w = ((al >> 4) ^ bl) & 0x0F0F
    bl ^= w
    al ^= w << 4
    dst[o] = ah >> 8
    dst[o + 1] = ah & 0xFF
    dst[o + 2] = al >> 8
    dst[o + 3] = al & 0xFF
    dst[o + 4] = bh >> 8
    dst[o + 5] = bh & 0xFF
    dst[o + 6] = bl >> 8
    dst[o + 7] = bl & 0xFF


_crypt = _crypt32 if _WIDE else _crypt16


def _ecb(stages, data):
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise CryptoError("data must be bytes")
    n = len(data)
    if n & 7:
        raise CryptoError(f"data length {n} is not a multiple of 8")
    out = bytearray(n)
    for i in range(0, n, 8):
        _crypt(stages, data, i, out, i)
    return bytes(out)


def encrypt(key, data):
    return DesKey(key).encrypt(data)


def decrypt(key, data):
    return DesKey(key).decrypt(data)


def kcv(key):
    # Key check value: first 4 bytes of the key encrypting 8 zero bytes.
    return DesKey(key).encrypt_block(bytes(8))[:4]
