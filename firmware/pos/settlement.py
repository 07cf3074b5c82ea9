# Batch totals for settlement (reference §3.4) and the records of the batch
# upload (§3.5), computed from the journal. Each type's side is the catalog's
# (pos.catalog): debit = purchases and pre-auth completions; credit = voids,
# completion voids and refunds; pre-auths and their voids only hold money and are
# not settled.
from pos import overlay

RECORDS_PER_UPLOAD = 8  # pos.field48.RECORDS_PER_MESSAGE
# how the debits were presented (the journal's entry mode, field 22's first two digits):
# the totals count chip, contactless and QR sales apart (screens and slips show them)
MODES = (("05", "chip"), ("07", "contactless"), ("03", "qr"))


def sides():
    # {type: "debit" | "credit" | None} of the journalled types, in the catalog's order
    # (read, not held while settlement talks to the center)
    with overlay.scope():
        from pos import catalog

        out = {}
        for kind in catalog.journal_kinds():
            out[kind] = catalog.side(kind)
        return out


def settled_entries(entries):
    # the journal records that count in the totals (training ones never reach the center)
    # (a generator: walked with Journal.each(), the batch is never held whole)
    side = sides()
    for e in entries:
        if side.get(e.get("type")) and not e.get("training"):
            yield e


def totals(entries):
    # -> {"debit": [count, fen], "credit": [count, fen], "types": {type: [count, fen]}}
    # "unconfirmed": reversals never confirmed (pos.flows.reversalsend.give_up): not in the
    # totals sent (the center decides whether the original stands), on the slip
    # "modes": {"chip" | "contactless" | "qr": [count, fen]} of the debits read so
    out = {"debit": [0, 0], "credit": [0, 0], "types": {},
           "modes": {"chip": [0, 0], "contactless": [0, 0], "qr": [0, 0]}}
    kinds = sides()
    for e in entries:
        kind = e.get("type")
        if kind == "reversal_failed" and not e.get("training"):
            row = out.get("unconfirmed") or [0, 0]
            row[0] += 1
            row[1] += e.get("amount", 0)
            out["unconfirmed"] = row
            continue
        if kind not in kinds or e.get("training"):
            continue
        amount = e.get("amount", 0)
        row = out["types"].get(kind)
        if row is None:
            row = out["types"][kind] = [0, 0]
        row[0] += 1
        row[1] += amount
        side = kinds[kind]
        if side is not None:
            out[side][0] += 1
            out[side][1] += amount
            if side == "debit":
                for code, mode in MODES:
                    if e.get("entry") == code:
                        out["modes"][mode][0] += 1
                        out["modes"][mode][1] += amount
            if e.get("foreign"):
                # foreign cards (63.1 not CUP): the 0500 totals them apart
                key = "foreign_" + side
                row = out.get(key) or [0, 0]
                row[0] += 1
                row[1] += amount
                out[key] = row
    return out


def field48(tot):
    # 0500 request (reference §3.4, pos.field48): domestic (内卡) debit amount/count,
    # credit amount/count, flag 0; then the same for foreign cards (外卡, 63.1 not CUP).
    fd = tot.get("foreign_debit") or [0, 0]
    fc = tot.get("foreign_credit") or [0, 0]
    d, c = tot["debit"], tot["credit"]
    domestic = (d[0] - fd[0], d[1] - fd[1], c[0] - fc[0], c[1] - fc[1])
    with overlay.scope():  # the field's code is not held while the center answers
        from pos import field48 as f48

        return f48.totals(domestic, (fd[0], fd[1], fc[0], fc[1]))


def balance_flags(f48):
    # 0510 field 48 -> (domestic flag, foreign flag): "1" balanced, "2" not, "3" error
    with overlay.scope():
        from pos import field48 as fmt

        return fmt.flags(f48)


def upload_chunk(entries, k, pan_of=None):
    # field 48 of the k-th 0320/201 (records 8k .. 8k+7 of the settled ones), or None
    # past the last: a terminal builds one at a time, so that the batch is not held in
    # RAM while it waits for the center
    # (pos.field48: one record of 40 digits each; pan_of(e): the record's whole PAN, the
    # journal keeps it sealed: Journal.pan)
    part = []
    i = 0
    first = k * RECORDS_PER_UPLOAD
    for e in settled_entries(entries):
        if e.get("tc55"):
            continue  # a chip transaction: its TC goes in its own 0320 (pos.flows.tcupload)
        if first <= i < first + RECORDS_PER_UPLOAD:
            part.append(e)
        i += 1
    if not part:
        return None
    with overlay.scope():  # the field's code is not held while the center answers
        from pos import field48

        recs = []
        for e in part:
            pan = pan_of(e) if pan_of is not None else e.get("pan", "")
            recs.append(field48.record(e.get("foreign"), e.get("trace", "000000"), pan,
                                       e.get("amount", 0)))  # fmt: skip
        return field48.records(recs)
