"""The center's DES, MACs and PIN blocks on OpenSSL (`cryptography`), with one cipher
context per key kept for reuse: the same results as the core's pos.des / pos.mac /
pos.pinblock (checked against them in tests/test_host_crypto.py), at a fraction of the cost.
The terminal's core keeps its own pure-Python DES (it runs on MicroPython); the center is
desktop code and serves a thousand terminals.

Keys are bytes of 8 (single DES), 16 or 24 (triple DES, K1 K2 [K3]).
"""

import hmac
import threading
import warnings
from functools import lru_cache

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # TripleDES lives in `decrepit`: CUP still uses it
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from pos.pinblock import PinBlockError

_ZERO8 = bytes(8)
# What the center still leaves to the core (the SM MAC and PIN block) goes through this lock:
# the core caches its last key in a module global, which two threads (the event loop MACing
# replies, the database thread checking requests) must not interleave on.
_CORE = threading.Lock()
_HEX = b"0123456789ABCDEF"


class CryptoError(ValueError):
    pass


def _checked(key):
    if not isinstance(key, (bytes, bytearray)) or len(key) not in (8, 16, 24):
        raise CryptoError("a DES key is 8, 16 or 24 bytes")
    return bytes(key)


def _full(key):
    """The 24-byte form of a DES key (K K K for single DES, K1 K2 K1 for double)."""
    if len(key) == 8:
        return key * 3
    if len(key) == 16:
        return key + key[:8]
    return key


_ECB = modes.ECB()


def _public_enc(key24):
    return Cipher(TripleDES(key24), _ECB).encryptor()


def _public_dec(key24):
    return Cipher(TripleDES(key24), _ECB).decryptor()


def _fast_contexts():
    """cryptography's own constructors of a cipher context (what Cipher.encryptor() calls
    after ~6 us of checks in Python that a TripleDES key and ECB never need: a sign-in makes
    three contexts for keys it has just drawn), when this version has them and they give the
    public API's results; else the public API's."""
    try:
        from cryptography.hazmat.bindings._rust import openssl as rust_openssl

        new_enc = rust_openssl.ciphers.create_encryption_ctx
        new_dec = rust_openssl.ciphers.create_decryption_ctx
        key, block = bytes(range(1, 25)), bytes(range(8))
        ok = (new_enc(TripleDES(key), _ECB).update(block) == _public_enc(key).update(block)
              and new_dec(TripleDES(key), _ECB).update(block) == _public_dec(key).update(block))
    except Exception:  # noqa: BLE001 - any surprise: the public API
        ok = False
    if not ok:
        return _public_enc, _public_dec
    return (lambda key24: new_enc(TripleDES(key24), _ECB),
            lambda key24: new_dec(TripleDES(key24), _ECB))


_new_enc, _new_dec = _fast_contexts()


@lru_cache(maxsize=8192)
def _enc(key):
    """An ECB encryptor under `key`, reused: ECB keeps no state between blocks."""
    return _new_enc(_full(key))


@lru_cache(maxsize=8192)
def _dec(key):
    return _new_dec(_full(key))


def encrypt(key, data):
    """DES / 3DES ECB of `data` (a multiple of 8 bytes) under `key`."""
    if len(data) % 8:
        raise CryptoError("data must be a multiple of 8 bytes")
    return _enc(_checked(key)).update(bytes(data))


def decrypt(key, data):
    if len(data) % 8:
        raise CryptoError("data must be a multiple of 8 bytes")
    return _dec(_checked(key)).update(bytes(data))


def kcv(key):
    """The key check value: the first 4 bytes of the key's encryption of 8 zero bytes."""
    return encrypt(key, _ZERO8)[:4]


def kcv_once(key):
    """kcv() of a key whose encryptor will not be wanted again (a sign-in's new PIK and
    TDK: the center decrypts under them), so it is not kept among the reused ones."""
    return _new_enc(_full(_checked(key))).update(_ZERO8)[:4]


def _xor_blocks(mab):
    """The XOR of `mab`'s 8-byte blocks (the last one 00-padded), as 8 bytes."""
    data = bytes(mab)
    data += bytes((-len(data)) % 8)
    x = 0
    frombytes = int.from_bytes
    for i in range(0, len(data), 8):
        x ^= frombytes(data[i : i + 8], "big")
    return x.to_bytes(8, "big")


def _hex8(raw):
    return raw.hex().upper().encode("ascii")


