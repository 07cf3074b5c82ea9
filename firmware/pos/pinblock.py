# ISO 9564 format 0 (ANSI X9.8) PIN blocks (reference 4.5); the 16-byte SM4 PIN block of a
# terminal signed in with SM keys is pos.smkeys' (encrypt_sm4, decrypt_pin dispatch there).
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


def clear_block(pin, pan):
    if type(pin) is not str or not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise PinBlockError("PIN must be 4..12 digits")
    text = "0" + "0123456789ABC"[len(pin)] + pin
    text += "F" * (16 - len(text))
    block = bytearray(bytes.fromhex(text))
    p = _pan_field(pan)
    for i in range(8):
        block[i] ^= p[i]
    return bytes(block)


def encrypt(pik, pin, pan):
    # no cache of the PIK's DesKey: on a board this module is loaded for one request's
    # encoding (pos.comm) and its key schedule (~3 KB on the x64 unix port) would stay in
    # the heap while the MAC is computed, the peak of the exchange
    return DesKey(pik).encrypt_block(clear_block(pin, pan))


def encrypt_sm4(pik, pin, pan):
    # the 16-byte SM4 PIN block (field 52 of a terminal signed in with SM keys)
    from pos import smkeys

    return smkeys.pin_block(pik, pin, pan)


def decrypt_pin(pik, block, pan):
    # Host side: recover the PIN from an encrypted format-0 block: 8 bytes under 3DES, or
    # the 16-byte SM4 PIN block.
    if not isinstance(block, (bytes, bytearray)) or len(block) not in (8, 16):
        raise PinBlockError("PIN block must be 8 bytes (16 with SM keys)")
    if len(block) == 16:
        from pos import smkeys

        clear = smkeys.clear_of_pin_block(pik, block, pan)
    else:
        clear = bytearray(DesKey(pik).decrypt_block(block))
        p = _pan_field(pan)
        for i in range(8):
            clear[i] ^= p[i]
    size = len(block)
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
