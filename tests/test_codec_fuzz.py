"""Property tests: the decoder only ever raises Iso8583Error, and valid messages round-trip."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pos import iso8583
from pos.cupspec import FIELDS
from pos.iso8583 import Iso8583Error
import refframes  # tests/core/refframes.py: the reference's frames, one copy

F_0200 = bytes.fromhex(refframes.F_0200_BODY)


AN = " 0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ANS = "".join(chr(c) for c in range(0x20, 0x7F))


def _value(number):
    _name, kind, lentype, maxlen, _align = FIELDS[number]
    lo = maxlen if lentype == 0 else 0
    if kind == "n":
        return st.text("0123456789", min_size=lo, max_size=maxlen)
    if kind == "z":
        return st.text("0123456789=", min_size=lo, max_size=maxlen)
    if kind == "an":
        return st.text(AN, min_size=lo, max_size=maxlen)
    if kind == "ans":
        return st.text(ANS, min_size=lo, max_size=maxlen)
    return st.binary(min_size=lo, max_size=maxlen)


@st.composite
def messages(draw):
    msg = {"mti": draw(st.text("0123456789", min_size=4, max_size=4))}
    for number in draw(st.sets(st.integers(2, 64), max_size=20)):
        msg[number] = draw(_value(number))
    return msg


def _decode_only_raises_our_error(data):
    try:
        iso8583.decode(data)
    except Iso8583Error as e:
        assert isinstance(e.field, int) or e.field in ("len", "mti", "bitmap")
        assert e.offset is None or 0 <= e.offset <= len(data)
        assert str(e)


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_raise_only_iso8583_error(data):
    _decode_only_raises_our_error(data)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages(), st.data())
def test_truncated_and_oversized_bodies_raise_iso8583_error(msg, data):
    body = iso8583.encode(msg)
    cut = data.draw(st.integers(0, len(body) - 1))
    with_tail = body + data.draw(st.binary(min_size=1, max_size=20))
    for bad in (body[:cut], with_tail):
        try:
            got = iso8583.decode(bad)
        except Iso8583Error:
            pass
        else:
            # the one longer reading allowed: field 52 as the 16-byte SM4 PIN block, and then
            # it is exactly what those bytes encode
            wide = 52 in got and len(got[52]) == 16 and iso8583.encode(got) == bad
            assert wide, f"decoded {bad.hex()}"


@settings(max_examples=3000, deadline=None)
@given(st.binary(min_size=len(F_0200), max_size=len(F_0200)), st.data())
def test_corrupted_real_frames_raise_only_iso8583_error(noise, data):
    n = data.draw(st.integers(1, 6))
    body = bytearray(F_0200)
    for _ in range(n):
        i = data.draw(st.integers(0, len(body) - 1))
        body[i] = noise[i]
    _decode_only_raises_our_error(bytes(body))


@settings(max_examples=2000, deadline=None)
@given(messages())
def test_valid_messages_round_trip(msg):
    body = iso8583.encode(msg)
    assert iso8583.decode(body) == msg
    assert iso8583.encode(iso8583.decode(body)) == body


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_unpack_frame_raises_only_iso8583_error(data):
    try:
        iso8583.unpack_frame(data)
    except Iso8583Error as e:
        assert e.field in ("len", "tpdu", "header")


@settings(max_examples=500, deadline=None)
@given(messages(), st.integers(2, 64), st.binary(max_size=40) | st.text(max_size=40))
def test_encode_rejects_bad_values_with_the_field_number(msg, number, value):
    probe = dict(msg)
    probe[number] = value
    try:
        body = iso8583.encode(probe)
    except Iso8583Error as e:
        assert e.field == number
        assert e.offset is None
    else:
        assert iso8583.decode(body)[number] == value
