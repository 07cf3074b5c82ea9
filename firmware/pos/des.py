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


# FIPS 46-3 tables, 1-based bit numbers (PC2, P and the S-boxes, which only build the
# precomputed tables below and des_mp's, are in pos.des_cp).
_PC1 = (
    57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27,
    19, 11, 3, 60, 52, 44, 36, 63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
    14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
)  # fmt: skip
_SHIFTS = (1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1)
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
# from the MSB) and each value 0..15, the 24-bit contribution, at 16 * j + value. A round's
# subkey is then 14 lookups instead of 48 bit moves (a terminal builds its keys for every
# transaction). Precomputed from PC2 (pos.des_cp; tests/core/test_crypto_core.py rebuilds them).
_PC2C = (
    0x000000, 0x000100, 0x020000, 0x020100, 0x000001, 0x000101, 0x020001, 0x020101,
    0x080000, 0x080100, 0x0A0000, 0x0A0100, 0x080001, 0x080101, 0x0A0001, 0x0A0101,
    0x000000, 0x000040, 0x000010, 0x000050, 0x004000, 0x004040, 0x004010, 0x004050,
    0x040000, 0x040040, 0x040010, 0x040050, 0x044000, 0x044040, 0x044010, 0x044050,
    0x000000, 0x000200, 0x200000, 0x200200, 0x001000, 0x001200, 0x201000, 0x201200,
    0x000000, 0x000200, 0x200000, 0x200200, 0x001000, 0x001200, 0x201000, 0x201200,
    0x000000, 0x000020, 0x008000, 0x008020, 0x800000, 0x800020, 0x808000, 0x808020,
    0x000002, 0x000022, 0x008002, 0x008022, 0x800002, 0x800022, 0x808002, 0x808022,
    0x000000, 0x000004, 0x000400, 0x000404, 0x000000, 0x000004, 0x000400, 0x000404,
    0x400000, 0x400004, 0x400400, 0x400404, 0x400000, 0x400004, 0x400400, 0x400404,
    0x000000, 0x100000, 0x000800, 0x100800, 0x000000, 0x100000, 0x000800, 0x100800,
    0x002000, 0x102000, 0x002800, 0x102800, 0x002000, 0x102000, 0x002800, 0x102800,
    0x000000, 0x010000, 0x000008, 0x010008, 0x000080, 0x010080, 0x000088, 0x010088,
    0x000000, 0x010000, 0x000008, 0x010008, 0x000080, 0x010080, 0x000088, 0x010088,
)  # fmt: skip
_PC2D = (
    0x000000, 0x000001, 0x200000, 0x200001, 0x020000, 0x020001, 0x220000, 0x220001,
    0x000002, 0x000003, 0x200002, 0x200003, 0x020002, 0x020003, 0x220002, 0x220003,
    0x000000, 0x000004, 0x000000, 0x000004, 0x000080, 0x000084, 0x000080, 0x000084,
    0x002000, 0x002004, 0x002000, 0x002004, 0x002080, 0x002084, 0x002080, 0x002084,
    0x000000, 0x010000, 0x000200, 0x010200, 0x000000, 0x010000, 0x000200, 0x010200,
    0x100000, 0x110000, 0x100200, 0x110200, 0x100000, 0x110000, 0x100200, 0x110200,
    0x000000, 0x000800, 0x000000, 0x000800, 0x000010, 0x000810, 0x000010, 0x000810,
    0x800000, 0x800800, 0x800000, 0x800800, 0x800010, 0x800810, 0x800010, 0x800810,
    0x000000, 0x001000, 0x080000, 0x081000, 0x000020, 0x001020, 0x080020, 0x081020,
    0x004000, 0x005000, 0x084000, 0x085000, 0x004020, 0x005020, 0x084020, 0x085020,
    0x000000, 0x400000, 0x008000, 0x408000, 0x000008, 0x400008, 0x008008, 0x408008,
    0x000400, 0x400400, 0x008400, 0x408400, 0x000408, 0x400408, 0x008408, 0x408408,
    0x000000, 0x000100, 0x040000, 0x040100, 0x000000, 0x000100, 0x040000, 0x040100,
    0x000040, 0x000140, 0x040040, 0x040140, 0x000040, 0x000140, 0x040040, 0x040140,
)  # fmt: skip


def _schedule(key8):
    # 16 round keys, each as 8 S-box inputs pre-offset by 64*s into the flat SP tables.
    # C and D are 28-bit ints (small ints on MicroPython: shifts stay below 2**30).
    tc = _PC2C
    td = _PC2D
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
        h = (
            tc[c >> 24]
            | tc[16 + ((c >> 20) & 15)]
            | tc[32 + ((c >> 16) & 15)]
            | tc[48 + ((c >> 12) & 15)]
            | tc[64 + ((c >> 8) & 15)]
            | tc[80 + ((c >> 4) & 15)]
            | tc[96 + (c & 15)]
        )
        lo = (
            td[d >> 24]
            | td[16 + ((d >> 20) & 15)]
            | td[32 + ((d >> 16) & 15)]
            | td[48 + ((d >> 12) & 15)]
            | td[64 + ((d >> 8) & 15)]
            | td[80 + ((d >> 4) & 15)]
            | td[96 + (d & 15)]
        )
        rounds.append(
            [
                h >> 18,
                ((h >> 12) & 63) | 64,
                ((h >> 6) & 63) | 128,
                (h & 63) | 192,
                (lo >> 18) | 256,
                ((lo >> 12) & 63) | 320,
                ((lo >> 6) & 63) | 384,
                (lo & 63) | 448,
            ]
        )
    return rounds


def _pairs(rounds):
    return tuple(tuple(rounds[i] + rounds[i + 1]) for i in range(0, 16, 2))


def _stages(key8, reverse):
    # the 16 round keys of key8 as _crypt takes them (8 tuples of two rounds' 16 S-box
    # inputs), in decryption order when reverse
    r = _schedule(key8)
    if reverse:
        r.reverse()
    return _pairs(r)


class DesKey:
    # A DES (8-byte) or 3DES EDE (16 or 24-byte) key with pre-computed round keys.
    # RAM: each direction's schedule is built on its first use (a key used one way only,
    # as X9.19's K2 or a sealed PAN opened, builds one: a 3DES schedule is ~2.7 KB on the
    # x64 unix port, ~3 KB more while it is built), and a 16-byte key's K1 stages are one
    # object used twice.
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
