import pytest
from pos import iso8583, mac
from pos.iso8583 import Iso8583Error
from posterm.isotool import describe

MAK = bytes.fromhex("89ABCDEF01234567")
F_0200 = bytes.fromhex(
    "008060000300006031000000000200702404C020C09811196212142000000000012000000000000001"
    "0000000002291202100012376212142000000000012D29122206899031006031323334353637383132"
    "3334353637383930313233343531353642171B9345064D932600000000000000001122000001000041"
    "37364235353934"
)


def _lines(text):
    return text.splitlines()


def test_describe_full_frame_shows_len_tpdu_header_mti_and_bitmap():
    text = describe(F_0200)
    lines = _lines(text)
    assert lines[0].startswith("LEN ") and lines[0].endswith("128 (0080)")
    assert "dest 0003, source 0000" in lines[1]
    assert lines[2].endswith("603100000000")
    assert lines[3].endswith("0200")
    assert lines[4].endswith("702404C020C09811 [2 3 4 11 14 22 25 26 35 41 42 49 52 53 60 64]")


def test_describe_masks_pan_track_and_pin_block():
    text = describe(F_0200)
    assert "6212142000000000012" not in text
    assert "29122206899031006" not in text
    pan = next(line for line in _lines(text) if line.startswith("F002 PAN "))
    assert pan.endswith(" 621214*********0012")
    track = next(line for line in _lines(text) if line.startswith("F035 "))
    assert track.endswith(" 621214*********0012=*****************")
    pin = next(line for line in _lines(text) if line.startswith("F052 "))
    assert pin.endswith(" (8 bytes)")
    assert "42171B93" not in text


def test_describe_splits_field_60():
    lines = _lines(describe(F_0200))
    assert any(line.strip().startswith("60.1") and line.endswith(" 22") for line in lines)
    assert any(line.strip().startswith("60.2") and line.endswith(" 000001") for line in lines)
    assert any(line.strip().startswith("60.3") and line.endswith(" 000") for line in lines)


def test_describe_accepts_a_bare_body_and_hex_text():
    body = iso8583.unpack_frame(F_0200)[2]
    text = describe(body)
    assert _lines(text)[0].endswith("0200")
    assert "TPDU" not in text
    assert describe(F_0200.hex()) == describe(F_0200)


def test_describe_checks_the_mac_when_given_the_mak():
    assert _lines(describe(F_0200, mak=MAK))[-1] == "MAC: OK"
    other = bytes.fromhex("0123456789ABCDEF")
    assert _lines(describe(F_0200, mak=other))[-1].startswith("MAC: MISMATCH (expected ")
    assert "A76B5594" not in _lines(describe(F_0200, mak=other))[-1]


def test_describe_reports_a_mac_mismatch_with_the_expected_value():
    tampered = bytearray(F_0200)
    tampered[-9] ^= 0x10  # field 60 digit 11: 60.3 becomes 001
    body = iso8583.unpack_frame(bytes(tampered))[2]
    want = mac.ecb_mac(MAK, iso8583.mab(iso8583.decode(body))).decode()
    assert want != "A76B5594"
    assert (
        describe(bytes(tampered), mak=MAK).splitlines()[-1] == f"MAC: MISMATCH (expected {want})"
    )


def test_describe_with_binary_mac_algorithms():
    msg = iso8583.decode(iso8583.unpack_frame(F_0200)[2])
    msg[64] = mac.compute("x9.19", MAK, iso8583.mab(msg))
    body = iso8583.encode(msg)
    assert describe(body, mak=MAK, algo="x9.19").splitlines()[-1] == "MAC: OK"
    assert describe(body, mak=MAK, algo="x9.9").splitlines()[-1] == "MAC: OK"
    assert describe(body, mak=MAK, algo="ecb").splitlines()[-1].startswith("MAC: MISMATCH")


def test_describe_raises_iso8583_error_on_bad_input():
    with pytest.raises(Iso8583Error):
        describe(F_0200[:-3])
    with pytest.raises(Iso8583Error):
        describe(b"\x02")
    with pytest.raises(Iso8583Error):
        describe("zz")
