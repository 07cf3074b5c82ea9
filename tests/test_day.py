"""A merchant's whole day, headless, against the real host over loopback (issue 4): the
terminal core driven through posterm.driver.Driver, the embedded host answering every
message from its SQLite books."""

import pytest

from pos.keys import parse_token
from posterm import paths
from posterm.driver import Driver
from posterm.host import cli as host_cli
from posterm.host.store import Store

DATE = (2026, 11, 23, 9, 0, 0)
TID = "12345678"
CARD = "6212142000000000012"  # 10,000.00 yuan, PIN 123456
POOR = "6212142000000000020"  # 5.00 yuan
SUPERVISOR = "123456"


class Day:
    def __init__(self, data_dir):
        self.d = Driver(str(data_dir), date=DATE)
        self.frames = []
        self.receipts = []
        self.d.frame_listeners.append(lambda f: self.frames.append(f.text()))
        self.d.print_listeners.append(lambda ls: self.receipts.append(self.d.receipt_text(ls)))
        self.d.start()
        self.t = self.d.terminal
        self.t.state.params["timeout"] = 2  # the host's timeout fault waits this long
        self.db = paths.host_db(self.d.data_dir)

    def press(self, *tokens):
        for tok in tokens:
            for ev in parse_token(tok):
                self.d.feed(ev)
        return self

    def screen(self):
        return "".join(row.strip() for row in self.frames[-1])

    def mark(self):
        return len(self.frames)

    def seen(self, text, since=0):
        return any(text in "".join(r.strip() for r in f) for f in self.frames[since:])

    def slip(self, i=-1):
        return "\n".join(self.receipts[i])

    def journal(self, kind):
        return [e for e in self.t.journal.entries() if e["type"] == kind]

    def host(self):
        return Store(self.db)

    # -- the key paths -----------------------------------------------------------
    def sign_in(self):
        return self.press("MENU", "1", "1", "ENTER", "CANCEL")

    def purchase(self, amount, card=CARD, pin="123456"):
        return self.press("MENU", "1", "2", amount, "ENTER", "CARD=" + card, pin, "ENTER",
                          "ENTER", "CANCEL")

    def settle(self):
        return self.press("MENU", "1", "7", "ENTER")

    def close(self):
        self.d.close()


@pytest.fixture
def day(tmp_path):
    d = Day(tmp_path)
    yield d
    d.close()


def _host_rows(day):
    store = day.host()
    try:
        return [dict(r) for r in store.list_transactions(TID)]
    finally:
        store.close()


def test_a_whole_day_ends_balanced_and_signed_out(day):
    day.sign_in()
    assert day.t.signed_in_today()
    for amount in ("12000", "3456", "800"):
        day.purchase(amount)
    p1, p2, _p3 = day.journal("purchase")
    # void of the second purchase: supervisor, trace, confirm, card, no PIN
    day.press("MENU", "1", "3", SUPERVISOR, "ENTER", p2["trace"], "ENTER", "ENTER",
              "CARD=" + CARD, "ENTER", "ENTER", "CANCEL")
    assert day.journal("void")[0]["orig_trace"] == p2["trace"]
    assert "RMB -34.56" in day.slip()
    # refund of 30.00 against the first purchase's reference number and date
    day.press("MENU", "1", "4", SUPERVISOR, "ENTER", "CARD=" + CARD, p1["rrn"], "ENTER",
              "1123", "ENTER", "3000", "ENTER", "ENTER", "ENTER", "CANCEL")
    assert day.journal("refund")[0]["amount"] == 3000
    # balance: 10000.00 - 120.00 - 34.56 - 8.00 + 34.56 + 30.00
    day.press("MENU", "1", "5", "CARD=" + CARD, "123456", "ENTER")
    assert "9902.00" in day.screen()
    day.press("CANCEL")
    # pre-auth 500.00, completion 450.00
    day.press("MENU", "1", "6", "1", "50000", "ENTER", "CARD=" + CARD, "123456", "ENTER",
              "ENTER", "CANCEL")
    pa = day.journal("preauth")[0]
    day.press("MENU", "1", "6", "3", "CARD=" + CARD, pa["auth"], "ENTER", "1123", "ENTER",
              "45000", "ENTER", "123456", "ENTER", "ENTER", "CANCEL")
    assert day.journal("completion")[0]["amount"] == 45000
    assert "预授权完成" in day.slip()
    # a declined purchase: insufficient funds
    m = day.mark()
    day.press("MENU", "1", "2", "10000", "ENTER", "CARD=" + POOR, "123456", "ENTER")
    assert day.seen("应答码:51", m) and day.seen("余额不足", m)
    day.press("CANCEL")
    # the host takes the next purchase but its answer is lost: a reversal is armed ...
    store = day.host()
    store.set_fault(TID, "timeout", remaining=1)
    store.close()
    m = day.mark()
    day.purchase("777")
    assert day.seen("交易超时", m)
    lost = day.t.state.reversal()
    assert lost is not None and lost["39"] == "98"
    day.press("CANCEL")
    # ... and goes out before the next transaction
    day.purchase("100")
    assert day.t.state.reversal() is None
    rows = {r["trace"]: r for r in _host_rows(day)}
    assert rows[lost["11"]]["status"] == "reversed"
    assert len(day.journal("purchase")) == 4
    # settlement: balanced, slip, batch + 1, signed out
    day.settle()
    assert day.seen("签退成功")
    slip = day.slip()
    assert "结算单" in slip and "对账平" in slip
    assert "消费 4笔" in slip and "消费撤销 1笔" in slip and "退货 1笔" in slip
    assert day.t.state.batch == 2
    assert day.t.journal.entries() == []
    assert not day.t.signed_in_today()
    store = day.host()
    try:
        (s,) = store.db.execute("SELECT * FROM settlements").fetchall()
        assert s["balanced"] == 1 and s["closed"] == 1
        assert store.get_terminal(TID)["host_batch"] == "000002"
    finally:
        store.close()
    # the next transaction needs a sign-in, which brings the new batch
    day.press("CANCEL", "MENU", "1", "2")
    assert "请做终端签到" in day.screen()
    day.press("CANCEL").sign_in()
    assert day.t.state.batch == 2


def test_a_day_the_host_books_differ_goes_through_the_batch_upload(day, capsys):
    day.sign_in()
    for amount in ("1000", "2000", "3000"):
        day.purchase(amount)
    sold = day.journal("purchase")
    lost = sold[1]
    assert host_cli.main(["forget", "--db", day.db, TID, lost["trace"]]) == 0
    assert "forgot purchase trace " + lost["trace"] in capsys.readouterr().out
    day.settle()
    slip = day.slip()
    assert "对账不平" in slip and "批上送3笔" in slip
    assert day.seen("签退成功")
    store = day.host()
    try:
        (s,) = store.db.execute("SELECT * FROM settlements").fetchall()
        assert s["balanced"] == 0 and s["closed"] == 1
        ups = store.list_uploads(TID, "000001")
        assert [(u["code"], u["trace"], u["pan"], u["amount_fen"]) for u in ups] == [
            ("201", e["trace"], CARD, e["amount"]) for e in sold
        ]
        assert store.get_terminal(TID)["host_batch"] == "000002"
    finally:
        store.close()
    assert day.t.state.batch == 2
    # 重打结算单 prints the closed batch again, marked as a reprint
    day.press("CANCEL", "MENU", "2", "5")
    assert "重打印" in day.slip() and "对账不平" in day.slip()
