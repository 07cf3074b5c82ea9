# Menu actions by name -> the flow that runs them. Flow modules are imported
# on first use, so a board only pays RAM for the flows it has run.
import sys

# name: (module, function, back_to_menu)
# back_to_menu: True returns to the menu after the flow (viewers, settings);
# False returns to the idle screen (transactions), as real terminals do.
ACTIONS = {
    "sign_in_auto": ("pos.flows.signin", "auto", False),
    "sign_in_manual": ("pos.flows.signin", "manual", False),
    "menu_update": ("pos.flows.menuupdate", "run", False),
    "purchase": ("pos.flows.purchase", "run", False),
    "void": ("pos.flows.void", "run", False),
    "refund": ("pos.flows.refund", "run", False),
    "balance": ("pos.flows.balance", "run", False),
    "preauth": ("pos.flows.preauth", "preauth", False),
    "preauth_void": ("pos.flows.preauth", "preauth_void", False),
    "preauth_complete": ("pos.flows.preauth", "completion", False),
    "complete_void": ("pos.flows.preauth", "completion_void", False),
    "settle": ("pos.flows.settle", "run", False),
    "sign_out": ("pos.flows.signout", "run", False),
    "reprint_any": ("pos.flows.reports", "reprint_any", True),
    "print_detail": ("pos.flows.reports", "print_detail", True),
    "print_totals": ("pos.flows.reports", "print_totals", True),
    "reprint_settlement": ("pos.flows.reports", "reprint_settlement", True),
    "totals": ("pos.flows.reports", "totals", True),
    "delete_reversal": ("pos.flows.reports", "delete_reversal", True),
    "reprint_last": ("pos.flows.printing", "reprint_last", True),
    "journal_query": ("pos.flows.query", "browse", True),
    "show_params": ("pos.flows.settings", "show_params", True),
    "operator_sign_in": ("pos.flows.cashiers", "sign_in", False),
    "op_add": ("pos.flows.cashiers", "add", True),
    "op_delete": ("pos.flows.cashiers", "delete", True),
    "op_password": ("pos.flows.cashiers", "change_password", True),
    "op_list": ("pos.flows.cashiers", "show_list", True),
    "supervisor_password": ("pos.flows.cashiers", "supervisor_password", True),
    "lock": ("pos.flows.lock", "lock", False),
    "set_merchant": ("pos.flows.setup", "merchant", True),
    "set_comms": ("pos.flows.setup", "comms", True),
    "set_trade": ("pos.flows.setup", "trade", True),
    "set_language": ("pos.flows.setup", "language", True),
    "set_tmk": ("pos.flows.setup", "tmk", True),
    "clear_journal": ("pos.flows.setup", "clear_journal", True),
    "admin_password": ("pos.flows.setup", "admin_password", True),
}


def flow(name):
    entry = ACTIONS.get(name)
    if entry is None:
        return None
    mod = entry[0]
    __import__(mod)
    return getattr(sys.modules[mod], entry[1])


def preload():
    # Import every flow now (CPython: the first key of each action then pays no import).
    # A board does not call this: it imports a flow when its action runs (pos.menu).
    for entry in ACTIONS.values():
        __import__(entry[0])


def run(t, name, *args):
    # Generator: run an action's flow as an overlay (pos.overlay: the modules it imports
    # are dropped when it ends, on a board). -> True to stay in the menu.
    entry = ACTIONS.get(name)
    if entry is None:
        from pos import ui

        yield from ui.notice(t, None, t.s("no_such_function"), timeout=5)
        return True
    from pos import overlay

    yield from overlay.run(entry[0], entry[1], t, *args)
    return entry[2]
