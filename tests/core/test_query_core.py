# 交易查询 (pos.flows.query): the batch is read once when the look-up opens (each record
# decoded once, not again at every page), and a sale its void names shows 已撤销 on its
# pages, the others not.
from mptest import eq, spy, true
import txhelp


def _records(r, pages):
    # MENU 3 1, then DOWN through `pages` pages: {"1/3": the text of that record's pages}
    r.press("MENU", "3", "1")
    out = {}
    for _ in range(pages):
        rows = r.t.frame.text()
        head = rows[0].strip()
        key = head[head.rfind(" ") + 1 :]
        out[key] = out.get(key, "") + "|".join(x.strip() for x in rows[1:]) + "|"
        r.press("DOWN")
    r.press("CANCEL")
    return out


def test_the_look_up_shows_the_voided_sale_as_voided_and_the_others_not():
    r = txhelp.rig()
    txhelp.buy(r, "1000")
    first = txhelp.last_of(r, "purchase")["trace"]
    txhelp.buy(r, "2000")
    second = txhelp.last_of(r, "purchase")["trace"]
    txhelp.void(r, first)
    r.press("CANCEL")
    true(txhelp.last_of(r, "void") is not None, "the void is journalled")
    recs = _records(r, 10)
    eq(sorted(recs), ["1/3", "2/3", "3/3"])
    true("消费撤销" in recs["1/3"] and "已撤销" not in recs["1/3"], recs["1/3"])
    true("凭证号:" + second in recs["2/3"] and "已撤销" not in recs["2/3"], recs["2/3"])
    true("凭证号:" + first in recs["3/3"] and "已撤销" in recs["3/3"], recs["3/3"])


def test_the_look_up_decodes_the_voids_and_the_record_it_shows_not_the_batch():
    # the types are read from the records' bytes (journal.heads), and so is the trace a void
    # names (Journal.kinds); a record is decoded when its page is first shown, and once
    # (paging back and forth decodes nothing again)
    from pos import journal

    r = txhelp.rig()
    txhelp.buy(r, "1000")
    first = txhelp.last_of(r, "purchase")["trace"]
    txhelp.buy(r, "2000")
    txhelp.buy(r, "3000")
    txhelp.void(r, first)
    r.press("CANCEL")
    # a record is read either from its bytes field by field (journal.fields, the page's
    # fields) or decoded whole (journal._record_at): both count
    decoded = []
    real = spy(journal, "_record_at", decoded)
    real_fields = spy(journal, "fields", decoded)
    try:
        r.press("MENU", "3", "1")
        # the newest record: its first page's fields at the key, the others with the walk (a
        # page of 3 rows), the void's trace read from its bytes
        true(r.t.rows <= 4)
        eq(len(decoded), 2, "the newest record shown, in two reads")
        eq([len(d[3]) for d in decoded], [5, 4], "5 fields for the first page, then the 4 others")
        true("1/4" in r.t.frame.text()[0], r.t.frame.text())
        seen = set()
        for _ in range(12):
            seen.add(r.t.frame.text()[0].strip())
            r.press("DOWN")
        eq(len(seen), 4, "every record shown")
        eq(len(decoded), 5, "each other record decoded once")
        r.press("UP", "UP", "DOWN")
        eq(len(decoded), 5, "paging back decodes nothing again")
        r.press("CANCEL")
    finally:
        journal._record_at = real
        journal.fields = real_fields


def test_the_look_up_s_first_key_looks_up_the_labels_of_its_first_page_only():
    # the newest record's first page is drawn before the batch is walked (a work step); its
    # other labels (读卡方式, 参考号, 授权码) are looked up with the walk, and every page is the
    # same as when the work runs at once
    shown = []
    for defer in (False, True):
        r = txhelp.rig()
        txhelp.buy(r, "1000")
        txhelp.buy(r, "2000")
        r.t.defer_work = defer
        keys = []
        spy(r.t, "s", keys)
        r.press("MENU", "3", "1")
        frames = ["|".join(r.t.frame.text())]
        if defer:
            eq(r.t.waiting_for(), "work")
            asked = [k[0] for k in keys]
            true("slip_trace" in asked, asked)
            eq([k for k in asked if k in ("query_read", "slip_rrn", "slip_auth")], [],
               "only the first page's labels")  # fmt: skip
            true(r.t.rows <= 4, "a board's page: three rows of a record")
            r.run(r.t.work())
        for _ in range(5):
            r.press("DOWN")
            frames.append("|".join(r.t.frame.text()))
        true(any("参考号" in f for f in frames), frames)
        shown.append(frames)
    eq(shown[0], shown[1])


def test_a_trace_the_batch_does_not_hold_says_no_such_transaction_not_the_void_wording():
    # 交易查询 ENTER, a trace no record has: 无此交易 (a query's wording), not 原交易不存在
    # (what a void or a refund says of its original); the look-up stays open
    r = txhelp.rig()
    txhelp.buy(r, "1000")
    r.press("MENU", "3", "1", "ENTER", "999", "ENTER")
    text = r.screen_flat()
    true("无此交易" in text and "原交易不存在" not in text, text)
    r.press("ENTER")
    true("交易查询 1/1" in r.screen_flat(), r.screen_flat())


def test_a_long_batch_keeps_only_the_last_records_shown_and_a_trace_is_found_in_it():
    # paging through a batch holds at most 4 records' fields (a batch of hundreds held every
    # record shown, and a trace search read and kept the whole batch: a board's heap), so a
    # record left behind is read again when shown again; ENTER finds an old trace, shown
    from pos import journal

    r = txhelp.rig()
    traces = []
    for amount in ("1100", "1200", "1300", "1400", "1500", "1600", "1700"):
        txhelp.buy(r, amount)
        traces.append(txhelp.last_of(r, "purchase")["trace"])
    reads = []
    real = spy(journal, "fields", reads)
    try:
        r.press("MENU", "3", "1")
        true("1/7" in r.screen_flat(), r.screen_flat())
        shown = len(reads)
        # to the 6th record and back to the newest: 5 records were shown after it, so it
        # was let go and is read again (a record takes one page or more: paged by title)

        def head():
            t = r.t.frame.text()[0]
            return t[t.rfind(" ") + 1 :].strip()

        def to(want, key):
            for _ in range(40):
                if head() == want:
                    return
                r.press(key)
            raise AssertionError("never reached " + want + ": " + r.screen_flat())

        to("6/7", "DOWN")
        before = len(reads)
        to("5/7", "UP")  # among the last 4 shown: not read again
        eq(len(reads), before, "a record among the last 4 shown is not read again")
        to("1/7", "UP")
        true(len(reads) > before, "the newest, let go, read again")
        true(shown >= 1, "the first page read")
        # ENTER: the oldest sale's trace, found and shown (each record's trace read alone)
        r.press("ENTER", traces[0], "ENTER")
        text = r.screen_flat()
        true("7/7" in text and "11.00" in text, text)  # the oldest sale's first page
        r.press("CANCEL")
    finally:
        journal.fields = real
