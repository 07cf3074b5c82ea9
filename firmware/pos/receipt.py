# The sales slip (签购单), reference §8, as a list of (style, text) lines for
# the printer port: style "T" title (double size, centered), "B" bold,
# "C" centered, "-" a rule, "" plain. Width in cells from the paper (58 mm: 32).
from pos import cells
from pos.ui import mask_pan, format_amount
from pos import catalog

ENTRY_LETTER = {"02": "S", "01": "M", "05": "C", "07": "I", "80": "F"}


def _pair(left, right, width):
    room = width - cells.width(left) - cells.width(right)
    if room < 1:
        return [left, right]
    return [left + " " * room + right]


def _date(d):
    return d[0:4] + "/" + d[4:6] + "/" + d[6:8]


def _time(tm):
    return tm[0:2] + ":" + tm[2:4] + ":" + tm[4:6]


def build(t, rec, copy="merchant", reprint=False):
    s = t.s
    w = t.paper_cells
    p = t.state.params
    out = []

    def add(style, text):
        if style in ("T", "C", "-"):
            out.append((style, text))
            return
        for line in cells.wrap(text, w):
            out.append((style, line))

    add("T", s("slip_title"))
    if t.training or rec.get("training"):
        add("T", s("training_banner"))
    add("", s("slip_copy_" + copy))
    add("-", "")
    add("", s("slip_merchant_name") + p.get("merchant_name", ""))
    add("", s("slip_mid") + p.get("mid", ""))
    for line in _pair(s("slip_tid") + p.get("tid", ""), s("slip_operator") + rec.get("op", ""), w):
        add("", line)
    issuer = rec.get("issuer_name") or rec.get("issuer", "")
    acquirer = rec.get("acquirer_name") or rec.get("acquirer", "")
    if issuer or acquirer:
        # the names the center gave in 63.2, else the institution codes of 44
        add("", s("slip_issuer") + issuer)
        add("", s("slip_acquirer") + acquirer)
    if rec.get("entry") == "03":
        # a QR payment: the customer's payment code (masked as a card number) and the
        # wallet it was paid with
        add("", s("slip_qr_code"))
        add("B", mask_pan(rec.get("pan", "")) + " Q")
        if rec.get("scheme"):
            add("", s("slip_qr_scheme") + s("qr_" + rec["scheme"]))
    else:
        add("", s("slip_card"))
        add("B", mask_pan(rec.get("pan", "")) + " " + ENTRY_LETTER.get(rec.get("entry", ""), ""))
    add("", s("slip_type"))
    add("B", s(catalog.title_key(str(rec.get("type")))))
    exp = rec.get("exp") or ""
    if len(exp) == 4:
        add("", s("slip_expiry") + "20" + exp[0:2] + "/" + exp[2:4])
    batch = s("slip_batch") + rec.get("batch", "")
    for line in _pair(batch, s("slip_trace") + rec.get("trace", ""), w):
        add("", line)
    when = _date(rec.get("date", "00000000")) + " " + _time(rec.get("time", "000000"))
    add("", s("slip_datetime") + when)
    if rec.get("settle_date"):
        add("", s("slip_settle_date") + rec["settle_date"][0:2] + "/" + rec["settle_date"][2:4])
    if rec.get("auth"):
        add("", s("slip_auth") + rec["auth"])
    if rec.get("rrn"):
        add("", s("slip_rrn") + rec["rrn"])
    sign = "-" if catalog.negative(rec.get("type")) else ""
    add("B", s("slip_amount") + "RMB " + sign + format_amount(rec.get("amount", 0)))
    remarks = []
    if rec.get("orig_trace"):
        remarks.append(s("slip_orig_trace") + rec["orig_trace"])
    if rec.get("orig_rrn"):
        remarks.append(s("slip_orig_rrn") + rec["orig_rrn"])
    if rec.get("orig_auth"):
        remarks.append(s("print_slip_orig_auth") + rec["orig_auth"])
    if reprint:
        remarks.append(s("slip_reprint"))
    add("", s("slip_remarks") + " ".join(remarks))
    no_sign = False
    if rec.get("aid"):  # read from a chip or a tap: the chip lines (pos.emv.slip)
        from pos.emv import slip

        slip.lines(t, rec, add)
        no_sign = slip.no_signature(rec)
    qr = rec.get("entry") == "03"  # paid from a wallet: confirmed on the phone, no signature
    if no_sign:
        add("B", s("slip_no_pin_no_sign"))
    elif copy == "merchant" and not qr:
        add("", s("slip_signature"))
        add("", "")
        add("", "")
    if not qr:
        add("", s("slip_consent"))
    add("-", "")
    add("C", s("slip_footer"))
    return out


def render_text(lines, width):
    # The slip as plain text rows (for `posterm keys`, the emulator, logs).
    rows = []
    for style, text in lines:
        if style == "-":
            rows.append("-" * width)
        elif style in ("T", "C"):
            rows.append(cells.center(text, width).rstrip())
        else:
            rows.append(text)
    return rows


