# Batch totals for settlement (reference §3.4) and the records of the batch
# upload (§3.5), computed from the journal. Debit = purchases and pre-auth
# completions; credit = voids, completion voids and refunds. Pre-auths and
# their voids only hold money and are not settled.
from pos.request import z as _z

DEBIT = ("purchase", "completion")
CREDIT = ("void", "refund", "completion_void")
# the order of the per-type lines on screens and slips
ORDER = ("purchase", "void", "refund", "preauth", "preauth_void", "completion", "completion_void")
RECORDS_PER_UPLOAD = 8


def settled_entries(entries):
    # the journal records that count in the totals (training ones never reach the center)
    return [e for e in entries if e.get("type") in DEBIT + CREDIT and not e.get("training")]


def totals(entries):
    # -> {"debit": [count, fen], "credit": [count, fen], "types": {type: [count, fen]}}
    # "unconfirmed": reversals never confirmed (pos.flows.reversal.give_up): not in the
    # totals sent (the center decides whether the original stands), on the slip
    out = {"debit": [0, 0], "credit": [0, 0], "types": {}}
    for e in entries:
        kind = e.get("type")
        if kind == "reversal_failed" and not e.get("training"):
            row = out.get("unconfirmed") or [0, 0]
            row[0] += 1
            row[1] += e.get("amount", 0)
            out["unconfirmed"] = row
            continue
        if kind not in ORDER or e.get("training"):
            continue
        amount = e.get("amount", 0)
        row = out["types"].get(kind)
        if row is None:
            row = out["types"][kind] = [0, 0]
        row[0] += 1
        row[1] += amount
        side = "debit" if kind in DEBIT else ("credit" if kind in CREDIT else None)
        if side is not None:
            out[side][0] += 1
            out[side][1] += amount
    return out


def field48(tot):
    # 0500 request: domestic debit amount/count, credit amount/count, flag 0;
    # the foreign half is all zero (every card here is domestic).
    d, c = tot["debit"], tot["credit"]
    domestic = _z(d[1], 12) + _z(d[0] % 1000, 3) + _z(c[1], 12) + _z(c[0] % 1000, 3) + "0"
    return domestic + "0" * 30 + "0"


def balance_flags(f48):
    # 0510 field 48 -> (domestic flag, foreign flag): "1" balanced, "2" not, "3" error
    if len(f48) < 62:
        return ("3", "3")
    return (f48[30], f48[61])


def upload_record(e):
    # 00 (domestic) + trace 6 + PAN right-aligned in 20 + amount 12 = 40 digits
    pan = e.get("pan", "")
    return "00" + e.get("trace", "000000") + _z(pan, 20) + _z(e.get("amount", 0), 12)


def upload_chunk(entries, k):
    # field 48 of the k-th 0320/201 (records 8k .. 8k+7 of the settled ones), or None
    # past the last: a terminal builds one at a time, so that the batch is not held in
    # RAM while it waits for the center
    part = []
    i = 0
    first = k * RECORDS_PER_UPLOAD
    for e in settled_entries(entries):
        if first <= i < first + RECORDS_PER_UPLOAD:
            part.append(upload_record(e))
        i += 1
    if not part:
        return None
    return _z(len(part), 2) + "".join(part)
