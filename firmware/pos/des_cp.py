# The CPython half of DES (pos.des picks it on CPython; a board never loads it): the
# algorithm on 32-bit halves, with the S-box + P tables joined into one 32-bit table.
from pos.des import CryptoError

SPA = None  # 256 entries: P(S_i(x)) for S-boxes 1-4 at 64*(i % 4) + x
SPB = None  # S-boxes 5-8

# FIPS 46-3 tables the SP boxes and PC2's nibble tables (pos.des) are made from, 1-based bit
# numbers. A board never loads them: pos.des_mp carries the SP boxes precomputed.
_PC2 = (
    14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
    41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36,
    29, 32,
)  # fmt: skip
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


def sp_tables():
    # -> (hi, lo): the SP boxes, 512 entries each (S-box i, input x at 64*i + x), the
    # high and low 16 bits of P(S_i(x)).
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
    return hi, lo


def init(hi, lo):
    global SPA, SPB
    SPA = tuple((hi[i] << 16) | lo[i] for i in range(256))
    SPB = tuple((hi[i] << 16) | lo[i] for i in range(256, 512))


def crypt(stages, src, i, dst, o):
    # CPython path: the same algorithm on 32-bit halves (fewer lookups, same tables).
    if len(src) < i + 8:
        raise CryptoError("block must be 8 bytes")
    spa = SPA
    spb = SPB
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
        for j in range(0, 128, 16):  # two rounds: their 16 S-box inputs at ks[j:j + 16]
            a ^= (
                spa[(((b << 5) | (b >> 27)) & 0x3F) ^ ks[j]]
                ^ spa[((b >> 23) & 0x3F) ^ ks[j + 1]]
                ^ spa[((b >> 19) & 0x3F) ^ ks[j + 2]]
                ^ spa[((b >> 15) & 0x3F) ^ ks[j + 3]]
                ^ spb[((b >> 11) & 0x3F) ^ ks[j + 4]]
                ^ spb[((b >> 7) & 0x3F) ^ ks[j + 5]]
                ^ spb[((b >> 3) & 0x3F) ^ ks[j + 6]]
                ^ spb[(((b << 1) | (b >> 31)) & 0x3F) ^ ks[j + 7]]
            )
            b ^= (
                spa[(((a << 5) | (a >> 27)) & 0x3F) ^ ks[j + 8]]
                ^ spa[((a >> 23) & 0x3F) ^ ks[j + 9]]
                ^ spa[((a >> 19) & 0x3F) ^ ks[j + 10]]
                ^ spa[((a >> 15) & 0x3F) ^ ks[j + 11]]
                ^ spb[((a >> 11) & 0x3F) ^ ks[j + 12]]
                ^ spb[((a >> 7) & 0x3F) ^ ks[j + 13]]
                ^ spb[((a >> 3) & 0x3F) ^ ks[j + 14]]
                ^ spb[(((a << 1) | (a >> 31)) & 0x3F) ^ ks[j + 15]]
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
