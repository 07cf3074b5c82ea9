"""`posterm replay --runtime board`: a recording rerun on the board firmware in the board sim
(the files `posterm flash` sends, on the MicroPython unix port, the Pico's heap cap).

The board is driven as a cashier drives it: the recording's keys go to the simulated key
matrix and its cards to the terminal's card event; the center is the recording (each frame
the board sends is compared with the recorded one and answered with the recorded answer);
the RTC stands at the recording's clock. What a board shows can be checked from outside:
the screen once the terminal waits for the next key (the last screen of each step), the
frames on the wire, and the printer's ESC/POS bytes. Screens the firmware shows in
between (正在连接中心...) are compared on the other runtimes."""

import base64
import binascii
import datetime
import json
import threading

from posterm.replay import player

EXTERNAL = ("start", "key", "card", "chip", "tap")  # what the board sim can be given


class BoardUnsupported(Exception):
    pass


def plan(records):
    """-> (inputs, wire, steps): the external inputs (as events), the center's script
    [(line, request hex, answer event)], and per step (start + each input) the expected
    last screen and ESC/POS bytes with the line numbers they come from."""
    inputs = []
    wire = []
    steps = []
    pending_send = None
    for line, rec in records:
        if "in" in rec:
            v = rec["in"]
            if v == "start" or v[0] in EXTERNAL:
                if v != "start":
                    inputs.append(player.to_event(v))
                steps.append({"input": v, "line": line, "screen": None, "escpos": ""})
            elif v[0] in ("reply", "timeout", "link_error"):
                if pending_send is None:
                    raise BoardUnsupported(f"line {line}: an answer with no frame sent before it")
                ev = player.to_event(v)
                if ev[0] == "link_error":
                    ev = (ev[0], ev[1], bool(ev[2]) if len(ev) > 2 else False)
                wire.append((pending_send[0], pending_send[1], ev))
                pending_send = None
            elif v[0] == "tick":
                raise BoardUnsupported(
                    f"line {line}: the recording's clock runs (ticks); the board runtime "
                    "replays recordings with a fixed clock (posterm record --date)"
                )
            else:
                raise BoardUnsupported(f"line {line}: the board cannot be given {v[0]!r}")
        elif "show" in rec and steps:
            steps[-1]["screen"] = "|".join(rec["show"])
            steps[-1]["screen_line"] = line
        elif "send" in rec:
            pending_send = (line, rec["send"])
        elif "print" in rec and steps:
            steps[-1]["escpos"] += rec.get("escpos", "")
            steps[-1]["print_line"] = line
    return inputs, wire, steps


class ReplayCenter:
    """The recording's side of the wire: compares each frame, gives the recorded answer."""

    def __init__(self, wire):
        self.wire = wire
        self.i = 0
        self.diff = None
        self.lock = threading.Lock()

    def __call__(self, data, timeout):
        with self.lock:
            got = binascii.hexlify(data).decode().upper()
            if self.diff is not None:
                return ("link_error", "replay stopped", False)
            if self.i >= len(self.wire):
                self.diff = {"what": "extra", "line": 0, "expected": None, "got": {"send": got}}
                return ("link_error", "replay: no more frames recorded", False)
            line, want, ev = self.wire[self.i]
            self.i += 1
            if got != want:
                self.diff = {
                    "what": "send",
                    "line": line,
                    "expected": {"send": want},
                    "got": {"send": got},
                }
                return ("link_error", "replay: the frame differs", False)
            return ev


def _read(path):
    records = []
    header = None
    with open(path, encoding="utf-8") as f:
        for n, text in enumerate(f, 1):
            text = text.strip()
            if not text:
                continue
            rec = json.loads(text)
            if header is None:
                header = rec
            elif "end" not in rec:
                records.append((n, rec))
    return header, records


