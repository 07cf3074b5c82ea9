# Short of memory, still safe: a MemoryError in a flow (injected at the storage layer: a
# port whose reads fail as a board's allocation does) shows 内存不足 without reading a
# strings file or building a screen, and the terminal goes back to idle and works on.
import faultstore
from mptest import eq, true, contains
from rig import Rig

PAN = "6212142000000000012"


class Short:
    # a resources port that runs out of memory on the reads named in `fail` while armed
    def __init__(self, port, fail=("menu.json",)):
        self.port = port
        self.fail = fail
        self.armed = 0  # reads left to fail
        self.reads = []

    def read(self, name):
        return self._check(name) or self.port.read(name)

    def read_at(self, name, offset, n):
        return self._check(name) or self.port.read_at(name, offset, n)

    def size(self, name):
        return self.port.size(name)

    def names(self):
        return self.port.names()

    def _check(self, name):
        self.reads.append(name)
        if self.armed and (name in self.fail or "*" in self.fail):
            self.armed -= 1
            raise MemoryError("memory allocation failed, allocating 2048 bytes")
        return None


def _rig(fail=("menu.json",)):
    r = Rig()
    r.short = Short(r.resources, fail)
    r.t.resources = r.short
    r.t.strings.resources = r.short
    return r


def test_a_memory_error_in_a_flow_shows_out_of_memory_and_goes_back_to_idle():
    r = _rig()
    r.short.armed = 1  # reading the menu fails
    before = len(r.short.reads)
    r.press("MENU")
    contains(r.screen_flat(), "内存不足")
    reads = r.short.reads[before:]
    eq([n for n in reads if n.startswith("strings_")], [], "no strings read on the error path")
    true(("log", "error", "MemoryError") in r.logs, "logged")
    r.press("CANCEL")
    contains(r.screen_flat(), "请插卡/刷卡/挥卡")  # idle again
    r.press("MENU")
    contains(r.screen_flat(), "金融服务")  # and the menu works once memory is there


def test_out_of_memory_gives_way_to_idle_by_itself():
    r = _rig()
    r.short.armed = 1
    r.press("MENU")
    contains(r.screen_flat(), "内存不足")
    r.tick((2026, 11, 23, 9, 0, 6))
    contains(r.screen_flat(), "请插卡/刷卡/挥卡")


def test_a_memory_error_on_the_answer_never_turns_into_repeated_reversals():
    r = _rig(fail=("*",))
    r.sign_in()
    center = r.center
    answer = center.answer

    def failing_answer(frame, timeout):
        ev = answer(frame, timeout)
        if center.last("0200") is not None and not getattr(r, "tripped", False):
            r.tripped = True
            r.short.armed = 1  # checking the approved answer runs out of memory
        return ev

    center.answer = failing_answer
    r.press("MENU", "1", "2", "10000", "ENTER", "CARD=" + PAN, "123456", "ENTER")
    contains(r.screen_flat(), "内存不足")
    eq([e.get("amount") for e in r.t.journal.entries()], [10000], "the approved sale is kept")
    eq(r.t.state.reversal(), None, "an approved, journalled sale is not reversed")
    r.press("CANCEL")
    mtis = []

    def count(frame, timeout):
        from pos import iso8583

        mtis.append(iso8583.decode(iso8583.unpack_frame(frame)[2])["mti"])
        return answer(frame, timeout)

    center.answer = count
    for _ in range(2):
        r.press("MENU", "1", "2", "500", "ENTER", "CARD=" + PAN, "123456", "ENTER", "ENTER")
        r.press("CANCEL", "CANCEL")
    eq(mtis.count("0400") <= 1, True, "at most one reversal: %r" % (mtis,))
    eq(mtis.count("0200"), 2, "both purchases went out: %r" % (mtis,))
    eq(r.t.state.reversal(), None, "nothing left to reverse")
    kept = [e for e in r.t.journal.entries() if e.get("amount") == 500]
    eq(len(kept), 2, "both approved purchases are in the journal")


def _sale(r, amount="500"):
    r.press("MENU", "1", "2", amount, "ENTER", "CARD=" + PAN, "123456", "ENTER")


def test_an_approval_short_of_heap_when_journalled_is_kept_after_one_collection():
    st = faultstore.ShortOnWrite()
    r = Rig(storage=st)
    r.sign_in()
    st.armed = 1  # journalling the approved sale runs out of heap once
    _sale(r)
    eq([e.get("amount") for e in r.t.journal.entries()], [500], "journalled once, on the retry")
    eq(r.t.state.reversal(), None, "an approved, journalled sale is not reversed")
    true(len(r.receipts) >= 1, "its slip printed")
    r.press("ENTER", "ENTER")
    mtis = []
    answer = r.center.answer

    def count(frame, timeout):
        from pos import iso8583

        mtis.append(iso8583.decode(iso8583.unpack_frame(frame)[2])["mti"])
        return answer(frame, timeout)

    r.center.answer = count
    _sale(r, "600")
    eq(mtis, ["0200"], "the next sale goes out alone: no reversal of the kept one")
    eq([e.get("amount") for e in r.t.journal.entries()], [500, 600])


