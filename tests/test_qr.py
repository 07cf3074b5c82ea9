"""QR payments (扫码支付, issue 13.10-11) end to end: the terminal core through
posterm.driver.Driver against the bundled center (its QR side, posterm.host.qr, answering from
the deck's payment codes) and against the real-host double (tests/realhost.py, frames by hand):
a sale paid at once and one the customer confirms on the phone, a timeout cancelled by
reversal, a QR void and refund, settlement balanced with them."""

import pytest
from pos import clock
from test_day import SUPERVISOR, Day
from test_realhost import Term

import realhost
from posterm.host import qr as host_qr

AT_ONCE = "6288880000000000011"  # UnionPay QR, the customer need not confirm
CONFIRMS = "134567890000000029"  # WeChat Pay, the customer confirms on the phone
ALIPAY = "281234567890000011"


def _tick(driver, seconds):
    base = clock.to_seconds((2026, 11, 23, 9, 0, 0))
    driver.feed(("tick", clock.from_seconds(base + seconds)))


def _wait(driver, until, start=1):
    for s in range(start, until + 1):
        _tick(driver, s)


@pytest.fixture
def day(tmp_path):
    d = Day(tmp_path)
    d.sign_in()
    yield d
    d.close()


def _rows(day, kind):
    return [r for r in day.host().list_transactions("12345678") if r["type"] == kind]


def test_a_qr_sale_paid_at_once_at_the_bundled_center(day):
    day.press("MENU", "1", "9", "2500", "ENTER", "SCAN=" + AT_ONCE)
    assert day.seen("交易成功")
    e = day.journal("qr_sale")[0]
    rows = _rows(day, "qr_sale")
    assert [(r["pan"], r["amount_fen"], r["status"], r["result"]) for r in rows] == [
        (AT_ONCE, 2500, "approved", "00")
    ]
    assert e["rrn"] == rows[0]["rrn"] and e["auth"] == rows[0]["auth"]
    assert "支付方式:银联二维码" in day.slip(0)


def test_the_customer_confirms_on_the_phone_at_the_bundled_center(day):
    m = day.mark()
    day.press("MENU", "1", "9", "8800", "ENTER", "SCAN=" + CONFIRMS)
    assert day.seen("请顾客在手机上确认", m)
    assert [r["status"] for r in _rows(day, "qr_sale")] == ["pending"]
    _wait(day.d, 10)
    assert day.seen("交易成功", m)
    rows = _rows(day, "qr_sale")
    assert [(r["status"], r["result"]) for r in rows] == [("approved", "00")]
    e = day.journal("qr_sale")[0]
    assert e["rrn"] == rows[0]["rrn"] and e["auth"] == rows[0]["auth"] and e["auth"]


def test_a_customer_who_never_confirms_is_cancelled_by_the_reversal(day, monkeypatch):
    monkeypatch.setattr(host_qr, "CONFIRM_AT", 10**6)  # this customer walks away
    m = day.mark()
    day.press("MENU", "1", "9", "8800", "ENTER", "SCAN=" + CONFIRMS)
    _wait(day.d, 60)
    assert day.seen("支付超时,已撤销", m)
    assert [r["status"] for r in _rows(day, "qr_sale")] == ["reversed"]
    assert day.journal("qr_sale") == [] and day.t.state.reversal() is None
    # a late confirmation cannot approve a cancelled order
    monkeypatch.setattr(host_qr, "CONFIRM_AT", 1)
    day.press("ENTER", "MENU", "1", "2", "100", "ENTER", "CARD=6212142000000000012",
              "123456", "ENTER")  # fmt: skip
    assert [r["status"] for r in _rows(day, "qr_sale")] == ["reversed"]


def test_qr_void_refund_and_a_balanced_settlement_at_the_bundled_center(day):
    day.purchase("10000")
    for code, amount in ((AT_ONCE, "3000"), (ALIPAY, "5000")):
        day.press("MENU", "1", "9", amount, "ENTER", "SCAN=" + code, "ENTER", "CANCEL")
    first, second = day.journal("qr_sale")
    day.press("MENU", "1", "3", SUPERVISOR, "ENTER", first["trace"], "ENTER", "ENTER")
    assert day.seen("交易成功")
    day.press("ENTER", "CANCEL", "MENU", "1", "4", SUPERVISOR, "ENTER", "SCAN=" + ALIPAY,
              second["rrn"], "ENTER", second["date"][4:8], "ENTER", "2000", "ENTER")  # fmt: skip
    assert day.journal("qr_refund")[0]["amount"] == 2000
    assert [r["status"] for r in _rows(day, "qr_sale")] == ["voided", "approved"]
    assert _rows(day, "qr_sale")[1]["refunded_fen"] == 2000
    day.press("ENTER", "CANCEL")
    m = day.mark()
    day.settle()
    assert day.seen("对账平", m), "the center's books agree, QR payments included"
    slip = day.slip()
    assert "扫码支付 2笔" in slip and "扫码撤销 1笔" in slip and "扫码退货 1笔" in slip


