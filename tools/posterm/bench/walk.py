# The bench's recorded walkthrough: the key script of a cashier's day (sign-in, ten
# purchases, a void, a refund, a balance inquiry, a reprint, a journal look-up, settlement),
# driven one event at a time and answered by the scripted center (scriptcenter.DayCenter:
# the core tests' center, set up for the day).
# Runs unchanged on CPython and MicroPython (tools/posterm/bench/mp.mjs copies it
# into the wasm VM), so it follows the firmware's rules: no typing, no f-string
# tricks, and it imports pos.* lazily so that the MicroPython figures can take
# their baseline before any firmware module is loaded.

try:
    from posterm.bench.scriptcenter import DayCenter
except ImportError:  # in a MicroPython VM: the bench copies scriptcenter.py next to this file
    from scriptcenter import DayCenter

PAN = "6212142000000000012"
NOW = (2026, 11, 23, 9, 0, 0)

C = "CARD=" + PAN
PIN = "123456"
SUPERVISOR = "123456"  # factory supervisor (00) password
# A cashier's day, the recorded walkthrough of every walk figure (key latency on CPython
# and MicroPython, live heap, display bytes): (what, tokens). Mostly purchases, as a real
# day: the card swiped at the idle screen (the usual way) or 菜单 1 2 first, an amount
# typed (one corrected with CLEAR), the PIN (one card without), both slips; then the
# back-office work of the day. Keys: see COMPOSITION / composition().
SIGN_IN = ("sign-in", ("MENU", "1", "1", "ENTER", "ENTER"))
PURCHASES = (
    ("purchase, swiped at idle", (C, "12800", "ENTER", PIN, "ENTER", "ENTER")),
    ("purchase, swiped at idle", (C, "3550", "ENTER", PIN, "ENTER", "ENTER")),
    ("purchase via menu", ("MENU", "1", "2", "8800", "ENTER", C, PIN, "ENTER", "ENTER")),
    (
        "purchase, swiped at idle, amount corrected",
        (C, "2590", "CLEAR", "CLEAR", "00", "ENTER", PIN, "ENTER", "ENTER"),
    ),
    ("purchase, swiped at idle", (C, "45600", "ENTER", PIN, "ENTER", "ENTER")),
    (
        "purchase via menu, card number keyed",
        ("MENU", "1", "2", "6600", "ENTER", PAN, "ENTER", "2912", "ENTER", PIN, "ENTER", "ENTER"),
    ),
    ("purchase, swiped at idle, no PIN", (C, "990", "ENTER", "ENTER", "ENTER")),
    ("purchase, swiped at idle", (C, "15800", "ENTER", PIN, "ENTER", "ENTER")),
    ("purchase via menu", ("MENU", "1", "2", "29900", "ENTER", C, PIN, "ENTER", "ENTER")),
    ("purchase, swiped at idle", (C, "7200", "ENTER", PIN, "ENTER", "ENTER")),
)
BACK_OFFICE = (
    (
        "void of the 2nd purchase (trace 4)",
        ("MENU", "1", "3", SUPERVISOR, "ENTER", "4", "ENTER", "ENTER", C, "ENTER", "ENTER"),
    ),
    (
        "refund of the 1st purchase",
        ("MENU", "1", "4", SUPERVISOR, "ENTER", C, "112300000001", "ENTER", "1123", "ENTER")
        + ("5000", "ENTER", PIN, "ENTER", "ENTER"),
    ),
    ("balance inquiry", ("MENU", "1", "5", C, PIN, "ENTER", "ENTER")),
    ("reprint of the last slip", ("MENU", "2", "1", "ENTER", "CANCEL", "CANCEL")),
    (
        "journal look-up",
        ("MENU", "3", "1", "DOWN", "DOWN", "UP", "CANCEL", "CANCEL", "CANCEL"),
    ),
)
SETTLE = ("settlement", ("MENU", "1", "7", "ENTER", "ENTER"))


