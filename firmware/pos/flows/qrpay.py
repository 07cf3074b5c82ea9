# The exchange of a QR payment (扫码支付, reference §12), an overlay of pos.flows.qr: the
# sale's 0200 (the catalog's qr_sale: 22 = 032, the payment code in 59 as tag A3) goes out
# with its reversal armed, as a card purchase does. The center may answer at once (00, or a
# decline), or 09, "request in progress" (ISO 8583): the customer has to confirm on the
# phone, what WeChat Pay's USERPAYING and Alipay's WAIT_BUYER_PAY say on the aggregators'
# own interfaces. Then the terminal shows 请顾客在手机上确认 with the seconds left and
# queries the result (qr_query, 61 = the sale's batch + trace) every POLL_S seconds, or at
# once on ENTER, until a final answer or WAIT_S seconds; on the timeout, or on CANCEL, the
# payment is cancelled by sending its reversal (0400) at once (a reversal that does not get
# through stays armed and goes before the next transaction, as every reversal does).
from pos import center, clock, overlay, ui
from pos import keys as K
from pos.request import financial, z
from pos.qrfields import card as qr_card, code_of
from pos.flows import reversal

PENDING = "09"
POLL_S = 5  # wallets poll every 3-6 s (reference §12)
WAIT_S = 60  # ... for about a minute


def pay(t, title, code, amount):
    # Generator -> the journal record of the approved payment (not printed yet), else None.
    from pos import paycode

    msg = financial(t, "qr_sale", qr_card(code), amount, None)
    rec = {"pan": code, "entry": "03", "amount": amount, "scheme": paycode.scheme(code)}
    with overlay.scope():
        from pos.flows import online

        reply = yield from online.send(t, title, "qr_sale", msg, None, PENDING)
        del online
    if reply is None:
        return None
    if reply.get(39) == PENDING:
        reply = yield from wait(t, title, msg, reply)
        if reply is None:
            return None
    with overlay.scope():
        from pos.flows import online

        rec = yield from online.journal(t, title, "qr_sale", msg, reply, rec)
        del online
    return rec


def wait(t, title, msg, first):
    # Generator -> the approving answer, or None (declined, cancelled or timed out: the
    # screen said so). The sale's reversal stays armed until the answer is final.
    started = clock.to_seconds(t.now)
    due = started + POLL_S
    rrn = first.get(37, "")
    cancelled = False
    while True:
        now = clock.to_seconds(t.now)
        left = WAIT_S - (now - started)
        if left <= 0:
            break
        ui.screen(t, title, [t.s("qr_confirm_phone"), t.s("qr_seconds_left", left)])
        ev = yield ("input", ("key",), 1)
        if ev[0] == "key":
            if ev[1] == K.CANCEL:
                cancelled = True
                break
            if ev[1] != K.ENTER:
                continue  # MENU too: a payment the customer may be confirming is not left
        elif clock.to_seconds(t.now) < due:
            continue
        if clock.to_seconds(t.now) - started >= WAIT_S:
            break
        res = yield from _query(t, title, msg, rrn)
        due = clock.to_seconds(t.now) + POLL_S
        if res.status != center.OK:
            continue  # a query lost on the way: the next one asks again
        code = res.code()
        if code == "00":
            return res.reply
        if code == PENDING:
            continue
        # final: the customer refused, the wallet declined: nothing to undo
        reversal.disarm(t)
        yield from center.show_failure(t, title, res)
        return None
    return (yield from _cancel(t, title, cancelled))


def _query(t, title, sale, rrn):
    # Generator -> the center's Result for the sale's result query (qr_query)
    q = financial(t, "qr_query", qr_card(code_of(sale[59])), int(sale[4]), None)
    q[11] = z(t.state.take_trace(), 6)
    q[61] = sale[60][2:8] + sale[11]
    if rrn:
        q[37] = rrn
    return (yield from center.exchange(t, q, title, True))


def _cancel(t, title, by_cashier):
    # the reversal of the sale, now: the customer's money must not stay held
    reversal.set_reason(t, reversal.REASON_OTHER if by_cashier else reversal.REASON_TIMEOUT)
    done = yield from reversal.send_pending(t)
    done = done and reversal.pending(t) is None
    if done:
        key = "qr_cancelled" if by_cashier else "qr_timeout"
    else:
        key = "qr_not_cancelled"
    t.emit(("beep", "error"))
    yield from ui.notice(t, title, t.s(key))
    return None
