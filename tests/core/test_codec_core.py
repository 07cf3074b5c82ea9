# ISO 8583 codec vectors (reference cup8583.md 4.6 E and F, from refframes); plain functions so
# they also run on MicroPython.
from mptest import eq, raises, true
from pos import iso8583
from pos.iso8583 import Iso8583Error

from refframes import E_0800, F_0200, F_0800, F_0810  # noqa: E402 - the one copy


def _frame(hexstr):
    return bytes.fromhex(hexstr)


def _body(hexstr):
    return iso8583.unpack_frame(_frame(hexstr))[2]


def test_vector_f_0800_decodes_to_its_fields():
    tpdu, header, body = iso8583.unpack_frame(_frame(F_0800))
    eq(tpdu, bytes.fromhex("6000030000"))
    eq(header, bytes.fromhex("603100000000"))
    msg = iso8583.decode(body)
    eq(msg["mti"], "0800")
    eq(msg[11], "000001")
    eq(msg[41], "12345678")
    eq(msg[42], "123456789012345")
    eq(msg[60], "00000001003")
    eq(msg[63], "01 ")
    eq(len(msg), 6)


def test_vector_f_0810_carries_the_sign_in_keys_in_field_62():
    msg = iso8583.decode(_body(F_0810))
    eq(msg["mti"], "0810")
    eq(msg[12], "101530")
    eq(msg[13], "0315")
    eq(msg[32], "12345678")
    eq(msg[37], "031510153001")
    eq(msg[39], "00")
    eq(len(msg[62]), 40)
    eq(msg[62][16:20], bytes.fromhex("08D7B4FB"))


def test_vector_f_0200_decodes_track_entry_mode_and_mac():
    msg = iso8583.decode(_body(F_0200))
    eq(msg[2], "6212142000000000012")
    eq(msg[4], "000000010000")
    eq(msg[22], "021")
    eq(msg[35], "6212142000000000012=29122206899031006")
    eq(msg[52], bytes.fromhex("42171B9345064D93"))
    eq(msg[53], "2600000000000000")
    eq(msg[60], "22000001000")
    eq(msg[64], b"A76B5594")


def test_vector_frames_reencode_byte_identical():
    for hexstr in (F_0800, F_0810, F_0200, E_0800):
        tpdu, header, body = iso8583.unpack_frame(_frame(hexstr))
        eq(iso8583.encode(iso8583.decode(body)), body)
        eq(iso8583.pack_frame(tpdu, header, iso8583.encode(iso8583.decode(body))), _frame(hexstr))


def test_vector_e_real_sign_in_request_decodes():
    msg = iso8583.decode(_body(E_0800))
    eq(msg[41], "28800788")
    eq(msg[42], "936522341118801")
    eq(msg[60], "00000001004")
    eq(msg[63], "001")


def test_odd_fixed_n_fields_align_per_dialect():
    # F22 left-aligned (trailing 0), F23 right-aligned (leading 0)
    body = iso8583.encode({"mti": "0200", 22: "051", 23: "001"})
    eq(body[10:], bytes.fromhex("05100001"))


def test_variable_numeric_length_counts_digits():
    body = iso8583.encode({"mti": "0200", 2: "621214200000000001"})
    eq(body[10:], bytes.fromhex("18621214200000000001"))
    body = iso8583.encode({"mti": "0200", 2: "6212142000000000012"})
    eq(body[10:], bytes.fromhex("196212142000000000012" + "0"))


def test_lllvar_length_is_two_bcd_bytes():
    body = iso8583.encode({"mti": "0800", 63: "01 "})
    eq(body[10:], bytes.fromhex("0003303120"))


def test_bitmap_has_no_secondary_bit():
    body = iso8583.encode({"mti": "0800", 11: "000001", 64: bytes(8)})
    eq(body[2:10], bytes.fromhex("0020000000000001"))


def test_mab_sets_bit_64_and_stops_before_field_64():
    msg = iso8583.decode(_body(F_0200))
    m = iso8583.mab(msg)
    body = _body(F_0200)
    eq(m, body[:-8])
    del msg[64]
    eq(iso8583.mab(msg), body[:-8])


def test_swap_tpdu_exchanges_destination_and_source():
    eq(iso8583.swap_tpdu(bytes.fromhex("6000030000")), bytes.fromhex("6000000003"))


def test_frame_length_reads_the_binary_prefix():
    eq(iso8583.frame_length(b"\x01\xaa"), 426)
    eq(iso8583.frame_length(bytes.fromhex("007F")), 127)


