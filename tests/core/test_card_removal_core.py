# 请拔卡: a chip transaction that ends with the card still in the contact reader waits for
# it to be pulled out before the idle screen (pos.flows.main.card_out), on every runtime. A
# script's key meanwhile is the card pulled out and then that key, never swallowed
# (Terminal.implicit_removal); a front whose reader says when the card is out (the
# emulator's eject) only beeps at a key.
from mptest import eq, true
from rig import Rig

PAN = "6212142000000000012"


def _card():
    return {"pan": PAN, "seq": "01", "expiry": "3012", "pin": "123456",
            "imk_ac": "0123456789ABCDEFFEDCBA9876543210", "label": "UnionPay Debit"}  # fmt: skip


def _sale(r, then=()):
    # a chip sale to the tear-off prompt, then `then`, then ENTER (the cardholder copy)
    r.press("MENU", "1", "2", "1000", "ENTER")
    r.event(("chip", _card()))
    r.press("123456", "ENTER")
    true("请撕下商户存根" in r.screen_flat(), r.screen_flat())
    for tok in then:
        r.press(tok)
    r.press("ENTER")
    return r


def test_a_chip_sale_waits_at_remove_card_until_the_reader_says_the_card_is_out():
    r = Rig().sign_in()
    r.t.implicit_removal = False  # the emulator's reader: e ejects
    _sale(r)
    eq(len(r.receipts), 2, "both slips printed")
    eq(r.screen_flat(), "消费请拔卡")
    beeps = []
    real = r.run

    def run(effects):
        for e in effects:
            if e[0] == "beep" and e[1] == "error":
                beeps.append(e)
        real(effects)

    r.run = run
    r.press("MENU", "ENTER", "5")
    r.tick((2026, 11, 23, 9, 30, 0))  # half an hour: still waiting (a real terminal does)
    eq(r.screen_flat(), "消费请拔卡")
    eq(len(beeps), 3, "each key beeps")
    r.event(("removed",))
    true("欢迎使用" in r.screen_flat(), r.screen_flat())
    r.press("MENU")
    true("1.金融服务" in r.screen_flat(), r.screen_flat())


def test_a_scripts_next_key_at_remove_card_is_the_card_pulled_out_and_then_that_key():
    # a script that never says REMOVE runs as before: MENU pulls the card out, and the
    # same MENU opens the menu (not swallowed)
    r = Rig().sign_in()
    _sale(r)
    eq(r.screen_flat(), "消费请拔卡")
    m = r.mark()
    r.press("MENU")
    seen = r.texts_since(m)
    true(len(seen) == 2 and "欢迎使用" in seen[0] and "1.金融服务" in seen[1], seen)
    eq(r.t.card_in, False)


def test_a_card_pulled_out_before_the_slips_end_is_not_waited_for():
    r = Rig().sign_in()
    r.t.implicit_removal = False
    _sale(r, then=("REMOVE",))  # pulled out at the tear-off prompt
    true("欢迎使用" in r.screen_flat(), r.screen_flat())


def test_a_chip_balance_waits_for_the_card_and_the_next_key_is_not_swallowed():
    r = Rig().sign_in()
    r.press("MENU", "1", "5")
    r.event(("chip", _card()))
    r.press("123456", "ENTER")
    true("\uffe5" in r.screen_flat(), r.screen_flat())  # the balance, until a key
    r.press("ENTER")
    eq(r.screen_flat(), "余额查询请拔卡")
    r.press("MENU")  # the card out, then the menu
    true("1.金融服务" in r.screen_flat(), r.screen_flat())


def test_a_swiped_or_tapped_sale_has_no_remove_card_wait():
    r = Rig().sign_in()
    r.press("MENU", "1", "2", "1000", "ENTER", "CARD=" + PAN, "123456", "ENTER", "ENTER")
    true("欢迎使用" in r.screen_flat(), r.screen_flat())
    eq(r.t.card_in, False)


def test_a_chip_card_pulled_out_at_the_pin_prompt_sends_nothing_and_is_asked_again():
    # the first GENERATE AC (the ARQC the request carries) is made after the online PIN:
    # with the card out of the reader there is no card to make it (it was made all the
    # same, by the card the cashier had pulled, and the sale went online and was approved)
    # The prompt ends at once, as the card goes: before, it showed nothing until ENTER
    # (the cardholder typed a PIN for a card no longer there)
    r = Rig().sign_in()
    r.t.implicit_removal = False
    r.press("MENU", "1", "2", "1000", "ENTER")
    r.event(("chip", _card()))
    r.press("12")
    n = len(r.sent)
    r.event(("removed",))
    true("读卡失败,请重新插卡" in r.screen_flat(), r.screen_flat())
    r.press("3456", "ENTER")  # no PIN prompt any more: the keys are not a PIN
    eq(r.sent[n:], [], "nothing sent")
    true("读卡失败,请重新插卡" in r.screen_flat(), r.screen_flat())
    eq([e for e in r.t.journal.entries() if e.get("type") == "purchase"], [])
    r.event(("chip", _card()))  # inserted again: the same sale goes on
    r.press("123456", "ENTER")
    true("请撕下商户存根" in r.screen_flat(), r.screen_flat())


def test_a_chip_card_pulled_out_while_the_center_answers_gives_no_tc_and_is_reversed():
    # the center approved, but the card left before the second GENERATE AC: no TC, so the
    # approval is undone at the center at once (as a card that refuses it), no slip
    r = Rig().sign_in()
    r.t.implicit_removal = False
    real = r.center.answer

    def answer(frame, timeout):
        if r.t.card_in:  # the sale's request (the first send once the card is in)
            r.t.handle(("removed",))  # pulled out while 正在连接中心...
        return real(frame, timeout)

    r.center.answer = answer
    r.press("MENU", "1", "2", "1000", "ENTER")
    r.event(("chip", _card()))
    m = r.mark()
    r.press("123456", "ENTER")
    true(r.seen("卡片拒绝,交易已冲正", m), str(r.texts_since(m)))
    true(r.center.last("0400") is not None, "a reversal went out")
    eq(r.t.state.reversal(), None)
    eq([e for e in r.t.journal.entries() if e.get("type") == "purchase"], [])
    eq(len(r.receipts), 0, "no slip")
