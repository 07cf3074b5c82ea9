import pytest
from pos import iso8583, mac
from pos.iso8583 import Iso8583Error
from posterm.isotool import describe
import refframes  # tests/core/refframes.py: the reference's frames, one copy

MAK = bytes.fromhex("89ABCDEF01234567")
F_0200 = bytes.fromhex(refframes.F_0200)


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


# -- the reference's public frames, and what real hosts send (issue 12) ---------------------
E_0800, F_0800, F_0810 = refframes.E_0800, refframes.F_0800, refframes.F_0810


def _cli(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "posterm.cli", "iso", "decode", *args],
                          capture_output=True, text=True, timeout=60)


def test_the_reference_frames_decode_and_the_mac_verifies():
    # every frame of the reference's vectors through `posterm iso decode`, as a user runs it:
    # E (a real 0800 from public code: no MAC to check), F's 0800 / 0810 / 0200 (the 0200's
    # MAC verifies with F's MAK; a wrong key says MISMATCH)
    for frame, want in ((E_0800, ("28800788", "  60.3 network code ...... 004")),
                        (F_0800, ("F063",)), (F_0810, ("(40 bytes)",))):
        r = _cli(frame)
        assert r.returncode == 0, r.stderr
        for text in want:
            assert text in r.stdout, (text, r.stdout)
    r = _cli(F_0200.hex(), "--mak", MAK.hex())
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "MAC: OK"
    r = _cli(F_0200.hex(), "--mak", "0123456789ABCDEF")
    assert r.returncode == 1 and "MISMATCH" in r.stdout.splitlines()[-1]


def _real_host_reply(**variant):
    import realhost

    host = realhost.RealHost(**variant)
    try:
        mak = bytes.fromhex("89ABCDEF01234567")
        host.keys["12345678"] = {"mak": mak, "pik": bytes(16), "tdk": None, "layout": 40}
        req = {2: "6212142000000000012", 3: "000000", 4: "000000010000", 11: "000007",
               41: b"12345678", 42: b"898310048990001", 49: b"156", 60: "2200000100020"}
        req[64] = bytes(8)
        body = bytearray(realhost.build("0200", req))
        body[-8:] = realhost.ecb_mac(mak, bytes(body[:-8]))
        frame = realhost.frame(bytes.fromhex("6000030000"), bytes.fromhex("603100000000"),
                               bytes(body))
        return host.answer(frame[2:]), mak
    finally:
        host.close()


def test_gbk_in_63_shows_as_chinese_and_the_card_organisation_by_name():
    frame, mak = _real_host_reply(gbk63=True)
    text = describe(frame, mak=mak)
    assert "63.1 card organisation" in text and "CUP (China UnionPay 中国银联)" in text
    line = next(x for x in text.splitlines() if "63.2" in x)
    assert "中国工商银行" in line and "银联商务" in line
    assert text.splitlines()[-1] == "MAC: OK"


def test_f_pads_and_a_long_60_verify_over_the_bytes_received():
    frame, mak = _real_host_reply(fpad=True)
    body = iso8583.unpack_frame(frame)[2]
    assert iso8583.encode(iso8583.decode(body)) != body, "a re-encoding differs (F pads)"
    assert describe(frame, mak=mak).splitlines()[-1] == "MAC: OK"
    frame, mak = _real_host_reply(fpad=True, long60=True)
    text = describe(frame, mak=mak)
    assert text.splitlines()[-1] == "MAC: OK"
    f60 = next(x for x in text.splitlines() if x.startswith("F060"))
    assert f60.endswith(" 2200000100020000000")


def test_the_readme_example_frame_decodes_as_shown_and_its_mac_verifies():
    import pathlib

    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    i = readme.index("$ posterm iso decode 00BD")
    j = readme.index(" --mak ", i)
    hexs = readme[i + len("$ posterm iso decode ") : j].replace("\\\n    ", "")
    text = describe(hexs, mak=bytes.fromhex("89ABCDEF01234567"))
    assert text.splitlines()[-1] == "MAC: OK"
    for line in ("  63.1 card organisation .. CUP (China UnionPay 中国银联)",
                 "  60.4 read capability ... 2"):
        assert line in text.splitlines() and line in readme


def test_the_readme_sm_example_verifies_with_the_sm_mac_only():
    import pathlib

    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    i = readme.index("$ posterm iso decode 007D")
    j = readme.index(" --mak ", i)
    hexs = readme[i + len("$ posterm iso decode ") : j].replace("\\\n    ", "")
    mak = readme[j + len(" --mak ") :].split()[0]
    r = _cli(hexs, "--mak", mak, "--algo", "sm4")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[-1] == "MAC: OK"
    for line in ("F052 PIN block ........... (16 bytes) SM4 PIN block",
                 "F064 MAC ................. 3538343838383844 (5848888D)"):
        assert line in out and line in readme
    r = _cli(hexs, "--mak", mak)  # the 3DES "ECB" MAC does not verify an SM MAC
    assert r.returncode == 1 and r.stdout.splitlines()[-1].startswith("MAC: MISMATCH")
