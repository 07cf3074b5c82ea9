# DES and 3DES (EDE) in pure Python for MicroPython and CPython.
#
# On MicroPython (pos.des_mp) every value in the hot path stays below 2**16: a 32-bit
# half block is kept as two 16-bit words, the S-box + P-permutation tables ("SP boxes")
# are split into a high and a low 16-bit table, and the initial/final permutations are
# done with masked bit swaps (R. Outerbridge's method) on those words. No big ints, so
# no heap churn. CPython (pos.des_cp) runs the same steps on 32-bit halves.
# 3DES runs one IP, 48 rounds and one FP (FP followed by IP is the identity).


class CryptoError(ValueError):
    pass


# The rotations of C and D before each round, summed (round r rotates the halves PC1 made by
# _ROT[r] bits): a bytes constant, used in place from a ROMFS image or frozen firmware (a
# tuple of ints is built in the heap at every import). PC1 is _halves' bit columns; PC2, P
# and the S-boxes, which only build the precomputed tables below and des_mp's, are in
# pos.des_cp.
_ROT = b"\x01\x02\x04\x06\x08\x0a\x0c\x0e\x0f\x11\x13\x15\x17\x19\x1b\x1c"
# The block function and its tables live in pos.des_mp (MicroPython: 16-bit words) or
# pos.des_cp (CPython: 32-bit halves); _build_sp() loads the one this interpreter runs.
_crypt = None

try:
    import sys as _sys

    _WIDE = _sys.implementation.name != "micropython"
except AttributeError:
    _WIDE = False


def _build_sp():
    global _crypt
    if _WIDE:
        from pos import des_cp

        hi, lo = des_cp.sp_tables()
        des_cp.init(hi, lo)
        _crypt = des_cp.crypt
    else:
        from pos import des_mp

        # the tables precomputed as bytes (building them takes ~20 ms on a board, and a
        # transaction loads DES afresh: pos.overlay)
        if not des_mp.load():
            from pos.des_cp import sp_tables

            hi, lo = sp_tables()
            des_mp.init(hi, lo)
        _crypt = des_mp.crypt


def prepare():
    # load the block function and its tables now (a board calls this at boot, so that the
    # 2 KB of SP arrays sit with the long-lived data instead of being allocated by the first
    # exchange between a flow's objects)
    if _crypt is None:
        _build_sp()


# PC2 as nibble tables. PC2 takes the subkey's first 24 bits from C and the last 24 from
# D; for each of the 7 nibbles of a 28-bit half (nibble j: bits 4j+1 .. 4j+4, 1-based
# from the MSB) and each value 0..15, the 24-bit contribution, at 16 * j + value, as three
# bytes constants (its high, middle and low byte: _PC2C2, _PC2C1, _PC2C0 for C, _PC2D* for
# D; bytes are read in place, where a tuple of 112 ints cost ~0.9 KB of heap). A round's
# subkey is then 42 byte lookups instead of 48 bit moves (a terminal builds its keys for
# every transaction). Precomputed from PC2 (pos.des_cp; tests/core/test_crypto_core.py
# rebuilds them).
_PC2C2 = (
    b"\x00\x00\x02\x02\x00\x00\x02\x02\x08\x08\x0a\x0a\x08\x08\x0a\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x04\x04\x04\x04"
    b"\x04\x04\x04\x04\x00\x00\x20\x20\x00\x00\x20\x20\x00\x00\x20\x20\x00\x00\x20\x20\x00\x00\x00\x00\x80\x80\x80\x80"
    b"\x00\x00\x00\x00\x80\x80\x80\x80\x00\x00\x00\x00\x00\x00\x00\x00\x40\x40\x40\x40\x40\x40\x40\x40\x00\x10\x00\x10"
    b"\x00\x10\x00\x10\x00\x10\x00\x10\x00\x10\x00\x10\x00\x01\x00\x01\x00\x01\x00\x01\x00\x01\x00\x01\x00\x01\x00\x01"
)  # fmt: skip
_PC2C1 = (
    b"\x00\x01\x00\x01\x00\x01\x00\x01\x00\x01\x00\x01\x00\x01\x00\x01\x00\x00\x00\x00\x40\x40\x40\x40\x00\x00\x00\x00"
    b"\x40\x40\x40\x40\x00\x02\x00\x02\x10\x12\x10\x12\x00\x02\x00\x02\x10\x12\x10\x12\x00\x00\x80\x80\x00\x00\x80\x80"
    b"\x00\x00\x80\x80\x00\x00\x80\x80\x00\x00\x04\x04\x00\x00\x04\x04\x00\x00\x04\x04\x00\x00\x04\x04\x00\x00\x08\x08"
    b"\x00\x00\x08\x08\x20\x20\x28\x28\x20\x20\x28\x28\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
)  # fmt: skip
_PC2C0 = (
    b"\x00\x00\x00\x00\x01\x01\x01\x01\x00\x00\x00\x00\x01\x01\x01\x01\x00\x40\x10\x50\x00\x40\x10\x50\x00\x40\x10\x50"
    b"\x00\x40\x10\x50\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x20\x00\x20\x00\x20\x00\x20"
    b"\x02\x22\x02\x22\x02\x22\x02\x22\x00\x04\x00\x04\x00\x04\x00\x04\x00\x04\x00\x04\x00\x04\x00\x04\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x08\x80\x80\x88\x88\x00\x00\x08\x08\x80\x80\x88\x88"
)  # fmt: skip
_PC2D2 = (
    b"\x00\x00\x20\x20\x02\x02\x22\x22\x00\x00\x20\x20\x02\x02\x22\x22\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x01\x00\x01\x00\x01\x00\x01\x10\x11\x10\x11\x10\x11\x10\x11\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x80\x80\x80\x80\x80\x80\x80\x80\x00\x00\x08\x08\x00\x00\x08\x08\x00\x00\x08\x08\x00\x00\x08\x08\x00\x40\x00\x40"
    b"\x00\x40\x00\x40\x00\x40\x00\x40\x00\x40\x00\x40\x00\x00\x04\x04\x00\x00\x04\x04\x00\x00\x04\x04\x00\x00\x04\x04"
)  # fmt: skip
_PC2D1 = (
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x20\x20\x20\x20"
    b"\x20\x20\x20\x20\x00\x00\x02\x02\x00\x00\x02\x02\x00\x00\x02\x02\x00\x00\x02\x02\x00\x08\x00\x08\x00\x08\x00\x08"
    b"\x00\x08\x00\x08\x00\x08\x00\x08\x00\x10\x00\x10\x00\x10\x00\x10\x40\x50\x40\x50\x40\x50\x40\x50\x00\x00\x80\x80"
    b"\x00\x00\x80\x80\x04\x04\x84\x84\x04\x04\x84\x84\x00\x01\x00\x01\x00\x01\x00\x01\x00\x01\x00\x01\x00\x01\x00\x01"
)  # fmt: skip
_PC2D0 = (
    b"\x00\x01\x00\x01\x00\x01\x00\x01\x02\x03\x02\x03\x02\x03\x02\x03\x00\x04\x00\x04\x80\x84\x80\x84\x00\x04\x00\x04"
    b"\x80\x84\x80\x84\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10\x10\x10\x10"
    b"\x00\x00\x00\x00\x10\x10\x10\x10\x00\x00\x00\x00\x20\x20\x20\x20\x00\x00\x00\x00\x20\x20\x20\x20\x00\x00\x00\x00"
    b"\x08\x08\x08\x08\x00\x00\x00\x00\x08\x08\x08\x08\x00\x00\x00\x00\x00\x00\x00\x00\x40\x40\x40\x40\x40\x40\x40\x40"
)  # fmt: skip