def test_encode_names_the_field_of_an_overlong_value():
    with raises(Iso8583Error) as caught:
        iso8583.encode({"mti": "0200", 35: "1" * 40})
    eq(caught.value.field, 35)
    eq(caught.value.offset, None)
    eq(str(caught.value), "field 35: length 40 exceeds max 37")


def test_encode_rejects_wrong_types_and_charsets():
    cases = (
        ({"mti": "0200", 3: 0}, 3),
        ({"mti": "0200", 3: "00000A"}, 3),
        ({"mti": "0200", 3: "0000000"}, 3),
        ({"mti": "0200", 52: "12345678"}, 52),
        ({"mti": "0200", 41: "1234567\n"}, 41),
        ({"mti": "0200", 39: "0!"}, 39),
        ({"mti": "0200", 35: "1234=56G"}, 35),  # hex letters are an encrypted track
        ({"mti": "0200", 65: "1"}, 65),
        ({"mti": "0200", 1: b""}, 1),
        ({"mti": "02X0"}, "mti"),
        ({3: "000000"}, "mti"),
        ({"mti": "0200", "x": "1"}, "bitmap"),
    )
    for msg, field in cases:
        with raises(Iso8583Error) as caught:
            iso8583.encode(msg)
        eq(caught.value.field, field, repr(msg))


def test_decode_errors_carry_field_and_offset():
    body = _body(F_0200)
    with raises(Iso8583Error) as caught:
        iso8583.decode(body[:-3])
    eq(caught.value.field, 64)
    eq(caught.value.offset, len(body) - 8)
    eq(str(caught.value), f"field 64 at offset {len(body) - 8}: truncated: need 8 bytes, have 5")
    with raises(Iso8583Error) as caught:
        iso8583.decode(body + b"\x00")
    eq(caught.value.field, "len")
    eq(caught.value.offset, len(body))


def test_decode_rejects_bad_bcd_and_secondary_bitmap():
    with raises(Iso8583Error) as caught:
        iso8583.decode(bytes.fromhex("0A00") + bytes(8))
    eq(caught.value.field, "mti")
    with raises(Iso8583Error) as caught:
        iso8583.decode(bytes.fromhex("0200") + bytes.fromhex("8000000000000000"))
    eq(caught.value.field, "bitmap")
    # F3 with a non-decimal nibble
    with raises(Iso8583Error) as caught:
        iso8583.decode(bytes.fromhex("0200" + "2000000000000000" + "00000A"))
    eq(caught.value.field, 3)
    eq(caught.value.offset, 10)
    # F2 length byte not BCD
    with raises(Iso8583Error) as caught:
        iso8583.decode(bytes.fromhex("0200" + "4000000000000000" + "1A"))
    eq(caught.value.field, 2)
    # F2 length over its maximum of 19
    with raises(Iso8583Error) as caught:
        iso8583.decode(bytes.fromhex("0200" + "4000000000000000" + "20" + "00" * 10))
    true("exceeds max 19" in str(caught.value))


def test_unpack_frame_checks_length_and_tpdu_id():
    frame = _frame(F_0800)
    with raises(Iso8583Error) as caught:
        iso8583.unpack_frame(frame[:-1])
    eq(caught.value.field, "len")
    bad = bytearray(frame)
    bad[2] = 0x61
    with raises(Iso8583Error) as caught:
        iso8583.unpack_frame(bytes(bad))
    eq(caught.value.field, "tpdu")
    with raises(Iso8583Error) as caught:
        iso8583.unpack_frame(bytes.fromhex("00076000000000" + "6031"))
    eq(caught.value.field, "header")


def test_encode_then_decode_round_trips_every_kind():
    msg = {
        "mti": "0210",
        2: "6212",
        3: "310000",
        22: "072",
        23: "001",
        35: "=",
        36: "",
        37: "123456789012",
        44: "0102 0304",
        48: "1",
        52: bytes(range(8)),
        54: "1001156C000000010000",
        55: b"\x9f\x26\x08" + bytes(8),
        62: b"",
        63: "CUP",
    }
    eq(iso8583.decode(iso8583.encode(msg)), msg)


