# The day's flows, in the order a cashier's day needs them most, for a board whose memory
# policy loads them at boot (boards/profiles.py "memory", pos.overlaycache.configure): each is
# imported while the heap has room, so that no key of the day waits for its code (the
# modules they import come with them). Full names, written out (never built), so that
# build-time tools can follow them (tests/test_overlay_cache.py: each one exists).
ORDER = (
    # the menu: the day's first key and every sale from it (pos.flows.menuupdate imported it
    # at its top, so it came with the sign-in's flows, until 2a8dae7: then the first MENU
    # loaded it, ~0.95M instructions, and its scope's end looked at the heap)
    "pos.menu",
    # a purchase: the card at idle, the amount, the PIN, the exchange, the slips
    "pos.flows.purchase",
    "pos.flows.txn",
    "pos.flows.gates",
    "pos.flows.auth",
    "pos.flows.present",
    "pos.operators",
    "pos.catalog",
    "pos.flows.online",
    "pos.flows.reversal",
    "pos.center",
    "pos.commcheck",  # the answer's checks (pos.center imports it where it checks one)
    "pos.request",
    "pos.iso8583",
    "pos.iso8583_mp",  # its MicroPython halves: loaded by the first encode and decode
    "pos.iso8583_mpd",
    "pos.mac",
    "pos.pinblock",
    "pos.panseal",
    "pos.vault",  # the reversal's PAN sealed as the request leaves
    "pos.comm",
    "pos.flows.printing",
    "pos.receipt",
    "pos.gbk",
    # the back office of the day
    "pos.flows.void",
    "pos.flows.refund",
    "pos.flows.balance",
    "pos.flows.query",
    "pos.flows.reports",
    "pos.flows.settle",
    "pos.flows.closebatch",
    "pos.settlement",
    "pos.field48",
    # the sign-in (once a day: last)
    "pos.flows.signin",
    "pos.flows.keydownload",
    "pos.keyload",
    "pos.flows.paramload",
    "pos.flows.menuupdate",
    "pos.flows.signout",
)
