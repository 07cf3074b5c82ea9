"""What the board firmware's heap holds, by kind: the board sim (posterm.boardsim) run with
`measure` on, so that after boot and after every event MicroPython itself prints its block map
(micropython.mem_info(1)) and its interned names (micropython.qstr_info(1)), and every import
reports the heap it kept (gc.mem_alloc after a collection, before and after).

    python -m posterm.bench.boardheap_breakdown [--files] [--board esp32] [--heap N]
                                                [--chip] [--at KEY ...]

prints, for the ROMFS deploy (or --files):
  - each module imported, with the heap its import kept (its own: nested imports taken out),
    grouped by when it was imported (boot, or the key);
  - at boot and at the worst key (the one with the least free heap; --at adds others): the
    firmware's blocks by kind (the letters of mem_info(1)'s map: D dict, T tuple, L list,
    S str/bytes, A bytearray/array, B bytecode function, M module, F float, h any other
    object: instances, closures, bound methods, qstr pools, raw code and bytecode), the
    interned names (pools, count, string bytes) and the free heap in pieces.

The collections this mode adds move the heap layout: these figures say what is held, not
where the day runs out (posterm.bench.boardheap finds that).
"""

import argparse
import collections
import datetime
import re
import sys

from posterm.bench import boardheap
from posterm.boardsim import sim

NOW = datetime.datetime(2026, 11, 23, 9, 0, 0)
BLOCK = 16 * 2  # bytes per GC block on the x64 unix port (4 words of 8 bytes)
KINDS = {
    "D": "dict",
    "T": "tuple",
    "L": "list",
    "S": "str/bytes",
    "A": "bytearray/array",
    "B": "function",
    "M": "module",
    "F": "float",
    "h": "other (instances, closures, qstr pools, raw code)",
}
PAN = "6212142000000000012"
CHIP_CARD = {
    "pan": PAN,
    "seq": "01",
    "expiry": "3012",
    "pin": "123456",
    "imk_ac": "0123456789ABCDEFFEDCBA9876543210",
    "label": "UnionPay Debit",
    "track2": PAN + "=301212001234101",
}


def chip_events():
    """Sign in, then a chip purchase of 128.00 (tests/test_chip_board.py's)."""
    from pos.keys import parse_token

    def keys(text):
        return [ev for tok in text.split() for ev in parse_token(tok)]

    return (
        keys("MENU 1 1 ENTER ENTER MENU 1 2 12800 ENTER")
        + [("chip", CHIP_CARD)]
        + keys("123456 ENTER ENTER")
    )


_LINE = re.compile(r"^([0-9a-f]{8}): (.*)$")
_FREE = re.compile(r"^\s*\((\d+) lines all free\)")
_BASE = re.compile(r"GC memory layout; from ([0-9a-f]+):")
_POOL = re.compile(r"n_pool=(\d+), n_qstr=(\d+), n_str_data_bytes=(\d+), n_total_bytes=(\d+)")


