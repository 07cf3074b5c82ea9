# The catalog of transaction types (reference §3.1, §12): one row per type, read by the
# requests (pos.request.financial), the flows (supervisor, journal, reversal, how the
# original is found), the receipts and the journal's viewers (name, amount sign), the
# totals and settlement (side), and the center (tools/posterm/host/catalog.py is derived
# from this table, not written again). Adding a transaction type is a row here, its
# strings (tx_<name> in menus/strings_*.json), its menu item (the action) and a flow only
# if it has prompts of its own; tests/test_catalog.py fails on a row missing any of them.
#
# One string, a line per type (a dict of tuples would cost a board RAM, resident), in the
# order the screens and slips list the types. Columns:
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
#   entry     entry modes allowed: s swipe, k keyed, c chip, t tap, q scanned code
#   action    the pos.actions action (menu item) that starts it; - none (reason in a
#             comment line "# <name>: ..." of the table)
_TABLE = """
balance 0200 310000 00 01 - 0 + 0 0 - - skct balance
purchase 0200 000000 00 22 D 1 + 1 0 - - skct purchase
void 0200 200000 00 23 C 1 - 1 1 trace purchase skct void
refund 0220 200000 00 25 C 0 - 1 1 rrn purchase,completion skct refund
preauth 0100 030000 06 10 - 1 + 1 0 - - skct preauth
preauth_void 0100 200000 06 11 - 1 - 1 1 auth preauth skct preauth_void
completion 0200 000000 06 20 D 1 + 1 0 auth preauth skct preauth_complete
completion_void 0200 200000 06 21 C 1 - 1 1 trace completion skct complete_void
"""

NAME = 0
MTI = 1
PROC = 2
COND = 3
F601 = 4
SIDE = 5
REV = 6
SIGN = 7
JRNL = 8
SUP = 9
ORIG = 10
OF = 11
ENTRY = 12
ACTION = 13

# field 22's first two digits -> the entry mode letter (reference §2, §11, §12)
_ENTRY_OF_22 = {"01": "k", "02": "s", "80": "s", "90": "s", "05": "c", "95": "c", "07": "t",
                "91": "t", "03": "q"}  # fmt: skip


def row(name):
    # -> the row's columns (list of str), or None for a type not in the catalog
    if not name or " " in name:
        return None
    i = _TABLE.find("\n" + name + " ")
    if i < 0:
        return None
    return _TABLE[i + 1 : _TABLE.find("\n", i + 1)].split()


def names():
    # every type, in the table's order
    out = []
    for line in _TABLE.split("\n"):
        if line and line[0] != "#":
            out.append(line.split(" ", 1)[0])
    return out


def _col(name, col, default=""):
    r = row(name)
    return r[col] if r is not None else default


def side(name):
    # "debit" | "credit" | None
    s = _col(name, SIDE, "-")
    return "debit" if s == "D" else ("credit" if s == "C" else None)


def reversible(name):
    return _col(name, REV) == "1"


def negative(name):
    return _col(name, SIGN) == "-"


def journalled(name):
    return _col(name, JRNL) == "1"


def supervisor(name):
    return _col(name, SUP) == "1"


def original(name):
    # -> (how: "trace" | "rrn" | "auth", (types ...)) or None when it has no original
    r = row(name)
    if r is None or r[ORIG] == "-":
        return None
    return (r[ORIG], tuple(r[OF].split(",")))


def is_void(name):
    # a void undoes an original of this batch found by its trace (消费撤销, 完成撤销)
    return _col(name, ORIG) == "trace"


def entry_modes(name):
    return _col(name, ENTRY)


def entry_mode(f22):
    # field 22 -> the entry mode letter, "" when unknown
    return _ENTRY_OF_22.get((f22 or "")[:2], "")


def allows(name, f22):
    m = entry_mode(f22)
    return bool(m) and m in entry_modes(name)


def journal_kinds():
    # the types that a batch's journal holds, in the order screens and slips list them
    return tuple(n for n in names() if journalled(n))


def settled(name):
    return side(name) is not None


def title_key(name):
    # the strings key of the type's name (screens, slips, reports)
    return "tx_" + name


def request_codes(name):
    # -> (mti, 3, 25, 60.1)
    r = row(name)
    return (r[MTI], r[PROC], r[COND], r[F601])


def classify(mti, proc, f601, f22=""):
    # the center's side: a request's (MTI, 3, 60.1) and 22 -> the type, or None. Types
    # that share their codes (a card purchase and a QR sale) differ by the entry mode.
    mode = entry_mode(f22)
    found = None
    for line in _TABLE.split("\n"):
        if not line or line[0] == "#":
            continue
        r = line.split()
        if r[MTI] == mti and r[PROC] == proc and r[F601] == f601:
            if not mode or mode in r[ENTRY]:
                return r[NAME]
            if found is None:
                found = r[NAME]
    return found
