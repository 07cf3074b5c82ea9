# Field 48 of settlement and batch upload (pos.field48), the one module both the terminal
# and the center build and read it with: the 62-digit totals with the domestic/foreign
# split and the balance flags, the 40-digit upload records, the end of the upload; a
# malformed field raises Field48Error naming the offset.
from mptest import eq, true, raises
from pos import field48


def test_the_totals_are_the_domestic_then_the_foreign_half_with_their_flags():
    f = field48.totals((2, 12000, 1, 2000), (1, 50000, 0, 0))
    eq(len(f), 62)
    eq(f[:31], "000000012000002000000002000001" + "0", "debit 120.00 x2, credit 20.00 x1")
    eq(f[31:], "000000050000001000000000000000" + "0")
    eq(field48.parse_totals(f), ((2, 12000, 1, 2000), (1, 50000, 0, 0), "00"))
    eq(field48.half(1234, 5, 1000, 7)[12:15], "234", "counts are sent modulo 1000")


def test_the_answer_sets_each_half_flag_and_the_terminal_reads_them():
    f = field48.totals((1, 100, 0, 0), (0, 0, 0, 0))
    a = field48.answer(f, True, False)
    eq(field48.flags(a), ("1", "2"))
    eq(a[:30] + a[31:61], f[:30] + f[31:61], "the totals come back as sent")
    true(field48.same_half(f, 0, (1, 100, 0, 0)))
    true(not field48.same_half(f, 0, (1, 101, 0, 0)))
    true(field48.same_half(f, 1, (0, 0, 0, 0)))
    eq(field48.flags("0001"), ("3", "3"), "an unreadable answer is an error, not balanced")


def test_upload_records_round_trip_and_flag_foreign_cards():
    recs = [field48.record(False, "000012", "6212142000000000012", 12800),
            field48.record(True, "13", "4761739001010119", 5)]  # fmt: skip
    eq(len(recs[0]), 40)
    eq(recs[1][:8], "01000013")
    f = field48.records(recs)
    eq(f[:2], "02")
    eq(field48.parse_records(f), [(False, "000012", "6212142000000000012", 12800),
                                  (True, "000013", "4761739001010119", 5)])  # fmt: skip
    eq(field48.end(17), "0017")
    eq(field48.parse_end("0017"), 17)
    eq(field48.upload_kind("201"), "stripe")
    eq(field48.upload_kind("203"), "ic_tc")
    eq(field48.upload_kind("207"), "end")
    eq(field48.upload_kind("930"), None)


def test_a_malformed_field_48_raises_its_own_error_with_the_offset():
    good = field48.totals((1, 100, 0, 0), (0, 0, 0, 0))
    for bad, at in ((good[:61], 61), (good[:12] + "x" + good[13:], 12), ("", 0)):
        with raises(field48.Field48Error) as caught:
            field48.parse_totals(bad)
        eq(caught.value.offset, at, repr(bad))
    rec = field48.record(False, "1", "6212142000000000012", 1)
    for bad in ("", "0", "01" + rec[:39], "09" + rec, "01" + "02" + rec[2:], "00", "x1" + rec):
        with raises(field48.Field48Error):
            field48.parse_records(bad)
    with raises(field48.Field48Error):
        field48.records([])
    with raises(field48.Field48Error):
        field48.records([rec] * 9)
    with raises(field48.Field48Error):
        field48.parse_end("12a4")
    true(isinstance(field48.Field48Error("x", 0, "y", "z"), ValueError))