def test_every_short_numeric_field_packs_its_digits_and_pad_nibble():
    # fixed n fields (packed through a small int on MicroPython) and LLVAR ones, odd and
    # even lengths, right-aligned (leading pad) and left-aligned (trailing pad)
    from pos.cupspec import FIELDS

    for f in range(2, 65):
        name, kind, lentype, maxlen, align = FIELDS[f]
        if kind != "n":
            continue
        for n in (maxlen,) if lentype == 0 else (0, 1, 2, 7, 8, 9, maxlen):
            v = ("9081726354" * 40)[:n]
            h = v
            if n & 1:
                h = "0" + v if lentype == 0 and align == "r" else v + "0"
            prefix = ""
            if lentype == 2:
                prefix = "%02d" % n
            elif lentype == 3:
                prefix = "%04d" % n
            body = iso8583.encode({"mti": "0800", f: v})
            eq(body[10:], bytes.fromhex(prefix + h), "field %d, %d digits" % (f, n))
            eq(iso8583.decode(body)[f], v, "field %d round trip" % f)


def test_decoding_accepts_what_real_hosts_send_gbk_in_63_and_f_padded_track():
    from pos import iso8583

    msg = {"mti": "0210", 3: "000000", 11: "000001", 35: "6212142000000000012=30121",
           39: "00", 63: "CUP"}
    body = bytearray(iso8583.encode(msg))
    # field 35 has 25 digits: ...2D 30 12 1<pad>
    i = bytes(body).index(bytes.fromhex("2d301210")) + 3
    eq(body[i] & 0x0F, 0, "pad nibble written as 0")
    body[i] |= 0x0F  # a host that pads with F
    gbk = bytes.fromhex("435550d6d0b9fad2f8d0d0")  # "CUP" + 中国银行 in GBK
    body = bytes(body[:-5]) + bytes([0x00, 0x11]) + gbk  # 63 again: BCD length 011 + 11 bytes
    got = iso8583.decode(body)
    eq(got[35], "6212142000000000012=30121")
    eq(got[63][:3], "CUP")
    eq(len(got[63]), len(gbk), "one character per GBK byte")
    eq(got[39], "00")


def test_character_class_tables():
    # an: space, digits, letters; ans: printable ASCII; ans when decoding: 0x20-0xFF
    from pos import isobase

    an = b" 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    for c in range(256):
        eq(isobase.AN[c], 1 if c in an else 0, "an %d" % c)
        eq(isobase.ANS[c], 1 if 0x20 <= c < 0x7F else 0, "ans %d" % c)
        eq(isobase.ANS_IN[c], 1 if c >= 0x20 else 0, "ans in %d" % c)


def test_decoding_takes_the_longer_fields_real_dialects_send_and_encoding_keeps_ours():
    # 60 of 19 digits (a real 0200), 21 (PAX's declared maximum), 54 with two balances
    f60 = "2200000100000600000"  # 19
    f54 = "1001156C000000123456" + "1002156C000000100000"
    for value in (f60, f60 + "00"):
        msg = {"mti": "0210", 11: "000001", 39: "00", 54: f54, 60: value}
        body = bytearray(iso8583.encode({"mti": "0210", 11: "000001", 39: "00"}))
        # append 54 and 60 by hand: our encoder never sends them this long
        body[2 + 6] |= 0x04  # bit 54
        body[2 + 7] |= 0x10  # bit 60
        n = len(value)
        body += b"\x00\x40" + f54.encode()
        body += bytes((n // 100, ((n // 10) % 10) << 4 | n % 10))
        body += bytes.fromhex(value + ("0" if n % 2 else ""))
        got = iso8583.decode(bytes(body))
        eq(got[60], value)
        eq(got[54], f54)
        with raises(Iso8583Error, match="exceeds max"):
            iso8583.encode(msg)


def test_decoding_takes_f_as_the_pad_nibble():
    body = bytearray(iso8583.encode({"mti": "0210", 2: "6212142000000000012", 11: "000001"}))
    body[11 + 9] |= 0x0F
    eq(iso8583.decode(bytes(body))[2], "6212142000000000012")


def test_field_63_of_163_characters_decodes_and_164_is_refused():
    # 63 up to 163 (reference §2, §11: 63.1 + the issuer's and acquirer's texts)
    text = "CUP" + "X" * 160
    body = iso8583.encode({"mti": "0210", 11: "000001", 39: "00", 63: text})
    eq(iso8583.decode(body)[63], text)
    long = bytearray(body)
    long[-165:-163] = b"\x01\x64"  # a length of 164 ...
    long += b"Y"  # ... and the byte it claims
    with raises(Iso8583Error, match="field 63"):
        iso8583.decode(bytes(long))
