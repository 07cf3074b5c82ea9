"""Our codec against pyiso8583 (an implementation nobody here wrote), field by field."""

import iso8583 as pyiso
import pytest
from pos import iso8583
from pos.cupspec import FIELDS
from posterm.bench import frames as bench_frames
from posterm.bench.frames import pyiso_spec
from refframes import F_0200, F_0800, F_0810  # the reference's frames, one copy


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


def test_the_bench_times_the_reference_frames():
    # the bench (a shipped tool, it cannot import the tests) carries the same two frames
    assert bench_frames.FRAMES == (F_0200, F_0810)
