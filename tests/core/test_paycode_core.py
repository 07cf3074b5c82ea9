# The payment codes a cashier scans (pos.paycode) and the script tokens that present cards
# and codes (pos.keys.parse_token): CARD= swipes, CHIP= inserts, TAP= taps, SCAN= scans.
from mptest import eq, raises, true
from pos import paycode
from pos.keys import KeyTokenError, parse_token

ICC = {"pan": "6212142000000001010", "expiry": "3112", "pin": "123456", "seq": "01",
       "imk_ac": "0123456789ABCDEFFEDCBA9876543210"}
DECK = {
    "6212142000000001010": {"interfaces": ("stripe", "chip"), "icc": ICC,
                            "track2": "6212142000000001010=311222001357246", "track3": ""},
    "6212142000000001051": {"interfaces": ("contactless",), "icc": {},
                            "track2": "6212142000000001051=311222005791802", "track3": ""},
}


def test_a_code_is_told_by_its_length_and_first_two_digits():
    for code, want in (
        ("6288880000000000011", paycode.UNIONPAY),
        ("134567890000000011", paycode.WECHAT),
        ("104567890000000011", paycode.WECHAT),
        ("154567890000000011", paycode.WECHAT),
        ("2812345678900000", paycode.ALIPAY),
        ("281234567890000011", paycode.ALIPAY),
        ("301234567890123456789012", paycode.ALIPAY),
        ("251234567890123456", paycode.ALIPAY),
    ):
        eq(paycode.scheme(code), want, code)


def test_anything_else_is_no_payment_code():
    for code in ("", "62888800000000000", "628888000000000001122", "164567890000000011",
                 "6288880000000000a11", "3112345678901234567890123", "241234567890123456",
                 "6988880000000000011", None, 6288880000000000011):
        eq(paycode.scheme(code), None, code)


def test_scan_gives_the_scanners_event_and_a_bad_code_says_what_a_code_is():
    eq(parse_token("SCAN=134567890000000029"), [("scan", "134567890000000029")])
    with raises(KeyTokenError, match="18 digits from 10-15") as e:
        parse_token("SCAN=1345")
    eq(e.value.token, "SCAN=1345")


def test_insert_and_tap_present_the_decks_card_and_remove_pulls_it_out():
    ev = parse_token("CHIP=6212142000000001010", DECK)
    eq(ev[0][0], "chip")
    true(ev[0][1] is ICC)
    eq(parse_token("TAP=6212142000000001051", DECK)[0][0], "tap")
    eq(parse_token("remove"), [("removed",)])


def test_a_card_is_presented_only_the_ways_it_can_be():
    with raises(KeyTokenError, match="has no contactless chip"):
        parse_token("TAP=6212142000000001010", DECK)
    with raises(KeyTokenError, match="has no magnetic stripe"):
        parse_token("CARD=6212142000000001051", DECK)
    with raises(KeyTokenError, match="needs the test deck"):
        parse_token("CHIP=6212142000000001010")
    with raises(KeyTokenError, match="no test card"):
        parse_token("CHIP=6212142000000009999", DECK)


def test_a_swipe_of_a_deck_card_reads_its_track():
    ev = parse_token("CARD=6212142000000001010", DECK)[0]
    eq(ev[3], "6212142000000001010=311222001357246")
    eq(parse_token("CARD=6212142000000001010")[0][3][24:27], "120")  # no deck: track_for
