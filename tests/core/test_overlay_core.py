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
    # (the menu, the action table and the card's reading are overlays too: pos.flows.main)
    for n in ("pos.receipt", "pos.operators", "pos.settlement", "pos.catalog", "pos.menu",
              "pos.actions", "pos.card", "pos.request"):  # fmt: skip
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
        true("pos.menu" not in sending, "the menu is dropped while the sale it chose runs")

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

    before = _resident_only()  # (at idle, as a board: not loaded by an earlier test)
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


# The overlay cache (pos.overlaycache: a board's memory policy, boards/profiles.py
# "memory"): on a board with heap to spare, what a scope loaded stays loaded until the free
# heap falls below LOW; then the scope forgets what it loaded, and at the top the whole
# cache goes. Here LOW is set to 0 (never short) or beyond any heap (always short).
def _with_cache(low, fn):
    from pos import overlaycache as oc

    old = overlay.ENABLED
    overlay.ENABLED = True
    true(oc.configure({"overlay_cache": "always"}), "the cache is on")
    oc.LOW = low
    try:
        return fn()
    finally:
        oc.off()
        overlay.ENABLED = old


NEVER_SHORT = 0
ALWAYS_SHORT = 1 << 60


def _new_since(before):
    return sorted(n for n in overlay.loaded() if n not in before)


def test_with_the_cache_a_purchases_stages_stay_loaded_and_the_next_one_loads_nothing():
    from pos import overlaycache as oc

    def go():
        r = txhelp.rig()
        idle = _resident_only()
        del oc.CACHED[:]  # a board at idle after boot: nothing cached yet
        txhelp.buy(r)
        true(r.seen("请插卡/刷卡/挥卡"))
        kept = _new_since(idle)
        for name in ("pos.flows.purchase", "pos.flows.online", "pos.receipt"):
            true(name in kept, name)
        eq(sorted(oc.CACHED), kept, "what stays is what the cache holds")
        after_one = overlay.loaded()
        txhelp.buy(r, "2000")
        eq(len(r.receipts), 4, "both copies of both sales printed")
        eq(_new_since(after_one), [], "the second purchase loaded no module")
        eq(oc.EVICTED, [0, 0])

    _with_cache(NEVER_SHORT, go)


def test_short_of_heap_the_cache_gives_way_as_the_overlays_do_without_it():
    from pos import overlaycache as oc

    def go():
        r = txhelp.rig()
        idle = _resident_only()
        txhelp.buy(r)
        eq(len(r.receipts), 2)
        true(r.seen("请插卡/刷卡/挥卡"))
        eq(sorted(overlay.loaded()), sorted(idle), "back at idle, as before the purchase")
        eq(oc.CACHED, [])

    _with_cache(ALWAYS_SHORT, go)


def test_the_cache_goes_at_the_top_when_the_heap_runs_short_or_an_overlay_runs_out():
    from pos import overlaycache as oc

    def go():
        before = _resident_only()
        with overlay.scope():
            with overlay.scope():
                from pos.flows import reversal  # noqa: F401

                del reversal
            true("pos.flows.reversal" in oc.CACHED, "kept when the inner block ends")
        true("pos.flows.reversal" in overlay.loaded())
        # a MemoryError ending an inner block: that block's modules go, the cache stays
        with overlay.scope():
            try:
                with overlay.scope():
                    from pos import receipt  # noqa: F401

                    del receipt
                    raise MemoryError()
            except MemoryError:
                pass
            true("pos.receipt" not in overlay.loaded(), "the failed block's code is gone")
            true("pos.flows.reversal" in overlay.loaded(), "in use above: kept")
        # ending at the top, a MemoryError takes the whole cache
        try:
            with overlay.scope():
                raise MemoryError()
        except MemoryError:
            pass
        eq(_new_since(before), [], "nothing cached is left")
        eq(oc.CACHED, [])
        eq(oc.EVICTED[0] >= 1, True)
        # and short of heap when the next block starts at the top: the cache goes first
        with overlay.scope():
            from pos.flows import reversal  # noqa: F401

            del reversal
        true("pos.flows.reversal" in oc.CACHED)
        oc.LOW = ALWAYS_SHORT
        with overlay.scope():
            true("pos.flows.reversal" in overlay.loaded(), "no look at the heap at a scope")
        oc.collected()  # the board loop's collection after an event found the heap short
        with overlay.scope():
            true("pos.flows.reversal" not in overlay.loaded(), "dropped before the block")
        oc.LOW = NEVER_SHORT

    oc.EVICTED[0] = oc.EVICTED[1] = 0
    _with_cache(NEVER_SHORT, go)


def test_without_a_memory_policy_or_on_a_board_without_heap_to_spare_the_cache_stays_off():
    from pos import overlaycache as oc

    old = overlay.ENABLED
    overlay.ENABLED = True
    try:
        eq(oc.configure(None), False)
        eq(oc.configure({"overlay_cache": None}), False)
        eq((oc.KEEP, overlay.CACHE), (False, None))
        # "flash": only when the bytecode is in flash (ROMFS at /rom, or frozen)
        f = overlay.__file__
        in_flash = f.startswith("/rom") or f.startswith(".frozen")
        eq(oc.configure({"overlay_cache": "flash", "keep_free": 25}), in_flash)
        eq(oc.KEEP, in_flash)
        eq(overlay.CACHE is not None, in_flash)
    finally:
        oc.off()
        overlay.ENABLED = old
    eq(overlay.CACHE, None)
