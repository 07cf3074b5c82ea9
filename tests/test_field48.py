"""pos.field48 fed random, truncated and oversized text (hypothesis): it returns or raises its
own Field48Error, never anything else; what it builds it reads back."""

from hypothesis import given
from hypothesis import strategies as st

from pos import field48

DIGITS = st.text(alphabet="0123456789", max_size=400)
ANY = st.text(max_size=400)
SIDE = st.tuples(st.integers(0, 999), st.integers(0, 10**12 - 1),
                 st.integers(0, 999), st.integers(0, 10**12 - 1))  # fmt: skip


def _parses_or_refuses(fn, text):
    try:
        fn(text)
    except field48.Field48Error:
        pass


@given(st.one_of(DIGITS, ANY))
def test_every_parser_returns_or_raises_its_own_error(text):
    for fn in (field48.parse_totals, field48.parse_records, field48.parse_end, field48.flags):
        _parses_or_refuses(fn, text)


@given(SIDE, SIDE, st.booleans(), st.booleans())
def test_totals_round_trip_and_the_answer_keeps_them(domestic, foreign, d_ok, f_ok):
    f = field48.totals(domestic, foreign)
    assert field48.parse_totals(f) == (domestic, foreign, "00")
    a = field48.answer(f, d_ok, f_ok)
    assert field48.flags(a) == ("1" if d_ok else "2", "1" if f_ok else "2")
    assert field48.parse_totals(a)[:2] == (domestic, foreign)


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 999999),
                          st.from_regex(r"[1-9][0-9]{11,18}", fullmatch=True),
                          st.integers(0, 10**12 - 1)), min_size=1, max_size=8))  # fmt: skip
def test_upload_records_round_trip(recs):
    f = field48.records([field48.record(fo, tr, pan, fen) for fo, tr, pan, fen in recs])
    got = field48.parse_records(f)
    assert got == [(fo, "%06d" % tr, pan, fen) for fo, tr, pan, fen in recs]
    for cut in (1, 2, 39, len(f) - 1):
        try:
            field48.parse_records(f[:cut])
        except field48.Field48Error:
            continue
        raise AssertionError(f"a cut at {cut} was read")


def test_the_center_and_the_terminal_read_and_build_field_48_with_this_module_only():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    for rel in ("tools/posterm/host/processor.py", "firmware/pos/settlement.py",
                "firmware/pos/flows/closebatch.py"):  # fmt: skip
        src = (root / rel).read_text()
        assert "field48" in src, rel
        for hand in ("f48[0:30]", "f48[31:61]", "2 + 40 *", "[28:40]", '("0000" + str('):
            assert hand not in src, f"{rel} slices field 48 by hand: {hand}"