class Snapshot:
    """One mem_info(1) + qstr_info(1) print-out, parsed."""

    def __init__(self, tag, free, alloc, lines, held_end=None, modules=()):
        self.tag = tag
        self.modules = list(modules)
        self.free = free
        self.alloc = alloc
        cells = []
        self.qstrs = []
        self.pool = None
        base = None
        for line in lines:
            m = _BASE.search(line)
            if m:
                base = int(m.group(1), 16)
                continue
            m = _LINE.match(line)
            if m:
                cells.append(m.group(2))
                continue
            m = _FREE.match(line)
            if m:
                cells.append("." * 64 * int(m.group(1)))
                continue
            m = _POOL.search(line)
            if m:
                self.pool = tuple(int(x) for x in m.groups())
                continue
            s = line.strip()
            if s.startswith("Q(") and s.endswith(")"):
                self.qstrs.append(s[2:-1])
        self.map = "".join(cells)
        # the sim holds the heap beyond the cap in one bytearray, allocated after its own
        # objects and the ROMFS image: the firmware's heap is what comes after it
        if base is None or held_end is None:
            raise ValueError("no block map in the print-out")
        self.firmware_start = -(-(held_end - base) // BLOCK)

    def firmware_mask(self, start):
        """The blocks of the firmware's heap: free in `start` (the snapshot taken before the
        firmware was imported: the sim's own objects, the ROMFS image, the held block are
        the blocks in use there), or above the held block."""
        m = start.map if start is not None else ""
        return [i >= self.firmware_start or (i < len(m) and m[i] == ".")
                for i in range(len(self.map))]  # fmt: skip

    def kinds(self, mask):
        """{kind letter: blocks} of the blocks in `mask`."""
        out = collections.Counter()
        cur = None
        for i, c in enumerate(self.map):
            if c == "=":
                pass
            elif c == ".":
                cur = "."
            else:
                cur = c
            if mask[i] and cur is not None:
                out[cur] += 1
        return out

    def free_runs(self, mask):
        runs = []
        n = 0
        for i, c in enumerate(self.map):
            if c == "." and mask[i]:
                n += 1
            elif n:
                runs.append(n)
                n = 0
        if n:
            runs.append(n)
        return sorted(runs, reverse=True)


def run(romfs=True, board="pico", heap=None, events=None, leave_out=()):
    """-> (import records, [Snapshot], settled records)."""
    snaps = []
    imports = []
    settled = []
    buf = None

    def text(line):
        if buf is not None:
            buf.append(line)

    with sim.Sim(board=board, heap=heap, romfs=romfs, now=NOW, measure=True,
                 leave_out=leave_out) as s:  # fmt: skip
        import threading

        evs = events if events is not None else boardheap.day_events()

        def feed():
            for ev in evs:
                s.feed(ev)
            s.end_input()

        threading.Thread(target=feed, daemon=True).start()
        head = None
        for rec in s.records_iter(text):
            ev = rec["ev"]
            if ev == "meminfo":
                head = rec
                buf = []
            elif ev == "meminfo_end" and head is not None:
                snaps.append(
                    Snapshot(head["tag"], head["free"], head["alloc"], buf, head["held_end"],
                             head.get("modules", ()))
                )
                buf = None
                head = None
            elif ev == "import":
                imports.append(dict(rec))
            elif ev == "settled":
                settled.append(dict(rec))
            elif ev in ("memory_error", "stopped", "fatal"):
                settled.append(dict(rec))
    return imports, snaps, settled


def own_costs(imports):
    """Each import's own cost: its kept heap less that of the imports nested in it."""
    out = [dict(r, own=r["kept"]) for r in imports]
    # an import record comes after its nested ones (it is emitted when it ends): walk
    # backwards and subtract each record's directly nested ones (depth + 1 just before it)
    for i in range(len(out) - 1, -1, -1):
        d = out[i]["depth"]
        j = i - 1
        while j >= 0 and out[j]["depth"] > d:
            if out[j]["depth"] == d + 1:
                out[i]["own"] -= out[j]["kept"]
            j -= 1
    return out


def report(imports, snaps, settled, at=(), out=sys.stdout):
    def p(*a):
        print(*a, file=out)

    start = next((s for s in snaps if s.tag == "start"), None)
    boot = next((s for s in snaps if s.tag == "boot"), None)
    keyed = [s for s in snaps if s.tag.startswith("key ")]
    worst = min(keyed, key=lambda s: s.free) if keyed else None
    costs = own_costs(imports)
    p("Imports (the heap each kept; own = less its nested imports), at boot:")
    boot_total = 0
    for r in costs:
        if r["key"] == 0 and r["name"] != "main":
            boot_total += r["own"]
            p("  %-28s own %6d B   with nested %6d B" % (r["name"], r["own"], r["kept"]))
    p("  all boot imports, own: %d B" % boot_total)
    by_key = collections.defaultdict(list)
    for r in costs:
        if r["key"] and r["name"] != "main":
            by_key[r["key"]].append(r)
    p("Overlay loads after boot (key #: modules, own heap kept while loaded):")
    for k in sorted(by_key):
        rs = by_key[k]
        p("  key %3d: %d loads, %6d B: %s" % (k, len(rs), sum(r["own"] for r in rs),
                                            " ".join(r["name"] for r in rs if r["depth"] == 1)))
    chosen = [s for s in (boot, worst) if s is not None]
    for tag in at:
        chosen += [s for s in snaps if s.tag == "key %d" % tag and s not in chosen]
    for snap in chosen:
        mask = snap.firmware_mask(start)
        k = snap.kinds(mask)
        used = sum(v for c, v in k.items() if c != ".")
        runs = snap.free_runs(mask)
        label = snap.tag + (" (least free)" if snap is worst else "")
        p("Heap at %s: %d B free (largest free block %d B, next %s)" % (
            label, snap.free, (runs or [0])[0] * BLOCK,
            ", ".join(str(r * BLOCK) for r in runs[1:4])))
        p("  firmware's blocks: %d B in use" % (used * BLOCK))
        for c, n in sorted(k.items(), key=lambda kv: -kv[1]):
            if c != ".":
                p("    %-52s %7d B" % (KINDS.get(c, c), n * BLOCK))
        if snap.pool and start is not None and start.pool:
            p("  interned names (qstr_info): %d pools, %d names, %d B of name strings, "
              "%d B in all (the sim's own before the firmware: %d names, %d B)"
              % (snap.pool[0], snap.pool[1], snap.pool[2], snap.pool[3], start.pool[1],
                 start.pool[3]))
    binary = sim.micropython_binary()
    if binary:
        n_pool, n_names, charged = sim.sim_name_pools(binary)
        p("The sim's own names filled %d name pools (%d names) before the firmware: their %d B "
          "are taken from the firmware's heap as one tuple at its start (the pools a board's "
          "names fill: boardsim/simside.py's main), counted under tuple above"
          % (n_pool, n_names, charged))
    return worst


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m posterm.bench.boardheap_breakdown",
                                 description=__doc__.split("\n\n")[0])  # fmt: skip
    ap.add_argument("--files", action="store_true", help="the files deploy (default: ROMFS)")
    ap.add_argument("--board", default="pico", help="the board's cap (default pico)")
    ap.add_argument("--heap", type=int, help="the cap in bytes (overrides --board)")
    ap.add_argument("--chip", action="store_true", help="sign in and a chip purchase only")
    ap.add_argument("--at", type=int, nargs="*", default=(), help="also show these keys")
    args = ap.parse_args(argv)
    events = chip_events() if args.chip else None
    imports, snaps, settled = run(not args.files, args.board, args.heap, events)
    errors = [r for r in settled if r["ev"] == "memory_error"]
    report(imports, snaps, settled, args.at)
    if errors:
        print("MemoryError at: %s" % ", ".join(str(r.get("n_keys")) for r in errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
