# pos.card's reader port: the events a driver feeds for a swipe, an insert, a tap and a scan,
# and the card tuple a chip read gives a request.
from mptest import eq, true
from pos import card
from pos.emv import card as emvcard
from pos.emv import apdu

SPEC = {"pan": "6212142000000000012", "seq": "01", "expiry": "3012", "pin": "123456",
        "imk_ac": "0123456789ABCDEFFEDCBA9876543210", "label": "UnionPay Debit"}
SELECT_PSE = bytes.fromhex("00A404000E") + b"1PAY.SYS.DDF01" + b"\x00"


def test_an_inserted_virtual_card_spec_is_built_into_a_card_that_answers_apdus():
    ev = card.insert(dict(SPEC))
    eq(ev[0], "chip")
    eq(card.presented(ev), "insert")
    icc = apdu.icc_of(ev)
    true(icc.reset()[0] == 0x3B)
    eq(icc.apdu(SELECT_PSE)[-2:], b"\x90\x00")


def test_a_tapped_object_that_answers_apdus_is_used_as_it_is():
    obj = emvcard.Card(dict(SPEC))
    ev = card.tap(obj)
    eq(card.presented(ev), "tap")
    true(apdu.icc_of(ev) is obj)


def test_a_spec_that_is_no_card_reads_as_an_unreadable_chip_not_a_crash():
    eq(apdu.icc_of(card.insert({"pan": "12"})), None)
    eq(apdu.icc_of(card.insert(42)), None)
    eq(apdu.icc_of(("chip",)), None)
    eq(apdu.icc_of(card.scan("6212345678901234567")), None)


def test_a_scan_gives_its_payment_code_and_anything_else_is_refused():
    eq(card.scan_code(card.scan(" 6212345678901234567 ")), "6212345678901234567")
    eq(card.presented(card.scan("134567890123456789")), "scan")
    for bad in ("", "62123", "62123456789012345678901234", "62ab345678901234567", None):
        eq(card.scan_code(card.scan(bad)), None, bad)
    eq(card.presented(("key", "1")), None)


def test_a_swipe_event_reads_as_the_swiped_card():
    got = card.from_event(card.swipe("6222020000000000018", "3012"))
    eq(got[:3], ("6222020000000000018", "3012", "02"))
    eq(card.service_code(got[3]), "120")
    eq(card.needs_chip(got), False)


def test_a_swiped_chip_card_asks_for_the_chip_unless_it_is_a_fallback():
    for sc, chip in (("220", True), ("620", True), ("201", True), ("120", False), ("101", False)):
        c = card.from_event(card.swipe("6222020000000000018", "", "6222020000000000018=3012"
                                       + sc + "00000"))
        eq(card.needs_chip(c), chip, sc)
        eq(card.needs_chip(card.as_fallback(c)), False, sc)
        eq(card.f60_read(card.as_fallback(c)), "52")
        eq(card.f60_read(c), "20")


def test_a_chip_card_sends_its_pan_sequence_and_ic_data_with_the_track():
    c = card.chip_card(card.CHIP, "6212142000000000012", "3012", "6212142000000000012=30122200",
                       "01", b"\x9f\x26\x08" + bytes(8))
    msg = card.fields({}, c, "123456")
    eq(msg[2], "6212142000000000012")
    eq(msg[35], "6212142000000000012=30122200")
    eq(msg[14], "3012")
    eq(msg[22], "051")
    eq(msg[23], "001")
    eq(msg[55], b"\x9f\x26\x08" + bytes(8))
    eq(card.f60_read(c), "50")
    t = card.chip_card(card.CONTACTLESS, "6212142000000000012", "3012", "", "01", b"")
    msg = card.fields({}, t, None)
    eq(msg[22], "072")
    eq(card.f60_read(t), "60")
    true(55 not in msg and 35 not in msg)
