"""Board heap figures: the bench's cashier's day on the board sim (the real firmware on the
MicroPython unix port, posterm.boardsim) under a heap cap.

min_heap() finds N, the smallest cap from which the whole day completes at every cap (1 KB
steps) up to N + 64 KB: a coarse bisection first, then a walk down in 1 KB steps from well
above it, so that a cap that fails above a passing one (fragmentation) is never missed.
"""

import datetime
from pathlib import Path

from posterm.bench import walk
from posterm.boardsim import sim

NOW = datetime.datetime(2026, 11, 23, 9, 0, 0)
KB = 1024
# The EMV kernel and the chip flows (the day swipes magnetic cards: it never loads them), left
# out of the deploy for the figures "without the EMV kernel". On a board they cost heap only
# by the names they intern at boot (main.py) and while a chip transaction runs.
NO_EMV = ("/pos/emv/", "/pos/flows/chip.", "/pos/flows/icload.")
# The board whose profile the day runs with (its drivers and its memory policy; the cap is
# given): the ESP32's, whose policy keeps no overlay cache. The heap goals are an ESP32's; a
# Pico's policy (boards/profiles.py "memory": overlays kept while the heap allows) spends
# heap it has to spare on key latency, and its figure would say how much it spends.
BOARD = "esp32"


def day_events():
    from pos.keys import parse_token

    toks = []
    for _what, part in walk.parts():
        toks.extend(part)
    return [ev for tok in toks for ev in parse_token(tok)]


class DayResult:
    def __init__(self, cap, records):
        self.cap = cap
        self.records = records
        self.errors = [r for r in records if r["ev"] == "memory_error"]
        self.stopped = [r for r in records if r["ev"] in ("stopped", "fatal", "stuck")]
        self.settled = [r for r in records if r["ev"] == "settled"]
        self.done = bool(records) and records[-1]["ev"] == "done"

    @property
    def ok(self):
        return self.done and not self.errors and not self.stopped

    def worst(self):
        """(free, largest, key) at the key with the smallest largest free block."""
        best = None
        for r in self.settled:
            if r.get("largest") is None:
                continue
            if best is None or r["largest"] < best[1]:
                best = (r["free"], r["largest"], r["key"])
        return best


def run_day(
    cap, romfs=False, heap_report=False, events=None, leave_out=(), board=BOARD, charge_pools=True
):
    # charge_pools=False: the sim's own name pools left out of the firmware's heap, as the
    # figures before 2026-12-02 were (posterm/boardsim/simside.py's main)
    records = sim.run_script(
        events if events is not None else day_events(),
        board=board,
        heap=cap,
        romfs=romfs,
        now=NOW,
        heap_report=heap_report,
        stop_on_memory_error=not heap_report,
        leave_out=leave_out,
        charge_pools=charge_pools,
    )
    return DayResult(cap, records)


def min_heap(
    romfs=False,
    lo=48 * KB,
    hi=512 * KB,
    margin=64 * KB,
    step=KB,
    log=None,
    leave_out=(),
    events=None,
    charge_pools=True,
):
    """-> (N, runs): every cap from N to N + margin (in `step`s) completes the day (or the
    given events: boardheap_breakdown.chip_events() for a chip purchase)."""
    events = day_events() if events is None else events
    runs = 0

    def ok(cap):
        nonlocal runs
        runs += 1
        r = run_day(cap, romfs, events=events, leave_out=leave_out, charge_pools=charge_pools)
        if log:
            log(cap, r.ok)
        return r.ok

    if not ok(hi):
        raise RuntimeError(f"the day does not complete even at {hi} B")
    # bisection to ~4 KB: a first failing cap near the edge
    a, b = lo, hi
    while b - a > 4 * KB:
        mid = (a + b) // 2 // step * step
        if ok(mid):
            b = mid
        else:
            a = mid
    # then every step down from well above the edge: N is the lowest cap with no failing
    # cap between it and the top; the top is raised until it is at least `margin` above N
    # (two caps at a time: each day is its own VM, and the runs repeat exactly)
    from concurrent.futures import ThreadPoolExecutor

    top = b + margin + 4 * KB
    with ThreadPoolExecutor(2) as pool:
        while True:
            n = None
            cap = top
            while cap >= lo:
                caps = [c for c in (cap, cap - step) if c >= lo]
                good = list(pool.map(ok, caps))
                for c, passed in zip(caps, good, strict=True):
                    if not passed:
                        break
                    n = c
                if not all(good):
                    break
                cap -= step * len(caps)
            if n is not None and top - n >= margin:
                return n, runs
            top = (n if n is not None else top) + margin + 4 * KB


