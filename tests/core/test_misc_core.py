from mptest import eq, true, raises
from pos import clock, keys
from pos.keys import parse_token, KeyTokenError
from pos.memstorage import MemoryStorage
from pos.state import State


def test_key_tokens():
    eq(parse_token("MENU"), [("key", "MENU")])
    eq(parse_token("enter"), [("key", "ENTER")])
    eq(parse_token("10"), [("key", "1"), ("key", "0")])
    pan = "6212142000000000012"
    # CARD= is a swipe: the test card's track 2 (the deck's expiry when none is given)
    eq(parse_token("CARD=" + pan), [("card", pan, "", pan + "=301212000000000", "")])
    eq(parse_token("CARD=" + pan + "=2712"), [("card", pan, "2712", pan + "=271212000000000", "")])
    track = pan + "=27122201234567890"
    eq(parse_token("CARD=" + track), [("card", pan, "2712", track, "")])
    with raises(KeyTokenError):
        parse_token("CARD=" + pan + "=27")
    with raises(KeyTokenError):
        parse_token("CARD=" + pan + "=2712=1")
    with raises(KeyTokenError):
        parse_token("ENTRE")
    with raises(KeyTokenError):
        parse_token("CARD=12")
    true(keys.is_key("F4"))


def test_clock_round_trips_and_parses():
    for now in ((2026, 11, 23, 9, 0, 0), (2000, 2, 29, 23, 59, 59), (2099, 12, 31, 0, 0, 0)):
        eq(clock.from_seconds(clock.to_seconds(now)), now)
    eq(clock.parse("2026-11-23T09:05"), (2026, 11, 23, 9, 5, 0))
    eq(clock.parse("2026-11-23"), (2026, 11, 23, 0, 0, 0))
    eq(clock.date8((2026, 1, 2, 0, 0, 0)), "20260102")
    with raises(ValueError):
        clock.parse("2026-02-30")
    with raises(ValueError):
        clock.parse("yesterday")


def test_trace_wraps_after_999999_and_is_persisted_first():
    s = MemoryStorage()
    st = State(s, {"tid": "12345678"})
    st.trace = 999999
    eq(st.take_trace(), 999999)
    eq(State(s, {}).trace, 1)


def test_unreadable_state_file_is_reported_not_silently_reset():
    s = MemoryStorage({"state.json": b"{not json"})
    st = State(s, {"tid": "12345678"})
    eq(st.params["tid"], "12345678")
    eq(st.unreadable, ["state.json"], "the supervisor is asked (pos.flows.gates.at_start)")
