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


def classify(mti, proc, f601, f22=""):
    """A request's type by its codes and entry mode, or None (the center answers 12)."""
    return _core.classify(mti, proc, f601, f22)


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

FAULT_KINDS = ("timeout", "respond", "badmac", "drop", "delay")
CARD_STATUSES = ("ok", "lost", "stolen")
