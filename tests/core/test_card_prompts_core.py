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


def test_a_chip_card_swiped_at_idle_asks_for_the_chip_and_the_insert_goes_on_with_the_sale():
    r = Rig(profile="lcd128x64").sign_in()
    sent = len(r.center.requests)
    r.press(TRACK)
    contains(r.screen_flat(), "请插卡")
    eq(len(r.center.requests), sent, "nothing sent for the swipe")
    r.event(("chip", dict(ICC)))  # the same sale: the amount, then the chip's PIN
    contains(r.screen_flat(), "请输入金额")
    r.press("2345", "ENTER", "123456", "ENTER")
    q = r.center.last("0200")
    eq((q[22], q[4]), ("051", "000000002345"))
    eq(r.t.journal.entries()[-1]["entry"], "05")


def test_a_chip_card_swiped_in_a_sale_goes_on_inserted_with_its_amount():
    r = Rig(profile="lcd128x64").sign_in()
    r.press("MENU", "1", "2", "6789", "ENTER", TRACK)
    contains(r.screen_flat(), "请插卡")
    contains(r.screen_flat(), "67.89")  # the amount kept on screen
    r.event(("chip", dict(ICC)))
    r.press("123456", "ENTER")
    q = r.center.last("0200")
    eq((q[22], q[4]), ("051", "000000006789"))


def _two_apps():
    icc = dict(ICC)
    icc["apps"] = [{"aid": "A000000333010101", "label": "UnionPay Debit", "priority": 1},
                   {"aid": "A000000333010102", "label": "UnionPay Credit", "priority": 2}]
    return icc


def test_application_labels_wider_than_the_screen_wrap_and_are_never_cut():
    for lang in ("en", "zh"):
        r = Rig(profile="lcd128x64").sign_in()
        r.t.strings.set_lang(lang)
        r.press("MENU", "1", "2", "100", "ENTER")
        r.event(("chip", _two_apps()))
        rows = r.t.frame.text()
        for row in rows:
            true(len(row.rstrip()) <= 16, row)
        flat = r.screen_flat()
        contains(flat, "1.UnionPay Debit")
        contains(flat, "2.UnionPayCredit")  # "2.UnionPay" then "  Credit" under it
        true("Credi" + "\n" not in r.screen() + "\n", r.screen())
        r.press("2", "123456", "ENTER")
        q = r.center.last("0200")
        contains(q[55], bytes.fromhex("8408A000000333010102"))


def test_a_list_of_applications_taller_than_the_screen_pages_with_down():
    r = Rig(profile="lcd128x64").sign_in()
    icc = _two_apps()
    icc["apps"].append({"aid": "A000000333010103", "label": "UnionPay Quasi",
                        "priority": 3})
    r.press("MENU", "1", "2", "100", "ENTER")
    r.event(("chip", icc))
    true("3.UnionPay" not in r.screen_flat(), r.screen())
    r.press("DOWN")
    contains(r.screen_flat(), "3.UnionPay Quasi")
    r.press("UP")
    contains(r.screen_flat(), "1.UnionPay Debit")
    r.press("3", "123456", "ENTER")
    contains(r.center.last("0200")[55], bytes.fromhex("8408A000000333010103"))


def test_a_card_swiped_at_idle_that_cannot_pay_is_told_and_the_terminal_is_idle_again():
    r = Rig(profile="lcd128x64").sign_in()
    r.press("CARD=6212142000000000038=2001")  # an expired card
    contains(r.screen_flat(), "过期")
    r.press("ENTER")
    contains(r.screen_flat(), "欢迎使用")


def test_a_number_retyped_at_once_after_a_bad_keyed_pan_keeps_its_first_digit():
    # a cashier (or a bot reading the screen) sees 卡号错误 and types the right number: the
    # key that ends the notice is the number's first digit, not lost
    good = "6212142000000000012"
    r = Rig(profile="lcd128x64").sign_in()
    r.press("MENU", "1", "2", "100", "ENTER", "6212142000000000013", "ENTER")
    contains(r.screen_flat(), "卡号错误")
    r.press(good, "ENTER")  # all 19 digits: the Luhn check passes, the expiry is asked
    contains(r.screen_flat(), "有效期")
    # ENTER only ends the notice: the number typed after it is whole too
    r = Rig(profile="lcd128x64").sign_in()
    r.press("MENU", "1", "2", "100", "ENTER", "6212142000000000013", "ENTER", "ENTER")
    contains(r.screen_flat(), "请插卡/刷卡/挥卡")
    r.press(good, "ENTER")
    contains(r.screen_flat(), "有效期")
    # CANCEL only ends the notice too (a bot that dismisses it with CANCEL and types on
    # loses nothing); a second CANCEL, at the prompt, leaves the sale: nothing sent
    r = Rig(profile="lcd128x64").sign_in()
    sent = len(r.center.requests)
    r.press("MENU", "1", "2", "100", "ENTER", "6212142000000000013", "ENTER", "CANCEL")
    contains(r.screen_flat(), "请插卡/刷卡/挥卡")
    r.press(good, "ENTER")
    contains(r.screen_flat(), "有效期")
    r.press("CANCEL", "CANCEL")
    contains(r.screen_flat(), "欢迎使用")
    eq(len(r.center.requests), sent)


def test_a_number_typed_on_a_refused_tap_notice_keeps_every_digit():
    # 余额查询 takes no tap: 该交易不支持挥卡; the cashier then keys the number in
    good = "6212142000000000012"
    r = Rig(profile="lcd128x64").sign_in()
    r.press("MENU", "1", "5")
    r.event(("tap", dict(ICC)))
    contains(r.screen_flat(), "不支持挥卡")
    r.press(good, "ENTER")
    contains(r.screen_flat(), "有效期")
