# Overlays (pos.overlay): on a board every action, and every stage of a transaction, drops
# the modules it imported when it ends, so the heap holds one stage's code at a time.
# CPython keeps every module; these tests switch overlays on there too, so that both
# interpreters check the same thing (on MicroPython they are on anyway).
from mptest import eq, true, on_micropython
from pos import overlay
import fakecenter
import txhelp


class WatchingCenter(fakecenter.Center):
    # notes which pos.* modules are loaded when each request arrives
    def __init__(self):
        fakecenter.Center.__init__(self)
        self.loaded_at = []

    def answer(self, frame, timeout):
        self.loaded_at.append(sorted(overlay.loaded()))
        return fakecenter.Center.answer(self, frame, timeout)


def _resident_only():
    # what a board has loaded at idle: drop the flows CPython preloads (all but main)
    keep = [n for n in overlay.loaded() if not n.startswith("pos.flows.") or n == "pos.flows.main"]
    for n in ("pos.receipt", "pos.operators", "pos.settlement", "pos.catalog"):
        if n in keep:
            keep.remove(n)
    overlay.unload(keep)
    return overlay.loaded()


def _run_with_overlays(fn):
    old = overlay.ENABLED
    overlay.ENABLED = True
    try:
        return fn()
    finally:
        overlay.ENABLED = old


def test_a_purchase_loads_its_stages_one_at_a_time_and_leaves_nothing_behind():
    def go():
        center = WatchingCenter()
        r = txhelp.rig(center)
        idle = _resident_only()
        r.press("MENU", "1", "2", "10000", "ENTER", "CARD=" + txhelp.PAN, "123456", "ENTER")
        true(r.seen("请撕下商户存根"))
        at_prompt = overlay.loaded()
        true("pos.flows.printing" in at_prompt, "the receipts' stage")
        true("pos.receipt" not in at_prompt, "the slip's code is not held at the prompt")
        true("pos.flows.online" not in at_prompt, "the exchange's stage is gone")
        r.press("ENTER", "CANCEL")
        true(r.seen("应答码:00"))
        eq(len(r.receipts), 2, "both copies printed")
        eq(sorted(overlay.loaded()), sorted(idle), "back at idle, as before the purchase")
        sending = center.loaded_at[-1]
        true("pos.flows.online" in sending, "the exchange's stage is loaded as it sends")
        true("pos.receipt" not in sending, "the receipt's code is not loaded yet")

    _run_with_overlays(go)


def test_settlement_and_sign_in_run_their_exchanges_as_overlays():
    def go():
        center = WatchingCenter()
        r = txhelp.rig(center)
        idle = _resident_only()
        txhelp.buy(r)
        txhelp.settle(r)
        true(r.seen("结算完成"))
        r.press("ENTER")
        eq(sorted(overlay.loaded()), sorted(idle))
        true("pos.flows.closebatch" in center.loaded_at[-2], "0500/0320 from closebatch")
        r.press("MENU", "1", "1", "ENTER")
        true(r.seen("签到成功"))
        r.press("ENTER")
        true("pos.flows.keydownload" in center.loaded_at[-1])
        eq(sorted(overlay.loaded()), sorted(idle))
        true(r.t.signed_in_today())

    _run_with_overlays(go)


def test_locking_and_unlocking_the_terminal_leaves_nothing_behind():
    def go():
        r = txhelp.rig()
        idle = _resident_only()
        r.press("MENU", "3", "5", "ENTER", "0000", "ENTER", "ENTER")
        true(r.seen("键盘锁定请解锁"))
        r.press("01", "ENTER", "0000", "ENTER", "ENTER")
        true(r.seen("锁定解除!"))
        true(r.seen("请插卡/刷卡/挥卡"))
        eq(sorted(overlay.loaded()), sorted(idle))

    _run_with_overlays(go)


def test_leaving_an_overlay_allocates_nothing():
    # an overlay often ends because the heap ran out: forgetting its modules must not need
    # the heap (MicroPython: the heap locked, any allocation raises MemoryError)
    import sys

    before = overlay.loaded()
    from pos.flows import reversal  # noqa: F401 - a module and the one it imports

    del reversal
    true("pos.flows.reversal" in sys.modules)
    locked = False
    if on_micropython():
        import micropython

        micropython.heap_lock()
        locked = True
    try:
        overlay.unload(before)
    finally:
        if locked:
            micropython.heap_unlock()
    eq([n for n in overlay.loaded() if n not in before], [], "every module forgotten")
    import pos.flows

    true(not hasattr(pos.flows, "reversal"), "and the package's attribute")
