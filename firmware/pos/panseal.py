# The PAN's seal (pos.vault): 3DES-CBC of its BCD under the terminal's own key, then a
# 4-byte CBC-MAC over IV + ciphertext under a variant of that key, so that a damaged or
# altered seal opens to nothing rather than to another card number. A module of its own
# so that a board loads it, and pos.des, for the call only.
from pos import des


def _all_digits(s):
    for ch in s:
        if ch < "0" or ch > "9":
            return False
    return True


def _bcd(pan):
    # "%02d" % len(pan) + pan, F-padded, packed into 16 bytes (19 digits fit)
    text = str(len(pan) // 10) + str(len(pan) % 10) + pan
    while len(text) < 32:
        text += "F"
    return bytes.fromhex(text)


def _unbcd(block):
    text = block.hex()
    if not _all_digits(text[:2]):
        return ""
    n = int(text[:2])
    pan = text[2 : 2 + n]
    if n > 19 or len(pan) != n or not _all_digits(pan):
        return ""
    for ch in text[2 + n :]:  # the F padding doubles as a check (>= 44 bits)
        if ch != "f":
            return ""
    return pan


def _mac_key(key):
    # a variant of the data key for the seal's MAC (encrypt, then MAC the result)
    v = bytearray(key)
    for i in range(len(v)):
        v[i] ^= 0xF0
    return des.DesKey(bytes(v))


def _mac(key, data):
    # 3DES CBC-MAC of data (a multiple of 8 bytes) under the variant key -> 4 bytes
    k = _mac_key(key)
    acc = bytearray(8)
    out = bytearray(8)
    for i in range(0, len(data), 8):
        for j in range(8):
            acc[j] = out[j] ^ data[i + j]
        k.encrypt_into(acc, 0, out, 0)
    return bytes(out[:4])


def seal(key, iv, pan):
    # -> hex of iv + 3DES-CBC(BCD(pan)) + MAC (4 bytes) under key (16 bytes)
    k = des.DesKey(key)
    p = _bcd(pan)
    out = bytearray(28)
    out[0:8] = iv
    blk = bytearray(8)
    prev = iv
    for i in (0, 8):
        for j in range(8):
            blk[j] = p[i + j] ^ prev[j]
        k.encrypt_into(blk, 0, out, 8 + i)
        prev = out[8 + i : 16 + i]
    k = None  # its key schedule is garbage before the MAC key's is built
    out[24:28] = _mac(key, out[0:24])
    return bytes(out).hex()


def open(key, sealed):
    # -> the PAN, or "" when the seal is damaged, altered or not this key's
    try:
        data = bytes.fromhex(sealed)
    except (ValueError, TypeError):
        return ""
    if len(data) != 28 or _mac(key, data[0:24]) != data[24:28]:
        return ""
    k = des.DesKey(key)
    plain = bytearray(16)
    blk = bytearray(8)
    for i in (0, 8):
        k.decrypt_into(data, 8 + i, blk, 0)
        for j in range(8):
            plain[i + j] = blk[j] ^ data[i + j]
    return _unbcd(bytes(plain))
