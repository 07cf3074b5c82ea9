from mptest import eq, true, contains
from pos import cells
import fakecenter
from txhelp import rig, buy, void, last_of, SUPERVISOR


def test_reprint_any_by_trace_says_reprint():
    r = buy(buy(rig(), "100"), "200")
    first = r.t.journal.entries()[0]
    r.press("MENU", "2", "2", first["trace"], "ENTER")
    text = r.receipt_text()
    contains(text, "重打印")
    contains(text, "RMB 1.00")
    contains(text, "商户存根")
    r.press("ENTER")
    contains(r.receipt_text(), "持卡人存根")
    r.press("MENU", "2", "2", "999", "ENTER")
    contains(r.screen_flat(), "交易不存在")  # OP's text for a trace with no record
    true("原交易" not in r.screen_flat(), "a reprint has no original")


def test_detail_and_totals_print_the_batch_with_masked_cards():
    r = buy(buy(rig(), "100"), "250")
    void(r, last_of(r, "purchase")["trace"])
    r.press("CANCEL", "MENU", "2", "3")
    text = r.receipt_text()
    contains(text, "交易明细")
    contains(text, "621214*********0012")
    true("6212142000000000012" not in text)
    contains(text, "-2.50")
    contains(text, "共3笔")
    r.press("MENU", "2", "4")
    text = r.receipt_text()
    contains(text, "交易汇总")
    contains(text, "消费 2笔")
    contains(text, "贷记合计 1笔")


def test_totals_screen_pages_through_the_types():
    r = buy(buy(rig(), "100"), "250")
    r.press("MENU", "3", "2")
    contains(r.screen_flat(), "交易统计")
    contains(r.screen_flat(), "消费 2笔")
    contains(r.screen_flat(), "3.50")
    r.press("DOWN")
    contains(r.screen_flat(), "贷记合计")


def test_journal_query_by_trace_and_up_down():
    r = buy(buy(buy(rig(), "100"), "200"), "300")
    es = r.t.journal.entries()
    r.press("MENU", "3", "1")
    contains(r.screen_flat(), "3.00", "newest first")
    r.press("DOWN")  # 4x16: the rest of the newest record
    contains(r.screen_flat(), "1/3")
    r.press("DOWN", "DOWN")  # then the next older one
    contains(r.screen_flat(), "2/3")
    contains(r.screen_flat(), "2.00")
    contains(r.screen_flat(), "621214******0012")
    r.press("ENTER", es[0]["trace"], "ENTER")
    contains(r.screen_flat(), "1.00")
    true("6212142000000000012" not in r.screen_flat(), "PAN masked on screen")
    r.press("DOWN")
    contains(r.screen_flat(), "凭证号:" + es[0]["trace"])
    true("6212142000000000012" not in r.screen_flat(), "PAN masked on screen")


def _query_screens(r, told=None):
    # every screen of a look-up paged through (DOWN), with the journal's count of its types
    # as it is (None), unknown ("unknown": the batch walked before the first page) or wrong
    j = r.t.journal
    kept = j._types
    if told == "unknown":
        j._types = None
    elif told == "wrong":
        j._types = list(kept)
        i = j._types.index("purchase")
        j._types[i + 1] += 1
    try:
        r.press("MENU", "3", "1")
        out = [r.t.frame.text()]
        for _ in range(8):
            r.press("DOWN")
            out.append(r.t.frame.text())
        r.press("CANCEL")
    finally:
        j._types = kept
    return out


def test_journal_query_shows_the_same_pages_with_the_batch_walked_before_or_after_the_first():
    r = buy(buy(buy(rig(), "100"), "200"), "300")
    es = r.t.journal.entries()
    void(r, es[1]["trace"])
    r.press("CANCEL", "CANCEL")
    eq(r.t.journal.newest(("purchase", "void"))[1], 4)
    walked_after = _query_screens(r)
    contains(walked_after[0][0], "1/4")
    contains(" ".join(" ".join(f) for f in walked_after), "已撤销", "the voided one marked")
    eq(_query_screens(r, "unknown"), walked_after, "the batch walked first")
    eq(_query_screens(r, "wrong"), walked_after, "a count the walk does not find: its pages")


