# pos.sha1 against CPython's hashlib (OpenSSL's SHA-1: code nobody here wrote), at every
# length across the padding's block boundaries (55, 56, 63, 64, 119, 120 ...).
import hashlib

from pos import sha1


def test_sha1_agrees_with_hashlib_at_every_length_to_300_bytes():
    for n in range(301):
        data = bytes((i * 7 + n) & 0xFF for i in range(n))
        assert sha1.digest(data) == hashlib.sha1(data).digest(), n
