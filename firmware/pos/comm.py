# The request half of an exchange with the center (pos.center runs it as an overlay): the
# PIN block, the track encryption, the body, its MAC and the frame. Each step's code is an
# overlay of its own, loaded for that step and dropped before the next (from a files deploy
# a module's bytecode is in the heap while it is loaded): the PIN block's, then the codec's,
# then the MAC's, so that the codec never sits beside the keys' code (the encoding is the
# exchange's heap peak on a board). The answer's half is pos.commcheck.
# Returns plain data (pos.overlay's rule).
from pos import overlay
from pos.center import mac_algo, sm_keys


def hex_bytes(text):
    return bytes.fromhex(text)


def tpdu(t):
    return hex_bytes(t.state.params.get("tpdu", "6000030000"))


def header(t):
    return hex_bytes(t.state.params.get("header", "603100000000"))


def build(t, msg, with_mac):
    # The frame of msg and its MAC (64), computed over the body encoded once with a zero field
    # 64: the MAB is that body less its last 8 bytes (field 64 is the last field), so no
    # second encoding and no copy of the message are made for it
    if with_mac:
        msg[64] = bytes(8)
    frame = _frame(t, msg)
    if not with_mac:
        return frame
    end = len(frame) - 8  # the frame's head (length, TPDU, header) is 13 bytes
    mac = _mac(t, memoryview(frame)[13:end])
    msg[64] = mac
    out = bytearray(frame)
    out[end:] = mac
    return bytes(out)


def _frame(t, msg):
    with overlay.scope():
        from pos import iso8583

        return iso8583.pack_frame(tpdu(t), header(t), iso8583.encode(msg))


def _mac(t, mab):
    with overlay.scope():
        from pos import mac

        return mac.compute(mac_algo(t), hex_bytes(t.state.mak), mab)


def encode(t, msg, with_mac, pin=None):
    # -> the frame (bytes), or the reason (str) it could not be encoded. pin: the PIN
    # block (52) is made from it under the PIK first; a downloaded TDK encrypts the
    # track data (35, 36) as CUP terminals do. (Iso8583Error, PinBlockError and CryptoError
    # are ValueErrors.)
    try:
        if pin:
            msg[52] = _pin_block(t, msg, pin)
        tdk = t.state.extra.get("tdk")
        if tdk and (35 in msg or 36 in msg):
            msg = _tracks_encrypted(t, msg, hex_bytes(tdk))
        return build(t, msg, with_mac)
    except ValueError as e:
        return str(e)


def _pin_block(t, msg, pin):
    pan = msg.get(2) or _pan(msg)
    with overlay.scope():
        from pos import pinblock

        if sm_keys(t):
            return pinblock.encrypt_sm4(hex_bytes(t.state.pik), pin, pan)
        return pinblock.encrypt(hex_bytes(t.state.pik), pin, pan)


def _tracks_encrypted(t, clear, key):
    # -> a copy of the message with fields 35 and 36 encrypted under the TDK (the flow's
    # copy keeps the clear tracks: the reversal's PAN)
    msg = {}
    for f in clear:
        msg[f] = clear[f]
    with overlay.scope():
        from pos import keyload

        for f in (35, 36):
            if f in msg:
                msg[f] = keyload.encrypt_track(key, msg[f], sm_keys(t))
        del keyload
    return msg


def _pan(msg):
    track = msg.get(35) or ""
    return track.split("=")[0]
