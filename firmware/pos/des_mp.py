# The MicroPython half of DES (pos.des picks it there): every intermediate value stays
# below 2**16 (a 32-bit half is two 16-bit words, the S-box + P tables are split into
# high and low 16-bit arrays), so no big ints and no heap churn.
from array import array

from pos.des import CryptoError

# the SP tables, 16-bit words: high (SPH*) and low (SPL*) 16 bits of P(S_i(x)), S-boxes
# 1-4 in the *A tables and 5-8 in the *B ones (256 entries each: S-box i's input x at
# 64 * (i % 4) + x, an offset that fits in a round key's byte: pos.des._stages)
SPHA = None
SPHB = None
SPLA = None
SPLB = None


def load():
    # -> True when the precomputed tables are in use (False: a big-endian machine, where
    # pos.des builds them with init()).
    global SPHA, SPHB, SPLA, SPLB
    import sys

    if sys.byteorder != "little":
        return False
    # the 2 KB bytes constant is a module of its own, forgotten once the arrays are made:
    # from a files deploy a module's constants are copied into the heap and kept for as
    # long as the module is loaded (from ROMFS they stay in flash either way)
    from pos import overlay

    with overlay.scope():
        from pos import des_sp

        sp = des_sp.SP
        SPHA = array("H", sp[0:512])
        SPHB = array("H", sp[512:1024])
        SPLA = array("H", sp[1024:1536])
        SPLB = array("H", sp[1536:2048])
        del des_sp, sp
    return True


def init(hi, lo):
    # 16-bit arrays: 1 KB each on MicroPython where a tuple of 512 small ints takes 2 KB
    global SPHA, SPHB, SPLA, SPLB
    SPHA = array("H", hi[0:256])
    SPHB = array("H", hi[256:512])
    SPLA = array("H", lo[0:256])
    SPLB = array("H", lo[256:512])


def crypt(stages, src, i, dst, o):
    # MicroPython path: every intermediate value stays below 2**16 (no big ints).
    if len(src) < i + 8:
        raise CryptoError("block must be 8 bytes")
    sha = SPHA
    shb = SPHB
    sla = SPLA
    slb = SPLB
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
        for j in range(0, 128, 16):  # two rounds: their 16 S-box inputs at ks[j:j + 16]
            # A ^= f(B, k)
            i1 = (((bl & 1) << 5) | (bh >> 11)) ^ ks[j]
            i2 = ((bh >> 7) & 0x3F) ^ ks[j + 1]
            i3 = ((bh >> 3) & 0x3F) ^ ks[j + 2]
            i4 = (((bh & 0x1F) << 1) | (bl >> 15)) ^ ks[j + 3]
            i5 = (((bh & 1) << 5) | (bl >> 11)) ^ ks[j + 4]
            i6 = ((bl >> 7) & 0x3F) ^ ks[j + 5]
            i7 = ((bl >> 3) & 0x3F) ^ ks[j + 6]
            i8 = (((bl & 0x1F) << 1) | (bh >> 15)) ^ ks[j + 7]
            ah ^= sha[i1] ^ sha[i2] ^ sha[i3] ^ sha[i4] ^ shb[i5] ^ shb[i6] ^ shb[i7] ^ shb[i8]
            al ^= sla[i1] ^ sla[i2] ^ sla[i3] ^ sla[i4] ^ slb[i5] ^ slb[i6] ^ slb[i7] ^ slb[i8]
            # B ^= f(A, k')
            i1 = (((al & 1) << 5) | (ah >> 11)) ^ ks[j + 8]
            i2 = ((ah >> 7) & 0x3F) ^ ks[j + 9]
            i3 = ((ah >> 3) & 0x3F) ^ ks[j + 10]
            i4 = (((ah & 0x1F) << 1) | (al >> 15)) ^ ks[j + 11]
            i5 = (((ah & 1) << 5) | (al >> 11)) ^ ks[j + 12]
            i6 = ((al >> 7) & 0x3F) ^ ks[j + 13]
            i7 = ((al >> 3) & 0x3F) ^ ks[j + 14]
            i8 = (((al & 0x1F) << 1) | (ah >> 15)) ^ ks[j + 15]
            bh ^= sha[i1] ^ sha[i2] ^ sha[i3] ^ sha[i4] ^ shb[i5] ^ shb[i6] ^ shb[i7] ^ shb[i8]
            bl ^= sla[i1] ^ sla[i2] ^ sla[i3] ^ sla[i4] ^ slb[i5] ^ slb[i6] ^ slb[i7] ^ slb[i8]
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
