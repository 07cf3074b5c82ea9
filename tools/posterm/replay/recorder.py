"""Recording a session at the core's boundary: every event that goes into the Terminal and
every effect it gives back, in order (FORMAT.md). The front does not matter: `posterm
record` drives the desktop driver as `posterm keys` does, the emulator records with
`--record FILE`; both wrap the same Terminal."""

import base64
import datetime
import json
import os
import subprocess
from pathlib import Path

from posterm.replay import player

ROOT = Path(__file__).resolve().parents[3]
GB_TABLE = ROOT / "firmware" / "boards" / "data" / "gb2312.bin"
DEFAULT_SEED = 1


def firmware_version():
    """`git describe` of the checkout when there is one, else the package version."""
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=5,
        )
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    from posterm.cli import version

    return version()


def escpos_encoder(paper_cells):
    import sys

    fw = str(ROOT / "firmware")
    if fw not in sys.path:
        sys.path.append(fw)
    return player.escpos_encoder(str(GB_TABLE), paper_cells)


class Recorder:
    """Wraps a Terminal's start() and handle(): inputs and outputs go to self.records."""

    def __init__(self, terminal, header, lose=()):
        self.terminal = terminal
        self.header = header
        self.records = []
        self.lose = set(lose)  # the Nth replies (1-based) that are lost on the wire
        self.sends = 0
        self.escpos = escpos_encoder(terminal.paper_cells)
        self._start = terminal.start
        self._handle = terminal.handle
        terminal.start = self.start
        terminal.handle = self.handle

    def start(self):
        self.records.append({"in": "start"})
        # how a chip card leaves the reader, as the front set it up before power-on
        self.header["card_removal"] = (
            "key" if getattr(self.terminal, "implicit_removal", True) else "reader")
        return self._out(self._start())

    def handle(self, event):
        if event[0] in ("reply", "timeout", "link_error"):
            self.sends += 1
            if self.sends in self.lose:
                # the center answered, the answer is lost on the way: the terminal times out
                event = ("timeout",)
        # as JSON now: an event may carry a live object (a chip's card, whose counters the
        # transaction moves on), and the recording needs it as it went in
        self.records.append(json.loads(json.dumps({"in": player.from_event(event)})))
        return self._out(self._handle(event))

    def _out(self, effects):
        for e in effects:
            rec = player.output_record(e, self.escpos)
            if rec is not None:
                self.records.append(rec)
        return effects

    def lines(self):
        n_in = sum(1 for r in self.records if "in" in r)
        out = [self.header] + self.records
        out.append({"end": {"inputs": n_in, "outputs": len(self.records) - n_in}})
        return [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in out]

    def write(self, path):
        write_lines(path, self.lines())


def write_lines(path, lines):
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def header_for(terminal, source, tokens, seed, lose=(), storage=None, note=""):
    h = {
        "posterm_recording": player.VERSION,
        "source": source,
        "firmware": firmware_version(),
        "recorded": datetime.datetime.now().isoformat(timespec="seconds"),
        "profile": terminal.profile,
        "lang": terminal.strings.lang,
        "paper": "80mm" if terminal.paper_cells == 48 else "58mm",
        "clock": list(terminal.now),
        "seed": seed,
        "link_kind": terminal.link_kind,
        "link_address": "",
        "keys": list(tokens),
    }
    # how the card left the reader: "key" (a key at 请拔卡 is the card pulled out, then that
    # key: keys, lessons, the board) or "reader" (only the reader's ("removed",): the emulator)
    h["card_removal"] = "key" if getattr(terminal, "implicit_removal", True) else "reader"
    if lose:
        h["lose_reply"] = sorted(lose)
    if note:
        h["note"] = note
    if storage:
        h["storage"] = storage
    return h


def snapshot(storage_dir):
    """The terminal's files at the start of a session (a bug report carries them)."""
    files = {}
    d = Path(storage_dir)
    if d.is_dir():
        for p in sorted(d.iterdir()):
            if p.is_file() and not p.name.endswith((".tmp", ".lock")):
                files[p.name] = base64.b64encode(p.read_bytes()).decode()
    return files


def record_front(driver, source, seed=DEFAULT_SEED):
    """A Recorder on an interactive front's driver (the emulator): the terminal's random
    bytes from the seed; its clock runs, so the ticks are recorded with the keys."""
    player.install_random(seed)
    t = driver.terminal
    header = header_for(t, source, [], seed)
    header["link_address"] = t.link_address
    return Recorder(t, header)