def _halves(key8):
    # PC1: the key's 56 bits as the 28-bit halves C and D (small ints on MicroPython). PC1
    # reads the bytes' bit columns from the last byte to the first: C is the columns of bits
    # 1, 2 and 3 (1 the MSB) and the first half of column 4, D the columns of bits 7, 6 and
    # 5 and the second half of column 4 (FIPS 46-3's PC1: tests/core/test_crypto_core.py
    # checks the halves against it bit by bit)
    k1 = k2 = k3 = k4 = k5 = k6 = k7 = 0
    for i in range(7, -1, -1):
        b = key8[i]
        k1 = (k1 << 1) | (b >> 7)
        k2 = (k2 << 1) | ((b >> 6) & 1)
        k3 = (k3 << 1) | ((b >> 5) & 1)
        k4 = (k4 << 1) | ((b >> 4) & 1)
        k5 = (k5 << 1) | ((b >> 3) & 1)
        k6 = (k6 << 1) | ((b >> 2) & 1)
        k7 = (k7 << 1) | ((b >> 1) & 1)
    return (k1 << 20) | (k2 << 12) | (k3 << 4) | (k4 >> 4), (
        (k7 << 20) | (k6 << 12) | (k5 << 4) | (k4 & 15)
    )


def _stages(key8, reverse):
    # the 16 round keys of key8 as _crypt takes them: a bytearray of 128, round after round (in
    # decryption order when reverse), 8 S-box inputs each. RAM: one bytearray object (~190 B
    # on the x64 unix port), where 8 tuples of 16 ints took ~1.4 KB, a 3DES key's two ~2.8 KB,
    # in the middle of an exchange; _crypt reads it by index (~+30 % a block on the unix port).
    # A round: C and D rotated left by _ROT[r] (kept below 2**28: no big int on a board), then
    # for each half its 4 S-box inputs through its PC2 tables (7 nibbles, 3 bytes each), each
    # input ORed with its S-box's offset in the SP table of its half (64 * (s % 4): S-boxes
    # 1-4 and 5-8 have tables of their own, so that the offsets fit in a byte). Written out in
    # one function: a function whose frame has more than 11 slots (locals and stack) gets it
    # from the heap at every call (MicroPython's fun_bc_call, no pystack on rp2 and esp32),
    # and helpers for a round and a half took 48 such frames a schedule (~8 KB allocated,
    # ~3,300 instructions each on the unix port, and the collections they brought on)
    c, d = _halves(key8)
    rot = _ROT
    c2 = _PC2C2
    c1 = _PC2C1
    c0 = _PC2C0
    d2 = _PC2D2
    d1 = _PC2D1
    d0 = _PC2D0
    out = bytearray(128)
    for r in range(16):
        n = rot[r]
        m = 28 - n
        o = 8 * (15 - r) if reverse else 8 * r
        x = ((c & ((1 << m) - 1)) << n) | (c >> m)
        i0 = x >> 24
        i1 = 16 + ((x >> 20) & 15)
        i2 = 32 + ((x >> 16) & 15)
        i3 = 48 + ((x >> 12) & 15)
        i4 = 64 + ((x >> 8) & 15)
        i5 = 80 + ((x >> 4) & 15)
        i6 = 96 + (x & 15)
        h2 = c2[i0] | c2[i1] | c2[i2] | c2[i3] | c2[i4] | c2[i5] | c2[i6]
        h1 = c1[i0] | c1[i1] | c1[i2] | c1[i3] | c1[i4] | c1[i5] | c1[i6]
        h0 = c0[i0] | c0[i1] | c0[i2] | c0[i3] | c0[i4] | c0[i5] | c0[i6]
        out[o] = h2 >> 2
        out[o + 1] = (((h2 & 3) << 4) | (h1 >> 4)) | 64
        out[o + 2] = (((h1 & 15) << 2) | (h0 >> 6)) | 128
        out[o + 3] = (h0 & 63) | 192
        x = ((d & ((1 << m) - 1)) << n) | (d >> m)
        i0 = x >> 24
        i1 = 16 + ((x >> 20) & 15)
        i2 = 32 + ((x >> 16) & 15)
        i3 = 48 + ((x >> 12) & 15)
        i4 = 64 + ((x >> 8) & 15)
        i5 = 80 + ((x >> 4) & 15)
        i6 = 96 + (x & 15)
        h2 = d2[i0] | d2[i1] | d2[i2] | d2[i3] | d2[i4] | d2[i5] | d2[i6]
        h1 = d1[i0] | d1[i1] | d1[i2] | d1[i3] | d1[i4] | d1[i5] | d1[i6]
        h0 = d0[i0] | d0[i1] | d0[i2] | d0[i3] | d0[i4] | d0[i5] | d0[i6]
        out[o + 4] = h2 >> 2
        out[o + 5] = (((h2 & 3) << 4) | (h1 >> 4)) | 64
        out[o + 6] = (((h1 & 15) << 2) | (h0 >> 6)) | 128
        out[o + 7] = (h0 & 63) | 192
    return out


