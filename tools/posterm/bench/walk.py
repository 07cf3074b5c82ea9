# The bench's recorded walkthrough: a scripted center and the key script of a
# working day (sign-in, purchases, menus, settlement), driven one event at a time.
# Runs unchanged on CPython and MicroPython (tools/posterm/bench/mp.mjs copies it
# into the wasm VM), so it follows the firmware's rules: no typing, no f-string
# tricks, and it imports pos.* lazily so that the MicroPython figures can take
# their baseline before any firmware module is loaded.

TMK = "11111111111111112222222222222222"
PIK = "0123456789ABCDEFFEDCBA9876543210"
MAK = "89ABCDEF01234567"
PAN = "6212142000000000012"
NOW = (2026, 11, 23, 9, 0, 0)

# The daily sign-in (menu update + key download), one purchase: the heap figure runs this.
DAY = (
    ("MENU", "1", "1", "ENTER", "CANCEL"),
    ("MENU", "1", "2", "10000", "ENTER", "CARD=" + PAN, "123456", "ENTER", "ENTER", "CANCEL"),
)
# Settlement (菜单 1 7) once the flow exists: ENTER to confirm, then keys until idle.
SETTLE = ("MENU", "1", "7", "ENTER", "ENTER", "CANCEL", "CANCEL")
# More of the day for the latency figure: purchases with corrections, a manual sign-in,
# menus paged and left, the journal browsed, the parameters viewed.
MORE = (
    ("MENU", "4", "2", "ENTER", "CANCEL"),
    (
        "MENU",
        "1",
        "2",
        "2500",
        "CLEAR",
        "CLEAR",
        "99",
        "ENTER",
        "CARD=" + PAN,
        "1234",
        "ENTER",
        "ENTER",
        "CANCEL",
    ),
    (
        "MENU",
        "1",
        "2",
        "1",
        "ENTER",
        "6212142000000000012",
        "ENTER",
        "2912",
        "ENTER",
        "123456",
        "ENTER",
        "CANCEL",
        "CANCEL",
    ),
    ("MENU", "DOWN", "UP", "2", "CANCEL", "3", "CANCEL", "5", "CANCEL", "CANCEL"),
    ("MENU", "3", "1", "UP", "UP", "DOWN", "CANCEL", "CANCEL", "CANCEL"),
    ("MENU", "5", "1", "DOWN", "DOWN", "CANCEL", "CANCEL", "CANCEL"),
    ("CARD=" + PAN, "88888", "ENTER", "654321", "ENTER", "ENTER", "CANCEL"),
    ("MENU", "1", "2", "123456789", "CLEAR", "ENTER", "CANCEL", "CANCEL"),
)


def has_action(name):
    # Is the action in the shipped menu tree? (settlement is being written as "settle")
    import pos.actions as actions

    return name in actions.ACTIONS


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


def script(kind, settle):
    # kind "day": sign-in, purchase (+ settlement); "walk": that plus MORE, repeated to
    # reach at least `min_keys` key events (see walk_events).
    toks = []
    for part in DAY:
        toks.extend(part)
    if settle:
        toks.extend(SETTLE)
    if kind == "walk":
        for part in MORE:
            toks.extend(part)
    return toks


def walk_events(min_keys, settle):
    # The day, then MORE again and again, until there are min_keys key events.
    evs = events(script("walk", settle))
    more = []
    for part in MORE:
        more.extend(part)
    more = events(more)
    while _keys(evs) < min_keys:
        evs.extend(more)
    return evs


def _keys(evs):
    n = 0
    for e in evs:
        if e[0] == "key":
            n += 1
    return n


class Center:
    # Answers every request the way tests/core/fakecenter.py does, for the bench:
    # it keeps nothing but counters (its own objects must not inflate the heap figure).
    def __init__(self):
        self.rrn = 0
        self.count = 0
        self.tmk = bytes.fromhex(TMK)
        self.pik = bytes.fromhex(PIK)
        self.mak = bytes.fromhex(MAK)

    def answer(self, frame):
        from pos import iso8583, mac, keyload

        tpdu, header, body = iso8583.unpack_frame(frame)
        req = iso8583.decode(body)
        self.count += 1
        mti = req["mti"]
        rep = {"mti": mti[:2] + str(int(mti[2]) + 1) + mti[3]}
        for f in (2, 3, 4, 11, 25, 41, 42, 48, 49, 60, 63):
            if f in req:
                rep[f] = req[f]
        rep[39] = "00"
        f60 = req.get(60, "")
        if mti == "0800" and f60[8:11] == "930":
            rep[62] = b"0001" + b"0" * 20  # menu version 1, no chunk: nothing newer
        elif mti == "0800":
            rep[62] = keyload.pack_signin_keys(self.tmk, self.pik, self.mak)
            rep[12] = "093000"
            rep[13] = "1123"
        elif mti in ("0200", "0100", "0220"):
            self.rrn += 1
            rep[37] = "11230000" + ("0000" + str(self.rrn))[-4:]
            rep[38] = "654321"
            rep[15] = "1123"
        if mti != "0800":
            rep[64] = bytes(8)
            rep[64] = mac.compute("ecb", self.mak, iso8583.mab(rep))
        return ("reply", iso8583.pack_frame(iso8583.swap_tpdu(tpdu), header, iso8583.encode(rep)))


class Walk:
    # A terminal on `storage` with the shipped menus, stepped one event at a time.
    # step(ev) -> (effects, shows): the effects of the event itself (its latency is what
    # the caller times) and every frame shown until the terminal waits for input again
    # (the center's answers to sends are fed back inside step, outside the timed part).
    def __init__(self, storage, resources, profile="lcd128x64"):
        from pos.terminal import Terminal

        self.center = Center()
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