def parts(settle=True):
    # The day as (what, tokens), in order.
    out = [SIGN_IN]
    out.extend(PURCHASES)
    out.extend(BACK_OFFICE)
    if settle:
        out.append(SETTLE)
    return out


def has_action(name):
    # Is the action in the shipped menu tree? (settlement is being written as "settle")
    import pos.actions as actions

    return actions.entry(name) is not None


_NAMED = ("MENU", "ENTER", "CANCEL", "CLEAR", "UP", "DOWN", "F1", "F2", "F3", "F4")


def events(tokens):
    # Script tokens -> events, as pos.keys.parse_token does for these tokens (kept here so
    # that building the script loads no firmware module before the heap baseline).
    out = []
    for tok in tokens:
        if tok.startswith("CARD="):
            out.append(("card", tok[5:], ""))
        elif tok in _NAMED:
            out.append(("key", tok))
        else:
            for ch in tok:
                out.append(("key", ch))
    return out


def day_events(settle=True):
    # The whole day as events (key and card events, in order).
    toks = []
    for _what, part in parts(settle):
        toks.extend(part)
    return events(toks)


def composition(settle=True):
    # -> {"keys": n, "cards": n, "parts": [[what, keys], ...]} for the JSON and README
    rows = []
    cards = 0
    for what, part in parts(settle):
        evs = events(part)
        cards += len(evs) - _keys(evs)
        rows.append([what, _keys(evs)])
    return {"keys": _keys(day_events(settle)), "cards": cards, "parts": rows}


def summary(settle=True):
    # One line: "sign-in, 10 purchases (6 swiped at idle, 4 via the menu), ..."
    c = composition(settle)
    idle = 0
    menu = 0
    for what, _n in c["parts"]:
        if what.startswith("purchase"):
            if "idle" in what:
                idle += 1
            else:
                menu += 1
    rest = [w for w, _n in c["parts"] if not w.startswith("purchase") and w != "sign-in"]
    return (
        "sign-in, %d purchases (%d swiped at idle, %d via the menu), %s: %d keys, %d card swipes"
        % (idle + menu, idle, menu, ", ".join(rest), c["keys"], c["cards"])
    )


def _keys(evs):
    n = 0
    for e in evs:
        if e[0] == "key":
            n += 1
    return n


class Walk:
    # A terminal on `storage` with the shipped menus, stepped one event at a time.
    # step(ev) -> (effects, shows): the effects of the event itself (its latency is what
    # the caller times) and every frame shown until the terminal waits for input again
    # (the center's answers to sends are fed back inside step, outside the timed part).
    def __init__(self, storage, resources, profile="lcd128x64"):
        from pos.terminal import Terminal

        self.center = DayCenter()
        self.t = Terminal(storage, resources, profile, NOW)
        self.sends = 0

    def start(self):
        return self._settle(self.t.start())

    def handle(self, ev):
        return self.t.handle(ev)

    def _settle(self, effects):
        shows = []
        q = list(effects)
        while q:
            e = q.pop(0)
            if e[0] == "show":
                shows.append(e[1])
            elif e[0] == "send":
                self.sends += 1
                q.extend(self.t.handle(self.center.answer(e[1])))
        return shows

    def after(self, effects):
        return self._settle(effects)

    # Step by step, for the heap while the terminal waits for the center: begin(effects)
    # queues an event's effects; pump() works through them up to the next send and
    # returns True while a send waits for its answer (the next pump() answers it first),
    # False when the terminal waits for input again.
    def begin(self, effects):
        self._q = list(effects)
        self._pending = None

    def pump(self):
        if self._pending is not None:
            frame = self._pending
            self._pending = None
            self.sends += 1
            self._q.extend(self.t.handle(self.center.answer(frame)))
        while self._q:
            e = self._q.pop(0)
            if e[0] == "send":
                self._pending = e[1]
                return True
        return False