def test_delete_reversal_needs_the_supervisor_and_says_cleared():
    c = fakecenter.Center()
    r = rig(c)
    r.press("MENU", "3", "6")
    contains(r.screen_flat(), "无冲正记录")
    r.press("CANCEL")
    c.then("timeout")
    buy(r, "100")
    true(r.t.state.reversal() is not None)
    r.press("MENU", "3", "6")
    contains(r.screen_flat(), "主管密码")
    r.press(SUPERVISOR, "ENTER", "ENTER")
    contains(r.screen_flat(), "清除成功")
    eq(r.t.state.reversal(), None)
    kept = [e for e in r.t.journal.entries() if e.get("type") == "reversal_failed"]
    eq(len(kept), 1, "the deleted reversal stays in the journal for settlement")
    eq(kept[0]["amount"], 100)


def test_training_terminal_prints_the_banner_on_report_and_settlement_slips():
    from rig import Rig
    from pos import receipt

    r = Rig()
    r.t.training = True
    summary = {"batch": "000001", "op": "01", "date": "20261123", "time": "180000",
               "balanced": True, "totals": None}
    lines = receipt.settlement_slip(r.t, summary)
    texts = [text for _style, text in lines]
    contains(texts, r.t.s("training_banner"))


def _query_pages(r, n):
    # 交易查询 of the newest record: the rows of its n pages (DOWN pages on), each frame whole
    r.press("MENU", "3", "1")
    pages = []
    for i in range(n):
        f = r.t.frame
        eq(f.cut, None, "nothing cut on page %d" % i)
        pages.append(f.text()[1:])
        r.press("DOWN")
    r.press("CANCEL")
    return pages


def _issuer_rows(pages):
    # the rows from 发卡行: to the end of its block
    rows = [row for page in pages for row in page]
    for i in range(len(rows)):
        if rows[i].startswith("发卡行:"):
            return rows[i:]
    return []


def test_journal_query_shows_the_issuer_the_host_named_in_gbk():
    # 63.2 in GBK (the issuer's name, reference §11) on 交易查询: 发卡行: and the name beside it
    # when both fit the 16 cells, else the name on its own rows, right-aligned, 8 CJK a row
    cases = (
        ("d5d0c9ccd2f8d0d0", ["发卡行: 招商银行"]),  # 招商银行: one row
        ("d6d0b9fab9a4c9ccd2f8d0d0", ["发卡行:", "    中国工商银行"]),
        ("d6d0b9fad3cad5feb4a2d0eed2f8d0d0", ["发卡行:", "中国邮政储蓄银行"]),
        # 10 characters (63.2 holds 20 bytes): wrapped, never cut
        ("d6d8c7ecc5a9b4e5c9ccd2b5d2f8d0d0b9c9b7dd",
         ["发卡行:", "重庆农村商业银行", "            股份"]),
        # space padding to 20 bytes (then the acquirer's name) is dropped; a GBK character
        # outside GB2312 shows as ?
        ("b2e2cad4d2f8d0d0" + "20" * 12 + "d2f8c1aac9ccceef", ["发卡行: 测试银行"]),
        ("8140d2f8d0d0", ["发卡行:    ?银行"]),
    )
    for gbk_hex, want in cases:
        c = fakecenter.Center()
        c.issuer_gbk = bytes.fromhex(gbk_hex)
        r = rig(c)
        c.then("gbk63")
        buy(r)
        rec = last_of(r, "purchase")
        true(r.t.state.reversal() is None, "approved and kept")
        rows = _issuer_rows(_query_pages(r, 3))
        eq(rows[: len(want)], want, gbk_hex)
        for row in rows:
            true(cells.width(row) <= 16, row)
        eq(rec["issuer_name"], "".join(want).replace(" ", "")[4:], "the journal keeps the name")


def test_journal_query_without_an_issuer_name_has_no_issuer_row():
    r = buy(rig())
    true(_issuer_rows(_query_pages(r, 3)) == [], "no 63.2: no 发卡行 row")