def _money(fen, negative=False):
    return ("-" if negative and fen else "") + format_amount(fen)


def _head(t, title, out, w):
    p = t.state.params
    out.append(("T", title))
    if t.training:
        out.append(("T", t.s("training_banner")))
    out.append(("-", ""))
    for text in (t.s("slip_merchant_name") + p.get("merchant_name", ""),
                 t.s("slip_mid") + p.get("mid", ""), t.s("slip_tid") + p.get("tid", "")):
        for line in cells.wrap(text, w):
            out.append(("", line))


def _type_lines(t, tot, out, w):
    # one line per transaction type: name, count, amount
    types = tot.get("types", {})
    for kind in catalog.journal_kinds():
        row = types.get(kind)
        if not row:
            continue
        name = t.s(catalog.title_key(kind))
        left = name + " " + str(row[0]) + t.s("print_count_unit")
        for line in _pair(left, _money(row[1], catalog.negative(kind)), w):
            out.append(("", line))


def mode_lines(t, tot):
    # (label, amount) of the debits by how they were read: 其中插卡 / 挥卡 / 扫码, N笔 each
    # (pos.settlement.MODES; a summary stored before they were counted has none)
    modes = tot.get("modes")
    if not modes:
        return []
    out = []
    for key in ("chip", "contactless", "qr"):
        row = modes.get(key, [0, 0])
        out.append((t.s("totals_" + key) + " " + str(row[0]) + t.s("print_count_unit"),
                    _money(row[1])))
    return out


def _mode_lines(t, tot, out, w):
    for left, right in mode_lines(t, tot):
        for line in _pair(left, right, w):
            out.append(("", line))


def settlement_slip(t, summary, reprint=False):
    # 结算单: merchant, batch, date, 对账平 / 对账不平, totals per type and per side
    s = t.s
    w = t.paper_cells
    out = []
    title = s("settle_slip_title") + (s("settle_slip_reprint") if reprint else "")
    _head(t, title, out, w)
    for line in _pair(s("slip_batch") + summary.get("batch", ""),
                      s("slip_operator") + summary.get("op", ""), w):
        out.append(("", line))
    out.append(("", s("slip_datetime") + _date(summary.get("date", "00000000")) + " "
                + _time(summary.get("time", "000000"))))
    out.append(("B", s("settle_balanced" if summary.get("balanced") else "settle_unbalanced")))
    if not summary.get("balanced"):
        out.append(("", s("settle_uploaded", summary.get("uploaded", 0))))
    out.append(("-", ""))
    tot = summary.get("totals") or {"debit": [0, 0], "credit": [0, 0], "types": {}}
    _type_lines(t, tot, out, w)
    out.append(("-", ""))
    for key, side in (("settle_debit", "debit"), ("settle_credit", "credit")):
        row = tot.get(side, [0, 0])
        left = s(key) + " " + str(row[0]) + s("print_count_unit")
        for line in _pair(left, _money(row[1], side == "credit"), w):
            out.append(("", line))
    _mode_lines(t, tot, out, w)
    row = tot.get("unconfirmed")
    if row:
        left = s("settle_unconfirmed") + " " + str(row[0]) + s("print_count_unit")
        for line in _pair(left, _money(row[1]), w):
            out.append(("", line))
        for line in cells.wrap(s("reversal_dropped"), w):
            out.append(("", line))
    if reprint:
        out.append(("", s("slip_reprint")))
    out.append(("-", ""))
    out.append(("C", s("slip_footer")))
    return out


def totals_slip(t, tot, batch):
    # 打印交易汇总: the current batch's totals, not settled yet
    s = t.s
    w = t.paper_cells
    out = []
    _head(t, s("print_totals"), out, w)
    out.append(("", s("slip_batch") + batch))
    out.append(("-", ""))
    _type_lines(t, tot, out, w)
    out.append(("-", ""))
    for key, side in (("settle_debit", "debit"), ("settle_credit", "credit")):
        row = tot.get(side, [0, 0])
        for line in _pair(s(key) + " " + str(row[0]) + s("print_count_unit"),
                          _money(row[1], side == "credit"), w):
            out.append(("", line))
    _mode_lines(t, tot, out, w)
    out.append(("-", ""))
    out.append(("C", s("slip_footer")))
    return out


def detail_slip(t, entries, batch):
    # 打印交易明细: one block per transaction: trace, type, masked card, amount
    s = t.s
    w = t.paper_cells
    out = []
    _head(t, s("print_detail"), out, w)
    out.append(("", s("slip_batch") + batch))
    out.append(("-", ""))
    for e in entries:
        kind = e.get("type", "")
        name = s(catalog.title_key(kind))
        for line in _pair(e.get("trace", "") + " " + name,
                          _money(e.get("amount", 0), catalog.negative(kind)), w):
            out.append(("", line))
        for line in _pair(mask_pan(e.get("pan", "")), e.get("auth", ""), w):
            out.append(("", line))
    out.append(("-", ""))
    out.append(("", s("print_detail_count", len(entries))))
    out.append(("C", s("slip_footer")))
    return out
