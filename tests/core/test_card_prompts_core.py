# The idle and waiting-for-card screens as real terminals show them (请插卡/刷卡/挥卡), and
# what a chip card swiped at them does: 请插卡 with the insert taken right there in a sale; a
# transaction that reads no chip (a refund) takes the chip card's stripe.
from mptest import contains, eq, true
from rig import Rig

PAN = "6212142000000001010"
TRACK = "CARD=" + PAN + "=311222001357246"  # service code 220: the card has a chip
ICC = {"pan": PAN, "expiry": "3112", "pin": "123456", "seq": "01", "label": "UnionPay Debit",
       "imk_ac": "0123456789ABCDEFFEDCBA9876543210", "track2": PAN + "=311222001357246"}


def test_idle_asks_for_a_card_as_a_real_terminal_does():
    r = Rig(profile="lcd128x64")
    eq(r.t.frame.lines[3], "请插卡/刷卡/挥卡")
    big = Rig(profile="lcd320x240")
    rows = [row.strip() for row in big.t.frame.lines]
    eq(rows[-2], "请插卡/刷卡/挥卡")
    eq(rows[-1], "按菜单键进入菜单")


def test_a_sale_waits_for_an_insert_a_swipe_a_tap_or_the_keyed_number():
    r = Rig(profile="lcd128x64").sign_in()
    r.press("MENU", "1", "2", "100", "ENTER")
    rows = [row.strip() for row in r.t.frame.lines]
    eq(rows[1:], ["请插卡/刷卡/挥卡", "或手输卡号", "￥1.00"])


def test_a_chip_card_swiped_in_a_sale_asks_for_the_chip_and_takes_the_insert_there():
    r = Rig(profile="lcd128x64").sign_in()
    r.press("MENU", "1", "2", "100", "ENTER", TRACK)
    contains(r.screen_flat(), "请插卡")
    mark = r.mark()
    r.event(("chip", dict(ICC)))
    true(r.seen("请勿拔卡", mark), r.screen())
    contains(r.screen_flat(), "请输入密码")


def test_cancel_at_insert_the_card_ends_the_sale():
    r = Rig(profile="lcd128x64").sign_in()
    r.press("MENU", "1", "2", "100", "ENTER", TRACK, "CANCEL")
    contains(r.screen_flat(), "请插卡/刷卡/挥卡")  # idle again
    eq(r.t.waiting_for(), "input")


def test_a_refund_takes_a_chip_cards_stripe():
    r = Rig(profile="lcd128x64").sign_in()
    r.press("MENU", "1", "4", "123456", "ENTER")
    contains(r.screen_flat(), "请刷卡/手输卡号或扫码")  # a QR refund scans the code here
    r.press(TRACK)
    contains(r.screen_flat(), "原参考号")


def test_a_payment_code_scanned_at_idle_starts_a_qr_sale_with_the_amount_first():
    r = Rig(profile="lcd128x64").sign_in()
    r.event(("scan", "134567890000000011"))
    contains(r.screen_flat(), "扫码支付")
    contains(r.screen_flat(), "请输入金额")
    mark = r.mark()
    r.press("100", "ENTER")
    true(not r.seen("请扫描顾客付款码", mark), "the code scanned at idle is the sale's")
    true(r.seen("交易成功", mark), r.screen())
    eq(r.t.journal.entries()[-1]["type"], "qr_sale")
