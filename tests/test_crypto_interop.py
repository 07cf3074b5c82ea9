"""DES/3DES, MACs and PIN blocks against `cryptography`, crcmod and zlib."""

import warnings
import zlib

import crcmod.predefined
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from hypothesis import given, settings
from hypothesis import strategies as st
from pos import crc, des, iso8583, mac, pinblock
import refframes  # tests/core/refframes.py: the reference's frames, one copy

H = bytes.fromhex
MAK = H("89ABCDEF01234567")
PIK = H("0123456789ABCDEFFEDCBA9876543210")
TAK_B = H("C24A8FB57AA20123")


def _full(key):
    # cryptography's TripleDES: a single DES key is K||K||K, a double-length one K1||K2||K1.
    if len(key) == 8:
        return key * 3
    if len(key) == 16:
        return key + key[:8]
    return key


def _ecb(key, data, decrypt=False):
    cipher = Cipher(TripleDES(_full(key)), modes.ECB())
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    return ctx.update(data) + ctx.finalize()


def _cbc_last(key, data):
    ctx = Cipher(TripleDES(_full(key)), modes.CBC(bytes(8))).encryptor()
    return (ctx.update(data) + ctx.finalize())[-8:]


def _pad00(data):
    return data + bytes(-len(data) % 8) if data else bytes(8)


keys = st.sampled_from((8, 16, 24)).flatmap(lambda n: st.binary(min_size=n, max_size=n))
blocks = st.integers(1, 8).flatmap(lambda n: st.binary(min_size=8 * n, max_size=8 * n))


@settings(max_examples=300, deadline=None)
@given(keys, blocks)
def test_des_and_3des_match_cryptography(key, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = _ecb(key, data)
        assert des.encrypt(key, data) == want
        assert des.decrypt(key, want) == data
        assert des.DesKey(key).decrypt(_ecb(key, data)) == data


def test_kcvs_of_vector_c():
    assert des.kcv(H("0123456789ABCDEF")) == _ecb(H("0123456789ABCDEF"), bytes(8))[:4]
    assert des.kcv(H("0123456789ABCDEF")) == H("D5D44FF7")
    assert des.kcv(PIK) == H("08D7B4FB")


def test_ecb_mac_vectors_b_and_f():
    assert mac.ecb_mac(TAK_B, H("4D08F434464FE7BF")) == b"8A9E91B8"
    body = H(refframes.F_0200_BODY)
    assert mac.compute("ecb", MAK, iso8583.mab(iso8583.decode(body))) == b"A76B5594"


def _ecb_mac_by_cryptography(key, mab):
    data = _pad00(mab) if mab else b""
    r = bytearray(8)
    for i, b in enumerate(data):
        r[i % 8] ^= b
    h = r.hex().upper().encode()
    e1 = _ecb(key, h[:8])
    e2 = _ecb(key, bytes(a ^ b for a, b in zip(e1, h[8:], strict=True)))
    return e2[:4].hex().upper().encode()


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=8, max_size=8), st.binary(max_size=300))
def test_ecb_mac_matches_a_cryptography_computation(key, mab):
    assert mac.ecb_mac(key, mab) == _ecb_mac_by_cryptography(key, mab)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=8, max_size=8), st.binary(max_size=300))
def test_x99_is_cbc_mac_with_zero_padding(key, mab):
    assert mac.x99_mac(key, mab) == _cbc_last(key, _pad00(mab))


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.binary(max_size=300))
def test_x919_is_iso9797_algorithm_3(key, mab):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chain = _cbc_last(key[:8], _pad00(mab))
        want = _ecb(key[:8], _ecb(key[8:], chain, decrypt=True))
    assert mac.x919_mac(key, mab) == want
    assert mac.compute("x9.19", key, mab) == want
    assert mac.verify("x9.19", key, mab, want)


def test_pin_block_by_hand_and_under_cryptography():
    pan = "6212142000000000012"
    clear = bytes(a ^ b for a, b in zip(H("06123456FFFFFFFF"), H("0000200000000001"), strict=True))
    assert pinblock.clear_block("123456", pan) == clear
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert pinblock.encrypt(PIK, "123456", pan) == _ecb(PIK, clear)


@settings(max_examples=200, deadline=None)
@given(
    st.text("0123456789", min_size=4, max_size=12),
    st.text("0123456789", min_size=13, max_size=19),
    st.binary(min_size=16, max_size=16),
)
def test_pin_block_round_trips(pin, pan, pik):
    assert pinblock.decrypt_pin(pik, pinblock.encrypt(pik, pin, pan), pan) == pin


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000), st.integers(0, 0xFFFFFFFF))
def test_crc32_equals_zlib(data, start):
    assert crc.crc32(data) == zlib.crc32(data)
    assert crc.crc32(data, start) == zlib.crc32(data, start)


_CRC16 = crcmod.predefined.mkCrcFun("crc-ccitt-false")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_crc16_ccitt_false_equals_crcmod(data):
    assert crc.crc16_ccitt(data) == _CRC16(data)


# -- SM4 (国密) against cryptography's SM4 ------------------------------------------------------
def _sm4(key, data, decrypt=False):
    from cryptography.hazmat.primitives.ciphers import algorithms

    ctx = Cipher(algorithms.SM4(key), modes.ECB())
    ctx = ctx.decryptor() if decrypt else ctx.encryptor()
    return ctx.update(data) + ctx.finalize()


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.binary(min_size=0, max_size=6).map(len))
def test_sm4_matches_cryptography(key, blocks):
    from pos import sm4

    data = bytes(range(16 * blocks))
    assert sm4.encrypt(key, data) == _sm4(key, data)
    assert sm4.decrypt(key, _sm4(key, data)) == data


@settings(max_examples=40, deadline=None)
@given(st.binary(min_size=16, max_size=16), st.binary(max_size=300))
def test_sm_mac_matches_its_description_over_cryptography_sm4(key, mab):
    padded = mab + bytes(-len(mab) % 16)
    r = bytes(16)
    for i in range(0, len(padded), 16):
        r = bytes(a ^ b for a, b in zip(r, padded[i : i + 16], strict=True))
    h = r.hex().upper().encode()
    e1 = _sm4(key, h[:16])
    want = _sm4(key, bytes(a ^ b for a, b in zip(e1, h[16:], strict=True)))[:4].hex().upper()
    assert mac.compute("sm4", key, mab) == want.encode()


def test_sm4_pin_block_and_sm_keys_against_cryptography():
    from pos import keyload, sm4

    tmk = H("1234567890ABCDEFABCDEF0987654321")
    pik, mak, tdk = H("00" * 8 + "11" * 8), H("22" * 16), H("33" * 8 + "44" * 8)
    f62 = keyload.pack_signin_keys_sm(tmk, pik, mak, tdk)
    kcv = lambda k: _sm4(k, bytes(16))[:4]  # noqa: E731
    assert f62 == _sm4(tmk, pik) + kcv(pik) + _sm4(tmk, mak) + kcv(mak) + _sm4(tmk, tdk) + kcv(tdk)
    assert sm4.kcv(pik) == kcv(pik)
    pan = "6212142000000000012"
    clear = bytes(
        a ^ b
        for a, b in zip(
            bytes.fromhex("06123456" + "F" * 24),
            bytes.fromhex("0" * 20 + pan[-13:-1]),
            strict=True,
        )
    )
    assert pinblock.encrypt_sm4(pik, "123456", pan) == _sm4(pik, clear)
