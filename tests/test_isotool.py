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


def test_a_capture_whose_length_prefix_disagrees_says_cut_short_or_bytes_after():
    # a field capture cut short, or with a byte after the frame: said by its length, not as
    # "mti at offset 0: bad BCD 003c" (the length read as a body's MTI)
    frame = bytes.fromhex("".join(refframes.E_0800.split()))
    assert describe(frame)  # whole: decoded
    with pytest.raises(Iso8583Error, match=r"length prefix says \d+ bytes and \d+ follow: "
                       "the frame is cut short"):
        describe(frame[:-5])
    with pytest.raises(Iso8583Error, match="bytes follow the frame"):
        describe(bytes(frame) + b"\xff")


# -- the reference's public frames, and what real hosts send (issue 12) ---------------------
E_0800, F_0800, F_0810 = refframes.E_0800, refframes.F_0800, refframes.F_0810


def _cli(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "posterm.cli", "iso", "decode", *args],
                          capture_output=True, text=True, timeout=60)


def _fields(out):
    # "F011 Trace ....... 000001" -> {11: "000001"}; subfield lines "  60.3 ..." by their name
    got = {}
    for line in out.splitlines():
        head, _, value = line.partition(" .")
        value = value.lstrip(". ")
        if head[:1] == "F" and head[1:4].isdigit():
            got[int(head[1:4])] = value
        elif head.startswith("  "):
            got[head.split()[0]] = value
    return got


def test_the_reference_frames_decode_with_the_cli_field_by_field():
    # §4.6: E (a real 0800 from public code) and F's 0800 / 0810 / 0200, through `posterm iso
    # decode` as a user runs it, every field the reference states checked
    r = _cli(E_0800)
    assert r.returncode == 0, r.stderr
    got = _fields(r.stdout)
    assert "LEN ...................... 60 (003C)" in r.stdout
    assert "HEADER ................... 603200321702" in r.stdout
    assert (got[11], got[41], got[42], got[60], got[63]) == (
        "000001", "28800788", "936522341118801", "00000001004", "001")
    assert (got["60.1"], got["60.2"], got["60.3"]) == ("00", "000001", "004")
    assert "TPDU ..................... 6006010000 (id 60, dest 0601, source 0000)" in r.stdout
    r = _cli(F_0800)
    assert r.returncode == 0, r.stderr
    got = _fields(r.stdout)
    assert (got[11], got[41], got[42], got[60], got[63]) == (
        "000001", "12345678", "123456789012345", "00000001003", "01 ")
    r = _cli(F_0810)
    assert r.returncode == 0, r.stderr
    got = _fields(r.stdout)
    assert (got[12], got[13], got[32], got[37], got[39], got[60]) == (
        "101530", "0315", "12345678", "031510153001", "00", "00000001003")
    assert got[62] == "(40 bytes) " + refframes.F62_F
    r = _cli(F_0200.hex())
    assert r.returncode == 0, r.stderr
    got = _fields(r.stdout)
    assert (got[2], got[3], got[4], got[22], got[64]) == (
        "621214*********0012", "000000", "000000010000", "021",
        refframes.MAC_F_0200.hex().upper() + " (A76B5594)")