# -- against the real-host double (frames by hand, not our codec) -------------------------
@pytest.fixture
def real(tmp_path):
    made = []

    def start(**variant):
        host = realhost.RealHost(**variant)
        term = Term(tmp_path / str(len(made)), host)
        term.auto_sign_in()
        made.append((term, host))
        return term, host

    yield start
    for term, host in made:
        term.close()
        host.close()


def test_a_qr_sale_against_the_real_host_double(real):
    term, host = real(qr_confirm=0)
    term.press("MENU", "1", "9", "2500", "ENTER", "SCAN=" + AT_ONCE)
    assert term.seen("交易成功")
    assert not host.problems and not host.reversals
    mti, req, _ = host.requests[-1]
    assert (mti, req[22], req[59]) == ("0200", "032", b"A3019" + AT_ONCE.encode())


def test_the_customer_confirms_against_the_real_host_double(real):
    term, host = real(qr_confirm=2)
    term.press("MENU", "1", "9", "8800", "ENTER", "SCAN=" + CONFIRMS)
    assert term.seen("请顾客在手机上确认")
    _wait(term.d, 10)
    assert term.seen("交易成功")
    queries = [r for m, r, _ in host.requests if r.get(3) == "330000"]
    assert len(queries) == 2 and not host.reversals and not host.problems
    e = [x for x in term.t.journal.entries() if x["type"] == "qr_sale"][0]
    assert e["auth"] == "Q1R2C3"


def test_a_timeout_against_the_real_host_double_reverses_the_sale(real):
    term, host = real(qr_confirm=None)
    term.press("MENU", "1", "9", "8800", "ENTER", "SCAN=" + CONFIRMS)
    _wait(term.d, 60)
    assert term.seen("支付超时,已撤销")
    sale = [r for m, r, _ in host.requests if m == "0200" and r.get(3) == "000000"][0]
    assert len(host.reversals) == 1 and host.reversals[0][11] == sale[11]
    queries = [r for m, r, _ in host.requests if r.get(3) == "330000"]
    assert 10 <= len(queries) <= 12, "a query every 5 s for a minute"
    assert host.reversals[0][59] == b"A3018" + CONFIRMS.encode()
    assert term.t.state.reversal() is None and not host.problems


def test_qr_void_and_refund_against_the_real_host_double(real):
    term, host = real(qr_confirm=0)
    term.press("MENU", "1", "9", "3000", "ENTER", "SCAN=" + ALIPAY, "ENTER", "CANCEL")
    sale = [x for x in term.t.journal.entries() if x["type"] == "qr_sale"][0]
    term.press("MENU", "1", "3", SUPERVISOR, "ENTER", sale["trace"], "ENTER", "ENTER")
    assert term.seen("交易成功")
    term.press("ENTER", "CANCEL", "MENU", "1", "4", SUPERVISOR, "ENTER", "SCAN=" + ALIPAY,
               sale["rrn"], "ENTER", "1123", "ENTER", "1000", "ENTER")  # fmt: skip
    kinds = [x["type"] for x in term.t.journal.entries()]
    assert kinds == ["qr_sale", "qr_void", "qr_refund"]
    sent = [(m, r[3], r[22]) for m, r, _ in host.requests if m in ("0200", "0220")]
    assert sent[-2:] == [("0200", "200000", "032"), ("0220", "200000", "032")]
    assert not host.problems and not host.reversals


@pytest.mark.parametrize("lost", ["query", "sale"])
def test_a_qr_answer_lost_on_the_line_never_pays_twice_nor_loses_the_payment(real, lost):
    # the real host's answer to the first result query (or to the sale itself, then
    # pending at the host) dropped after it took it: the terminal asks again or reverses;
    # in the end either the payment is kept and the host has it, or it is reversed there
    if lost == "query":
        term, host = real(qr_confirm=2, drop={("0200", 2)})
    else:
        term, host = real(qr_confirm=0, drop={("0200", 1)})
    term.press("MENU", "1", "9", "8800", "ENTER", "SCAN=" + CONFIRMS)
    _wait(term.d, 20)
    term.press("ENTER", "CANCEL", "CANCEL")
    kept = [x for x in term.t.journal.entries() if x["type"] == "qr_sale"]
    pending = term.t.state.reversal()
    if pending is not None:  # goes before the next transaction
        term.press("MENU", "1", "5", "CARD=6212142000000000012", "123456", "ENTER")
        assert term.t.state.reversal() is None
    sale = [r for m, r, _ in host.requests if m == "0200" and r.get(3) == "000000"]
    assert len(sale) == 1, "the sale sent once"
    reversed_ = [r for r in host.reversals if r[11] == sale[0][11]]
    assert (len(kept), len(reversed_)) in ((1, 0), (0, 1)), (kept, host.reversals)
    assert not host.problems, host.problems
