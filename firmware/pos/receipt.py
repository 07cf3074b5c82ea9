# The sales slip (签购单), reference §8, as a list of (style, text) lines for
# the printer port: style "T" title (double size, centered), "B" bold,
# "C" centered, "-" a rule, "" plain. Width in cells from the paper (58 mm: 32).
from pos import cells
from pos.ui import mask_pan, format_amount

# journal "type" -> string key of its name on the slip
TYPE_KEYS = {
    "purchase": "tx_purchase",
}
# types whose amount prints negative
NEGATIVE = ()
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
    if rec.get("issuer") or rec.get("acquirer"):
        add("", s("slip_issuer") + rec.get("issuer", ""))
        add("", s("slip_acquirer") + rec.get("acquirer", ""))
    add("", s("slip_card"))
    add("B", mask_pan(rec.get("pan", "")) + " " + ENTRY_LETTER.get(rec.get("entry", ""), ""))
    add("", s("slip_type"))
    add("B", s(TYPE_KEYS.get(rec.get("type"), "tx_" + str(rec.get("type")))))
    exp = rec.get("exp") or ""
    if len(exp) == 4:
        add("", s("slip_expiry") + "20" + exp[0:2] + "/" + exp[2:4])
    for line in _pair(s("slip_batch") + rec.get("batch", ""), s("slip_trace") + rec.get("trace", ""), w):
        add("", line)
    add("", s("slip_datetime") + _date(rec.get("date", "00000000")) + " " + _time(rec.get("time", "000000")))
    if rec.get("settle_date"):
        add("", s("slip_settle_date") + rec["settle_date"][0:2] + "/" + rec["settle_date"][2:4])
    if rec.get("auth"):
        add("", s("slip_auth") + rec["auth"])
    if rec.get("rrn"):
        add("", s("slip_rrn") + rec["rrn"])
    sign = "-" if rec.get("type") in NEGATIVE else ""
    add("B", s("slip_amount") + "RMB " + sign + format_amount(rec.get("amount", 0)))
    remarks = []
    if rec.get("orig_trace"):
        remarks.append(s("slip_orig_trace") + rec["orig_trace"])
    if rec.get("orig_rrn"):
        remarks.append(s("slip_orig_rrn") + rec["orig_rrn"])
    if reprint:
        remarks.append(s("slip_reprint"))
    add("", s("slip_remarks") + " ".join(remarks))
    if copy == "merchant":
        add("", s("slip_signature"))
        add("", "")
        add("", "")
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
