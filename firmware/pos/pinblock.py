# ISO 9564 format 0 (ANSI X9.8) PIN blocks (reference 4.5), and the SM4 PIN block of a
# terminal signed in with SM keys: format 0 widened to SM4's 16-byte block, PIN field
# 0 L PIN F.. (32 nibbles) XOR PAN field 20 zeros + the 12 PAN digits before the check
# digit, SM4-ECB under the PIK (PAX: ped.getPinBlockSM4 with ISO9564_0; the worked example
# of https://blog.csdn.net/M_Kerry/article/details/104625499: PIN 123654, PAN
# 6230606601007726888 -> 06123654FFFFFFFFFFFF99FEFF88D977 before encryption).
from pos.des import DesKey


class PinBlockError(ValueError):
    pass


def _pan_field(pan):
    # 0000 + the 12 rightmost PAN digits excluding the check digit, as 8 bytes.
    if type(pan) is not str or not pan.isdigit() or len(pan) < 2 or len(pan) > 19:
        raise PinBlockError("PAN must be 2..19 digits")
    digits = pan[-13:-1]
    digits = "0" * (12 - len(digits)) + digits
    return bytes.fromhex("0000" + digits)


def clear_block(pin, pan, size=8):
    # size 8: ISO 9564 format 0; 16: the SM4 block (the PAN field right-aligned in it)
    if type(pin) is not str or not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise PinBlockError("PIN must be 4..12 digits")
    text = "0" + "0123456789ABC"[len(pin)] + pin
    text += "F" * (2 * size - len(text))
    block = bytearray(bytes.fromhex(text))
    p = _pan_field(pan)
    for i in range(8):
        block[size - 8 + i] ^= p[i]
    return bytes(block)


_last = [None, None]  # one-entry cache: (PIK bytes, DesKey); the PIK changes at sign-in


def _key(pik):
    # the PIK's DesKey: its key schedule (two on MicroPython: ~2 ms) once per PIK
    if _last[0] != pik:
        _last[1] = DesKey(pik)
        _last[0] = bytes(pik)
    return _last[1]


def encrypt(pik, pin, pan):
    return _key(pik).encrypt_block(clear_block(pin, pan))


def encrypt_sm4(pik, pin, pan):
    # the 16-byte SM4 PIN block (field 52 of a terminal signed in with SM keys)
    from pos.sm4 import Sm4Key

    return Sm4Key(pik).encrypt_block(clear_block(pin, pan, 16))


def decrypt_pin(pik, block, pan):
    # Host side: recover the PIN from an encrypted format-0 block: 8 bytes under 3DES, or
    # 16 under SM4 (the SM4 PIN block).
    if not isinstance(block, (bytes, bytearray)) or len(block) not in (8, 16):
        raise PinBlockError("PIN block must be 8 bytes (16 with SM keys)")
    if len(block) == 16:
        from pos.sm4 import Sm4Key

        clear = bytearray(Sm4Key(pik).decrypt_block(block))
    else:
        clear = bytearray(DesKey(pik).decrypt_block(block))
    size = len(block)
    p = _pan_field(pan)
    for i in range(8):
        clear[size - 8 + i] ^= p[i]
    text = clear.hex()
    if text[0] != "0":
        raise PinBlockError(f"not a format 0 PIN block (control nibble {text[0].upper()})")
    n = int(text[1], 16)
    if not 4 <= n <= 12:
        raise PinBlockError(f"PIN length {n} is outside 4..12")
    pin = text[2 : 2 + n]
    if not pin.isdigit():
        raise PinBlockError("PIN digits are not decimal")
    if text[2 + n :] != "f" * (2 * size - 2 - n):
        raise PinBlockError("PIN block filler is not all F")
    return pin
