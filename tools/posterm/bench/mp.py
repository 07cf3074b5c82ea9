"""Run tools/posterm/bench/mp.mjs (MicroPython, WebAssembly build) and turn its output into
the bench's mp_* figures."""

import json
import os
import shutil
import subprocess
import tempfile

from posterm.bench import frames

_HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(_HERE, "..", "..", ".."))


class MpUnavailable(Exception):
    pass


def run(quick, settle):
    node = shutil.which("node")
    if node is None:
        raise MpUnavailable("node is not on PATH (the MicroPython figures need node >= 20)")
    if not os.path.isdir(os.path.join(ROOT, "node_modules", "@micropython")):
        raise MpUnavailable("run `npm ci` in the repository first (MicroPython wasm package)")
    from posterm.bench.cpython import compile_mpy

    with tempfile.TemporaryDirectory() as tmp:
        # the firmware as a board runs it: compiled by mpy-cross
        compile_mpy(tmp)
        cmd = [
            node,
            os.path.join(_HERE, "mp.mjs"),
            "--root",
            ROOT,
            "--f0200",
            frames.F_0200,
            "--f0810",
            frames.F_0810,
            "--mpy",
            tmp,
        ]
        if quick:
            cmd.append("--quick")
        else:
            cmd.extend(["--rounds", "3"])
        if settle:
            cmd.append("--settle")
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise MpUnavailable("mp.mjs failed: " + (proc.stderr or proc.stdout).strip()[-2000:])
    return json.loads(proc.stdout)


def figures(raw):
    from posterm.bench.cpython import p99

    out = {"micropython_version": raw["version"]}
    d = raw["des"]
    out["mp_des_blocks_per_s"] = d["n"] / (d["us"] / 1e6)
    out["mp_des_alloc_bytes_per_block"] = d["alloc"] / d["n"]
    per = [c["alloc"] / c["n"] for c in raw["codec"]]
    out["mp_codec_alloc_bytes_per_msg"] = max(per)
    out["mp_codec_alloc_bytes_0200"] = per[0]
    out["mp_codec_alloc_bytes_0810"] = per[1]
    n = sum(c["n"] for c in raw["codec"])
    us = sum(c["us"] for c in raw["codec"])
    out["mp_codec_msgs_per_s"] = n / (us / 1e6)
    w = raw["walk"]
    base = w["baseline"]
    steps = w["steps"]
    # every key of every round of the board's walk (--rounds: 3 in a full run)
    keys = []
    for r in raw.get("latency_rounds") or [[s["us"] for s in steps if s["key"]]]:
        keys.extend(us / 1000 for us in r)
    out["key_latency_p99_ms_mp"] = p99(keys)
    out["key_latency_rounds_mp"] = len(raw.get("latency_rounds") or [1])
    out["key_latency_max_ms_mp"] = max(keys)
    # steps[i]["live"] is the heap before event i, i.e. after event i - 1 and its GC: the
    # maximum over the whole cashier's day (sign-in, purchases, ..., settlement), the
    # firmware as a board runs it: every module the day uses is loaded when it is used
    # (each action, and each stage of a transaction, an overlay: pos.overlay)
    peak = max(range(1, len(steps)), key=lambda i: steps[i]["live"])
    out["mp_max_live_heap_bytes"] = steps[peak]["live"] - base
    out["mp_max_live_heap_screen"] = " | ".join(w["frames"][peak - 1])
    # the same while the terminal waits for the center (the exchange's code loaded)
    waits = w.get("waits") or []
    out["mp_max_live_heap_waiting_bytes"] = max(x["live"] for x in waits) - base if waits else None
    r = raw["resident"]
    rsteps = r["steps"]
    rkeys = [s["us"] / 1000 for s in rsteps if s["key"]]
    out["key_latency_p99_ms_mp_resident"] = p99(rkeys)
    # every firmware module imported at once and kept (bytecode in RAM in this build)
    out["mp_max_live_heap_bytes_all_resident"] = max(s["live"] for s in rsteps[1:]) - r["baseline"]
    out["mp_live_heap_all_modules_bytes"] = raw["all_modules"]
    # what the day adds on top of the loaded modules: terminal, state, journal, buffers
    out["mp_max_live_heap_data_bytes"] = (
        out["mp_max_live_heap_bytes_all_resident"] - raw["all_modules"]
    )
    out["mp_romfs"] = bool(raw.get("romfs"))
    out["mp_walk_last_screen"] = w["frames"][-1]
    return out
