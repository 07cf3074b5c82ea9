"""The bench's messages: the reference's synthesized fixture F (§4.6), and the same CUP
dialect written as a pyiso8583 spec (as tests/test_codec_interop.py does)."""

from pos.cupspec import FIELDS

# 0200 purchase (¥100.00, PIN and ECB MAC) and 0810 sign-in reply (F62 with PIK/MAK).
F_0200 = (
    "008060000300006031000000000200702404C020C09811196212142000000000012000000000000001"
    "0000000002291202100012376212142000000000012D29122206899031006031323334353637383132"
    "3334353637383930313233343531353642171B9345064D932600000000000000001122000001000041"
    "37364235353934"
)
F_0810 = (
    "007960000000036031000000000810003800010AC0001400000110153003150812345678303331353130"
    "31353330303130303132333435363738313233343536373839303132333435001100000001003000"
    "40CB4AB541CD5AD4FC256A882726936A5A08D7B4FBD0D7CB5B1A70AC6A000000000000000000B8CC69"
)
FRAMES = (F_0200, F_0810)


def bodies():
    from pos import iso8583

    return [iso8583.unpack_frame(bytes.fromhex(f))[2] for f in FRAMES]


def pyiso_spec():
    # The CUP dialect in pyiso8583's terms: BCD lengths, n/z as packed nibbles.
    spec = {
        "h": {"data_enc": "ascii", "len_enc": "ascii", "len_type": 0, "max_len": 0},
        "t": {"data_enc": "b", "len_enc": "ascii", "len_type": 0, "max_len": 2},
        "p": {"data_enc": "b", "len_enc": "ascii", "len_type": 0, "max_len": 8},
    }
    for number in range(2, 65):
        name, kind, lentype, maxlen, align = FIELDS[number]
        field = {
            "len_enc": "bcd",
            "len_type": {0: 0, 2: 1, 3: 2}[lentype],
            "max_len": maxlen,
            "desc": name,
        }
        if kind in ("n", "z"):
            field["data_enc"] = "b"
            field["len_count"] = "nibbles"
            if lentype == 0 and align == "r":
                field["left_pad"] = "0"
            else:
                field["right_pad"] = "0"
        elif kind == "b":
            field["data_enc"] = "b"
        else:
            field["data_enc"] = "ascii"
        spec[str(number)] = field
    return spec


def to_pyiso(msg):
    # One of our decoded messages as a pyiso8583 document.
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
