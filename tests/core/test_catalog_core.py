# The catalog of transaction types (pos.catalog) as the core reads it, on CPython and
# MicroPython: its rows, the request codes the flows send, the sides settlement counts; and
# the requests a day sends follow it.
from mptest import eq, true
from pos import catalog
import fakecenter
from txhelp import rig, buy, void, last_of


def test_the_catalog_rows_give_the_codes_and_the_rules_of_each_type():
    eq(catalog.request_codes("purchase"), ("0200", "000000", "00", "22"))
    eq(catalog.request_codes("refund"), ("0220", "200000", "00", "25"))
    eq(catalog.request_codes("preauth"), ("0100", "030000", "06", "10"))
    eq(catalog.side("purchase"), "debit")
    eq(catalog.side("refund"), "credit")
    eq(catalog.side("preauth"), None)
    true(catalog.reversible("void") and not catalog.reversible("refund"))
    true(catalog.negative("completion_void") and not catalog.negative("completion"))
    true(catalog.supervisor("void") and not catalog.supervisor("purchase"))
    true(not catalog.journalled("balance"))
    eq(catalog.original("void"), ("trace", ("purchase",)))
    eq(catalog.original("refund"), ("rrn", ("purchase", "completion")))
    eq(catalog.original("purchase"), None)
    eq(catalog.original("completion_void"), ("trace", ("completion",)))


def test_an_original_s_words_are_the_journal_s_own_strs_not_made_from_the_table():
    # (on MicroPython each str made is first looked for among the interned names: original()
    # gives the strs the catalog holds already, the same objects, and the row's words as they are)
    kinds = catalog.journal_kinds()
    for name in catalog.names():
        how = catalog.original(name)
        if how is None:
            continue
        row = catalog.row(name)
        eq(how, (row[10], tuple(row[11].split(","))), name)
        true(how[0] in ("trace", "rrn", "auth"), name)
        for k in how[1]:
            true(any(k is j for j in kinds), "%s: %s is the journal's type" % (name, k))
    true(catalog.original("refund")[0] is catalog.original("qr_refund")[0])


def test_an_unknown_type_is_none_of_anything_and_never_raises():
    for name in ("", "nope", "reversal_failed", None, "purchase x"):
        eq(catalog.row(name), None, repr(name))
        eq(catalog.side(name), None)
        true(not catalog.reversible(name) and not catalog.journalled(name))
        true(not catalog.negative(name) and not catalog.supervisor(name))
        eq(catalog.original(name), None)


def test_the_journal_kinds_are_the_journalled_rows_in_table_order():
    kinds = catalog.journal_kinds()
    eq(kinds[0], "purchase")
    true("balance" not in kinds)
    for name in catalog.names():
        eq(name in kinds, catalog.journalled(name), name)
    # written out in pos.catalog: the journalled rows, in the table's order
    eq(list(kinds), [n for n in catalog.names() if catalog.journalled(n)])
    # and the ones whose original is found by trace (the voids), written out too
    by_trace = [n for n in kinds if (catalog.original(n) or ("",))[0] == "trace"]
    eq(list(catalog.journal_kinds("trace")), by_trace)
    true(len(by_trace) > 0)


def test_the_requests_of_a_day_carry_the_catalog_codes():
    c = fakecenter.Center()
    r = rig(c)
    buy(r, "10000")
    void(r, last_of(r, "purchase")["trace"])
    sent = [q for q in c.requests if q["mti"] in ("0200", "0220", "0100")]
    eq(len(sent), 2)
    for q, kind in ((sent[0], "purchase"), (sent[1], "void")):
        mti, proc, cond, f601 = catalog.request_codes(kind)
        eq((q["mti"], q[3], q[25], q[60][:2]), (mti, proc, cond, f601), kind)