def replay_board(path, board="pico", heap=None):
    from posterm.boardsim.sim import Sim, SimError
    from posterm.replay.runtimes import RuntimeUnavailable

    # the format itself is checked by the CPython player first (same messages everywhere)
    from posterm.replay.runtimes import replay_cpython

    d = replay_cpython(path)
    if d is not None and d["what"] == "format":
        return d
    header, records = _read(path)
    why = None
    if header.get("profile", "lcd128x64") != "lcd128x64":
        why = "the board has the 128x64 display (profile lcd128x64)"
    elif header.get("paper", "58mm") != "58mm":
        why = "the board's printer is set for 58 mm paper"
    elif header.get("lang", "zh") != "zh":
        why = "the board starts in Chinese (lang zh)"
    if why:
        return _unsupported(why)
    try:
        inputs, wire, steps = plan(records)
    except BoardUnsupported as e:
        return _unsupported(str(e))
    files = {}
    for name, b64 in (header.get("storage") or {}).items():
        files[name] = base64.b64decode(b64)
    center = ReplayCenter(wire)
    c = header["clock"]
    now = datetime.datetime(*c)
    player.install_random(None)
    try:
        sim = Sim(
            board=board,
            heap=heap,
            now=now,
            center=center,
            fixed_clock=True,
            data_files=files,
            seed=header.get("seed"),
        )
        with sim:
            writer = threading.Thread(target=_write_all, args=(sim, inputs), daemon=True)
            writer.start()
            result = _compare(sim, steps, center, header)
            writer.join(timeout=5)
    except SimError as e:
        raise RuntimeUnavailable(str(e)) from None
    return result


def _write_all(sim, events):
    for ev in events:
        sim.feed(ev)
    sim.end_input()


def _unsupported(why):
    return {
        "step": 0,
        "line": 1,
        "input": None,
        "what": "error",
        "expected": None,
        "got": "cannot replay on the board: " + why,
    }


def _diff(step_no, steps, what, line, expected, got):
    v = steps[step_no]["input"] if step_no < len(steps) else None
    return {
        "step": step_no + 1,
        "line": line,
        "input": v,
        "what": what,
        "expected": expected,
        "got": got,
    }


def _compare(sim, steps, center, header):
    k = 0  # the step whose result the next "settled" record is
    printed = ""
    log = []
    for rec in sim.records_iter(log.append):
        ev = rec.get("ev")
        if center.diff is not None:
            d = center.diff
            return _diff(k, steps, d["what"], d["line"], d["expected"], d["got"])
        if ev == "print":
            printed += binascii.hexlify(rec.data).decode().upper()
        elif ev == "settled":
            if k >= len(steps):
                return _diff(
                    k, steps, "extra", 0, None, {"show": rec.get("screen", "").split("|")}
                )
            st = steps[k]
            if st["screen"] is not None and rec.get("screen") != st["screen"]:
                return _diff(
                    k,
                    steps,
                    "show",
                    st.get("screen_line", st["line"]),
                    {"show": st["screen"].split("|")},
                    {"show": (rec.get("screen") or "").split("|")},
                )
            if printed != st["escpos"]:
                exp = {"print": [], "escpos": st["escpos"]}
                got = {"print": [], "escpos": printed}
                return _diff(k, steps, "escpos", st.get("print_line", st["line"]), exp, got)
            printed = ""
            k += 1
        elif ev in ("memory_error", "stuck", "fatal", "error"):
            return _diff(
                max(k, 0),
                steps,
                "error",
                0,
                None,
                "the board sim: %s %s" % (ev, json.dumps(dict(rec), ensure_ascii=False)),
            )
        elif ev == "stopped":
            return _diff(
                k,
                steps,
                "error",
                0,
                None,
                "the firmware stopped: %s\n%s" % (rec.get("text"), "\n".join(log[-15:])),
            )
    if center.diff is not None:
        d = center.diff
        return _diff(k, steps, d["what"], d["line"], d["expected"], d["got"])
    if k < len(steps):
        st = steps[k]
        return _diff(
            k, steps, "missing", st["line"], {"show": (st["screen"] or "").split("|")}, None
        )
    if center.i < len(center.wire):
        line, want, _ev = center.wire[center.i]
        return _diff(k - 1, steps, "missing", line, {"send": want}, None)
    return None
