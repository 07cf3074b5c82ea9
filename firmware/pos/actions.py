# Menu actions by name -> the flow that runs them. Flow modules are imported when their
# action runs, as overlays (pos.overlay), so a board only holds the flow it is running.
# The table is one string (a dict of tuples costs a board ~4 KB more RAM, resident):
# a line per action: name, module under pos.flows, function, back_to_menu (1: return to
# the menu after the flow: viewers, settings; 0: to the idle screen: transactions, as
# real terminals do).
from pos import overlay  # resident (imported at boot): no import at each call
import sys

_TABLE = """
sign_in_auto signin auto 0
sign_in_manual signin manual 0
menu_update menuupdate run 0
ic_download icload menu 1
purchase purchase run 0
void void run 0
refund refund run 0
balance balance run 0
preauth preauth preauth 0
preauth_void preauth preauth_void 0
preauth_complete preauth completion 0
complete_void preauth completion_void 0
settle settle run 0
sign_out signout run 0
qr_sale qr sale 0
reprint_any reports reprint_any 1
print_detail reports print_detail 1
print_totals reports print_totals 1
reprint_settlement reports reprint_settlement 1
totals reports totals 1
delete_reversal reports delete_reversal 1
reprint_last printing reprint_last 1
journal_query query browse 1
show_params settings show_params 1
operator_sign_in cashiers sign_in 0
op_add cashiers add 1
op_delete cashiers delete 1
op_password cashiers change_password 1
op_list cashiers show_list 1
supervisor_password cashiers supervisor_password 1
lock lock lock 0
set_merchant setup merchant 1
set_comms setup comms 1
set_trade setup trade 1
set_language setup language 1
set_tmk setup tmk 1
clear_journal setup clear_journal 1
admin_password setup admin_password 1
set_status_upload setup status_upload 1
"""


def entry(name):
    # -> ("pos.flows.<module>", function, back_to_menu), or None for an unknown action. The
    # row is found with find() and startswith() at a position (no str made): on MicroPython
    # each str made ("\n" + name + " ", the row's slice, its split()'s pieces) is first
    # looked for among the interned names, ~6,500 instructions each on the unix port
    # (~0.2 ms on a Pico); only the two names are made
    t = _TABLE
    n = len(name)
    i = t.find(name) if n and " " not in name and "\n" not in name else -1
    while i > 0 and not (t.startswith("\n", i - 1) and t.startswith(" ", i + n)):
        i = t.find(name, i + 1)
    if i < 0:
        return None
    a = i + n + 1
    b = t.find(" ", a)
    c = t.find(" ", b + 1)
    return ("pos.flows." + t[a:b], t[b + 1 : c], t.startswith("1", c + 1))


def table():
    # {name: entry} for every action (desktop tools, menu validation)
    out = {}
    for line in _TABLE.split("\n"):
        if line:
            name = line.split()[0]
            out[name] = entry(name)
    return out


def flow(name):
    e = entry(name)
    if e is None:
        return None
    return getattr(_module(e[0]), e[1])


def _module(name):
    # the flow's module: the one loaded when it is (a board's overlay cache keeps it, and
    # __import__ interns its name's three levels and their full names again: ~40,000
    # instructions on the unix port), else imported now
    m = sys.modules.get(name)
    if m is None:
        __import__(name)
        m = sys.modules[name]
    return m


def preload():
    # Import every flow now (CPython: the first key of each action then pays no import).
    # A board does not call this: it imports a flow when its action runs.
    for e in table().values():
        __import__(e[0])


def run(t, name, *args):
    # Generator: run an action's flow as an overlay (pos.overlay: the modules it imports
    # are dropped when it ends, on a board). -> True to stay in the menu.
    e = entry(name)
    if e is None:
        from pos import ui

        yield from ui.notice(t, t.s("notice_title"), t.s("no_such_function"), timeout=5)
        return True
    sp = t.spares  # a board's display: its glyphs are not held through the flow's imports
    if sp is not None:
        sp.forget_glyphs()
    with overlay.scope():  # the flow's modules are dropped when it ends (on a board)
        gen = getattr(_module(e[0]), e[1])(t, *args)
        # (the flow's generator in a local, cleared after: MicroPython leaves a popped
        # value in its stack slot, where the collector still finds it; measured +2 KB
        # live at the idle screen after a purchase without this)
        try:
            job = yield from gen
        finally:
            gen = None
    if type(job) is tuple and job and job[0] == "chip":
        # a chip's read and transaction (pos.flows.txn.chip_job), with the flow's modules
        # dropped: the kernel's read and the exchange had the purchase flow, its gates, the
        # card prompt's helpers and txn in the heap with them (~9 KB x64)
        with overlay.scope():
            from pos.flows import chip

            job = yield from chip.run(t, job[1], job[2], job[3], job[4], job[5], True)
            del chip
    if type(job) is list and job and job[0] == "chip_online":
        # the chip's request sent with the chip flow's module and frames dropped, then the
        # card's end and the rest (pos.flows.chip.answered, which empties the list) with the
        # exchange's dropped
        with overlay.scope():
            from pos.flows import online

            rev = online.reversible(job[2])
            reply = yield from online.send(t, job[1], job[2], job[4], job[5])
            del online
        with overlay.scope():
            from pos.flows import chip

            job = yield from chip.answered(t, job, reply, rev)
            del chip
        reply = None
    if type(job) is tuple and job and job[0] == "chip_ok":
        # the chip flow's approval (the card's TC): journalled and printed with the chip
        # flow dropped, as a swipe's is with its flow dropped
        with overlay.scope():
            from pos.flows import chipok

            yield from chipok.approved(t, job[1], job[2], job[3], job[4], job[5])
            del chipok
        job = None
    if type(job) is tuple and job and job[0] == "online":
        # the flow handed back its request (pos.flows.txn.online_job): the exchange runs now
        # that the flow's modules (its prompts, the card's reading, the gates) are dropped,
        # and the slips once the exchange's are: a stage at a time in the heap
        title, rec = job[1], job[4]
        with overlay.scope():
            from pos.flows import online

            rec = yield from online.approve(t, title, job[2], job[3], rec, job[5])
            del online
        job = None
        if rec is not None:
            with overlay.scope():
                from pos.flows import txn

                yield from txn.approved(t, title, rec)
                del txn
    return e[2]
