# Card numbers at rest. The journal and the pending reversal keep the PAN encrypted
# under the terminal's own data key (a real terminal keeps it in its secure element):
# 16 random bytes (3DES, double length) made the first time a PAN is stored, in their
# own file (pan.key, with a copy in pan.key.bak), never sent and never shown. A stored
# record holds the PAN masked 6+4 (what every screen, slip and log shows) and, under
# "pan_enc", 8 random IV bytes + 3DES-CBC of the PAN's BCD (length digit pair + digits,
# F-padded to 16 bytes; the padding is checked when it is opened), as hex. Only the
# flows that need the whole number (void and refund check the card, the batch upload
# names it) open it, one record at a time.
KEY_FILE = "pan.key"
SEALED = "pan_enc"


def random_bytes(n):
    try:
        import os

        return os.urandom(n)
    except (ImportError, AttributeError, OSError, NotImplementedError):
        import random

        out = bytearray(n)
        for i in range(n):
            out[i] = random.getrandbits(8)
        return bytes(out)


def mask(pan):
    # 6 + 4 shown, the middle masked (pos.ui.mask_pan, without loading the UI)
    if len(pan) <= 10:
        return pan
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


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


def _all_digits(s):
    for ch in s:
        if ch < "0" or ch > "9":
            return False
    return True


class Vault:
    def __init__(self, storage):
        self.storage = storage
        self._des = None

    def _key(self, make):
        if self._des is not None:
            return self._des
        key = None
        for name in (KEY_FILE, KEY_FILE + ".bak"):
            data = self.storage.read(name)
            if data is not None and len(data) == 16:
                key = data
                break
        if key is None:
            if not make:
                return None
            key = random_bytes(16)
            self.storage.write(KEY_FILE + ".bak", key)
            self.storage.write(KEY_FILE, key)
        from pos import des  # loaded with the first PAN sealed or opened, not at start

        self._des = des.DesKey(key)
        return self._des

    def seal(self, pan):
        # -> hex of IV + 3DES-CBC(BCD(pan))
        k = self._key(True)
        iv = random_bytes(8)
        p = _bcd(pan)
        out = bytearray(24)
        out[0:8] = iv
        blk = bytearray(8)
        prev = iv
        for i in (0, 8):
            for j in range(8):
                blk[j] = p[i + j] ^ prev[j]
            k.encrypt_into(blk, 0, out, 8 + i)
            prev = out[8 + i : 16 + i]
        return bytes(out).hex()

    def open(self, sealed):
        # -> the PAN, or "" when it cannot be read (no key, damaged)
        try:
            data = bytes.fromhex(sealed)
        except (ValueError, TypeError):
            return ""
        if len(data) != 24:
            return ""
        k = self._key(False)
        if k is None:
            return ""
        plain = bytearray(16)
        blk = bytearray(8)
        for i in (0, 8):
            k.decrypt_into(data, 8 + i, blk, 0)
            for j in range(8):
                plain[i + j] = blk[j] ^ data[i + j]
        return _unbcd(bytes(plain))

    # -- records --------------------------------------------------------------------
    def seal_fields(self, rec, field):
        # -> a copy of rec for the disk: rec[field] masked, the PAN sealed
        pan = rec.get(field)
        if not pan or not _all_digits(pan):
            return rec
        out = {}
        for k in rec:
            out[k] = rec[k]
        out[field] = mask(pan)
        out[SEALED] = self.seal(pan)
        return out

    def pan(self, rec, field):
        # the whole PAN of a stored record ("" when it cannot be read)
        sealed = rec.get(SEALED)
        if sealed is None:
            pan = rec.get(field, "")  # a record written before PANs were sealed
            return pan if _all_digits(pan) else ""
        return self.open(sealed)

    def open_fields(self, rec, field):
        # in place: rec[field] = the whole PAN again (for a message to the center)
        if SEALED in rec:
            pan = self.open(rec[SEALED])
            del rec[SEALED]
            if pan:
                rec[field] = pan
        return rec
