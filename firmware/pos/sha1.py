# SHA-1 (FIPS 180-4 §6.1) in Python, for the runtimes whose hashlib has none: the
# WebAssembly build of MicroPython, a Pico without networking. Used only to check a CA
# public key's check sum when the center downloads the keys (pos.flows.icload): a few
# hundred bytes, a few times a year, so its speed does not matter. digest(data) -> 20 bytes.

_M = 0xFFFFFFFF


def _rotl(x, n):
    return ((x << n) | (x >> (32 - n))) & _M


def digest(data):
    data = bytes(data)
    n = len(data)
    # the message, a 1 bit, zeros to 56 mod 64, its length in bits (64-bit big-endian)
    pad = b"\x80" + b"\x00" * ((55 - n) % 64) + (n * 8).to_bytes(8, "big")
    msg = data + pad
    h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]
    w = [0] * 80
    for off in range(0, len(msg), 64):
        for i in range(16):
            w[i] = int.from_bytes(msg[off + 4 * i : off + 4 * i + 4], "big")
        for i in range(16, 80):
            w[i] = _rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1)
        a, b, c, d, e = h
        for i in range(80):
            if i < 20:
                f = (b & c) | (~b & d)
                k = 0x5A827999
            elif i < 40:
                f = b ^ c ^ d
                k = 0x6ED9EBA1
            elif i < 60:
                f = (b & c) | (b & d) | (c & d)
                k = 0x8F1BBCDC
            else:
                f = b ^ c ^ d
                k = 0xCA62C1D6
            a, b, c, d, e = (_rotl(a, 5) + (f & _M) + e + k + w[i]) & _M, a, _rotl(b, 30), c, d
        h = [(h[0] + a) & _M, (h[1] + b) & _M, (h[2] + c) & _M, (h[3] + d) & _M, (h[4] + e) & _M]
    return b"".join(x.to_bytes(4, "big") for x in h)
