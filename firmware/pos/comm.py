# The two halves of an exchange with the center that need the codec and the keys
# (pos.center runs each as an overlay): encode a request (PIN block, MAC, frame), and
# decode and check the answer. Order of checks on a reply (reference §5): MTI = request
# + 10, the echoed fields 3, 4, 11, 41, 42 match, then 39, and only when 39 = 00 the MAC.
# Both return plain data (pos.overlay's rule).
from pos import iso8583, mac as macmod
from pos.center import OK, BAD_REPLY, BAD_MAC
from pos.request import z as _z

_ECHO = (3, 4, 11, 41, 42)


def hex_bytes(text):
    return bytes.fromhex(text)


def tpdu(t):
    return hex_bytes(t.state.params.get("tpdu", "6000030000"))


def header(t):
    return hex_bytes(t.state.params.get("header", "603100000000"))


def add_mac(t, msg):
    mak = hex_bytes(t.state.mak)
    msg[64] = b"\x00" * 8
    msg[64] = macmod.compute(t.state.params.get("mac_algo", "ecb"), mak, iso8583.mab(msg))
    return msg


def build(t, msg, with_mac):
    if with_mac:
        add_mac(t, msg)
    body = iso8583.encode(msg)
    return iso8583.pack_frame(tpdu(t), header(t), body)


def encode(t, msg, with_mac, pin=None):
    # -> the frame (bytes), or the reason (str) it could not be encoded. pin: the PIN
    # block (52) is made from it under the PIK first.
    try:
        if pin:
            from pos import pinblock

            msg[52] = pinblock.encrypt(hex_bytes(t.state.pik), pin, msg.get(2, ""))
        return build(t, msg, with_mac)
    except (ValueError, iso8583.Iso8583Error) as e:
        return str(e)


def check(t, msg, frame, with_mac):
    # The center's answer to msg -> (status, reply or None, detail).
    try:
        _tp, _hd, body = iso8583.unpack_frame(frame)
        reply = iso8583.decode(body)
    except iso8583.Iso8583Error as e:
        return BAD_REPLY, None, str(e)
    want = _z(int(msg["mti"]) + 10, 4)
    if reply.get("mti") != want:
        return BAD_REPLY, reply, "MTI %s, expected %s" % (reply.get("mti"), want)
    for f in _ECHO:
        if f in msg and f in reply and reply[f] != msg[f]:
            return BAD_REPLY, reply, "field %d differs" % f
    if with_mac and reply.get(39) == "00":
        got = reply.get(64)
        algo = t.state.params.get("mac_algo", "ecb")
        if got is None or not macmod.verify(algo, hex_bytes(t.state.mak), iso8583.mab(reply), got):
            return BAD_MAC, reply, ""
    return OK, reply, ""
