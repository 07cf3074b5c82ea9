# The fields every request to the center carries, and the common body of a card
# transaction request (reference §3.1). Plain data: no codec, no keys (the PIN block is
# made where the request is sent, pos.flows.online).


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


def financial(t, mti, proc, cond, tx_type, pan, exp, entry, amount, pin, net="000"):
    # -> the request without its PIN block (52): pass the PIN itself to
    # pos.flows.txn.run_online / send_online, which encrypt it as they send.
    msg = {"mti": mti, 2: pan, 3: proc}
    if amount is not None:
        msg[4] = z(amount, 12)
    if exp:
        msg[14] = exp
    msg[22] = entry + ("1" if pin else "2")
    msg[25] = cond
    if pin:
        msg[26] = "12"
        msg[53] = "2600000000000000"
    msg[49] = "156"
    msg[60] = tx_type + batch_str(t) + net
    base_fields(t, msg)
    return msg
