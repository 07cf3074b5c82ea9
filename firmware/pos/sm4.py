# SM4 (GB/T 32907-2016, the 国密 block cipher: 128-bit key and block, 32 rounds), for the
# CUP SM key set: working keys under an SM4 TMK, the SM MAC, the SM4 PIN block and the
# track key (pos.keyload, pos.mac, pos.pinblock).
#
# Written for MicroPython's small ints (31 bits): every 32-bit word is two 16-bit halves,
# so no value ever reaches 2**30 and a block allocates only its output. The S-box is one
# bytes constant; CK is computed (ck[i][j] = (4i + j) * 7 mod 256); the 32 round keys are
# 64 halves in an array('H') (128 bytes a key).
from array import array

from pos.des import CryptoError

_S = bytes.fromhex(
    "d690e9fecce13db716b614c228fb2c052b679a762abe04c3aa441326498606999c4250f491ef987a33540b43"
    "edcfac62e4b31ca9c908e89580df94fa758f3fa64707a7fcf37317ba83593c19e6854fa8686b81b27164da8b"
    "f8eb0f4b70569d351e240e5e6358d1a225227c3b01217887d40046579fd327524c3602e7a0c4c89eeabf8ad2"
    "40c738b5a3f7f2cef96115a1e0ae5da49b341a55ad933230f58cb1e31df6e22e8266ca60c02923ab0d534e6f"
    "d5db3745defd8e2f03ff6a726d6c5b518d1baf92bbddbc7f11d95c411f105ad80ac13188a5cd7bbd2d74d012"
    "b8e5b4b08969974a0c96777e65b9f109c56ec68418f07dec3adc4d2079ee5f3ed7cb3948"
)
# FK as 16-bit halves (A3B1BAC6 56AA3350 677D9197 B27022DC)
_FK = (0xA3B1, 0xBAC6, 0x56AA, 0x3350, 0x677D, 0x9197, 0xB270, 0x22DC)


def _halves(data, off):
    return (data[off] << 8) | data[off + 1], (data[off + 2] << 8) | data[off + 3]


def _schedule(key):
    # 32 round keys, each as (high half, low half) at rk[2i], rk[2i + 1]
    rk = array("H", bytes(128))
    S = _S
    k = [0] * 8
    for i in range(4):
        h, lo = _halves(key, 4 * i)
        k[2 * i] = h ^ _FK[2 * i]
        k[2 * i + 1] = lo ^ _FK[2 * i + 1]
    for i in range(32):
        c = 28 * i  # ck bytes: (4i + j) * 7 for j = 0..3
        ch = (((c & 255) << 8) | ((c + 7) & 255)) & 0xFFFF
        cl = ((((c + 14) & 255) << 8) | ((c + 21) & 255)) & 0xFFFF
        h = k[2] ^ k[4] ^ k[6] ^ ch
        lo = k[3] ^ k[5] ^ k[7] ^ cl
        h, lo = (S[h >> 8] << 8) | S[h & 255], (S[lo >> 8] << 8) | S[lo & 255]
        # L'(B) = B ^ B<<<13 ^ B<<<23  (23 = 16 + 7)
        nh = h ^ (((h << 13) & 0xFFFF) | (lo >> 3)) ^ (((lo << 7) & 0xFFFF) | (h >> 9))
        nl = lo ^ (((lo << 13) & 0xFFFF) | (h >> 3)) ^ (((h << 7) & 0xFFFF) | (lo >> 9))
        nh ^= k[0]
        nl ^= k[1]
        rk[2 * i] = nh
        rk[2 * i + 1] = nl
        k[0] = k[2]
        k[1] = k[3]
        k[2] = k[4]
        k[3] = k[5]
        k[4] = k[6]
        k[5] = k[7]
        k[6] = nh
        k[7] = nl
    return rk


def _put(dst, i, h):
    dst[i] = h >> 8
    dst[i + 1] = h & 255


