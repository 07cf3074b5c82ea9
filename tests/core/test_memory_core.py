# Short of memory, still safe: a MemoryError in a flow (injected at the storage layer: a
# port whose reads fail as a board's allocation does) shows 内存不足 without reading a
# strings file or building a screen, and the terminal goes back to idle and works on.
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
