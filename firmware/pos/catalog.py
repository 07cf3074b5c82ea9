# The catalog of transaction types (reference §3.1, §12): one row per type, read by the
# requests (pos.request.financial), the flows (supervisor, journal, reversal, how the
# original is found), the receipts and the journal's viewers (name, amount sign), the
# totals and settlement (side), and the center (tools/posterm/host/catalog.py is derived
# from this table, not written again). Adding a transaction type is a row here, its
# strings (tx_<name> in menus/strings_*.json), its menu item (the action) and a flow only
# if it has prompts of its own; tests/test_catalog.py fails on a row missing any of them.
#
# One bytes constant, a line per type (a dict of tuples would cost a board RAM, resident),
# in the order the screens and slips list the types; bytes, not str: on MicroPython a str's
# find(), startswith() at a position and slices walk its UTF-8 from the start to turn an
# index into a place (~2,000 instructions a call in this table), bytes index in place.
# Columns:
#   name      the journal's "type" and the strings' tx_<name>
#   mti proc  the request's MTI and processing code (3)
#   cond      25, the point-of-service condition code
#   f601      60.1, the transaction type code
#   side      settlement side: D debit (money from the card), C credit (back to it),
#             - not settled (an inquiry, a pre-authorisation: money only held)
#   rev       1: reversible (an 0400 is armed as the request leaves), 0: not (an advice,
#             an inquiry)
#   sign      + or -: the amount's sign on slips, screens and reports
#   jrnl      1: journalled (counts in the batch, needs room in it), 0: not (an inquiry)
#   sup       1: the supervisor's password first
#   orig      how the original is found: - none; trace (this batch's journal, by trace);
#             rrn (reference number + date, may be of an earlier batch); auth (auth code
#             + date)
#   of        the types the original may be (comma list), - none
#   entry     entry modes allowed: s swipe, k keyed, c chip, t tap, q scanned code; the
#             card prompt asks for these only and refuses the others (pos.flows.present);
#             c and t only where the flow runs the chip kernel (pos.flows.chip: a purchase,
#             a pre-authorisation; a balance inquiry c only: at 9F02 = 0 a tap would be
#             under the 双免 limit, an inquiry without a PIN), the others take a chip
#             card's stripe
#   action    the pos.actions action (menu item) that starts it; - none (reason in a
#             comment line "# <name>: ..." of the table)
from pos.compat import const

_TABLE = b"""
balance 0200 310000 00 01 - 0 + 0 0 - - skc balance
purchase 0200 000000 00 22 D 1 + 1 0 - - skct purchase
void 0200 200000 00 23 C 1 - 1 1 trace purchase sk void
refund 0220 200000 00 25 C 0 - 1 1 rrn purchase,completion sk refund
preauth 0100 030000 06 10 - 1 + 1 0 - - skct preauth
preauth_void 0100 200000 06 11 - 1 - 1 1 auth preauth sk preauth_void
completion 0200 000000 06 20 D 1 + 1 0 auth preauth sk preauth_complete
completion_void 0200 200000 06 21 C 1 - 1 1 trace completion sk complete_void
qr_sale 0200 000000 00 22 D 1 + 1 0 - - q qr_sale
qr_void 0200 200000 00 23 C 1 - 1 1 trace qr_sale q -
# qr_void: the void's item, for a QR original
qr_refund 0220 200000 00 25 C 0 - 1 1 rrn qr_sale q -
# qr_refund: the refund's item, with a code scanned
qr_query 0200 330000 00 36 - 0 + 0 0 - - q -
# qr_query: sent by the QR sale while it waits
"""

# the columns (const: no names held in a board's RAM; the desktop tests index by them too)
_NAME = const(0)
_MTI = const(1)
_PROC = const(2)
_COND = const(3)
_F601 = const(4)
_SIDE = const(5)
_REV = const(6)
_SIGN = const(7)
_JRNL = const(8)
_SUP = const(9)
_ORIG = const(10)
_OF = const(11)
_ENTRY = const(12)
COLUMNS = "name mti proc cond f601 side rev sign jrnl sup orig of entry action"


def _start(name):
    # -> where the type's row starts in the table, or -1. Found with find() and startswith()
    # at a position (ints and bools, on bytes): on MicroPython each str made ("\n" + name +
    # " ", a slice, a split()'s pieces) is first looked for among the interned names, ~1.5
    # us each on the unix port (~0.3 ms on a Pico); a row split made 14 of them
    if not name or " " in name:
        return -1
    t = _TABLE
    b = name.encode()
    n = len(b)
    i = t.find(b)
    while i > 0:
        if t.startswith(b"\n", i - 1) and t.startswith(b" ", i + n):
            return i
        i = t.find(b, i + 1)
    return -1


