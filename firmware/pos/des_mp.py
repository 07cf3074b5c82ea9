# The MicroPython half of DES (pos.des picks it there): every intermediate value stays
# below 2**16 (a 32-bit half is two 16-bit words, the S-box + P tables are split into
# high and low 16-bit arrays), so no big ints and no heap churn.
from array import array

from pos.des import CryptoError

SPH = None  # 512 entries: high 16 bits of P(S_i(x)) at 64*i + x
SPL = None  # low 16 bits


def init(hi, lo):
    # 16-bit arrays: 1 KB each on MicroPython where a tuple of 512 small ints takes 2 KB
    global SPH, SPL
    SPH = array("H", hi)
    SPL = array("H", lo)


def crypt(stages, src, i, dst, o):
    # MicroPython path: every intermediate value stays below 2**16 (no big ints).
    if len(src) < i + 8:
        raise CryptoError("block must be 8 bytes")
    sph = SPH
    spl = SPL
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
