# Journal query (交易查询): browse the current batch, newest first, with
# UP/DOWN; ENTER asks for a trace and jumps to it; CANCEL leaves.
from pos import ui
from pos import catalog
from pos import keys as K
from pos.flows import txn
from pos.compat import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any  # noqa: F401 - type comments only (no typing on the board)


_READ = ("01", "02", "03", "05", "07")  # the journal's entry modes (field 22's first two)
# the fields a page shows, read from a record's bytes (pos.journal.fields: no decode of the
# whole record)
_SHOWN = (
    ("type", b'"type": '),
    ("amount", b'"amount": '),
    ("pan", b'"pan": '),
    ("trace", b'"trace": '),
    ("time", b'"time": '),
    ("entry", b'"entry": '),
    ("issuer_name", b'"issuer_name": '),
    ("rrn", b'"rrn": '),
    ("auth", b'"auth": '),
)


def entry_blocks(t, e, voided=None, per=0):
    # a record as blocks of rows (ui.pair: a label and its value together, both whole);
    # voided: the traces the batch's voids name (as browse finds them), else looked up here.
    # per: the rows of a page: only the blocks that make the first page (ui.paginate fills a
    # page with whole blocks in order: it is known once they hold `per` rows), the rest made
    # once it is drawn (browse: each label is a string looked up, ~50,000 instructions of the
    # unix port, and the board's page shows three rows of a record's seven)
    kind = e.get("type", "")
    amount = ui.format_amount(e.get("amount", 0))
    if catalog.negative(kind):
        amount = "-" + amount  # (a + of "" made a str too)
    tm = e.get("time", "")
    c = t.cols
    blocks = [
        ui.pair(t.s(catalog.title_key(kind)), amount, c),
        [(ui.screen_pan(e.get("pan", ""), c), "left")],
        ui.pair(t.s("slip_trace") + e.get("trace", ""), "%.2s:%s" % (tm, tm[2:4]), c),
    ]
    if per and len(blocks[0]) + len(blocks[1]) + len(blocks[2]) >= per:
        return blocks
    entry = e.get("entry", "")
    if entry in _READ:  # how the card or code was read: 刷卡, 插卡, 挥卡, 扫码, 手输
        blocks.append(ui.pair(t.s("query_read"), t.s("read_" + entry), c))
    if e.get("issuer_name"):
        # the issuer's name the host gave in 63.2 (GBK, at most 10 characters: pos.flows.online):
        # 发卡行: and the name beside it when both fit, else the name on its own rows (wrapped
        # at 8 CJK characters a row); a character the board's font lacks draws as a box
        blocks.append(ui.pair(t.s("slip_issuer"), e["issuer_name"], c))
    trace = e.get("trace")
    if trace in voided if voided is not None else txn.is_voided(t, trace):
        blocks.append([(t.s("tx_query_voided"), "left")])
    if e.get("rrn"):
        blocks.append(ui.pair(t.s("slip_rrn"), e["rrn"], c))
    if e.get("auth"):
        blocks.append(ui.pair(t.s("slip_auth"), e["auth"], c))
    return blocks


def walk(t, kinds):
    # -> (refs, voided): where each record of the look-up's types starts, oldest first, and
    # the traces the batch's voids name. Each record's type compared in its bytes and the
    # voids' orig_trace read from theirs (journal.kinds: nothing decoded, no str made for a
    # type; orig_trace searched for in the records of the types whose original is found by
    # trace only)
    refs = []
    voided = []
    by_trace = catalog.journal_kinds("trace")
    for ref, kind, tr in t.journal.kinds("type", kinds, "orig_trace", 0, by_trace):
        if kind is None:
            continue  # not a type of the look-up
        if tr is not None and tr not in voided:
            voided.append(tr)
        refs.append(ref)
    return refs, voided


def browse(t):
    # DOWN: the rest of the record when it takes more than one page, then the next older
    # one; UP goes back the same way. The title counts the records (n/N). A record's fields
    # are read from its bytes when its page is first shown (kept while the look-up runs).
    # The first page, the newest record's, is shown before the batch is walked (walk())
    # when the journal knows how many records of the look-up's types it holds and where
    # the newest starts (Journal.newest with the types): the walk is then a work step once that
    # page is drawn (ui.work_step: not in the key's time; ~0.5M instructions of the unix
    # port for the bench day's 13 records). The newest record is not voided: a void names
    # an original before it.
    title = t.s("journal_query")
    kinds = catalog.journal_kinds()
    j = t.journal
    ref, n = j.newest(kinds)
    if not n:
        ref = None
    # (on a page of 3 rows, the first 3 blocks fill it: its type, amount, card, trace and
    # time alone read at the key, the other fields with the walk: each str made is looked
    # for among the interned names on MicroPython)
    part = t.rows <= 4
    first = j.at(ref, _SHOWN[:5] if part else _SHOWN) if ref is not None else None
    refs = None  # type: Any
    voided = []  # type: Any
    if first is None or first.get("type") not in kinds:
        refs, voided = walk(t, kinds)
        first = None
        n = len(refs)
        if not n:
            yield from ui.notice(t, title, t.s("no_transactions"), timeout=10)
            return
    # (index, fields) of the records last shown, the newest last: at most 4 kept (paging
    # back and forth reads nothing again; a look-up through a batch of hundreds held every
    # record it had shown, a board's heap)
    shown = [(n - 1, first)] if first is not None else []  # type: Any
    i = n - 1
    page = 0
    while True:
        e = None
        for c in shown:
            if c[0] == i:
                e = c[1]
        if e is None:
            e = j.at(refs[i], _SHOWN)
            shown.append((i, e))
            if len(shown) > 4:
                shown.pop(0)
        # (the newest record's first page before the walk: its blocks that page shows)
        pages = ui.paginate(entry_blocks(t, e, voided, t.rows - 1 if refs is None else 0),
                            t.rows - 1)  # fmt: skip
        if page < 0:
            page = len(pages) - 1
        head = "%s %d/%d" % (title, n - i, n)  # one str (the +'s made five)
        t.show(ui.page_frame(t, head, pages[page]))
        if refs is None:
            yield ("work", "journal")  # (as ui.work_step: the walk once the page is drawn)
            refs, voided = walk(t, kinds)
            if len(refs) != n or refs[-1] != ref or first.get("trace") in voided:
                # (what the journal counted is not what the walk found: the pages from it)
                n = len(refs)
                if not n:
                    yield from ui.notice(t, title, t.s("no_transactions"), timeout=10)
                    return
                shown = []
                i = n - 1
                page = 0
                continue
            if part:
                e.update(j.at(ref, _SHOWN[5:]))
            pages = ui.paginate(entry_blocks(t, e, voided), t.rows - 1)  # (all its pages)
        k = yield from ui.wait_key(t, ui.IDLE_TIMEOUT)
        if k is None or k == K.CANCEL:
            return
        if k == K.DOWN:
            page += 1
            if page >= len(pages):
                i = (i - 1) % n
                page = 0
        elif k == K.UP:
            page -= 1
            if page < 0:
                i = (i + 1) % n
        elif k == K.ENTER:
            trace = yield from txn.enter_trace(t, title, "tx_query_enter_trace")
            if trace is None:
                continue
            found = None
            for m in range(n):
                # (each record's trace alone, nothing kept: the batch may hold hundreds)
                if j.at(refs[m], _SHOWN[3:4]).get("trace") == trace:
                    found = m
            if found is None:
                yield from ui.notice(t, title, t.s("tx_query_not_found"), timeout=10)
            else:
                i = found
                page = 0