def _at(i, col):
    # -> (start, end) of column col of the row starting at i (a while, not a for over a
    # range: the range's iterator took the frame over MicroPython's 11 words on the C stack,
    # and a frame over them is taken from the heap at each call, a few calls a key)
    t = _TABLE
    while col:
        i = t.find(b" ", i) + 1
        col -= 1
    e = t.find(b" ", i)
    nl = t.find(b"\n", i)
    if e < 0 or nl < e:
        e = nl
    return i, e


def _is(name, col, value):
    # the type's column col is value (bytes; nothing made); False for a type not in the
    # catalog
    i = _start(name)
    if i < 0:
        return False
    a, e = _at(i, col)
    return e - a == len(value) and _TABLE.startswith(value, a)


def row(name):
    # -> the row's columns (list of str), or None for a type not in the catalog
    i = _start(name)
    if i < 0:
        return None
    return _TABLE[i : _TABLE.find(b"\n", i)].decode().split()


def names():
    # every type, in the table's order
    out = []
    for line in _TABLE.decode().split("\n"):
        if line and line[0] != "#":
            out.append(line.split(" ", 1)[0])
    return out


def _col(name, col):
    # the type's column col (one str made), "" for a type not in the catalog
    i = _start(name)
    if i < 0:
        return ""
    a, e = _at(i, col)
    return _TABLE[a:e].decode()


def side(name):
    # "debit" | "credit" | None (not settled)
    if _is(name, _SIDE, b"D"):
        return "debit"
    return "credit" if _is(name, _SIDE, b"C") else None


def reversible(name):
    return _is(name, _REV, b"1")


def negative(name):
    return _is(name, _SIGN, b"-")


def journalled(name):
    return _is(name, _JRNL, b"1")


def supervisor(name):
    return _is(name, _SUP, b"1")


def original(name):
    # -> (how: "trace" | "rrn" | "auth", (types ...)) or None when it has no original; a
    # type whose original is found by trace is a void (消费撤销, 完成撤销)
    i = _start(name)
    if i < 0:
        return None
    a, e = _at(i, _ORIG)
    if e - a == 1 and _TABLE.startswith(b"-", a):
        return None
    b, f = _at(i, _OF)
    return (_how(a, e), _kinds(b, f))


# (original()'s parts: no str made from the table, each being first looked for among the
# interned names on MicroPython, ~7,000 instructions of the unix port: a void's first key
# made five; small functions: a frame over 11 words is taken from the heap at each call)
def _how(a, e):
    # the orig column's word at a:e
    n = e - a
    if n == 5 and _TABLE.startswith(b"trace", a):
        return "trace"
    if n == 3 and _TABLE.startswith(b"rrn", a):
        return "rrn"
    return "auth" if n == 4 and _TABLE.startswith(b"auth", a) else _TABLE[a:e].decode()


def _kinds(b, f):
    # the types of the comma list at b:f
    out = []
    while b < f:
        c = _TABLE.find(b",", b, f)
        c = f if c < 0 else c
        out.append(_kind(b, c))
        b = c + 1
    return tuple(out)


def _kind(b, c):
    # the journal's type that the table's bytes b:c spell (an original is journalled: the
    # str is there already), else them decoded
    for k in _JOURNAL_KINDS:
        if len(k) == c - b and _TABLE.startswith(k.encode(), b):
            return k
    return _TABLE[b:c].decode()


# the types that a batch's journal holds (the rows whose jrnl is 1), in the table's order: the
# order screens and slips list them. Written out, not derived from the table at run time: a
# walk of the table made each row's name a str (~0.5M instructions on the unix port, the
# first reprint of the day; each time on a board that drops this module after its use);
# tests/core/test_catalog_core.py checks it against the table.
_JOURNAL_KINDS = (
    "purchase",
    "void",
    "refund",
    "preauth",
    "preauth_void",
    "completion",
    "completion_void",
    "qr_sale",
    "qr_void",
    "qr_refund",
)


def journal_kinds(orig=None):
    # orig "trace": the ones whose original is found by trace (the voids: their records name
    # it in orig_trace, the only ones the journal look-up reads it from)
    if orig == "trace":
        return ("void", "completion_void", "qr_void")
    return _JOURNAL_KINDS


def title_key(name):
    # the strings key of the type's name (screens, slips, reports)
    return "tx_" + name


def request_codes(name):
    # -> (mti, 3, 25, 60.1)
    r = row(name)
    return (r[_MTI], r[_PROC], r[_COND], r[_F601])


def emv_type(name):
    # 9C, the EMV transaction type a chip read of the type gives its card: the processing
    # code's first two digits (00 a purchase, 03 a pre-authorisation, 31 a balance inquiry)
    return _col(name, _PROC)[:2]


def entry_modes(name):
    # the entry modes the type allows (letters of "skctq"; "" for a type not in the catalog)
    return _col(name, _ENTRY)
