# The fields every request to the center carries, and the common body of a card
# transaction request (reference §3.1). Plain data: no codec, no keys (the PIN block is
# made where the request is sent, pos.flows.online).
from pos import overlay  # resident (imported at boot): no import at each call


def z(n, width):
    s = str(n)
    return "0" * (width - len(s)) + s if len(s) < width else s


def batch_str(t):
    return z(t.state.batch, 6)


def base_fields(t, msg, trace=None):
    p = t.state.params
    if trace is not None:
        msg[11] = z(trace, 6)
    msg[41] = p["tid"]
    msg[42] = p["mid"]
    return msg


def financial(t, kind, card, amount, pin, net="000"):
    # -> the request of a transaction of the catalog's type `kind` (MTI, 3, 25 and 60.1
    # from pos.catalog) without its PIN block (52): pass the PIN itself to
    # pos.flows.txn.run_online / pos.flows.online.send, which encrypt it as they send.
    # card: pos.card's tuple (a swipe sends its tracks, a keyed card its PAN, a scanned
    # payment code, entry "03", goes in 59: pos.qrfields).
    from pos import card as cardmod
    with overlay.scope():  # the catalog is read, not held while the center answers
        from pos import catalog

        mti, proc, cond, tx_type = catalog.request_codes(kind)
        del catalog
    msg = {"mti": mti, 3: proc}
    if amount is not None:
        msg[4] = z(amount, 12)
    if card[2] == cardmod.QR:
        from pos import qrfields  # loaded for a QR payment only

        qrfields.fields(msg, card[0])
    else:
        cardmod.fields(msg, card, pin)
    msg[25] = cond
    if pin:
        msg[26] = "12"
    security = security_control(t, pin, cardmod.swiped(card))
    if security:
        msg[53] = security
    msg[49] = "156"
    # 60.4 what the card was read with (2 stripe, 5 chip, 6 contactless), 60.5 the IC
    # condition (2 = a swipe after the chip failed): pos.card.f60_read, reference §2.1, §11
    msg[60] = tx_type + batch_str(t) + net + cardmod.f60_read(card)
    base_fields(t, msg)
    return msg


def security_control(t, pin, swiped):
    # Field 53 (reference §2, §11): d1 PIN format (2 = ANSI X9.8 with the PAN), d2 the
    # working keys (0 single DES, 6 double length), d3 1 when the tracks are TDK-encrypted.
    # "" when the request carries neither a PIN block nor encrypted tracks.
    tracks = swiped and bool(t.state.extra.get("tdk"))
    if not pin and not tracks:
        return ""
    double = len(t.state.pik) > 16
    return "2" + ("6" if double else "0") + ("1" if tracks else "0") + "0000000000000"
