# The kinds of journalled transactions: the string key of each one's name (screens,
# slips, reports) and the kinds whose amount counts negative (money going back to the
# card). Here, not in pos.receipt, so that the journal's viewers need no receipt code.
TYPE_KEYS = {
    "purchase": "tx_purchase",
    "void": "tx_void",
    "refund": "tx_refund",
    "preauth": "tx_preauth",
    "preauth_void": "tx_preauth_void",
    "completion": "tx_completion",
    "completion_void": "tx_completion_void",
}
NEGATIVE = ("void", "refund", "preauth_void", "completion_void")
