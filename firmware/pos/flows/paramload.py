# CUP parameter download (参数下载, reference §3.3): 0800 / 60.3 = 360; the 0810's field 62
# carries the parameters CUP defines as a 2-digit tag and a value of the tag's length. Run
# by the auto sign-in, and when a reply's header asks for it (processing requirement 1 or
# 6, pos.comm.after_reply): before the next transaction when no batch is open, else right
# after settlement. A center that has no parameter download answers 12, 30 or 40: then
# there is nothing to do. What this terminal has a setting for is applied: 12 receive
# timeout, 21 auto sign-out after settlement, 22 merchant name (GBK), 23 resend count
# (the reversal's tries); the others are kept in state as received.
from pos import center, ui

CODE = "360"
NOT_SERVED = ("12", "30", "40")  # a center without this management message
# tag -> value length (bytes), tags 11..25 in order; 26, the transaction bitmap, is 2-4
# bytes and comes last. Tags are ints here: as "11".."26" they were 12 more interned names
# on a board (its six name pools are full to their guard)
SIZES = b"\x02\x02\x01\x0e\x0e\x0e\x0e\x01\x02\x01\x01\x28\x01\x01\x01"


def parse(f62):
    # field 62 -> {tag (int): bytes}; stops at a tag it does not know (its length is unknown)
    out = {}
    i = 0
    n = len(f62)
    while i + 2 <= n:
        raw = bytes(f62[i : i + 2])
        if not raw.isdigit():
            break
        tag = int(raw)
        if tag == 26:
            out[tag] = bytes(f62[i + 2 : i + 6])
            break
        if not 11 <= tag <= 25 or i + 2 + SIZES[tag - 11] > n:
            break
        size = SIZES[tag - 11]
        out[tag] = bytes(f62[i + 2 : i + 2 + size])
        i += 2 + size
    return out


def apply(t, tags):
    # -> the names of the settings changed
    p = t.state.params
    done = []

    def number(tag, lo, hi):
        v = tags.get(tag, b"")
        if v and v.isdigit() and lo <= int(v) <= hi:
            return int(v)
        return None

    v = number(12, 5, 99)
    if v is not None:
        p["timeout"] = v
        done.append("timeout")
    if tags.get(21) in (b"0", b"1"):
        p["auto_signout"] = int(tags[21])
        done.append("auto_signout")
    name = tags.get(22, b"")
    if name.strip():
        from pos import gbk

        text = gbk.decode(name, t.resources).strip()
        if text:
            p["merchant_name"] = text
            done.append("merchant_name")
    v = number(23, 1, 9)
    if v is not None:
        p["retries"] = v
        done.append("retries")
    kept = {}
    for tag in tags:
        if tag not in (12, 21, 22, 23):
            kept["%02d" % tag] = tags[tag].hex()
    if kept:
        t.state.extra["cup_params"] = kept
    return done


def run(t, title):
    # Generator -> "done", "not_served" (the center has no parameter download) or the
    # lines of the failure screen (a list).
    st = t.state
    msg = {"mti": "0800"}
    center.base_fields(t, msg, st.take_trace())
    msg[60] = "00" + center.batch_str(t) + CODE
    res = yield from center.exchange(t, msg, title, with_mac=False)
    if res.status == center.OK and res.code() in NOT_SERVED:
        st.extra.pop("param_due", None)
        st.save()
        t.emit(("log", "info", "parameter download: not served here (%s)" % res.code()))
        return "not_served"
    if not res.approved():
        return center.failure_lines(t, res)
    done = apply(t, parse(res.reply.get(62) or b""))
    st.extra.pop("param_due", None)
    st.save()
    t.emit(("log", "info", "parameter download: %s" % (", ".join(done) or "nothing to change")))
    return "done"


def due(t, title):
    # Generator: the download a reply's header asked for, when no batch is open (else it
    # waits for the end of settlement). -> True when it ran (or was not needed).
    if not t.state.extra.get("param_due") or t.journal.count:
        return False
    got = yield from run(t, title)
    if isinstance(got, list):
        # failed: the cashier sees why under the download's own title (the transaction's
        # would read as the sale refused), until a key or 5 s; it is asked again next time
        t.emit(("beep", "error"))
        yield from ui.notice(t, t.s("terminal_params"), got, timeout=5)
        return False
    return True
