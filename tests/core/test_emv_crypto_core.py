# pos.emv.crypto: card keys and cryptograms (EMV Book 2 Annex A, as CUP uses them). The
# known answers are the published examples of pyemv's documentation; tests/test_emv_interop.py
# checks many more against pyemv and cryptography on CPython.
from mptest import eq, raises, true
from pos.des import CryptoError
from pos.emv import crypto

H = bytes.fromhex
IMK = H("0123456789ABCDEFFEDCBA9876543210")


def test_icc_master_key_option_a_from_pan_and_sequence_number():
    eq(
        crypto.icc_master_key(IMK, "12345678901234567", "01"),
        H("73AD54688CEF2934B0979857E3C719F1"),
    )
    # a 2-digit sequence number given as an int reads the same
    eq(
        crypto.icc_master_key(IMK, "12345678901234567", 1),
        crypto.icc_master_key(IMK, "12345678901234567", "01"),
    )


def test_short_pan_is_zero_padded_on_the_left():
    # PAN || PSN of 14 digits is 00 + those digits
    from pos.des import DesKey

    a = crypto.icc_master_key(IMK, "123456789012", "34")
    y = H("0012345678901234")
    raw = DesKey(IMK).encrypt(y + bytes(x ^ 0xFF for x in y))
    eq(a, crypto.odd_parity(raw))


def test_keys_come_out_with_odd_parity():
    for b in crypto.icc_master_key(IMK, "6212142000000000012", "01"):
        ones = 0
        while b:
            ones += b & 1
            b >>= 1
        eq(ones & 1, 1)


def test_common_session_key_from_the_atc():
    eq(crypto.session_key(IMK, H("001C")), H("E9FB384AF807B940FEDCEA613461B0C4"))
    true(crypto.session_key(IMK, H("001D")) != crypto.session_key(IMK, H("001C")))


def test_cryptogram_is_iso9797_alg3_with_padding_method_2():
    sk = H("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB")
    data = H("000000002000000000000000012400000080000124110309003804823E58000001")
    eq(crypto.cryptogram(sk, data), H("3B76CF10FECD8789"))
    eq(crypto.pad2(H("01")), H("0180000000000000"))
    eq(crypto.pad2(bytes(8)), bytes(8) + H("8000000000000000"))


def test_arpc_method_1():
    sk = H("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB")
    eq(crypto.arpc1(sk, H("1234567890ABCDEF"), H("0000")), H("F5E6F44147E2F1B0"))
    true(
        crypto.arpc1(sk, H("1234567890ABCDEF"), b"05")
        != crypto.arpc1(sk, H("1234567890ABCDEF"), b"00")
    )


def test_ac_data_is_cdol1_data_aip_atc_and_the_cvr_of_the_iad():
    iad = H("07010103A00000")
    eq(crypto.ac_data(H("AABB"), H("1C00"), H("0007"), iad), H("AABB1C00000703A00000"))
    with raises(CryptoError):
        crypto.ac_data(H("AABB"), H("1C00"), H("0007"), H("0701"))


def test_bad_keys_and_inputs_are_refused_with_crypto_error():
    with raises(CryptoError, match="16 bytes"):
        crypto.icc_master_key(IMK[:8], "6212142000000000012", "01")
    with raises(CryptoError, match="digits"):
        crypto.icc_master_key(IMK, "6212-142", "01")
    with raises(CryptoError, match="ATC"):
        crypto.session_key(IMK, H("01"))
    with raises(CryptoError):
        crypto.arpc1(IMK, H("00"), b"00")
    true(crypto.same(H("0102"), H("0102")) and not crypto.same(H("0102"), H("0103")))