def test_an_approval_still_short_of_heap_after_a_collection_is_kept_from_the_reserve():
    # issue 14 item 6: "an approved transaction is kept". The retry after the collection
    # runs out too: the heap the terminal kept aside at boot is given up and the third try
    # journals it; the slip prints, the totals count it, its reversal never goes
    st = faultstore.ShortOnWrite()
    r = Rig(storage=st)
    r.sign_in()
    true(r.t.reserve is not None, "the reserve is taken when the terminal is made")
    st.armed = 2  # the journal's write runs out of heap twice
    _sale(r)
    eq(st.armed, 0, "both failures were met")
    eq([e.get("amount") for e in r.t.journal.entries()], [500], "the approved sale is kept")
    eq(r.t.state.reversal(), None, "its reversal is disarmed")
    eq(r.t.reserve, None, "the reserve was used")
    contains(r.receipt_text(), "5.00")  # its slip
    r.press("ENTER", "ENTER")
    true(r.t.take_reserve(), "taken again (a board's loop does it at idle)")
    mtis = []
    answer = r.center.answer

    def count(frame, timeout):
        from pos import iso8583

        mtis.append(iso8583.decode(iso8583.unpack_frame(frame)[2])["mti"])
        return answer(frame, timeout)

    r.center.answer = count
    _sale(r, "600")
    eq(mtis, ["0200"], "the next sale goes out alone: no reversal of the kept one")
    r.press("ENTER", "ENTER")
    from pos import settlement

    eq(settlement.totals(r.t.journal.each())["debit"], [2, 1100], "the totals count both")


def test_an_approval_that_cannot_be_journalled_even_from_the_reserve_is_reversed_once():
    st = faultstore.ShortOnWrite()
    r = Rig(storage=st)
    r.sign_in()
    st.armed = 3  # the retry and the try from the reserve run out too
    _sale(r)
    contains(r.screen_flat(), "内存不足")
    eq(r.t.journal.entries(), [], "nothing half-written")
    true(r.t.state.reversal() is not None, "the reversal stays armed: the money goes back")
    r.press("CANCEL")
    mtis = []
    answer = r.center.answer

    def count(frame, timeout):
        from pos import iso8583

        mtis.append(iso8583.decode(iso8583.unpack_frame(frame)[2])["mti"])
        return answer(frame, timeout)

    r.center.answer = count
    for amount in ("600", "700"):
        _sale(r, amount)
        r.press("ENTER", "ENTER", "CANCEL")
    eq(mtis.count("0400"), 1, "one reversal: %r" % (mtis,))
    eq(r.center.last("0400")[39], "96", "answered, not completed (reference §6.2)")
    eq([e.get("amount") for e in r.t.journal.entries() if e.get("type") == "purchase"], [600, 700])


class Spares:
    # a board's driver caches as the terminal's reserve (boards.runner: the display's)
    def __init__(self, holds=True, center=None):
        self.holds = holds
        self.given = 0
        self.made = 0
        self.center = center
        self.forgot = []  # the requests the center had when the glyphs were forgotten

    def forget_glyphs(self):
        self.forgot.append(len(self.center.requests) if self.center is not None else None)

    def give_back(self):
        self.given += 1
        had = self.holds
        self.holds = False
        return had

    def take_again(self):
        self.made += 1
        self.holds = True


def test_on_a_board_the_drivers_caches_are_the_reserve_an_approval_takes():
    # a board holds no block for the reserve: the display's caches are given back for an
    # approval short of heap after the collection's retry, and made again at idle
    st = faultstore.ShortOnWrite()
    r = Rig(storage=st)
    r.sign_in()
    spares = Spares()
    r.t.spares = spares
    r.t.reserve = None
    true(r.t.take_reserve(), "a board's start: the spares made")
    eq(r.t.reserve, None, "no block held beside them")
    st.armed = 2
    _sale(r)
    eq(spares.given, 1, "given back once")
    eq([e.get("amount") for e in r.t.journal.entries()], [500], "the approved sale is kept")
    eq(r.t.state.reversal(), None)
    true(any("the reserve given up (approval of trace" in str(x) for x in r.logs), repr(r.logs))
    r.press("ENTER", "ENTER")
    r.t.take_reserve()
    true(spares.holds, "made again at idle")
    st.armed = 2
    spares.holds = False  # nothing to give (the caches were empty): reversed, never half-kept
    _sale(r, "600")
    eq([e.get("amount") for e in r.t.journal.entries()], [500], "not journalled")
    true(r.t.state.reversal() is not None, "its reversal armed")


def test_a_board_display_s_glyphs_are_forgotten_as_an_action_starts_and_before_a_request():
    # the glyphs a board's display keeps (~220 B each on the x64 unix port) are not held
    # through an action's imports nor an exchange, the heap's peak (the codec and the keys'
    # code loaded): pos.actions drops them as the flow starts, pos.center before the request
    # is encoded; the screens after turn them again
    r = Rig()
    r.sign_in()
    spares = Spares(center=r.center)
    r.t.spares = spares
    had = len(r.center.requests)
    _sale(r)
    eq(spares.forgot, [had, had], "as the sale's action started, then before its request")
    eq([e.get("amount") for e in r.t.journal.entries()], [500], "the sale as before")
    true(len(r.receipts) >= 1, "its slip printed")


