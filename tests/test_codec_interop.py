"""Our codec against pyiso8583 (an implementation nobody here wrote), field by field."""

import iso8583 as pyiso
import pytest
from pos import iso8583
from pos.cupspec import FIELDS
from posterm.bench.frames import pyiso_spec


# The CUP dialect in pyiso8583's terms; the bench measures against the same spec.
SPEC = pyiso_spec()


def _to_pyiso(msg):
    doc = {"t": msg["mti"]}
    for number, value in msg.items():
        if number == "mti":
            continue
        kind = FIELDS[number][1]
        if kind == "b":
            value = value.hex().upper()
        elif kind == "z":
            value = value.replace("=", "D")
        doc[str(number)] = value
    return doc


def _from_pyiso(doc):
    msg = {"mti": doc["t"]}
    for key, value in doc.items():
        if not key.isdigit():
            continue
        number = int(key)
        kind = FIELDS[number][1]
        if kind == "b":
            value = bytes.fromhex(value)
        elif kind == "z":
            value = value.replace("D", "=")
        msg[number] = value
    return msg


F_0800 = (
    "003C600003000060310000000008000020000000C000120000013132333435363738313233343536373839"
    "30313233343500110000000100300003303120"
)
F_0810 = (
    "007960000000036031000000000810003800010AC0001400000110153003150812345678303331353130"
    "31353330303130303132333435363738313233343536373839303132333435001100000001003000"
    "40CB4AB541CD5AD4FC256A882726936A5A08D7B4FBD0D7CB5B1A70AC6A000000000000000000B8CC69"
)
F_0200 = (
    "008060000300006031000000000200702404C020C09811196212142000000000012000000000000001"
    "0000000002291202100012376212142000000000012D29122206899031006031323334353637383132"
    "3334353637383930313233343531353642171B9345064D932600000000000000001122000001000041"
    "37364235353934"
)
FRAMES = {"0800": F_0800, "0810": F_0810, "0200": F_0200}


@pytest.mark.parametrize("mti", sorted(FRAMES))
def test_reference_frames_decode_the_same_in_pyiso8583_and_ours(mti):
    body = iso8583.unpack_frame(bytes.fromhex(FRAMES[mti]))[2]
    ours = iso8583.decode(body)
    theirs, _ = pyiso.decode(body, SPEC)
    assert ours == _from_pyiso(theirs)
    assert ours["mti"] == mti


@pytest.mark.parametrize("mti", sorted(FRAMES))
def test_our_encoding_equals_pyiso8583_encoding(mti):
    body = iso8583.unpack_frame(bytes.fromhex(FRAMES[mti]))[2]
    msg = iso8583.decode(body)
    theirs, _ = pyiso.encode(_to_pyiso(msg), SPEC)
    assert iso8583.encode(msg) == bytes(theirs) == body


def test_pyiso8583_built_purchase_decodes_field_by_field():
    doc = {
        "t": "0200",
        "2": "6212142000000000012",
        "3": "000000",
        "4": "000000012345",
        "11": "000123",
        "14": "2912",
        "22": "051",
        "23": "001",
        "25": "00",
        "26": "12",
        "35": "6212142000000000012D2912220",
        "41": "12345678",
        "42": "123456789012345",
        "49": "156",
        "52": "42171B9345064D93",
        "53": "2600000000000000",
        "55": "9F2608AABBCCDDEEFF0011",
        "60": "22000001000501",
        "64": "3030303030303030",
    }
    raw, _ = pyiso.encode(dict(doc), SPEC)
    ours = iso8583.decode(bytes(raw))
    assert ours == _from_pyiso(doc)
    assert iso8583.encode(ours) == bytes(raw)
