# A chip purchase through the whole terminal core (pos.flows.chip + pos.emv.kernel as
# overlays) against the scripted center, on every interpreter: what the 0200 carries, the
# TC journalled and printed, a card that refuses the center's approval (reversed at once),
# the IC downloads a reply header asks for.
import fakecenter
import faultstore
from mptest import contains, eq, true
from pos import iso8583, mac
from pos.emv import card as emvcard
from pos.emv import tlv
from rig import Rig

PAN = "6212142000000000012"


def spec(**more):
    s = {"pan": PAN, "seq": "01", "expiry": "3012", "pin": "123456",
         "imk_ac": "0123456789ABCDEFFEDCBA9876543210", "label": "UnionPay Debit"}  # fmt: skip
    for k in more:
        s[k] = more[k]
    return s


class BadArpcCenter(fakecenter.Center):
    # approves, with issuer authentication data the card cannot verify
    def answer(self, frame, timeout):
        ev = fakecenter.Center.answer(self, frame, timeout)
        req = self.requests[-1]
        if ev[0] != "reply" or req["mti"] != "0200":
            return ev
        tpdu, header, body = iso8583.unpack_frame(ev[1])
        rep = iso8583.decode(body)
        rep[55] = tlv.encode(0x91, bytes(8) + b"00")
        rep[64] = b"\x00" * 8
        rep[64] = mac.compute("ecb", self.mak, iso8583.mab(rep))
        return ("reply", iso8583.pack_frame(tpdu, header, iso8583.encode(rep)))


def test_an_expired_chip_card_is_refused_after_its_read_before_a_pin_or_a_request():
    # the card's expiry (5F24, to the end of its month) checked by the read, as a swipe's
    # is (pos.clock.expiry_problem): October 2026 on 23 November 2026 is past
    r = Rig().sign_in()
    n = len(r.center.requests)
    m = r.mark()
    r.event(("chip", spec(expiry="2610")))
    r.press("12345", "ENTER")
    true(r.seen("过期", m), "an expired chip card")
    true(not r.seen("请输入密码", m), "no PIN asked of it")
    eq([q["mti"] for q in r.center.requests[n:]], [])
    eq(len(r.t.journal.entries()), 0)
    r = Rig().sign_in()
    m = r.mark()
    r.event(("chip", spec(expiry="2611")))  # this month's: still good
    r.press("12345", "ENTER")
    true(r.seen("请输入密码", m), "this month's card asks for its PIN")


def test_an_inserted_card_is_read_by_the_kernel_and_the_tc_is_journalled_and_printed():
    r = Rig().sign_in()
    card = spec()
    r.event(("chip", card))  # inserted at idle: the amount first
    r.press("12345", "ENTER", "123456", "ENTER")
    q = r.center.last("0200")
    eq(q[22], "051")
    eq(q[23], "001")
    eq(q[60][-2:], "50")
    eq(q[2], PAN)
    got = tlv.flatten(q[55])
    for tag in (0x9F26, 0x9F27, 0x9F10, 0x9F37, 0x9F36, 0x95, 0x9A, 0x9C, 0x9F02, 0x5F2A,
                0x82, 0x9F1A, 0x9F03, 0x9F33, 0x9F34, 0x9F35, 0x9F1E, 0x84, 0x9F09, 0x9F41):
        contains(got, tag)
    eq(got[0x9F02], bytes.fromhex("000000012345"))
    e = r.t.journal.entries()[-1]
    eq(e["type"], "purchase")
    eq(e["entry"], "05")
    eq(e["ac_type"], "TC")
    eq(e["aid"], emvcard.DEBIT)
    slip = r.receipt_text(0)
    contains(slip, "AID:" + emvcard.DEBIT)
    contains(slip, "TC:" + e["ac"])
    eq(card["atc"], 1)


def test_a_card_that_refuses_the_approval_is_reversed_at_once_with_the_reversal_tags():
    r = Rig(center=BadArpcCenter()).sign_in()
    m = r.mark()
    r.event(("chip", spec()))
    r.press("5000", "ENTER", "123456", "ENTER")
    true(r.seen("卡片拒绝,交易已冲正", m))
    rev = r.center.last("0400")
    true(rev is not None, "a reversal went out")
    eq(rev[39], "06")
    eq([t for t, _ in tlv.decode(rev[55])], [0x95, 0x9F1E, 0x9F10, 0x9F36])
    eq(tlv.flatten(rev[55])[0x95][4] & 0x40, 0x40, "TVR: issuer authentication failed")
    eq(r.t.state.reversal(), None)
    eq([e for e in r.t.journal.entries() if e.get("type") == "purchase"], [])


def test_a_reply_header_asking_for_ic_data_downloads_it_before_the_next_transaction():
    r = Rig().sign_in()
    r.center.then("need:4")
    r.press("MENU", "1", "2", "100", "ENTER", "CARD=" + PAN, "123456", "ENTER", "ENTER")
    eq(r.t.state.extra.get("ic_due"), 4)
    r.press("CANCEL")
    n = len(r.center.requests)
    r.press("MENU", "1", "2", "100", "ENTER")
    codes = [q.get(60, "")[8:11] for q in r.center.requests[n:]]
    for code in ("372", "371", "382", "381", "394"):
        contains(codes, code)
    eq(r.t.state.extra.get("ic_due"), None)


