# The two halves of an exchange with the center that need the codec and the keys
# (pos.center runs each as an overlay): encode a request (PIN block, track encryption,
# MAC, frame), and decode and check the answer. Order of checks on a reply (reference
# §5, §11): MTI = request + 10, the mandatory fields present, the echoed fields 3, 4, 11,
# 41, 42 match, then the MAC whenever the reply carries field 64 (a decline too) and on
# every approval of a MAC'd request. The MAC is computed over the bytes received (the
# MAB is the received message from the MTI to the byte before field 64), never over a
# re-encoding: F pad nibbles and GBK text must not change what is checked.
# Both return plain data (pos.overlay's rule).
from pos import iso8583, mac as macmod
from pos.center import OK, BAD_REPLY, BAD_MAC
from pos.request import z as _z

_ECHO = (3, 4, 11, 41, 42)
# what every reply carries (reference §3.1, §3.2): the response code and the echo of the
# trace, terminal and merchant (OP compares 3, 4, 11, 41, 42); an approval of a card
# transaction also its reference number (37) and the echoed 3 and 4
_ALWAYS = (39, 11, 41, 42)
_FINANCIAL = ("0100", "0200", "0220", "0400")
_APPROVAL = (37,)


def hex_bytes(text):
    return bytes.fromhex(text)


def tpdu(t):
    return hex_bytes(t.state.params.get("tpdu", "6000030000"))


def header(t):
    return hex_bytes(t.state.params.get("header", "603100000000"))


def sm_keys(t):
    # the working keys are SM (国密) keys: SM MAC, SM4 PIN block, SM4 track key
    return t.state.extra.get("keys") == "sm"


def mac_algo(t):
    return "sm4" if sm_keys(t) else t.state.params.get("mac_algo", "ecb")


def build(t, msg, with_mac):
    # The frame of msg, its MAC (64) computed over the body encoded once with a zero field
    # 64: the MAB is that body less its last 8 bytes (field 64 is the last field), so no
    # second encoding and no copy of the message are made for it (the encoding is the
    # exchange's heap peak on a board)
    if with_mac:
        msg[64] = bytes(8)
    body = iso8583.encode(msg)
    if with_mac:
        n = len(body) - 8
        mac = macmod.compute(mac_algo(t), hex_bytes(t.state.mak), memoryview(body)[:n])
        msg[64] = mac
        body = bytearray(body)
        body[n:] = mac
    return iso8583.pack_frame(tpdu(t), header(t), body)


def encode(t, msg, with_mac, pin=None):
    # -> the frame (bytes), or the reason (str) it could not be encoded. pin: the PIN
    # block (52) is made from it under the PIK first; a downloaded TDK encrypts the
    # track data (35, 36) as CUP terminals do.
    try:
        if pin:
            from pos import pinblock

            pan = msg.get(2) or _pan(msg)
            if sm_keys(t):
                msg[52] = pinblock.encrypt_sm4(hex_bytes(t.state.pik), pin, pan)
            else:
                msg[52] = pinblock.encrypt(hex_bytes(t.state.pik), pin, pan)
        tdk = t.state.extra.get("tdk")
        if tdk and (35 in msg or 36 in msg):
            from pos import keyload

            key = hex_bytes(tdk)
            clear = msg
            msg = {}  # the flow's copy keeps the clear tracks (the reversal's PAN)
            for f in clear:
                msg[f] = clear[f]
            for f in (35, 36):
                if f in msg:
                    msg[f] = keyload.encrypt_track(key, msg[f], sm_keys(t))
        return build(t, msg, with_mac)
    except (ValueError, iso8583.Iso8583Error) as e:
        return str(e)


def _pan(msg):
    track = msg.get(35) or ""
    return track.split("=")[0]


def check(t, msg, frame, with_mac):
    # The center's answer to msg -> (status, reply or None, detail, processing
    # requirement); what the answer asks of the terminal is done here (after_reply).
    out = _check(t, msg, frame, with_mac)
    after_reply(t, msg, out[0], out[1], out[3])
    return out


def after_reply(t, msg, status, reply, need):
    # What any answer asks of the terminal, whatever the message (reference §1, §5):
    # A0 (the center could not check our MAC: its keys are not ours) and 99 mean new
    # working keys, so sign in again before anything else; a MAC of ours that does not
    # verify says the same; the header's processing requirement is remembered for after
    # the transaction: 3 = sign in again, 1 / 6 = download parameters, 2 = upload the
    # terminal's status, 4 / 5 = IC keys and parameters (for the chip work).
    st = t.state
    code = (reply or {}).get(39, "") if status == OK else ""
    changed = False
    if code in ("A0", "99") or status == BAD_MAC:
        st.signin_date = ""
        changed = True
        t.emit(("log", "warn", "%s: sign in again (new working keys needed)" % (code or "MAC")))
    if status in (OK, BAD_MAC) and need and msg.get("mti") != "0800":
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


def _check(t, msg, frame, with_mac):
    # The center's answer to msg -> (status, reply or None, detail, processing
    # requirement: the low nibble of the reply header's byte 3, reference §1).
    try:
        _tp, hd, body = iso8583.unpack_frame(frame)
        reply = iso8583.decode(body)
    except iso8583.Iso8583Error as e:
        return BAD_REPLY, None, str(e), 0
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
        got = reply.get(64)
        algo = mac_algo(t)
        # field 64 is the last field, 8 bytes: the MAB is everything before it
        mab = memoryview(body)[: len(body) - 8]
        if got is None or not macmod.verify(algo, hex_bytes(t.state.mak), mab, got):
            return BAD_MAC, reply, "", need
    return OK, reply, "", need
