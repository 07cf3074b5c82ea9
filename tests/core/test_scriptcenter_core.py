# The one scripted center (tools/posterm/bench/scriptcenter.py): the core tests' center
# (fakecenter) is it, and the bench's day center (DayCenter, walk.py) is the same answering
# code set up for the day: it keeps nothing, echoes 48 and 63, answers the sign-in's
# parameter download with keys, and drops the modules it loads (the center is another
# machine).
from mptest import eq, true
from pos import iso8583, keyload, mac, overlay
import fakecenter
import txhelp
from rig import Rig

try:
    from posterm.bench import scriptcenter
except ImportError:  # MicroPython: tests/mp puts the bench's scriptcenter.py on the path
    import scriptcenter


def _reply(ev):
    eq(ev[0], "reply")
    return iso8583.decode(iso8583.unpack_frame(ev[1])[2])


class BothCenters(scriptcenter.Center):
    # the tests' center answers; the day's center is asked the same frames on the side
    def __init__(self):
        scriptcenter.Center.__init__(self)
        self.day = scriptcenter.DayCenter()
        self.frames = []
        self.pairs = []

    def answer(self, frame, timeout=None):
        ev = scriptcenter.Center.answer(self, frame, timeout)
        self.frames.append(frame)
        self.pairs.append((self.requests[-1], _reply(ev), _reply(self.day.answer(frame))))
        return ev


def test_the_core_tests_center_is_the_benchs():
    true(fakecenter.Center is scriptcenter.Center, "fakecenter re-exports the one center")
    true(issubclass(scriptcenter.DayCenter, scriptcenter.Center))
    eq(fakecenter.PIK, scriptcenter.PIK)


def test_the_days_center_answers_as_the_tests_one_but_for_its_settings():
    both = BothCenters()
    # the day's sign-in (walk.SIGN_IN: 签到, with the parameter and menu downloads), a
    # purchase, settlement
    r = Rig(center=both).press("MENU", "1", "1", "ENTER", "ENTER")
    r = txhelp.settle(txhelp.buy(r))
    seen = [(q["mti"], q.get(60, "")[8:11]) for q, _t, _d in both.pairs]
    for want in (
        ("0800", "360"),
        ("0800", "930"),
        ("0800", "003"),
        ("0200", "000"),
        ("0500", "201"),
    ):
        true(want in seen, str(want))
    for q, t, d in both.pairs:
        what = q["mti"] + "/" + q.get(60, "")[8:11]
        if what == "0800/360":
            eq(t[39], "12", "the tests' center: no parameter download")
            eq(d[39], "00", what)
            eq(
                d[62],
                keyload.pack_signin_keys(scriptcenter.TMK, scriptcenter.PIK, scriptcenter.MAK),
            )
            continue
        eq(d["mti"], t["mti"], what)
        echoed = [k for k in (48, 63) if k in q]
        for k in sorted(k for k in set(t) | set(d) | set(echoed) if k != "mti"):
            if k == 64:
                continue
            if k in echoed and not (q["mti"] == "0500" and k == 48):
                eq(d.get(k), q[k], what + " echoes " + str(k))
            else:
                eq(d.get(k), t.get(k), what + " field " + str(k))
        if 64 in t:
            true(mac.verify("ecb", scriptcenter.MAK, iso8583.mab(d), d[64]), what + " MAC")
    eq(len(both.day.requests), 0, "the day's center keeps no request")
    eq(len(both.day.replies), 0, "nor any reply")
    eq(both.day.count, len(both.pairs))
    eq(r.t.state.pik, scriptcenter.PIK.hex())


def test_the_days_center_drops_the_modules_it_loads():
    both = BothCenters()
    txhelp.rig(both)
    nets = [q.get(60, "")[8:11] for q, _t, _d in both.pairs]
    signin = both.frames[nets.index("003")]
    old = overlay.ENABLED
    overlay.ENABLED = True
    try:
        for center, kept in ((scriptcenter.DayCenter(), False), (scriptcenter.Center(), True)):
            overlay.unload([n for n in overlay.loaded() if n != "pos.keyload"])
            true("pos.keyload" not in overlay.loaded())
            _reply(center.answer(signin))
            eq("pos.keyload" in overlay.loaded(), kept, type(center).__name__)
    finally:
        overlay.ENABLED = old
