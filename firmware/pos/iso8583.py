# ISO 8583 codec for the CUP POS dialect: MTI + 8-byte bitmap + fields 2..64, plus the
# TCP frame (2-byte length, TPDU, header) around it. Field formats live in pos.cupspec.
#
# Values: 'mti' -> str of 4 digits; n/z/an/ans fields -> str; b fields -> bytes.
# Every malformed input raises Iso8583Error naming the field and the byte offset.
#
# encode/decode come from pos.iso8583_mp on MicroPython (no per-field temporaries) and
# from pos.iso8583_cp on CPython (C-speed bytes methods): a board loads only its half.
from pos.compat import IS_MICROPYTHON
from pos.isobase import Iso8583Error  # noqa: F401

# (Iso8583Error and encode are this module's too: no __all__, a list built at every load)
if IS_MICROPYTHON:
    # each half loaded when it is first used (pos.comm encodes and checks in overlays of
    # their own: each holds one half)
    def encode(msg):
        from pos import iso8583_mp

        return iso8583_mp.encode(msg)

    def _decode(body, wide=False):
        from pos import iso8583_mpd

        return iso8583_mpd.decode(body, wide)

else:
    from pos.iso8583_cp import decode as _decode, encode  # noqa: F401

_ZERO8 = bytes(8)
_TPDU_ID = 0x60


def decode(body):
    # The body (MTI onwards) -> dict. A field 52 of 16 bytes (the SM4 PIN block, isobase
    # WIDE_SIZE) is read when the 8-byte reading does not parse and the 16-byte one does; the
    # error of the 8-byte reading is the one raised when neither does.
    try:
        return _decode(body)
    except Iso8583Error as e:
        if not (isinstance(body, (bytes, bytearray, memoryview)) and len(body) > 10):
            raise
        if not body[8] & 0x10:  # bitmap byte 6, bit of field 52
            raise
        first = e
    try:
        return _decode(body, True)
    except Iso8583Error:
        raise first


# --------------------------------------------------------------------------------------------
# frames: LEN(2, binary) + TPDU(5) + HEADER(6) + body


def pack_frame(tpdu, header, body):
    if not isinstance(tpdu, (bytes, bytearray)) or len(tpdu) != 5:
        raise Iso8583Error("tpdu", None, "TPDU must be 5 bytes")
    if tpdu[0] != _TPDU_ID:
        raise Iso8583Error("tpdu", None, f"TPDU id is {tpdu[0]:02X}, expected 60")
    if not isinstance(header, (bytes, bytearray)) or len(header) != 6:
        raise Iso8583Error("header", None, "header must be 6 bytes")
    if not isinstance(body, (bytes, bytearray)):
        raise Iso8583Error("len", None, "body must be bytes")
    n = 11 + len(body)
    if n > 0xFFFF:
        raise Iso8583Error("len", None, f"frame of {n} bytes exceeds 65535")
    out = bytearray(2)
    out[0] = n >> 8
    out[1] = n & 0xFF
    out.extend(tpdu)
    out.extend(header)
    out.extend(body)
    return bytes(out)


def frame_length(prefix2):
    # Number of bytes that follow the 2-byte length prefix.
    if not isinstance(prefix2, (bytes, bytearray, memoryview)) or len(prefix2) != 2:
        raise Iso8583Error("len", 0, "length prefix must be 2 bytes")
    return (prefix2[0] << 8) | prefix2[1]


def unpack_frame(data):
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise Iso8583Error("len", 0, f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < 2:
        raise Iso8583Error("len", 0, f"truncated: need 2 bytes, have {len(data)}")
    n = (data[0] << 8) | data[1]
    if n != len(data) - 2:
        raise Iso8583Error("len", 0, f"length says {n} bytes, have {len(data) - 2}")
    if n < 5:
        raise Iso8583Error("tpdu", 2, f"truncated: need 5 bytes, have {n}")
    if data[2] != _TPDU_ID:
        raise Iso8583Error("tpdu", 2, f"TPDU id is {data[2]:02X}, expected 60")
    if n < 11:
        raise Iso8583Error("header", 7, f"truncated: need 6 bytes, have {n - 5}")
    return data[2:7], data[7:13], data[13:]


def swap_tpdu(tpdu):
    # The host answers with destination and source addresses swapped.
    if not isinstance(tpdu, (bytes, bytearray)) or len(tpdu) != 5:
        raise Iso8583Error("tpdu", None, "TPDU must be 5 bytes")
    return bytes(tpdu[0:1]) + bytes(tpdu[3:5]) + bytes(tpdu[1:3])


def mab(msg):
    # The MAC block: MTI .. last byte of field 63, with bit 64 set in the bitmap (ref. 4.3).
    m = {}
    for k in msg:
        m[k] = msg[k]
    m[64] = _ZERO8
    return encode(m)[:-8]