class ShortOnAnswer:
    # the center's answers to one MTI are checked short of heap: reading the MAC key to
    # check an answer runs out `armed` times (a board's allocation in pos.comm's check)
    def __init__(self, r, mti, times=3):
        from pos.state import State

        class ShortMak(State):
            armed = 0

            def _get(self):
                if self.armed:
                    self.armed -= 1
                    raise MemoryError("memory allocation failed, allocating 1024 bytes")
                return self._mak

            def _set(self, value):
                self._mak = value

            mak = property(_get, _set)

        r.t.state = ShortMak(r.storage, dict(r.t.state.params), seal=True)
        self.r = r
        self.mti = mti
        self.times = times
        self.left = 0  # answers still to check short of heap
        self.frames = []  # every request frame of that MTI, as sent
        answer = r.center.answer

        def short(frame, timeout):
            from pos import iso8583

            ev = answer(frame, timeout)
            if iso8583.decode(iso8583.unpack_frame(frame)[2])["mti"] == self.mti:
                self.frames.append(frame)
                if self.left:
                    self.left -= 1
                    self.r.t.state.armed = self.times
            return ev

        r.center.answer = short


def _timed_out_sale(r):
    r.center.then("timeout")
    _sale(r, "800")
    true(r.t.state.reversal() is not None, "a reversal is pending")
    r.press("CANCEL")


def test_a_reversal_whose_answer_runs_out_of_heap_goes_again_as_a_retry_never_the_same():
    # the 0400 went out, the terminal could not check its answer even with the reserve: the
    # try counts (it left), so the next one is the next try (06), not the same bytes again
    r = Rig().sign_in()
    short = ShortOnAnswer(r, "0400")
    _timed_out_sale(r)
    short.left = 1
    _sale(r, "500")
    contains(r.screen_flat(), "内存不足")
    r.t.state.armed = 0  # (what the flow did not use up)
    eq(r.t.state.reversal()["tries"], 1, "the try that left is counted")
    r.press("CANCEL")
    _sale(r, "600")
    from pos import iso8583

    reasons = [iso8583.decode(iso8583.unpack_frame(f)[2])[39] for f in short.frames]
    eq(reasons, ["98", "06"], "the first try's reason, then a retry's")
    eq(len(set(r.sent)), len(r.sent), "no message sent twice")
    eq(r.t.state.reversal(), None, "the retry was answered: done")
    eq([e.get("amount") for e in r.t.journal.entries()], [600])


def test_a_reversal_never_read_short_of_heap_stops_after_its_tries_and_is_kept():
    # never a loop: each try that left counts, after `retries` the reversal is given up
    # (冲正未成功, kept in the journal for settlement) without going a fourth time
    r = Rig().sign_in()
    short = ShortOnAnswer(r, "0400")
    _timed_out_sale(r)
    short.left = 99
    for _ in range(4):
        _sale(r, "500")
        r.t.state.armed = 0  # (what the flow did not use up)
        r.press("CANCEL")
    eq(len(short.frames), 3, "three tries (params retries), then none")
    from pos import iso8583

    reasons = [iso8583.decode(iso8583.unpack_frame(f)[2])[39] for f in short.frames]
    eq(reasons, ["98", "06", "06"], "the first try's reason, then the retries' (reference §11)")
    eq(r.t.state.reversal(), None)
    kept = [e for e in r.t.journal.entries() if e.get("type") == "reversal_failed"]
    eq(len(kept), 1, "kept in the journal for settlement")


def test_an_approval_whose_answer_cannot_be_checked_even_from_the_reserve_is_reversed_96():
    # an unknown outcome is reversed (reference §6.2): the answer came (it may have been an
    # approval) and could not be read short of heap even with the reserve given up; the
    # cashier sees 内存不足 / 请重试, the reversal goes before the next sale, saying 96 (the
    # POS got the response but could not complete), not 98 (no answer)
    r = Rig().sign_in()
    short = ShortOnAnswer(r, "0200")
    short.left = 1
    _sale(r, "500")
    first = r.center.last("0200")[11]
    contains(r.screen_flat(), "内存不足")
    contains(r.screen_flat(), "请重试")
    r.t.state.armed = 0  # (what the flow did not use up)
    true(r.t.state.reversal() is not None, "its reversal armed")
    eq(r.t.journal.entries(), [], "nothing journalled, no slip")
    true(any("answer to trace" in str(x) and "not checked" in str(x) for x in r.logs), r.logs)
    r.press("CANCEL")
    r.t.take_reserve()
    _sale(r, "600")
    eq(r.center.last("0400")[39], "96")
    eq(r.center.last("0400")[11], first, "the first sale's trace")
    eq([e.get("amount") for e in r.t.journal.entries()], [600])
