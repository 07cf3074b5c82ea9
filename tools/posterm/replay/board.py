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
from pathlib import Path

from posterm.replay import player

EXTERNAL = ("start", "key", "card", "chip", "tap")  # what the board sim can be given


class BoardUnsupported(Exception):
    pass


def plan(records, clock=None):
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
            elif v[0] == "printer":
                pass  # the board loop checks its printer itself
            elif v[0] == "tick":
                if list(v[1]) != list(clock):
                    raise BoardUnsupported(
                        f"line {line}: the recording's clock runs (ticks); the board runtime "
                        "replays recordings with a fixed clock (posterm record --date)"
                    )
                # the board loop ticks its own (fixed) clock
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
    elif "card_removal" not in header and any(
        isinstance(r.get("in"), list) and r["in"][0] == "chip" for _n, r in records
    ):
        why = ("recorded before the terminal waited for the card to be pulled out (请拔卡): "
               "replay it on cpython or micropython, or re-record it (--update)")
    if why:
        return _unsupported(why)
    try:
        inputs, wire, steps = plan(records, header["clock"])
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


def record_board(path, tokens, date, board="pico", seed=1, lose=(), heap=None, note=""):
    """`posterm record --board BOARD`: the session on the board firmware in the board sim
    (keys on the key matrix, cards and chips presented, the embedded center over the link
    UART), recorded at the board's Terminal: every event in (the board loop's clock ticks
    and printer checks too) and every effect out. -> the Recorder-like counts dict."""
    import tempfile

    from pos.keys import KeyTokenError

    from posterm import paths
    from posterm.boardsim.sim import Sim, SimError
    from posterm.errors import CliError
    from posterm.host.deck import Deck
    from posterm.host.server import start_in_thread
    from posterm.link import TcpLink
    from posterm.replay import recorder
    from posterm.replay.cli import seeded_center

    parse_token = Deck().parse_token
    events = []
    for tok in tokens:
        try:
            events.extend(parse_token(tok))
        except KeyTokenError as e:
            raise CliError(str(e)) from None
    now = datetime.datetime(*date)
    records = []
    log = []
    with tempfile.TemporaryDirectory(prefix="posterm-record-board-") as tmp:
        with seeded_center(seed):
            center = start_in_thread(
                str(Path(tmp) / "host.db"), paths.menu_file(), now=lambda: now
            )
            try:
                link = TcpLink(tuple(center.address))
                answers = {"n": 0}

                def exchange(data, timeout):
                    ev = link.exchange(data, timeout)
                    answers["n"] += 1
                    if answers["n"] in set(lose):
                        return ("timeout",)  # the answer is lost on the way
                    return ev

                sim = Sim(
                    board=board,
                    heap=heap,
                    now=now,
                    center=exchange,
                    fixed_clock=True,
                    seed=seed,
                    record=True,
                )
                with sim:
                    writer = threading.Thread(target=_write_all, args=(sim, events), daemon=True)
                    writer.start()
                    for rec in sim.records_iter(log.append):
                        if rec.get("ev") == "rec":
                            records.append({k: rec[k] for k in ("in", "out") if k in rec})
                        elif rec.get("ev") in ("memory_error", "stuck", "fatal", "stopped"):
                            what = json.dumps(dict(rec), ensure_ascii=False)
                            tail = "\n".join(log[-10:])
                            raise CliError(f"the board sim: {what}\n{tail}".rstrip())
                    writer.join(timeout=5)
            except SimError as e:
                raise CliError(str(e)) from None
            finally:
                center.stop()
    enc = recorder.escpos_encoder(32)
    lines = []
    n_in = 0
    for r in records:
        if "in" in r:
            n_in += 1
            lines.append({"in": r["in"]})
        else:
            out = r["out"]
            if "print" in out:
                out["escpos"] = binascii.hexlify(enc([tuple(x) for x in out["print"]])).decode()
                out["escpos"] = out["escpos"].upper()
            lines.append(out)
    header = {
        "posterm_recording": player.VERSION,
        "source": "board",
        "board": board,
        "firmware": recorder.firmware_version(),
        "recorded": datetime.datetime.now().isoformat(timespec="seconds"),
        "profile": "lcd128x64",
        "lang": "zh",
        "paper": "58mm",
        "clock": list(date),
        "seed": seed,
        "link_kind": "",
        "link_address": "uart",
        "keys": list(tokens),
        "card_removal": "key",  # the board's Terminal: a key at 请拔卡 is the card pulled out
    }
    if lose:
        header["lose_reply"] = sorted(lose)
    if note:
        header["note"] = note
    out_lines = [header] + lines + [{"end": {"inputs": n_in, "outputs": len(lines) - n_in}}]
    recorder.write_lines(
        path, [json.dumps(x, ensure_ascii=False, separators=(",", ":")) for x in out_lines]
    )
    counts = {"in": n_in, "show": 0, "send": 0, "print": 0}
    for x in lines:
        for k in ("show", "send", "print"):
            if k in x:
                counts[k] += 1
    return counts