def _crypt(rk, decrypt, src, so, dst, do):
    # no tuple, no big int: a block allocates nothing (the halves are small ints)
    S = _S
    ah = (src[so] << 8) | src[so + 1]
    al = (src[so + 2] << 8) | src[so + 3]
    bh = (src[so + 4] << 8) | src[so + 5]
    bl = (src[so + 6] << 8) | src[so + 7]
    ch = (src[so + 8] << 8) | src[so + 9]
    cl = (src[so + 10] << 8) | src[so + 11]
    dh = (src[so + 12] << 8) | src[so + 13]
    dl = (src[so + 14] << 8) | src[so + 15]
    for r in range(32):
        i = 2 * (31 - r) if decrypt else 2 * r
        h = bh ^ ch ^ dh ^ rk[i]
        lo = bl ^ cl ^ dl ^ rk[i + 1]
        h, lo = (S[h >> 8] << 8) | S[h & 255], (S[lo >> 8] << 8) | S[lo & 255]
        # L(B) = B ^ B<<<2 ^ B<<<10 ^ B<<<18 ^ B<<<24  (18 = 16 + 2, 24 = 16 + 8)
        h2 = ((h << 2) & 0xFFFF) | (lo >> 14)
        l2 = ((lo << 2) & 0xFFFF) | (h >> 14)
        nh = h ^ h2 ^ l2 ^ (((h << 10) & 0xFFFF) | (lo >> 6)) ^ (((lo << 8) & 0xFFFF) | (h >> 8))
        nl = lo ^ l2 ^ h2 ^ (((lo << 10) & 0xFFFF) | (h >> 6)) ^ (((h << 8) & 0xFFFF) | (lo >> 8))
        nh ^= ah
        nl ^= al
        ah = bh
        al = bl
        bh = ch
        bl = cl
        ch = dh
        cl = dl
        dh = nh
        dl = nl
    # output: X35 X34 X33 X32
    _put(dst, do, dh)
    _put(dst, do + 2, dl)
    _put(dst, do + 4, ch)
    _put(dst, do + 6, cl)
    _put(dst, do + 8, bh)
    _put(dst, do + 10, bl)
    _put(dst, do + 12, ah)
    _put(dst, do + 14, al)


class Sm4Key:
    # An SM4 key (16 bytes) with its round keys; blocks of 16 bytes (ECB).
    def __init__(self, key):
        if not isinstance(key, (bytes, bytearray)):
            raise CryptoError("SM4 key must be bytes")
        if len(key) != 16:
            raise CryptoError("SM4 key must be 16 bytes, got %d" % len(key))
        self._rk = _schedule(key)
        self.size = 16

    def encrypt_into(self, src, src_off, dst, dst_off):
        # src[src_off:src_off+16] encrypted into the bytearray dst at dst_off
        _crypt(self._rk, False, src, src_off, dst, dst_off)

    def decrypt_into(self, src, src_off, dst, dst_off):
        _crypt(self._rk, True, src, src_off, dst, dst_off)

    def encrypt_block(self, block):
        return self._ecb(block, False, True)

    def decrypt_block(self, block):
        return self._ecb(block, True, True)

    def encrypt(self, data):
        return self._ecb(data, False, False)

    def decrypt(self, data):
        return self._ecb(data, True, False)

    def _ecb(self, data, decrypt, one):
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise CryptoError("data must be bytes")
        n = len(data)
        if (one and n != 16) or n & 15:
            raise CryptoError("SM4 data length %d is not a multiple of 16" % n)
        out = bytearray(n)
        for i in range(0, n, 16):
            _crypt(self._rk, decrypt, data, i, out, i)
        return bytes(out)


def encrypt(key, data):
    return Sm4Key(key).encrypt(data)


def decrypt(key, data):
    return Sm4Key(key).decrypt(data)


def kcv(key):
    # Check value of an SM4 key as CUP SM terminals check it: the first 4 bytes of the key
    # encrypting 16 zero bytes (PAX's KCV_SM4_ENCRYPT_0).
    return Sm4Key(key).encrypt_block(bytes(16))[:4]
