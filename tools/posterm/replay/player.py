# The replay player: reruns a recorded session (tools/posterm/replay/FORMAT.md) on the core
# and stops at the first difference. It runs unchanged on CPython and on MicroPython (the
# WebAssembly build and the unix port copy or mount it next to firmware/), so it follows
# the firmware's rules: no typing, no CPython-only modules, no reliance on dict order.
#
#   play(lines, resources, escpos) -> None when every output matched, else a dict:
#     {"step": n, "line": k, "input": [the last input event, as recorded],
#      "what": "start" | "show" | "send" | "print" | "escpos" | "missing" | "extra" |
#              "error" | "format",
#      "expected": ..., "got": ...}
#   lines: an iterable of the file's text lines (the header first)
#   resources: the core's read-only storage of the shipped menus (pos.storage.FileStorage)
#   escpos: lines -> the ESC/POS bytes a board's printer gets (boards.printer.EscPos), or
#           None to compare the slip's lines only
import binascii
import json

VERSION = 1
OUTPUTS = ("show", "send", "print")
EXTERNAL = (
    "start",
    "key",
    "card",
    "chip",
    "tap",
    "scan",
    "removed",
    "tick",
    "printer",
)  # not the wire


class Seeded:
    # The terminal's random bytes during a recording and its replay: a fixed stream from the
    # recording's seed (an LCG on 24-bit values, so no big ints on MicroPython)
    def __init__(self, seed):
        self.s = (seed * 7919 + 1) & 0xFFFFFF

    def __call__(self, n):
        out = bytearray(n)
        s = self.s
        for i in range(n):
            s = (s * 1140671485 + 12820163) & 0xFFFFFF
            out[i] = (s >> 16) & 0xFF
        self.s = s
        return bytes(out)


def install_random(seed):
    # the core's single source of random bytes (pos.vault.random_bytes) reads this hook
    import pos

    pos.random_source = None if seed is None else Seeded(seed)


def to_event(v):
    # a recorded input (JSON) -> the core's event tuple
    if v == "start":
        return ("start",)
    kind = v[0]
    if kind == "reply":
        return ("reply", binascii.unhexlify(v[1]))
    if kind == "tick":
        return ("tick", tuple(v[1]))
    return tuple(v)


def from_event(ev):
    # the core's event tuple -> JSON for the recording
    kind = ev[0]
    if kind == "start":
        return "start"
    if kind == "reply":
        return ["reply", binascii.hexlify(bytes(ev[1])).decode().upper()]
    if kind == "tick":
        return ["tick", list(ev[1])]
    return list(ev)


def show_record(frame):
    return {"show": frame.text(), "inv": frame.inverse}


def output_record(effect, escpos=None):
    # a core effect -> its recorded form (None for effects a recording does not keep)
    kind = effect[0]
    if kind == "show":
        return show_record(effect[1])
    if kind == "send":
        return {"send": binascii.hexlify(bytes(effect[1])).decode().upper()}
    if kind == "print":
        rec = {"print": [[s, t] for s, t in effect[1]]}
        if escpos is not None:
            rec["escpos"] = binascii.hexlify(escpos(effect[1])).decode().upper()
        return rec
    return None


def storage_files(header):
    files = {}
    snap = header.get("storage") or {}
    for name in sorted(snap):
        files[name] = binascii.a2b_base64(snap[name])
    return files


def new_terminal(header, resources, storage):
    from pos.terminal import Terminal

    t = Terminal(
        storage,
        resources,
        header.get("profile", "lcd128x64"),
        tuple(header["clock"]),
        header.get("paper", "58mm"),
    )
    if header.get("lang"):
        t.strings.set_lang(header["lang"])
    # a front whose reader says when the card is out (the emulator): a key at 请拔卡 beeps;
    # else (keys, lessons, the board) it is the card pulled out, then the key
    t.implicit_removal = header.get("card_removal") != "reader"
    # none: recorded before the terminal waited for the card (请拔卡 until any key, 10 s)
    t.removal_wait = "card_removal" in header
    t.link_kind = header.get("link_kind", "")
    t.link_address = header.get("link_address", "")
    return t


