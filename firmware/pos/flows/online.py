# The exchange of an online financial transaction with the center (run as an overlay by
# pos.flows.txn): a pending reversal first, a fresh trace, the PIN block, the reversal
# armed as the request leaves, the answer judged; an approval is journalled (durable
# before any receipt) and its reversal disarmed. The codec and the keys' code are loaded
# only to encode the request and to check the answer (pos.center), not while waiting.
from pos import center, clock, overlay
from pos.request import z
from pos.flows import reversal
from pos.journal import JournalWriteError


def approve(t, title, kind, msg, rec, pin=None):
    # Generator -> the journal record when approved, else None.
    reply = yield from send(t, title, kind, msg, pin)
    if reply is None:
        return None
    return (yield from journal(t, title, kind, msg, reply, rec))


def journal(t, title, kind, msg, reply, rec):
    # Generator: an approval journalled (durable before any slip), then its reversal
    # disarmed. -> rec, or None when the storage failed and the cashier gave up.
    try:
        try:
            record_approval(t, kind, msg, reply, rec)
        except MemoryError:
            # short of heap with the center's approval in hand: what the failed try loaded
            # is gone now (its overlays ended), so collect and journal it once more; still
            # short, the heap the terminal kept aside at boot for this is given up and it is
            # journalled a third time (the approved sale is kept). Only when that fails too
            # (no reserve left: one used and not taken back yet) the reversal stays armed:
            # the sale is reversed, never half-kept (the reversal then says 96: answered,
            # not completed; t.unfinished, an attribute stored, allocates nothing)
            import gc

            t.unfinished = msg[11]
            gc.collect()
            try:
                record_approval(t, kind, msg, reply, rec)
            except MemoryError:
                if not t.give_reserve("approval of trace %s" % msg[11]):
                    raise
                record_approval(t, kind, msg, reply, rec)
            t.unfinished = None
    except JournalWriteError as e:
        # the storage failed (disk full): no slip until the record is written; it stays
        # pending and its reversal stays armed (pos.flows.storagefail)
        t.emit(("log", "error", "%s; trace %s pending, reversal armed" % (e, msg[11])))
        with overlay.scope():
            from pos.flows import storagefail

            ok = yield from storagefail.cannot_journal(t, title)
            del storagefail
        if not ok:
            return None
    try:
        _disarm(t, kind)
    except MemoryError:
        # journalled: its reversal must not go (the sale would be undone at the center and
        # kept here); the reserve (or a collection) gives the heap for the state's write
        if not t.give_reserve("approval of trace %s" % msg[11]):
            import gc

            gc.collect()
        _disarm(t, kind)
    except OSError as e:
        # journalled, its reversal's file not cleared (the disk): the sale is kept all the
        # same (the journal counts), its slips print; the reversal is dropped, never sent,
        # before the next transaction (pos.flows.reversalsend finds it journalled). Before,
        # 存储失败 showed instead of the slips: the cashier took a kept sale for a failed one
        t.emit(("log", "error", "trace %s journalled, reversal not cleared: %s" % (msg[11], e)))
    return rec


def _disarm(t, kind):
    if reversible(kind):
        reversal.disarm(t)


def send(t, title, kind, msg, pin=None, pending=None):
    # Generator: pending reversal first, a fresh trace, send (arming the reversal of a
    # type the catalog says is reversible), judge the answer. -> the reply when approved
    # (a reversal of a reversible request is still armed: the caller journals, then
    # disarms), else None after the failure screen. pending: a response code that means
    # "not decided yet" (a QR payment the customer still has to confirm, pos.flows.qrpay):
    # its reply comes back too, the reversal still armed.
    rev = reversible(kind)
    ok = yield from reversal.send_pending(t)
    if not ok:
        return None
    msg[11] = z(t.state.take_trace(), 6)
    arm = (lambda tt: reversal.arm(tt, msg, kind)) if rev else None
    res = yield from center.exchange(t, msg, title, True, before_send=arm, pin=pin)
    if res.status in (center.LINK,):
        if rev:
            reversal.disarm(t)  # nothing left the terminal
        yield from center.show_failure(t, title, res)
        return None
    if res.status in (center.TIMEOUT, center.LINK_LOST):
        # the reversal stays armed (reason 98) and goes before the next one
        yield from center.show_failure(t, title, res)
        return None
    if res.status == center.BAD_MAC:
        if rev:
            reversal.set_reason(t, reversal.REASON_MAC, res.reply.get(38))
        yield from center.show_failure(t, title, res)
        return None
    if res.status == center.BAD_REPLY:
        if rev:
            reversal.set_reason(t, reversal.REASON_INCOMPLETE)
        t.emit(("log", "warn", "bad reply: %s" % res.detail))
        yield from center.show_failure(t, title, res)
        return None
    code = res.code()
    if code != "00" and (pending is None or code != pending):
        if rev:
            reversal.disarm(t)  # the center declined: nothing to undo
        _after_decline(t, code)
        if 55 in msg:  # a chip card is told the issuer's answer (pos.flows.chipok.finish)
            t.declined = (code, res.reply.get(55) or b"")
        yield from center.show_failure(t, title, res)
        return None
    return res.reply


def reversible(kind):
    # the catalog's word, read and not held while the center answers
    with overlay.scope():
        from pos import catalog

        return catalog.reversible(kind)


def record_approval(t, kind, msg, reply, rec):
    # Journal an approved transaction (durable before any receipt) -> rec.
    rec["type"] = kind
    rec["trace"] = msg[11]
    rec["batch"] = center.batch_str(t)
    rec["date"] = clock.date8(t.now)
    rec["time"] = clock.hhmmss(t.now)
    rec["op"] = t.state.operator
    rec["rrn"] = reply.get(37, "")
    rec["auth"] = reply.get(38, "")
    rec["settle_date"] = reply.get(15, "")
    f44 = reply.get(44, "")
    if f44:
        rec["issuer"] = f44[:11].strip()
        rec["acquirer"] = f44[11:].strip()
    f63 = reply.get(63, "")
    if len(f63) >= 3:
        card_org(t, rec, f63)
    if t.training:
        rec["training"] = True
    t.journal.append(rec)  # durable before the receipt
    return rec


def card_org(t, rec, f63):
    # 63.1 the card organisation (CUP domestic, VIS MCC JCB AMX ... foreign: totalled
    # apart at settlement and flagged in the batch upload), 63.2 the issuer's name (then
    # the acquirer's), often GBK (reference §11); the slip prints the names when given.
    from pos import gbk

    rec["org"] = f63[0:3]
    if f63[0:3] != "CUP":
        rec["foreign"] = True
    names = gbk.raw(f63[3:])
    if not names.strip():
        return
    issuer = names[:20] if len(names) > 20 else names
    issuer = gbk.decode(issuer, t.resources).strip()
    if issuer:
        rec["issuer_name"] = issuer
    if len(names) > 20:
        acquirer = gbk.decode(names[20:40], t.resources).strip()
        if acquirer:
            rec["acquirer_name"] = acquirer


def _after_decline(t, code):
    st = t.state
    # A0 / 99 (new working keys): pos.comm.after_reply, for every message
    if code == "77":
        st.signin_date = ""
        st.extra["batch_mismatch"] = 1
        st.save()
    elif code == "94":
        # duplicate trace at the center: skip a number so the next one is new
        st.take_trace()
