# The MicroPython codec half packs pos.cupspec.FIELDS into a bytes table (a board does not
# load the names); the two must describe the same dialect.
from mptest import eq
from pos import iso8583_mp
from pos.cupspec import FIELDS


def test_the_micropython_codec_table_matches_cupspec_field_by_field():
    t = iso8583_mp._SPEC
    eq(len(t), 5 * 65)
    for f in range(2, 65):
        _name, kind, lentype, maxlen, align = FIELDS[f]
        s = 5 * f
        eq(iso8583_mp._KINDS[t[s]], kind, f)
        eq(t[s + 1], lentype, f)
        eq((t[s + 2] << 8) | t[s + 3], maxlen, f)
        eq(t[s + 4], 1 if align == "r" else 0, f)
