# Card numbers at rest. The journal and the pending reversal keep the PAN encrypted
# under the terminal's own data key (a real terminal keeps it in its secure element):
# 16 random bytes (3DES, double length) made the first time a PAN is stored, in their
# own file (pan.key, with a copy in pan.key.bak), never sent and never shown. A stored
# record holds the PAN masked 6+4 (what every screen, slip and log shows) and, under
# "pan_enc", 8 random IV bytes + 3DES-CBC of the PAN's BCD (length digit pair + digits,
# F-padded to 16 bytes) + a 4-byte MAC of both (pos.panseal), as hex. Only the
# flows that need the whole number (void and refund check the card, the batch upload
# names it) open it, one record at a time.
#
# RAM: nothing here stays loaded. pos.journal and pos.state call these functions as an
# overlay (pos.overlay.scope), and the cipher (pos.panseal, with pos.des) goes with them.
import pos  # (the package, always loaded: its random_source; an import in random_bytes
# looked its name up among the interned names twice at each call, ~15,000 instructions)

KEY_FILE = "pan.key"
SEALED = "pan_enc"


def random_bytes(n):
    # The terminal's only source of random bytes. A recording and its replay fix them
    # (tools/posterm/replay sets pos.random_source: a callable n -> bytes); the package
    # stays loaded while this module comes and goes as an overlay.
    src = getattr(pos, "random_source", None)
    if src is not None:
        return src(n)
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


def _all_digits(s):
    for ch in s:
        if ch < "0" or ch > "9":
            return False
    return True


def key(storage, make):
    # -> the terminal's 16 key bytes (made now if there are none and make), or None
    for name in (KEY_FILE, KEY_FILE + ".bak"):
        data = storage.read(name)
        if data is not None and len(data) == 16:
            return data
    if not make:
        return None
    k = random_bytes(16)
    storage.write(KEY_FILE + ".bak", k)
    storage.write(KEY_FILE, k)
    return k


def seal(storage, pan):
    # -> hex of IV + 3DES-CBC(BCD(pan))
    from pos import panseal

    return panseal.seal(key(storage, True), random_bytes(8), pan)


def open_pan(storage, sealed):
    # -> the PAN, or "" when it cannot be read (no key, damaged)
    k = key(storage, False)
    if k is None:
        return ""
    from pos import panseal

    return panseal.open(k, sealed)


# -- records ------------------------------------------------------------------------
def seal_fields(storage, rec, field):
    # -> a copy of rec for the disk: rec[field] masked, the PAN sealed
    pan = rec.get(field)
    if not pan or not _all_digits(pan):
        return rec
    out = {}
    for k in rec:
        out[k] = rec[k]
    out[field] = mask(pan)
    out[SEALED] = seal(storage, pan)
    return out


def pan(storage, rec, field):
    # the whole PAN of a stored record ("" when it cannot be read)
    sealed = rec.get(SEALED)
    if sealed is None:
        p = rec.get(field, "")  # a record written before PANs were sealed
        return p if _all_digits(p) else ""
    return open_pan(storage, sealed)


def open_fields(storage, rec, field):
    # in place: rec[field] = the whole PAN again (for a message to the center) -> rec
    if SEALED in rec:
        p = open_pan(storage, rec[SEALED])
        del rec[SEALED]
        if p:
            rec[field] = p
    return rec
