# Reversal (冲正), reference §6.2. A copy of every reversible request is
# saved as an 0400 and armed the moment the request is sent. A timeout or a
# bad MAC leaves it pending; it goes out before the next transaction (and
# before settlement), retried up to the "retries" parameter.

_DROP = (26, 35, 36, 37, 52, 53, 64)  # reference §6.2 (64 gets a new MAC)
_BINARY = (52, 55, 62, 64)

REASON_TIMEOUT = "98"
REASON_MAC = "A0"
REASON_INCOMPLETE = "96"
REASON_OTHER = "06"
UNCONFIRMED = "reversal_failed"  # the journal's record of a reversal never confirmed


# a chip transaction's reversal carries these of its 55 (reference §12): TVR, IFD serial,
# issuer application data, ATC, script results
_CHIP_TAGS = (0x95, 0x9F1E, 0x9F10, 0x9F36, 0xDF31)


def chip_tags(f55):
    # the reversal tag set out of a request's field 55 (flat BER-TLV, tags of 1-2 bytes,
    # short lengths, as the kernel builds it), in the order of _CHIP_TAGS
    got = {}
    i = 0
    n = len(f55)
    while i + 2 <= n:
        tag = f55[i]
        i += 1
        if tag & 0x1F == 0x1F:
            tag = (tag << 8) | f55[i]
            i += 1
        size = f55[i]
        if size & 0x80 or i + 1 + size > n:
            return b""  # not what the kernel builds: no tag set rather than a wrong one
        got[tag] = bytes(f55[i : i + 1 + size])
        i += 1 + size
    out = bytearray()
    for tag in _CHIP_TAGS:
        if tag in got:
            out.extend(bytes((tag >> 8, tag & 0xFF)) if tag > 0xFF else bytes((tag,)))
            out.extend(got[tag])
    return bytes(out)


def to_record(msg, reason=REASON_TIMEOUT):
    rec = {"mti": "0400", "tries": 0}
    for k in msg:
        if k == "mti" or k in _DROP:
            continue
        v = msg[k]
        rec[str(k)] = v.hex() if k in _BINARY else v
    if msg.get(55):  # a chip read: the reversal tag set, not the request's objects
        rec["55"] = chip_tags(msg[55]).hex()
    if "2" not in rec and msg.get(35):
        # a swiped card: the reversal names the card by its PAN (the track is not kept)
        rec["2"] = msg[35].split("=")[0]
    rec["39"] = reason
    return rec


def to_message(rec):
    msg = {"mti": rec["mti"]}
    for k in rec:
        if k in ("mti", "tries", "kind"):
            continue
        f = int(k)
        msg[f] = bytes.fromhex(rec[k]) if f in _BINARY else rec[k]
    return msg


def arm(t, msg, kind):
    rec = to_record(msg)
    rec["kind"] = kind
    t.state.set_reversal(rec)


def set_reason(t, reason, auth=None):
    # auth: the authorisation code the answer carried (an approval whose MAC failed):
    # the reversal names it in 38 (reference §6.2)
    rec = t.state.reversal()
    if rec is not None:
        rec["39"] = reason
        if auth:
            rec["38"] = auth
        t.state.set_reversal(rec)


def disarm(t):
    t.state.set_reversal(None)


def pending(t):
    return t.state.reversal()


def send_pending(t):
    # Generator -> True when no reversal is pending any more, False when the transaction
    # must not go ahead. The sending (pos.flows.reversalsend) is an overlay of its own:
    # loaded only when a reversal is pending.
    if t.state.reversal() is None:
        return True
    from pos import overlay

    with overlay.scope():
        from pos.flows import reversalsend

        return (yield from reversalsend.send_pending(t))
