"""The host's transaction matrix as data (reference cup8583.md §3.1, §3.2).

A financial request is classified by (MTI, processing code F3, 60.1 transaction type code).
Each kind lists how it moves money: 'debit' takes from the card, 'credit' gives back,
'none' only looks.  Settlement counts 'settle' = 'debit' | 'credit' kinds (§3.4).
"""

# (mti, f3, 60.1) -> transaction type name
FINANCIAL = {
    ("0200", "310000", "01"): "balance",
    ("0200", "000000", "22"): "purchase",
    ("0200", "200000", "23"): "void",
    ("0220", "200000", "25"): "refund",
    ("0100", "030000", "10"): "preauth",
    ("0100", "200000", "11"): "preauth_void",
    ("0200", "000000", "20"): "completion",
    ("0200", "200000", "21"): "completion_void",
}

# type -> (settlement side: "debit" | "credit" | None, reversible by an 0400)
KINDS = {
    "balance": (None, False),
    "purchase": ("debit", True),
    "void": ("credit", True),
    "refund": ("credit", False),
    "preauth": (None, True),
    "preauth_void": (None, True),
    "completion": ("debit", True),
    "completion_void": ("credit", True),
}

TX_TYPES = tuple(sorted(KINDS))

DEBIT_TYPES = tuple(t for t in TX_TYPES if KINDS[t][0] == "debit")
CREDIT_TYPES = tuple(t for t in TX_TYPES if KINDS[t][0] == "credit")

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