def coarse_min_heap(romfs=False, lo=48 * KB, hi=512 * KB, log=None, leave_out=()):
    """-> (edge, runs): bisection to 4 KB only (--quick): a cap the day completes at, with
    a failing one less than 4 KB below; not checked for failures above it."""
    events = day_events()
    runs = 1
    if not run_day(hi, romfs, events=events, leave_out=leave_out).ok:
        raise RuntimeError(f"the day does not complete even at {hi} B")
    a, b = lo, hi
    while b - a > 4 * KB:
        mid = (a + b) // 2 // KB * KB
        runs += 1
        r = run_day(mid, romfs, events=events, leave_out=leave_out)
        if log:
            log(mid, r.ok)
        if r.ok:
            b = mid
        else:
            a = mid
    return b, runs


def worst_key(cap, romfs=False, leave_out=()):
    """The day at `cap` with a heap report after every key -> (free, largest, key) at the
    key with the smallest largest free block."""
    return run_day(cap, romfs, heap_report=True, leave_out=leave_out).worst()


def x64_factor(timeout=60):
    """Heap on the unix port (x64) / heap on the WebAssembly build (32-bit) for the same
    work: the live heap after each test of the purchase core tests, on both MicroPythons
    (tests/mp runners). -> (median ratio, tests compared)."""
    import sys

    root = Path(__file__).resolve().parents[3]
    sys.path.insert(0, str(root / "tests"))
    try:
        from mp import client
    finally:
        sys.path.pop(0)
    module = root / "tests" / "core" / "test_purchase_core.py"
    if not module.is_file():
        raise RuntimeError("tests/core/test_purchase_core.py is not there (a posterm checkout)")
    wasm = client.run_modules([module], timeout=timeout)[module.resolve()]
    unix = client.run_modules([module], timeout=timeout, runtime="micropython-unix")
    unix = unix[module.resolve()]
    ratios = []
    for name, w in wasm.results.items():
        u = unix.results.get(name)
        if u and w.get("mem_after") and u.get("mem_after"):
            ratios.append(u["mem_after"] / w["mem_after"])
    if not ratios:
        raise RuntimeError("no test ran on both MicroPythons")
    ratios.sort()
    return ratios[len(ratios) // 2], len(ratios)


def main(argv=None):
    """`python -m posterm.bench.boardheap`: N of the bench's day (or a chip purchase) on the
    board sim, or one day at a given cap with where it ran out."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(
        prog="python -m posterm.bench.boardheap",
        description="The board's heap figure: N, the smallest heap cap (x64 unix port bytes) "
        "from which the bench's cashier's day completes at every cap in 1 KB steps up to "
        "N + 64 KB, on the board sim with the ESP32's profile (a full scan: ~80 days, "
        "15-30 minutes). With --cap, one day at that cap instead.",
    )
    ap.add_argument("--romfs", action="store_true", help="the ROMFS deploy (default: files)")
    ap.add_argument(
        "--chip",
        action="store_true",
        help="sign-in and a chip purchase instead of the day (boardheap_breakdown.chip_events)",
    )
    ap.add_argument(
        "--no-emv",
        action="store_true",
        help="the EMV kernel and chip flows left out of the deploy",
    )
    ap.add_argument(
        "--uncharged",
        action="store_true",
        help="the sim's own name pools not charged to the firmware (the accounting before "
        "2026-12-02, for a before/after)",
    )
    ap.add_argument("--cap", type=int, metavar="BYTES", help="run one day at this cap")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each cap as it is run")
    a = ap.parse_args(argv)
    if a.cap is not None and a.cap < 16 * KB:
        ap.error(f"--cap {a.cap}: a cap is in bytes (e.g. 110592 for 108 KB)")
    events = None
    if a.chip:
        from posterm.bench.boardheap_breakdown import chip_events

        events = chip_events()
    leave_out = NO_EMV if a.no_emv else ()
    what = ("ROMFS" if a.romfs else "files") + (", chip purchase" if a.chip else ", the day")
    if a.cap is not None:
        r = run_day(
            a.cap,
            a.romfs,
            events=events,
            leave_out=leave_out,
            charge_pools=not a.uncharged,
        )
        print(f"{what} at {a.cap:,} B: " + ("completes" if r.ok else "does not complete"))
        for rec in r.errors + r.stopped:
            print(
                f"  after key {rec.get('n_keys')}: {rec['ev']} {rec.get('key') or ''}"
                + (f" ({rec['where']})" if rec.get("where") else "")
            )
        if r.errors:
            print("  (the day stops at its first MemoryError)")
        return 0 if r.ok else 1

    def log(cap, ok):
        if a.verbose:
            print(f"  {cap:,} B: {'ok' if ok else 'runs out'}", file=sys.stderr, flush=True)

    n, runs = min_heap(
        romfs=a.romfs,
        events=events,
        leave_out=leave_out,
        charge_pools=not a.uncharged,
        log=log,
    )
    print(f"{what}: N = {n:,} B (x64 unix port; {runs} days run)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
