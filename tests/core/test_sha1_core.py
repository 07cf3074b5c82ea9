# pos.sha1, the SHA-1 of the runtimes whose hashlib has none (MicroPython's WebAssembly
# build, a Pico without networking): FIPS 180-2 / RFC 3174 vectors on every interpreter, and
# a CA public key's check sum (EMV Book 2 §11.2.2) accepted through it or through hashlib,
# whichever the runtime has. (tests/test_sha1.py checks it against CPython's hashlib.)
from mptest import eq, true

from pos import sha1
from pos.flows import icload

VECTORS = (
    (b"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    (b"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
    (
        b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
    ),
    (b"The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
)


def test_sha1_gives_the_published_digests():
    for data, want in VECTORS:
        eq(sha1.digest(data).hex(), want, data)
        eq(sha1.digest(bytearray(data)).hex(), want, "a bytearray alike")


def _key(modulus, checksum):
    return {
        0x9F06: bytes.fromhex("A000000333"),
        0x9F22: b"\x01",
        0xDF06: b"\x01",
        0xDF02: modulus,
        0xDF04: b"\x03",
        0xDF03: checksum,
    }


def test_a_ca_key_s_check_sum_is_checked_on_every_runtime():
    # before, a runtime without hashlib.sha1 refused every key the center sent
    modulus = bytes(range(1, 177))
    good = bytes.fromhex("c89a41573465056bdf8639eb95caceb1b4d80856")
    true(icload._checksum_ok(_key(modulus, good)), "the right check sum")
    bad = bytes((good[0] ^ 1,)) + good[1:]
    true(not icload._checksum_ok(_key(modulus, bad)), "one bit flipped")
    k = _key(modulus, good)
    k[0xDF06] = b"\x02"
    true(not icload._checksum_ok(k), "another hash algorithm")
