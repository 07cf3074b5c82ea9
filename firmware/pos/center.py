# Talking to the center, with as little code loaded as possible while the terminal waits
# for the answer (a board's network stack needs its RAM then): the request is encoded
# (with its PIN block and MAC) in an overlay of pos.comm, the answer decoded here and
# checked in one of pos.commcheck (each step loads the codec or the keys' code on its own);
# between the two only this module and the flow are loaded. Order of checks on a reply (reference
# §5): MTI = request + 10, the echoed fields 3, 4, 11, 41, 42 match, then 39, and only when
# 39 = 00 the MAC.
from pos import ui, overlay
from pos.request import batch_str, base_fields  # noqa: F401 (the flows use them from here)

# status values of an exchange
OK = "ok"  # a valid reply (its 39 may still be a decline)
TIMEOUT = "timeout"  # sent, no answer in time
LINK = "link"  # could not reach the center; nothing left the terminal
LINK_LOST = "link_lost"  # the link broke after the request left
BAD_REPLY = "bad_reply"  # unreadable or mismatched answer
BAD_MAC = "bad_mac"  # 39 = 00 but the MAC does not verify


def sm_keys(t):
    # the working keys are SM (国密) keys: SM MAC, SM4 PIN block, SM4 track key
    return t.state.extra.get("keys") == "sm"


def mac_algo(t):
    # the terminal's MAC algorithm (pos.comm, pos.commcheck)
    return "sm4" if sm_keys(t) else t.state.params.get("mac_algo", "ecb")


class Result:
    def __init__(self, status, reply=None, detail="", need=0):
        self.status = status
        self.reply = reply or {}
        self.detail = detail
        self.need = need  # the reply header's processing requirement (reference §1)

    def code(self):
        return self.reply.get(39, "")

    def approved(self):
        return self.status == OK and self.code() == "00"


def exchange(t, msg, title, with_mac=True, before_send=None, pin=None):
    # Generator: send msg, wait for the reply, check it. -> Result.
    # pin: the cardholder's PIN, made into field 52 as the request is encoded.
    # before_send(t) runs right before the request goes out (arms a reversal).
    text = t.s("connecting")
    ui.show_progress(t, title, text)
    sp = t.spares  # a board's display: the glyphs it keeps are not held through the exchange
    if sp is not None:
        sp.forget_glyphs()
    with overlay.scope():  # the codec and the keys' code are not held while waiting
        from pos import comm

        data = comm.encode(t, msg, with_mac, pin)
        del comm
    if not isinstance(data, bytes):
        return Result(BAD_REPLY, None, "encode: " + str(data))
    if before_send is not None:
        before_send(t)
    timeout = int(t.state.params.get("timeout", 30))
    ev = yield ("send", data, timeout, title, text)
    data = None
    if ev[0] == "timeout":
        return Result(TIMEOUT)
    if ev[0] == "link_error":
        return Result(LINK_LOST if ev[2] else LINK, None, ev[1])
    # (pos.comm.check also does what the answer asks of the terminal: a new sign-in after
    # A0 / 99 / a MAC that fails, the header's processing requirement)
    try:
        status, reply, detail, need = _check(t, msg, ev[1], with_mac)
    except MemoryError:
        # short of heap with the answer in hand (it may be an approval, to be kept): what
        # the failed check loaded is gone with its overlay, so collect and check it once
        # more; still short, the heap the terminal keeps aside for an approval is given up
        # for a third check and taken again once it is done (for the approval's journalling:
        # pos.flows.online.journal). Only then is the MemoryError the flow's (内存不足, the
        # reversal armed, which then says 96: answered, not completed; t.unfinished, an
        # attribute stored, allocates nothing)
        import gc

        t.unfinished = msg.get(11)
        gc.collect()
        try:
            status, reply, detail, need = _check(t, msg, ev[1], with_mac)
        except MemoryError:
            trace = msg.get(11)
            if not t.give_reserve("answer to trace %s" % trace):
                t.emit(("log", "error", "answer to trace %s not checked: no heap" % trace))
                raise
            try:
                status, reply, detail, need = _check(t, msg, ev[1], with_mac)
            except MemoryError:
                t.emit(("log", "error", "answer to trace %s not checked: no heap" % trace))
                raise
            gc.collect()
            t.take_reserve()
        t.unfinished = None
    return Result(status, reply, detail, need)


def _check(t, msg, frame, with_mac):
    # the answer decoded (the codec an overlay of its own), then checked: pos.commcheck is
    # loaded once the codec is gone (the decoding is the answer's heap peak on a board)
    got = _decoded(frame)
    with overlay.scope():
        from pos import commcheck

        out = commcheck.check(t, msg, got, with_mac)
        del commcheck
    return out


def _decoded(frame):
    # -> (header, body, reply), or why the frame could not be read (str)
    with overlay.scope():
        from pos import iso8583

        try:
            _tp, hd, body = iso8583.unpack_frame(frame)
            return hd, body, iso8583.decode(body)
        except iso8583.Iso8583Error as e:
            return str(e)


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
