# Talking to the center: frame a message, send it, check the answer.
# Order of checks on a reply (reference §5): MTI = request + 10, the echoed
# fields 3, 4, 11, 41, 42 match, then 39, and only when 39 = 00 the MAC.
from pos import iso8583, mac as macmod
from pos import ui
from pos.request import z as _z, batch_str, base_fields  # noqa: F401
from pos.compat import TYPE_CHECKING

if TYPE_CHECKING:
    from pos.terminal import Terminal  # noqa: F401

# status values of an exchange
OK = "ok"  # a valid reply (its 39 may still be a decline)
TIMEOUT = "timeout"  # sent, no answer in time
LINK = "link"  # could not reach the center; nothing left the terminal
LINK_LOST = "link_lost"  # the link broke after the request left
BAD_REPLY = "bad_reply"  # unreadable or mismatched answer
BAD_MAC = "bad_mac"  # 39 = 00 but the MAC does not verify

_ECHO = (3, 4, 11, 41, 42)


class Result:
    def __init__(self, status, reply=None, detail=""):
        self.status = status
        self.reply = reply or {}
        self.detail = detail

    def code(self):
        return self.reply.get(39, "")

    def approved(self):
        return self.status == OK and self.code() == "00"


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


def exchange(t, msg, title, with_mac=True, before_send=None):
    # Generator: send msg, wait for the reply, check it. -> Result.
    # before_send(t) runs right before the request goes out (arms a reversal).
    text = t.s("connecting")
    ui.show_progress(t, title, text)
    try:
        data = build(t, msg, with_mac)
    except (ValueError, iso8583.Iso8583Error) as e:
        return Result(BAD_REPLY, None, "encode: " + str(e))
    if before_send is not None:
        before_send(t)
    timeout = int(t.state.params.get("timeout", 30))
    ev = yield ("send", data, timeout, title, text)
    if ev[0] == "timeout":
        return Result(TIMEOUT)
    if ev[0] == "link_error":
        return Result(LINK_LOST if ev[2] else LINK, None, ev[1])
    try:
        _tp, _hd, body = iso8583.unpack_frame(ev[1])
        reply = iso8583.decode(body)
    except iso8583.Iso8583Error as e:
        return Result(BAD_REPLY, None, str(e))
    want = _z(int(msg["mti"]) + 10, 4)
    if reply.get("mti") != want:
        return Result(BAD_REPLY, reply, "MTI %s, expected %s" % (reply.get("mti"), want))
    for f in _ECHO:
        if f in msg and f in reply and reply[f] != msg[f]:
            return Result(BAD_REPLY, reply, "field %d differs" % f)
    if with_mac and reply.get(39) == "00":
        got = reply.get(64)
        algo = t.state.params.get("mac_algo", "ecb")
        if got is None or not macmod.verify(algo, hex_bytes(t.state.mak), iso8583.mab(reply), got):
            return Result(BAD_MAC, reply)
    return Result(OK, reply)


def show_failure(t, title, res):
    # The screen for a failed exchange or a declined answer. Returns the key.
    body = failure_lines(t, res)
    t.emit(("beep", "error"))
    return (yield from ui.notice(t, title, body))


def failure_lines(t, res):
    # What the screen says of a failed exchange or a declined answer.
    if res.status == OK:
        code = res.code()
        body = [t.s("resp_code", code), t.strings.response(code)]
    elif res.status == TIMEOUT:
        body = [t.s("host_timeout")]
    elif res.status in (LINK, LINK_LOST):
        body = [t.s("link_failed")]
    elif res.status == BAD_MAC:
        body = [t.s("mac_error")]
    else:
        body = [t.s("bad_reply")]
    return body
