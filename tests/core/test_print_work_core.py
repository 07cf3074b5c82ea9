# A slip is built as a step of its own (pos.terminal: a flow's ("work",) step): with
# defer_work on, as a board's loop runs it (boards.runner), the screen before it (正在打印...)
# is handed over first and the slip is built when the driver calls work(); an event that
# comes first runs the pending step before it, so nothing is lost or reordered. Off (every
# other driver), the step runs at once, as before.
from mptest import eq, true
from pos import overlay
import txhelp

PAN = txhelp.PAN


def _approved(r):
    r.press("MENU", "1", "2", "10000", "ENTER", "CARD=" + PAN, "123456")
    r.press("ENTER")  # the request, the center's answer: the approval screen


def test_the_approval_screen_is_handed_over_before_the_merchant_slip_is_built():
    r = txhelp.rig()
    r.t.defer_work = True
    before = len(r.receipts)
    m = r.mark()
    _approved(r)
    eq(r.t.waiting_for(), "work", "the slip is the next step")
    eq(len(r.receipts), before, "no slip built yet")
    true(r.seen("正在打印", m), "the approval screen says it prints")
    r.run(r.t.work())
    eq(len(r.receipts), before + 1)
    true("商户存根" in r.receipt_text(), r.receipt_text())
    true(r.seen("请撕下商户存根"))
    eq(r.t.waiting_for(), "input")
    r.press("ENTER")
    eq(len(r.receipts), before + 2)
    true("持卡人存根" in r.receipt_text())
    true(r.seen("请插卡/刷卡/挥卡"))


def test_a_key_pressed_before_the_work_step_ran_waits_for_it():
    r = txhelp.rig()
    r.t.defer_work = True
    before = len(r.receipts)
    _approved(r)
    eq(r.t.waiting_for(), "work")
    r.press("ENTER")  # pressed while the slip was still to be built: handled after it
    eq(len(r.receipts), before + 2, "both copies, once each")
    true("商户存根" in r.receipt_text(-2))
    true("持卡人存根" in r.receipt_text(-1))
    true(r.seen("请插卡/刷卡/挥卡"))


def test_without_deferred_work_the_effects_are_those_of_one_event_as_before():
    deferred = txhelp.rig()
    deferred.t.defer_work = True
    plain = txhelp.rig()
    for r in (deferred, plain):
        _approved(r)
        if r.t.waiting_for() == "work":
            r.run(r.t.work())
        r.press("ENTER", "CANCEL")
    eq(plain.texts_since(), deferred.texts_since(), "the same screens")
    eq(plain.receipts, deferred.receipts, "the same slips")


def test_with_the_overlay_cache_the_cardholder_copy_is_built_with_the_merchants():
    # a board with heap to spare builds both copies in the work step: the ENTER that prints
    # the cardholder's only hands it over, and the slips are the same as built one by one
    plain = txhelp.rig()
    _approved(plain)
    plain.press("ENTER")
    from pos import overlaycache

    old = overlay.ENABLED
    overlay.ENABLED = True
    true(overlaycache.configure({"overlay_cache": "always"}), "the cache is on")
    try:
        r = txhelp.rig()
        r.t.defer_work = True
        _approved(r)
        from pos import receipt

        real = receipt.build
        built = []

        def counting(t, rec, copy="merchant", reprint=False):
            built.append(copy)
            return real(t, rec, copy, reprint)

        receipt.build = counting
        try:
            r.run(r.t.work())
            eq(built, ["merchant", "cardholder"], "both built in the work step")
            r.press("ENTER")
            eq(built, ["merchant", "cardholder"], "nothing built by the ENTER")
        finally:
            receipt.build = real
    finally:
        overlaycache.off()
        overlay.ENABLED = old
    eq(r.receipts[-2:], plain.receipts[-2:], "the same slips")
