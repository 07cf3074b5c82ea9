# The CPython half of DES (pos.des picks it on CPython; a board never loads it): the
# algorithm on 32-bit halves, with the S-box + P tables joined into one 32-bit table.
from pos.des import CryptoError

SP = None  # 512 entries: P(S_i(x)) for S-box i at 64*i + x


def init(hi, lo):
    global SP
    SP = tuple((hi[i] << 16) | lo[i] for i in range(512))


def crypt(stages, src, i, dst, o):
    # CPython path: the same algorithm on 32-bit halves (fewer lookups, same tables).
    if len(src) < i + 8:
        raise CryptoError("block must be 8 bytes")
    sp = SP
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
