"""QR payments at the center (扫码支付, reference §12, issue 13.10-11).

The terminal sends the customer's payment code (付款码) in field 59 (tag A3, a length n3, the
code) with 22 = 032; the catalog's types qr_sale, qr_query, qr_void and qr_refund
(firmware/pos/catalog.py) come here from the processor (`serves` / `serve`, a small hook in
Processor._financial, and `reverse` in Processor._reversal).

The wallet side is the aggregator's: a code of the test deck (deck.json "codes") pays at once
when its customer need not confirm ("confirm": false), or is answered 09, "request in
progress" (ISO 8583), when the customer must confirm on the phone: that is how an acquirer's
8583 line carries what WeChat Pay calls USERPAYING (用户支付中, "the user is paying: enter the
password") and Alipay WAIT_BUYER_PAY (10003, 等待用户付款). Such a customer confirms by the
terminal's CONFIRM_AT result query ("confirm": true), or never ("confirm": "never": the terminal
times out and reverses, which cancels the order). A valid code that is not in the deck is a
customer who pays at once. The payment's reference number (37) is given with the 09, so that
the answer that approves it later carries the same one.
"""

from pos import paycode
from pos.qrfields import code_of as qr_code_of

from posterm.host import deck

PENDING = "09"
CONFIRM_AT = 2  # the result query by which a confirming customer has confirmed (~10 s)
_TYPES = ("qr_sale", "qr_query", "qr_void", "qr_refund")


def serves(tx_type):
    """True for the catalog's QR types."""
    return tx_type in _TYPES


def serve(proc, req, term, record, now):
    """The answer to a QR request (record: the processor's transaction record so far)."""
    from posterm.host.processor import Decline

    kind = record["type"]
    code = qr_code_of(req.get(59, ""))
    record["pan"] = code
    try:
        if paycode.scheme(code) is None:
            raise Decline("14")  # not a payment code
        return _HANDLERS[kind](proc, req, term, record, code, now)
    except Decline as d:
        if kind != "qr_query":
            record.update(result=d.code, status="declined")
            proc.store.record_transaction(**record)
        return proc.answer(req, d.code, now, {15: now.strftime("%m%d")})


def _approve(proc, req, record, now, orig_id=None, rrn=None, auth=None):
    rrn = rrn or proc.store.new_rrn(now)
    auth = auth or proc.store.new_auth_code(proc.random_bytes)
    record.update(rrn=rrn, auth=auth, result="00", status="approved", orig_id=orig_id)
    proc.store.record_transaction(**record)
    return proc.answer(req, "00", now, {15: now.strftime("%m%d"), 37: rrn, 38: auth})


def _sale(proc, req, term, record, code, now):
    confirm = (deck.code(code) or {}).get("confirm", False)
    if not confirm:
        return _approve(proc, req, record, now)
    rrn = proc.store.new_rrn(now)
    record.update(rrn=rrn, auth="", result=PENDING, status="pending")
    proc.store.record_transaction(**record)
    return proc.answer(req, PENDING, now, {15: now.strftime("%m%d"), 37: rrn})


def _original(proc, req, term, code):
    # the sale a query or a void names by its batch + trace (61), with the same code
    from posterm.host.processor import Decline

    f61 = req.get(61, "")
    orig = proc.store.find_transaction(term["tid"], f61[0:6], f61[6:12])
    if orig is None or orig["type"] != "qr_sale" or orig["pan"] != code:
        raise Decline("25")
    if orig["amount_fen"] != int(req.get(4, "0") or 0):
        raise Decline("64")
    return orig


def _query(proc, req, term, record, code, now):
    from posterm.host.processor import Decline

    orig = _original(proc, req, term, code)
    extra = {15: now.strftime("%m%d"), 37: orig["rrn"]}
    if orig["status"] == "pending":
        confirm = (deck.code(code) or {}).get("confirm", False)
        asked = proc.store.next_counter("qr_query:%d" % orig["id"], 1000000)
        if confirm == "never" or asked < CONFIRM_AT:
            return proc.answer(req, PENDING, now, extra)
        proc.store.complete_pending(orig["id"], proc.store.new_auth_code(proc.random_bytes))
        orig = proc.store.get_transaction(orig["id"])
    if orig["status"] not in ("approved", "voided") or orig["result"] != "00":
        raise Decline("25")  # cancelled (reversed) or never paid
    extra[38] = orig["auth"]
    return proc.answer(req, "00", now, extra)


def _void(proc, req, term, record, code, now):
    from posterm.host.processor import Decline

    orig = _original(proc, req, term, code)
    if orig["status"] != "approved" or orig["result"] != "00":
        raise Decline("25")
    if orig["refunded_fen"]:
        raise Decline("64")
    proc.store.set_status(orig["id"], "voided")
    return _approve(proc, req, record, now, orig["id"])


def _refund(proc, req, term, record, code, now):
    # found by its reference number (and date): the customer's code changes every minute,
    # it only has to be of the same wallet
    from posterm.host.processor import Decline

    orig = proc.store.find_by_rrn(req.get(37, ""), "qr_sale")
    if orig is None or orig["status"] != "approved":
        raise Decline("25")
    if paycode.scheme(orig["pan"]) != paycode.scheme(code):
        raise Decline("25")
    mmdd = req.get(61, "")[12:16]
    if mmdd and mmdd != orig["date"][5:7] + orig["date"][8:10]:
        raise Decline("25")
    amount = record["amount_fen"]
    if amount <= 0 or amount > orig["amount_fen"] - orig["refunded_fen"]:
        raise Decline("64")
    proc.store.add_refunded(orig["id"], amount)
    return _approve(proc, req, record, now, orig["id"])


_HANDLERS = {"qr_sale": _sale, "qr_query": _query, "qr_void": _void, "qr_refund": _refund}


def reverse(proc, req, orig, now):
    """The reversal of a QR sale or void (Processor._reversal): a payment the customer was
    still confirming is cancelled (a later confirmation cannot approve it), an approved one
    is given back; a void's reversal puts its sale back."""
    from posterm.host.processor import Decline

    if orig["status"] == "reversed":
        return proc.answer(req, "00", now)
    if orig["status"] not in ("approved", "pending"):
        raise Decline("25")
    if orig["type"] == "qr_void" and orig["orig_id"]:
        proc.store.set_status(orig["orig_id"], "approved")
    proc.store.set_status(orig["id"], "reversed")
    return proc.answer(req, "00", now)
