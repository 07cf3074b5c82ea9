# The day's totals count the sales read by chip, by tap and from a QR code apart (the
# journal's entry mode): the 交易统计 screen, the printed totals, the settlement slip; the
# journal query says how each transaction was read.
from mptest import contains, eq, true
from pos import receipt, settlement
from rig import Rig

PAN = "6212142000000001036"
ICC = {"pan": PAN, "expiry": "3112", "pin": "123456", "seq": "01", "label": "UnionPay Debit",
       "imk_ac": "0123456789ABCDEFFEDCBA9876543210", "track2": PAN + "=311222003579024",
       "contactless": True}


def _day():
    r = Rig(profile="lcd128x64").sign_in()
    r.press("MENU", "1", "2", "10000", "ENTER")
    r.event(("chip", dict(ICC)))
    r.press("123456", "ENTER", "ENTER")
    r.event(("removed",))
    r.press("MENU", "1", "2", "100", "ENTER")
    r.event(("tap", dict(ICC)))
    r.press("ENTER")
    r.press("MENU", "1", "2", "200", "ENTER", "CARD=6212142000000000012", "123456", "ENTER",
            "ENTER")
    return r


def test_the_totals_count_chip_tap_and_qr_sales_apart():
    tot = settlement.totals(_day().t.journal.entries())
    eq(tot["debit"], [3, 10300])
    eq(tot["modes"], {"chip": [1, 10000], "contactless": [1, 100], "qr": [0, 0]})
    # a QR sale (entry mode 03) and a refund are counted where they belong
    more = [{"type": "purchase", "entry": "03", "amount": 500},
            {"type": "refund", "entry": "03", "amount": 500}]
    eq(settlement.totals(more)["modes"]["qr"], [1, 500])


def test_the_totals_screen_shows_the_sales_by_chip_tap_and_qr():
    r = _day()
    r.press("MENU", "3", "2", "DOWN", "DOWN", "DOWN", "DOWN")
    seen = "".join(r.texts_since(0))
    for want in ("其中插卡1笔100.00", "其中挥卡1笔1.00", "其中扫码0笔0.00"):
        true(want in seen.replace(" ", ""), want)


def test_the_settlement_and_totals_slips_print_them():
    r = _day()
    t = r.t
    tot = settlement.totals(t.journal.entries())
    lines = [x[1] for x in receipt.totals_slip(t, tot, "000001")]
    contains(lines, "其中插卡 1笔              100.00")
    contains(lines, "其中扫码 0笔                0.00")
    r.press("MENU", "1", "7", "ENTER", "ENTER", "ENTER")
    slip = r.receipt_text()
    contains(slip, "其中插卡 1笔")
    contains(slip, "其中挥卡 1笔")
    # a summary stored before the modes were counted reprints without them
    old = {"batch": "000001", "balanced": True, "totals": {"debit": [1, 1], "credit": [0, 0],
                                                           "types": {}}}
    text = "\n".join(x[1] for x in receipt.settlement_slip(t, old, reprint=True))
    true("其中插卡" not in text, text)


def test_the_query_says_how_each_transaction_was_read():
    r = _day()
    r.press("MENU", "3", "1")
    for _ in range(12):
        r.press("DOWN")
    seen = "".join(r.texts_since(0)).replace(" ", "")
    for want in ("读卡插卡", "读卡挥卡", "读卡刷卡"):
        true(want in seen, want)
