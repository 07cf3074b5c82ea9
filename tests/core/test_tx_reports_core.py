from mptest import eq, true, contains
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
    contains(r.screen_flat(), "原交易不存在")


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
