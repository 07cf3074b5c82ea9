"""A whole day with every entry mode (issue 13, "How it is checked"): a swipe, a keyed card, a
chip card, taps on both sides of the 双免 limit, a chip that fails and is swiped (fallback),
QR payments paid at once and confirmed on the phone, their voids and refunds, and a
settlement that balances, headless against the bundled center; the swipe, chip, QR, both
taps (qPBOC), fallback and chip-void legs again against the real-host double
(tests/realhost.py: frames by hand, not our codec)."""

import pytest
from test_chip import CARD, ChipDay, deck_spec
from test_day import SUPERVISOR
from test_qr import ALIPAY, AT_ONCE, CONFIRMS, _wait

import realhost
from test_realhost import Term

pytestmark = pytest.mark.filterwarnings(
    "ignore::cryptography.utils.CryptographyDeprecationWarning"
)
STRIPE = "3012220" + "0" * 8  # the deck chip card's stripe: service code 220


def _approved(day, m):
    assert day.seen("交易成功", m) or day.seen("应答码:00", m), day.screen()


def test_a_day_with_every_entry_mode_settles_balanced_at_the_bundled_center(tmp_path):
    day = ChipDay(tmp_path)
    try:
        day.sign_in()
        modes = {}

        def last(kind="purchase"):
            return day.journal(kind)[-1]

        m = day.mark()
        day.purchase("10000")  # swipe
        _approved(day, m)
        modes["swipe"] = day.financial()[-1][0][22]
        m = day.mark()
        day.press("MENU", "1", "2", "2300", "ENTER", CARD, "ENTER", "3012", "ENTER")
        day.press("123456", "ENTER", "ENTER", "CANCEL")  # keyed with its PIN: 011
        _approved(day, m)
        modes["keyed"] = day.financial()[-1][0][22]
        m = day.mark()
        day.press("MENU", "1", "2", "6600", "ENTER").insert(deck_spec()).press("123456", "ENTER")
        _approved(day, m)
        modes["chip"] = day.financial()[-1][0][22]
        chip_sale = last()
        day.press("ENTER", "CANCEL")
        m = day.mark()
        day.press("MENU", "1", "2", "5000", "ENTER").tap(deck_spec())  # under the limit
        _approved(day, m)
        modes["tap_free"] = day.financial()[-1][0][22]
        day.press("ENTER", "CANCEL")
        m = day.mark()
        day.press("MENU", "1", "2", "100001", "ENTER").tap(deck_spec())  # over it: PIN
        day.press("123456", "ENTER")
        _approved(day, m)
        modes["tap_pin"] = day.financial()[-1][0][22]
        day.press("ENTER", "CANCEL")
        broken = deck_spec(broken=True)
        m = day.mark()
        day.press("MENU", "1", "2", "2000", "ENTER").insert(broken).insert(broken).insert(broken)
        assert day.seen("IC卡读卡失败,请刷卡", m)
        day.press("CARD=" + CARD + "=" + STRIPE, "123456", "ENTER")
        _approved(day, m)
        req = day.financial()[-1][0]
        modes["fallback"] = (req[22], req[60][-2:])
        day.press("ENTER", "CANCEL")
        for code, amount in ((AT_ONCE, "3000"), (ALIPAY, "5000")):
            m = day.mark()
            day.press("MENU", "1", "9", amount, "ENTER", "SCAN=" + code)
            _approved(day, m)
            day.press("ENTER", "CANCEL")
        m = day.mark()
        day.press("MENU", "1", "9", "8800", "ENTER", "SCAN=" + CONFIRMS)
        assert day.seen("请顾客在手机上确认", m)
        _wait(day.d, 10)
        _approved(day, m)
        day.press("ENTER", "CANCEL")
        assert modes == {
            "swipe": "021", "keyed": "011", "chip": "051", "tap_free": "072",
            "tap_pin": "071", "fallback": ("021", "52"),
        }  # fmt: skip
        # voids and refunds: the chip sale voided by its stripe, a QR sale voided, a QR
        # sale refunded in part
        first_qr, alipay = day.journal("qr_sale")[:2]
        day.press("MENU", "1", "3", SUPERVISOR, "ENTER", chip_sale["trace"], "ENTER", "ENTER",
                  "CARD=" + CARD + "=" + STRIPE, "ENTER", "ENTER", "CANCEL")  # fmt: skip
        assert day.journal("void")[-1]["orig_trace"] == chip_sale["trace"]
        day.press("MENU", "1", "3", SUPERVISOR, "ENTER", first_qr["trace"], "ENTER", "ENTER")
        assert day.seen("交易成功")
        day.press("ENTER", "CANCEL", "MENU", "1", "4", SUPERVISOR, "ENTER", "SCAN=" + ALIPAY)
        day.press(alipay["rrn"], "ENTER", alipay["date"][4:8], "ENTER", "2000", "ENTER")
        assert day.journal("qr_refund")[-1]["amount"] == 2000
        day.press("ENTER", "CANCEL")
        m = day.mark()
        day.settle()
        assert day.seen("对账平", m), "the center's books agree with every entry mode in them"
        slip = day.slip()
        for line in ("其中插卡", "挥卡", "扫码"):
            assert line in slip, (line, slip)
        assert not day.t.journal.pending and day.t.state.reversal() is None
    finally:
        day.close()