def test_an_unbalanced_settlement_uploads_the_stripe_records_then_each_tc_with_205():
    from txhelp import buy, rig, settle

    c = fakecenter.Center()
    r = rig(c)
    buy(r, "1000")
    buy(r, "2000")
    r.event(("chip", spec()))
    r.press("3000", "ENTER", "123456", "ENTER", "ENTER")
    chip = r.t.journal.entries()[-1]
    eq(chip["entry"], "05")
    n = len(c.requests)
    c.then("unbalanced")
    settle(r)
    got = [q["mti"] + "/" + q.get(60, "")[8:11] for q in c.requests[n:]]
    eq(got, ["0500/201", "0320/201", "0320/205", "0320/202", "0820/002"])
    eq(c.requests[n + 1][48][:2], "02", "the two swipes; the chip one is a TC upload")
    tc = c.requests[n + 2]
    eq(tc[61], chip["batch"] + chip["trace"])
    eq(tlv.flatten(tc[55])[0x9F27], b"\x40")
    eq(c.requests[n + 3][48], "0003")
    eq(r.t.state.extra["last_settle"]["uploaded"], 3)


class BrokenIcCenter(fakecenter.Center):
    # answers the IC status query with a field 62 that is not TLV
    def answer(self, frame, timeout):
        ev = fakecenter.Center.answer(self, frame, timeout)
        req = self.requests[-1]
        if ev[0] != "reply" or req.get(60, "")[8:11] != "372":
            return ev
        tpdu, header, body = iso8583.unpack_frame(ev[1])
        rep = iso8583.decode(body)
        rep[62] = b"1\x9f\x06\x7f\x01"
        return ("reply", iso8583.pack_frame(tpdu, header, iso8583.encode(rep)))


def test_an_ic_download_answered_with_broken_tlv_says_so_and_stores_nothing():
    r = Rig(center=BrokenIcCenter()).sign_in()
    m = r.mark()
    r.press("MENU", "4", "3", "ENTER")
    true(r.seen("应答报文错误", m))
    eq(r.t.storage.read("capk.tlv"), None)
    eq(r.t.state.extra.get("ic_aids"), None)
    r.press("CANCEL", "CANCEL", "CANCEL")  # the notice, then out of the menus
    r.event(("chip", spec()))  # the terminal goes on: a chip purchase still works
    r.press("100", "ENTER", "123456", "ENTER", "ENTER")
    eq(r.t.journal.entries()[-1]["ac_type"], "TC")


def test_a_chip_balance_inquiry_is_read_by_the_kernel_with_9c_31_and_shows_the_balance():
    r = Rig().sign_in()
    card = spec()
    m = r.mark()
    r.press("MENU", "1", "5")
    r.event(("chip", card))
    true("\uffe5" not in r.screen(), r.screen())  # the PIN prompt: an inquiry has no amount
    r.press("123456", "ENTER")
    q = r.center.last("0200")
    eq(q[3], "310000")
    eq(q[22], "051")
    eq(q[23], "001")
    eq(q[60][-2:], "50")
    true(4 not in q, "an inquiry sends no amount")
    got = tlv.flatten(q[55])
    eq(got[0x9C], b"\x31")
    eq(got[0x9F02], bytes(6))
    eq(got[0x9F27], b"\x80")
    true(r.seen("\uffe51234.56", m), r.screen())
    eq(card["atc"], 1)
    r.press("ENTER")
    true(r.seen("请拔卡", m), r.screen())
    eq([e for e in r.t.journal.entries() if e.get("type") == "balance"], [])
    eq(r.t.state.reversal(), None)


def test_a_chip_balance_the_card_refuses_after_the_answer_sends_no_reversal():
    r = Rig(center=BadArpcCenter()).sign_in()
    m = r.mark()
    r.press("MENU", "1", "5")
    r.event(("chip", spec()))
    r.press("123456", "ENTER")
    true(r.seen("卡片拒绝交易", m), r.screen())
    true(not r.seen("冲正", m), "an inquiry is not reversed: " + r.screen())
    eq(r.center.last("0400"), None)
    eq(r.t.state.reversal(), None)


def test_a_chip_preauth_is_read_by_the_kernel_with_9c_03_and_journalled_with_its_tc():
    r = Rig().sign_in()
    card = spec()
    r.press("MENU", "1", "6", "1", "30000", "ENTER")
    r.event(("chip", card))
    r.press("123456", "ENTER")
    q = r.center.last("0100")
    eq(q[3], "030000")
    eq(q[22], "051")
    eq(q[60][-2:], "50")
    got = tlv.flatten(q[55])
    eq(got[0x9C], b"\x03")
    eq(got[0x9F02], bytes.fromhex("000000030000"))
    e = r.t.journal.entries()[-1]
    eq(e["type"], "preauth")
    eq(e["entry"], "05")
    eq(e["ac_type"], "TC")
    contains(r.receipt_text(0), "TC:" + e["ac"])
    eq(r.t.state.reversal(), None)


def test_a_chip_approval_short_of_heap_when_journalled_is_kept_after_a_collection():
    # issue 14 item 6, "an approved transaction is kept", for a chip sale too: the card's TC
    # and the center's approval in hand, the journal's write runs out of heap once; it is
    # collected and written again (before: no second try, and the sale was reversed)
    st = faultstore.ShortOnWrite()
    r = Rig(storage=st).sign_in()
    st.armed = 1
    r.event(("chip", spec()))
    r.press("12345", "ENTER", "123456", "ENTER")
    eq(st.armed, 0, "the failure was met")
    eq([e.get("amount") for e in r.t.journal.entries()], [12345], "the approved sale is kept")
    eq(r.t.state.reversal(), None, "its reversal is disarmed")
    true(len(r.receipts) >= 1, "its slip printed")