def test_f_signs_in_and_its_0200_mac_verifies_with_the_mak_the_cli_reads_from_field_62():
    # F's 0810 with F's TMK: the CLI reads the working keys as the terminal does (check values
    # 08D7B4FB / 00B8CC69, the ones in F's field 62), and F's 0200 verifies under that MAK
    r = _cli(F_0810, "--tmk", refframes.TMK_F)
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert "KEYS: OK (field 62 of 40 bytes: double length, check values verified)" in out
    keys = {line.split()[0]: line.split()[2] for line in out if line.startswith("  PIK ")
            or line.startswith("  MAK ")}
    assert keys == {"PIK": refframes.PIK_F, "MAK": refframes.MAK_F}
    assert f"  MAK .................... {refframes.MAK_F} (check value 00B8CC69)" in out
    assert f"  PIK .................... {refframes.PIK_F} (check value 08D7B4FB)" in out
    r = _cli(F_0200.hex(), "--mak", keys["MAK"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "MAC: OK"
    r = _cli(F_0200.hex(), "--mak", "0123456789ABCDEF")
    assert r.returncode == 1 and "MISMATCH" in r.stdout.splitlines()[-1]
    # the wrong TMK: refused, exit status 1
    r = _cli(F_0810, "--tmk", "22222222222222221111111111111111")
    assert r.returncode == 1
    assert any(x.startswith("KEYS: REFUSED (PIK: check value mismatch") for x in
               r.stdout.splitlines()), r.stdout


def test_b_tak_decrypts_checks_and_its_mab_verifies_with_the_cli():
    # B: the page's TMK and TAK ciphertext give the clear TAK it states (under `cryptography`
    # and under the terminal's DES), its KCV, and the CLI verifies the ECB MAC over B's MAB
    import warnings

    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes
    from pos import des

    tmk = bytes.fromhex(refframes.TMK_B)
    enc = bytes.fromhex(refframes.TAK_B_CIPHER)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = Cipher(TripleDES(tmk + tmk[:8]), modes.ECB()).decryptor()
        clear = ctx.update(enc) + ctx.finalize()
        kcv = Cipher(TripleDES(clear * 3), modes.ECB()).encryptor().update(bytes(8))[:4]
    assert clear.hex().upper() == refframes.TAK_B
    assert des.decrypt(tmk, enc) == clear
    assert kcv.hex().upper() == refframes.KCV_B == des.kcv(clear).hex().upper()
    mab = bytes.fromhex(refframes.MAB_B)
    r = bytearray(8)
    for i, c in enumerate(mab):
        r[i % 8] ^= c
    assert r.hex().upper() == refframes.XOR_B, "the whole MAB of the page"
    frame = mab + refframes.MAC_B  # the MAC in field 64, as a terminal sends it
    r = _cli(frame.hex(), "--mak", refframes.TAK_B)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "MAC: OK"
    assert _fields(r.stdout)[64] == refframes.MAC_B.hex().upper() + " (8A9E91B8)"


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


@pytest.mark.parametrize("n62", [24, 40, 44, 56, 60, "56x3", 84])
def test_the_cli_reads_the_working_keys_of_every_layout_a_real_host_sends(n62):
    # a sign-in reply of the real-host double (frames by hand, keys by `cryptography`), each
    # layout: `posterm iso decode --tmk` shows the keys the host made, check values verified
    import realhost

    host = realhost.RealHost(layout={"004": n62})
    try:
        req = {11: "000001", 41: b"12345678", 42: b"898310048990001", 60: "00000001004",
               63: b"01 "}  # fmt: skip
        frame = realhost.frame(bytes.fromhex("6000030000"), bytes.fromhex("603100000000"),
                               realhost.build("0800", req))
        reply = host.answer(frame[2:])
        made = host.keys["12345678"]
    finally:
        host.close()
    r = _cli(reply.hex(), "--tmk", realhost.TMK.hex())
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    size = {8: "single", 16: "double", 24: "triple"}[len(made["pik"])]
    assert f"KEYS: OK (field 62 of {made['layout']} bytes: {size} length, check values " \
        "verified)" in out
    shown = {x.split()[0]: x.split()[2] for x in out if x[:6] in ("  PIK ", "  MAK ", "  TDK ")}
    want = {k.upper(): v.hex().upper() for k, v in made.items() if k in ("pik", "mak", "tdk")
            and v is not None}
    assert shown == want


def test_the_readme_real_frame_example_is_what_the_cli_prints():
    # README Protocol: the real sign-in request (vector E) decoded, every line as printed, and
    # the keys of F's 0810 under F's TMK
    import pathlib

    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    i = readme.index("$ posterm iso decode 003C")
    block = readme[i:].split("\n\n")[0].splitlines()
    hexs = (block[0] + block[1]).replace("$ posterm iso decode ", "").replace("\\", "").strip()
    assert hexs.replace(" ", "") == E_0800
    r = _cli(hexs)
    assert r.returncode == 0, r.stderr
    assert [x[4:] for x in block[2:]] == r.stdout.splitlines()
    i = readme.index("$ posterm iso decode 0079")
    block = readme[i:].split("\n\n")[0].splitlines()
    r = _cli(F_0810, "--tmk", block[0].split("--tmk ")[1])
    assert r.returncode == 0
    for line in block[2:]:
        assert line[4:] in r.stdout.splitlines(), line
