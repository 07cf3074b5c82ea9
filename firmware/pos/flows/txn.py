# What every online financial transaction shares once its request is built: the stages
# it runs as overlays (pos.overlay), so that a board holds one stage's code at a time:
# the exchange with the center (pos.flows.online: pending reversal first, the PIN block,
# the reversal armed when sending, the answer judged, an approval journalled), then the
# receipts (pos.flows.printing). Also the helpers of transactions that refer to an
# original one (the journal look-ups, the prompts).
from pos import ui, overlay

# (pos.request loaded with these helpers, as before: loaded later, by the request, the chip
# purchase at the ESP32's ROMFS cap of 97,280 B ran out of heap)
from pos.request import z  # noqa: F401


def run_online(t, title, kind, msg, rec, pin=None):
    # Generator -> the journal record when approved (its slips printed), else None.
    # pin: the PIN the cardholder entered (its block is made as the request is sent).
    with overlay.scope():
        from pos.flows import online

        rec = yield from online.approve(t, title, kind, msg, rec, pin)
        del online
    if rec is None:
        return None
    yield from approved(t, title, rec)
    return rec


def online_job(title, kind, msg, rec, pin=None):
    # What a flow run by pos.actions returns to have its request sent once the flow is done:
    # pos.actions.run then runs its online stage (run_online's) with the flow's own modules
    # dropped. Plain data (pos.overlay's rule).
    return ("online", title, kind, msg, rec, pin)


def chip_job(title, ev, amount, kind="purchase", ttype="00"):
    # A chip's read and its transaction (pos.flows.chip.run) for pos.actions.run to run once
    # the flow is done: with the flow's own modules (its prompts, the gates, these helpers)
    # dropped while the kernel reads the card and the center is asked. Plain data.
    return ("chip", title, ev, amount, kind, ttype)


def approved(t, title, rec):
    # Generator: the approval's screen, then its slips (an overlay: pos.flows.printing)
    t.emit(("beep", "ok"))
    ui.screen(t, title, [t.s("resp_code", "00"), t.strings.response("00"), t.s("printing")])
    with overlay.scope():
        from pos.flows import printing

        yield from printing.print_slips(t, rec, False, title)
        del printing


def read_card(t, title, kinds, amount=None, first=None, swiped=None):
    # Generator -> (kind, card or the reader's insert / tap event) or None: the card prompt
    # of these types, as their catalog rows allow (pos.flows.present, an overlay)
    with overlay.scope():
        from pos.flows import present

        got = yield from present.read(t, title, kinds, amount, first, swiped)
        del present
    return got


# -- helpers for transactions that refer to an original one --------------------
def find_entry(t, trace, kinds=None):
    # the current batch's journal record with this trace (of one of kinds), or None
    for e in t.journal.each(_quoted(trace)):
        if e.get("trace") == trace and (kinds is None or e.get("type") in kinds):
            return e
    return None


def _quoted(value):
    # the bytes a record's JSON holds when one of its fields is the string value (the
    # journal decodes only the records that hold them: pos.journal each(having))
    # (a str as it is: str() of one makes another on MicroPython, looked for among the
    # interned names)
    return b'"' + (value if type(value) is str else str(value)).encode() + b'"'


def find_unvoided(t, trace, kinds, by_trace):
    # -> (ref, fields, voided): where the record with this trace of one of kinds starts
    # (Journal.at) and its type, trace and amount (None, None when there is none), and
    # whether a void (a record of the types by_trace: catalog.journal_kinds("trace")) names
    # it. One walk; only the records that name the trace read, and of them only these
    # fields (a record decoded whole made ~40 strs, each looked for among the interned names
    # on MicroPython: most of the key that found the original)
    ref = found = None
    voided = False
    names = (("type", b'"type": '), ("trace", b'"trace": '), ("amount", b'"amount": '),
             ("orig_trace", b'"orig_trace": '))  # fmt: skip
    for r, e in t.journal.naming(_quoted(trace), names):
        if found is None and e.get("trace") == trace and e.get("type") in kinds:
            ref, found = r, e
        elif not voided and e.get("orig_trace") == trace:
            voided = e.get("type") in by_trace
    return ref, found, voided


def is_voided(t, trace):
    # a void (a type whose original is found by trace: 消费撤销, 完成撤销) names it
    with overlay.scope():
        from pos import catalog

        for e in t.journal.each(_quoted(trace)):
            if e.get("orig_trace") == trace:
                how = catalog.original(e.get("type"))
                if how is not None and how[0] == "trace":
                    return True
        return False


def enter_trace(t, title, prompt_key="tx_enter_orig_trace"):
    # -> a 6-digit trace string, or None on CANCEL
    text = yield from ui.enter_digits(t, title, t.s(prompt_key), 1, 6)
    if text is None:
        return None
    # (1 to 6 digits: padded as they are, the same as z(int(text), 6); its str(), "0" * n
    # and + made three strs, each looked for among the interned names on MicroPython)
    return text if len(text) == 6 else "000000"[len(text) :] + text


def enter_mmdd(t, title, prompt_key="tx_enter_orig_date"):
    # -> "MMDD" (a plausible month and day), or None on CANCEL
    typed = None  # the key that ended 日期错误 (ui.notice_key): the date's first digit
    while True:
        text = yield from ui.enter_digits(t, title, t.s(prompt_key), 4, 4, typed=typed)
        if text is None:
            return None
        m, d = int(text[:2]), int(text[2:])
        if 1 <= m <= 12 and 1 <= d <= 31:
            return text
        t.emit(("beep", "error"))
        typed = yield from ui.notice_key(t, title, t.s("tx_bad_date"))


def check_card(t, title, card, pan):
    # Generator -> True when the card presented is the original's.
    if card[0] == pan:
        return True
    t.emit(("beep", "error"))
    yield from ui.notice(t, title, t.s("tx_card_mismatch"))
    return False


def refuse(t, title, key):
    t.emit(("beep", "error"))
    yield from ui.notice(t, title, t.s(key))


def show_original(t, title, e, work=None):
    # The original's type, card and amount; ENTER goes on, CANCEL stops. work: run once
    # the screen is drawn (ui.confirm)
    with overlay.scope():
        from pos import catalog

        sign = "-" if catalog.negative(e.get("type")) else ""
        name = t.s(catalog.title_key(e.get("type", "")))
        del catalog
    # (one str a line: each str made is looked for among the interned names on MicroPython)
    amount = ui.format_amount(e.get("amount", 0))
    body = [
        " ".join((name, e.get("trace", ""))),
        "".join(("\uffe5", sign, amount)) if sign else "\uffe5" + amount,
    ]
    return (yield from ui.confirm(t, title, body, t.s("tx_confirm_original"), work))
