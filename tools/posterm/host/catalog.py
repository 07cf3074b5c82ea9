"""The host's transaction matrix (reference cup8583.md §3.1, §3.2), derived from the terminal's
catalog of transaction types (firmware/pos/catalog.py), never written again here.

A financial request is classified by (MTI, processing code F3, 60.1 transaction type code) and,
for types that share those (a card purchase and a QR sale), by the entry mode of field 22.
Each kind lists how it moves money: 'debit' takes from the card, 'credit' gives back, None only
looks or holds.  Settlement counts the 'debit' and 'credit' kinds (§3.4).
"""

from pos import catalog as _core

# (mti, f3, 60.1) -> transaction type name (the first type of the catalog with those codes;
# classify() also looks at field 22)
FINANCIAL = {}
for _name in _core.names():
    _mti, _proc, _cond, _f601 = _core.request_codes(_name)
    FINANCIAL.setdefault((_mti, _proc, _f601), _name)

# type -> (settlement side: "debit" | "credit" | None, reversible by an 0400)
KINDS = {n: (_core.side(n), _core.reversible(n)) for n in _core.names()}

TX_TYPES = tuple(sorted(KINDS))

DEBIT_TYPES = tuple(t for t in TX_TYPES if KINDS[t][0] == "debit")
CREDIT_TYPES = tuple(t for t in TX_TYPES if KINDS[t][0] == "credit")


# field 22's first two digits -> the entry mode letter of the catalog's entry column
# (reference §2, §11, §12: 01 keyed, 02 swiped (80/90 fallback), 05 chip, 07 tap, 03 scanned)
ENTRY_OF_22 = {"01": "k", "02": "s", "80": "s", "90": "s", "05": "c", "95": "c", "07": "t",
               "91": "t", "03": "q"}  # fmt: skip

_ROWS = [_core.row(n) for n in _core.names()]
_ENTRY = _core.COLUMNS.split().index("entry")


def entry_mode(f22):
    """Field 22 -> the entry mode letter ("" when unknown)."""
    return ENTRY_OF_22.get((f22 or "")[:2], "")


def classify(mti, proc, f601, f22=""):
    """A request's type by its codes (MTI, 3, 60.1) and, for types that share them (a card
    purchase and a QR sale), the entry mode of 22; None when no type has the codes (the
    center answers 12)."""
    mode = entry_mode(f22)
    found = None
    for r in _ROWS:
        if (r[1], r[2], r[4]) == (mti, proc, f601):
            if mode and mode in r[_ENTRY]:
                return r[0]
            if found is None:
                found = r[0]
    return found


# 60.3 network management codes the host answers (MTI, 60.3) -> name
MANAGEMENT = {
    ("0800", "001"): "sign_in",  # single-length keys (62 = 24 bytes)
    ("0800", "003"): "sign_in",  # double-length PIK (62 = 40)
    ("0800", "004"): "sign_in",  # double-length keys + track key TDK (62 = 60)
    ("0800", "005"): "sign_in",  # SM (国密) keys, SM4 (62 = 40)
    ("0800", "006"): "sign_in",  # SM keys + an SM4 track key (62 = 60)
    ("0800", "930"): "menu_download",
    ("0820", "002"): "sign_out",
    ("0820", "301"): "echo_test",
    ("0820", "362"): "status_upload",  # the terminal reports in (posterm.center.hook records it)
    ("0500", "201"): "settlement",
    ("0320", "201"): "batch_upload",
    ("0320", "202"): "batch_end",
    ("0320", "207"): "batch_end",
    ("0320", "203"): "batch_upload_ic",
    ("0320", "204"): "batch_upload_ic",
    ("0320", "205"): "batch_upload_ic",
    ("0320", "206"): "batch_upload_ic",
}

FAULT_KINDS = ("timeout", "respond", "badmac", "drop", "delay", "need")
CARD_STATUSES = ("ok", "lost", "stolen")