def ecb_mac(mak, mab):
    """CUP "ECB" MAC (reference §4.4): XOR the blocks, hex, DES the first half, XOR the
    second, DES again; the first 4 bytes as 8 hex characters."""
    if not isinstance(mab, (bytes, bytearray, memoryview)):
        raise CryptoError("MAC block must be bytes")
    enc = _enc(_checked(mak))
    h = _hex8(_xor_blocks(mab))
    e1 = int.from_bytes(enc.update(h[:8]), "big") ^ int.from_bytes(h[8:], "big")
    e2 = enc.update(e1.to_bytes(8, "big"))
    return _hex8(e2[:4])


def _cbc(key8, mab):
    data = bytes(mab)
    data += bytes((-len(data)) % 8) if data else _ZERO8
    enc = Cipher(TripleDES(_full(key8)), modes.CBC(_ZERO8)).encryptor()
    return enc.update(data)[-8:]


def x99_mac(mak, mab):
    """ANSI X9.9: single-DES CBC-MAC (first 8 bytes of a longer key), 00-padded."""
    if not isinstance(mak, (bytes, bytearray)) or len(mak) < 8:
        raise CryptoError("MAK must be at least 8 bytes")
    return _cbc(bytes(mak[:8]), mab)


def x919_mac(key16, mab):
    """ANSI X9.19 / ISO 9797-1 algorithm 3: CBC under K1, then D(K2), E(K1)."""
    if not isinstance(key16, (bytes, bytearray)) or len(key16) != 16:
        raise CryptoError("X9.19 needs a 16-byte key")
    k1, k2 = bytes(key16[:8]), bytes(key16[8:])
    c = _cbc(k1, mab)
    return _enc(k1).update(_dec(k2).update(c))


def compute(algo, mak, mab):
    """Field 64 for `mab` under `mak` with algorithm ecb / x9.9 / x9.19 (as pos.mac)."""
    if algo == "ecb":
        return ecb_mac(mak, mab)
    if algo == "x9.9":
        return x99_mac(mak, mab)
    if algo == "x9.19":
        if isinstance(mak, (bytes, bytearray)) and len(mak) == 8:
            mak = bytes(mak) + bytes(mak)
        return x919_mac(mak, mab)
    from pos import mac  # the SM MAC (国密, SM4) and whatever else the core defines

    with _CORE:  # the core keeps a one-entry key cache: one thread at a time
        return mac.compute(algo, mak, mab)


def verify(algo, mak, mab, mac):
    """The received field 64 is the MAC of `mab` (compared in constant time)."""
    want = compute(algo, mak, mab)
    if not isinstance(mac, (bytes, bytearray)) or len(mac) != len(want):
        return False
    return hmac.compare_digest(want, bytes(mac))


def signin_keys(tmk, pik, mak):
    """Field 62 of an 003 sign-in (40 bytes): E(PIK) kcv, E(MAK) 00*8 kcv (as
    pos.keyload.pack_signin_keys)."""
    return encrypt(tmk, pik) + kcv_once(pik) + encrypt(tmk, mak) + _ZERO8 + kcv(mak)


def decrypt_pin(pik, block, pan):
    """The PIN of an encrypted ISO format-0 PIN block (as pos.pinblock.decrypt_pin)."""
    if isinstance(block, (bytes, bytearray)) and len(block) == 16:
        from pos import pinblock  # the SM4 PIN block (SM keys)

        with _CORE:
            return pinblock.decrypt_pin(pik, block, pan)
    if not isinstance(block, (bytes, bytearray)) or len(block) != 8:
        raise PinBlockError("PIN block must be 8 bytes (16 with SM keys)")
    if type(pan) is not str or not pan.isdigit() or not 2 <= len(pan) <= 19:
        raise PinBlockError("PAN must be 2..19 digits")
    digits = pan[-13:-1]
    field = bytes.fromhex("0000" + "0" * (12 - len(digits)) + digits)
    clear = bytes(a ^ b for a, b in zip(decrypt(pik, block), field, strict=True))
    text = clear.hex()
    if text[0] != "0":
        raise PinBlockError(f"not a format 0 PIN block (control nibble {text[0].upper()})")
    n = int(text[1], 16)
    if not 4 <= n <= 12:
        raise PinBlockError(f"PIN length {n} is outside 4..12")
    pin = text[2 : 2 + n]
    if not pin.isdigit():
        raise PinBlockError("PIN digits are not decimal")
    if text[2 + n :] != "f" * (14 - n):
        raise PinBlockError("PIN block filler is not all F")
    return pin