def check_header(header):
    # -> None, or the reason this is not a recording this player can replay
    if not isinstance(header, dict) or "posterm_recording" not in header:
        return "the first line is not a posterm recording header"
    v = header["posterm_recording"]
    if v != VERSION:
        return "format version %r (this posterm replays version %d)" % (v, VERSION)
    if not isinstance(header.get("clock"), list) or len(header["clock"]) != 6:
        return "the header has no clock [Y, M, D, h, m, s]"
    return None


class Player:
    def __init__(self, resources, escpos=None, storage_cls=None):
        self.resources = resources
        self.escpos = escpos
        self.storage_cls = storage_cls
        self.t = None
        self.pending = []
        self.step = 0
        self.last_input = None
        self.line = 0
        self.done = False

    def diff(self, what, expected, got):
        return {
            "step": self.step,
            "line": self.line,
            "input": self.last_input,
            "what": what,
            "expected": expected,
            "got": got,
        }

    def _take(self, effects):
        for e in effects:
            rec = output_record(e, self.escpos)
            if rec is not None:
                self.pending.append(rec)

    def feed(self, rec):
        # one line of the recording (after the header) -> None or a difference
        if "in" in rec:
            v = rec["in"]
            ev = to_event(v)
            if ev[0] in EXTERNAL and self.pending:
                return self.diff("extra", None, self.pending[0])
            self.step += 1
            self.last_input = v
            try:
                if ev[0] == "start":
                    self._take(self.t.start())
                else:
                    self._take(self.t.handle(ev))
            except Exception as e:  # noqa: BLE001 - the firmware failed: that is the finding
                return self.diff("error", None, "%s: %s" % (type(e).__name__, e))
            err = getattr(self.t, "last_error", None)
            if err:
                return self.diff("error", None, str(err))
            return None
        if "end" in rec:
            self.done = True
            if self.pending:
                return self.diff("extra", None, self.pending[0])
            return None
        for kind in OUTPUTS:
            if kind in rec:
                break
        else:
            return self.diff("format", "an input, an output or the end", rec)
        if not self.pending:
            return self.diff("missing", rec, None)
        got = self.pending.pop(0)
        if kind not in got:
            return self.diff(kind, rec, got)
        if kind == "show":
            if got["show"] != rec["show"] or got["inv"] != rec.get("inv", got["inv"]):
                return self.diff("show", rec, got)
        elif kind == "send":
            if got["send"] != rec["send"]:
                return self.diff("send", rec, got)
        else:
            if got["print"] != rec["print"]:
                return self.diff("print", rec, got)
            if "escpos" in rec and "escpos" in got and got["escpos"] != rec["escpos"]:
                return self.diff("escpos", rec, got)
        return None


class Session:
    # A replay fed one line at a time (the WebAssembly runner hands it a few lines per
    # top-level call): line(text) -> None or the difference; finish() at the end of input.
    def __init__(self, resources, escpos=None):
        self.p = Player(resources, escpos)
        self.header = None

    def line(self, text):
        p = self.p
        p.line += 1
        text = text.strip()
        if not text:
            return None
        try:
            rec = json.loads(text)
        except ValueError:
            return p.diff("format", "a JSON object", text[:80])
        if self.header is None:
            why = check_header(rec)
            if why is not None:
                return p.diff("format", None, why)
            self.header = rec
            install_random(rec.get("seed"))
            from pos.memstorage import MemoryStorage

            try:
                p.t = new_terminal(rec, p.resources, MemoryStorage(storage_files(rec)))
            except Exception as e:  # noqa: BLE001
                return p.diff("error", None, "%s: %s" % (type(e).__name__, e))
            return None
        if p.done:
            return p.diff("format", "nothing after the end line", text[:80])
        if not isinstance(rec, dict):
            return p.diff("format", "a JSON object", text[:80])
        return p.feed(rec)

    def finish(self):
        if self.header is None:
            return self.p.diff("format", None, "the file is empty")
        if not self.p.done:
            return self.p.diff("format", None, "the recording is truncated (no end line)")
        return None


def play(lines, resources, escpos=None):
    s = Session(resources, escpos)
    for text in lines:
        d = s.line(text)
        if d is not None:
            return d
    return s.finish()


def escpos_encoder(gb_path, width=32):
    # the board's own ESC/POS writer (boards.printer) with the shipped GB2312 table
    from boards.gbtable import GbTable
    from boards.printer import EscPos

    enc = EscPos(None, GbTable.open(gb_path), width)
    return enc.receipt_bytes