class DesKey:
    # A DES (8-byte) or 3DES EDE (16 or 24-byte) key with pre-computed round keys.
    # RAM: each direction's schedule is built on its first use (a key used one way only,
    # as X9.19's K2 or a sealed PAN opened, builds one: a 3DES schedule is two or three
    # 128-byte round-key strings, _stages), and a 16-byte key's K1 stages are one object
    # used twice.
    def __init__(self, key):
        if not isinstance(key, (bytes, bytearray)):
            raise CryptoError("key must be bytes")
        n = len(key)
        if n not in (8, 16, 24):
            raise CryptoError(f"key must be 8, 16 or 24 bytes, got {n}")
        if _crypt is None:
            _build_sp()
        self._key = bytes(key)
        self._enc = None
        self._dec = None
        self.size = n

    def _encs(self):
        # encryption: E(k1) D(k2) E(k3)
        e = self._enc
        if e is None:
            key = self._key
            p1 = _stages(key[0:8], False)
            if len(key) == 8:
                e = (p1,)
            else:
                p3 = _stages(key[16:24], False) if len(key) == 24 else p1
                e = (p1, _stages(key[8:16], True), p3)
            self._enc = e
        return e

    def _decs(self):
        # decryption: D(k3) E(k2) D(k1)
        d = self._dec
        if d is None:
            key = self._key
            q1 = _stages(key[0:8], True)
            if len(key) == 8:
                d = (q1,)
            else:
                q3 = _stages(key[16:24], True) if len(key) == 24 else q1
                d = (q3, _stages(key[8:16], False), q1)
            self._dec = d
        return d

    def encrypt_block(self, block):
        out = bytearray(8)
        _crypt(self._encs(), block, 0, out, 0)
        return bytes(out)

    def decrypt_block(self, block):
        out = bytearray(8)
        _crypt(self._decs(), block, 0, out, 0)
        return bytes(out)

    def encrypt_into(self, src, src_off, dst, dst_off):
        # Encrypt src[src_off:src_off+8] into the bytearray dst at dst_off (no allocation).
        _crypt(self._encs(), src, src_off, dst, dst_off)

    def decrypt_into(self, src, src_off, dst, dst_off):
        _crypt(self._decs(), src, src_off, dst, dst_off)

    def encrypt(self, data):
        return _ecb(self._encs(), data)

    def decrypt(self, data):
        return _ecb(self._decs(), data)


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
