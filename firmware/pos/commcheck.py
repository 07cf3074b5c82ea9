# The answer half of an exchange with the center (pos.center runs it as an overlay, once it
# has decoded the reply with the codec, which is dropped by then): the reply checked. Order
# of checks on a reply (reference §5, §11): MTI = request + 10, the mandatory fields
# present, the echoed fields 3, 4, 11, 41, 42 match, then the MAC whenever the reply carries
# field 64 (a decline too) and on every approval of a MAC'd request. The MAC is computed over
# the bytes received (the MAB is the received message from the MTI to the byte before field
# 64), never over a re-encoding: F pad nibbles and GBK text must not change what is checked.
# The MAC's code is an overlay of its own. The request's half is pos.comm. Returns plain data
# (pos.overlay's rule).
from pos import overlay
from pos.center import OK, BAD_REPLY, BAD_MAC, mac_algo
from pos.request import z as _z

_ECHO = (3, 4, 11, 41, 42)
# what every reply carries (reference §3.1, §3.2): the response code and the echo of the
# trace, terminal and merchant (OP compares 3, 4, 11, 41, 42); an approval of a card
# transaction also its reference number (37) and the echoed 3 and 4
_ALWAYS = (39, 11, 41, 42)
_FINANCIAL = ("0100", "0200", "0220", "0400")
_APPROVAL = (37,)


def check(t, msg, got, with_mac):
    # The center's answer to msg (got: pos.center's decoding of it, (header, body, reply) or
    # why it could not be read) -> (status, reply or None, detail, processing requirement);
    # what the answer asks of the terminal is done here (after_reply).
    out = _check(t, msg, got, with_mac)
    after_reply(t, msg, out[0], out[1], out[3])
    return out


def after_reply(t, msg, status, reply, need):
    # What any answer asks of the terminal, whatever the message (reference §1, §5):
    # A0 (the center could not check our MAC: its keys are not ours) and 99 mean new
    # working keys, so sign in again before anything else; a MAC of ours that does not
    # verify says the same; the header's processing requirement is remembered for after
    # the transaction: 3 = sign in again, 1 / 6 = download parameters, 2 = upload the
    # terminal's status, 4 / 5 = IC keys and parameters (for the chip work). Of the 0800s
    # only the sign-in's answer asks (real hosts set 4 / 5 there: pos.flows.signin acts on
    # it at once; a 3 there is met by that sign-in); the downloads' own answers never do.
    st = t.state
    code = (reply or {}).get(39, "") if status == OK else ""
    changed = False
    if code in ("A0", "99") or status == BAD_MAC:
        st.signin_date = ""
        changed = True
        t.emit(("log", "warn", "%s: sign in again (new working keys needed)" % (code or "MAC")))
    if status in (OK, BAD_MAC) and need and (
        msg.get("mti") != "0800" or msg.get(60, "")[8:11] in ("001", "003", "004", "005", "006")
    ):
        if need == 3:
            st.signin_date = ""
        elif need in (1, 6):
            st.extra["param_due"] = need
        elif need in (4, 5):
            st.extra["ic_due"] = need
        elif need == 2:  # the terminal status upload (0820 / 362: pos.flows.heartbeat)
            st.extra["status_due"] = 1
        changed = True
        t.emit(("log", "info", "center asks for processing %d" % need))
    if changed:
        st.save()


def _mac_ok(t, body, got):
    # field 64 is the last field, 8 bytes: the MAB is everything before it
    with overlay.scope():
        from pos import mac

        mab = memoryview(body)[: len(body) - 8]
        return mac.verify(mac_algo(t), bytes.fromhex(t.state.mak), mab, got)


def _check(t, msg, got, with_mac):
    # -> (status, reply or None, detail, processing requirement: the low nibble of the reply
    # header's byte 3, reference §1)
    if type(got) is str:
        return BAD_REPLY, None, got, 0
    hd, body, reply = got
    got = None
    need = hd[2] & 15
    want = _z(int(msg["mti"]) + 10, 4)
    if reply.get("mti") != want:
        return BAD_REPLY, reply, "MTI %s, expected %s" % (reply.get("mti"), want), need
    missing = [f for f in _ALWAYS if f not in reply and (f == 39 or f in msg)]
    code = reply.get(39)
    if code == "00" and msg["mti"] in _FINANCIAL and msg["mti"] != "0400":
        missing += [f for f in _APPROVAL + (3, 4) if f not in reply and (f == 37 or f in msg)]
    if missing:
        names = ", ".join([str(f) for f in missing])
        return BAD_REPLY, reply, "reply lacks field " + names, need
    for f in _ECHO:
        if f in msg and f in reply and reply[f] != msg[f]:
            return BAD_REPLY, reply, "field %d differs" % f, need
    if with_mac and (code == "00" or 64 in reply):
        mac = reply.get(64)
        if mac is None or not _mac_ok(t, body, mac):
            return BAD_MAC, reply, "", need
    return OK, reply, "", need