@pytest.fixture
def real(tmp_path):
    host = realhost.RealHost(qr_confirm=2)
    term = Term(tmp_path / "t", host)
    yield term, host
    term.close()
    host.close()


def test_a_day_of_swipe_chip_and_qr_against_the_real_host_double_is_never_reversed(real):
    term, host = real
    term.auto_sign_in()
    term.buy("2500")
    term.press("ENTER", "CANCEL", "MENU", "1", "2", "8800", "ENTER")
    term.d.feed(("chip", {"pan": "6212142000000000012", "seq": "01", "expiry": "3012",
                          "pin": "123456", "imk_ac": "0123456789ABCDEFFEDCBA9876543210",
                          "label": "UnionPay Debit"}))  # fmt: skip
    term.press("123456", "ENTER", "ENTER", "CANCEL")
    term.press("MENU", "1", "9", "8800", "ENTER", "SCAN=" + CONFIRMS)
    assert term.seen("请顾客在手机上确认")
    _wait(term.d, 10)
    assert term.seen("交易成功")
    term.press("ENTER", "CANCEL", "MENU", "1", "7", "ENTER")
    assert len(host.chip) == 1, "the double checked the ARQC"
    assert not host.reversals and not host.problems, (host.reversals, host.problems)
    mtis = [r[0] for r in host.requests]
    sales = [r for m, r, _ in host.requests if m == "0200" and r.get(3) == "000000"]
    assert [r[22] for r in sales] == ["021", "051", "032"], "swipe, chip, QR"
    assert "0500" in mtis, mtis
    assert term.t.journal.count == 0 and term.t.state.reversal() is None, "settled, closed"


def test_taps_a_fallback_and_a_chip_void_against_the_real_host_double(real):
    # the legs the double had not seen: a tap under the 双免 limit (no PIN) and one over it
    # (online PIN), both qPBOC; a chip that fails three times and is swiped (60.5 = 2); a chip
    # sale and its void by the card's stripe; then settlement. The double reads every frame
    # by hand and checks each ARQC with its own EMV Book 2 code.
    term, host = real
    term.auto_sign_in()
    spec = {"pan": CARD, "seq": "01", "expiry": "3012", "pin": "123456",
            "imk_ac": "0123456789ABCDEFFEDCBA9876543210", "label": "UnionPay Debit"}  # fmt: skip

    def sale(amount, *steps):
        m = len(term.frames)
        term.press("MENU", "1", "2", amount, "ENTER")
        for step in steps:
            if isinstance(step, tuple):
                term.d.feed(step)
            else:
                term.press(step)
        assert term.seen("交易成功", m) or term.seen("应答码:00", m), term.frames[m:]
        term.press("ENTER", "CANCEL")

    sale("5000", ("tap", dict(spec)))
    sale("100001", ("tap", dict(spec)), "123456", "ENTER")
    broken = dict(spec, broken=True)
    sale("2000", ("chip", broken), ("chip", broken), ("chip", broken),
         "CARD=" + CARD + "=" + STRIPE, "123456", "ENTER")  # fmt: skip
    sale("6600", ("chip", dict(spec)), "123456", "ENTER")
    chip_sale = [e for e in term.t.journal.entries() if e.get("entry") == "05"][-1]
    m = len(term.frames)
    term.press("MENU", "1", "3", SUPERVISOR, "ENTER", chip_sale["trace"], "ENTER", "ENTER",
               "CARD=" + CARD + "=" + STRIPE, "ENTER")  # fmt: skip
    assert term.seen("交易成功", m) or term.seen("应答码:00", m), term.frames[m:]
    term.press("ENTER", "CANCEL")
    void = [e for e in term.t.journal.entries() if e.get("type") == "void"][-1]
    assert void["orig_trace"] == chip_sale["trace"]
    m = len(term.frames)
    term.press("MENU", "1", "7", "ENTER")
    assert term.seen("对账平", m), term.frames[m:]
    assert not host.reversals and not host.problems, (host.reversals, host.problems)
    reqs = [r for mti, r, _ in host.requests if mti == "0200"]
    sales = [r for r in reqs if r.get(3) == "000000"]
    assert [r[22] for r in sales] == ["072", "071", "021", "051"], "taps, fallback, chip"
    assert [r[60][-2:] for r in sales] == ["60", "60", "52", "50"], "60.4 / 60.5"
    assert [52 in r for r in sales] == [False, True, True, True], "no PIN under the limit"
    taps = [tags for trace, tags in host.chip if trace in (sales[0][11], sales[1][11])]
    assert len(taps) == 2 and all(t[0x9F66][0] & 0x20 for t in taps), "qPBOC taps, verified"
    assert len(host.chip) == 3, "each tap's and the chip sale's ARQC verified by the double"
    voids = [r for r in reqs if r.get(3) == "200000"]
    assert len(voids) == 1 and voids[0][22] == "022" and voids[0][61][6:12] == chip_sale["trace"]
    assert voids[0][37] == chip_sale["rrn"].encode()
    assert "0500" in [r[0] for r in host.requests]
    assert term.t.journal.count == 0 and term.t.state.reversal() is None, "settled, closed"
