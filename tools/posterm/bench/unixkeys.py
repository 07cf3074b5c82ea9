# Key latency on the MicroPython unix port, as a board spends its CPU on a key: runs inside
# `micropython` (never CPython) as
#
#   micropython -X heapsize=N unixkeys.py TREE ROUNDS [profile] [romfs=IMAGE]
#
# TREE is the deploy tree `posterm flash` sends (pos/ and boards/ compiled by mpy-cross,
# menus, the font); the terminal's files are kept in memory (CPU only). The cashier's day
# of the bench (walk.py, next to this file) runs on a Terminal with the board's display
# driver (boards.display.CellDisplay on boards.ssd1306.SSD1306 over an I2C bus that only
# takes the bytes) and the board's loop order: an event, its effects performed (each shown
# frame drawn), then gc.collect(). Timed per event, in microseconds:
#   us       the event until the terminal waits again or hands over a frame to send (the
#            screens it shows drawn): what the cashier waits for, CPU only
#   reply_us the center's answers to that event's sends, each handled and drawn (the network
#            wait itself is not counted; the center answers outside the timing)
#   work_us  the flow's work steps after the event or an answer (pos.terminal "work": a slip
#            built and handed to the printer once the screen before it is drawn, and what the
#            flow does after it until it waits again), as the board's loop runs them next;
#   work     what each of them is: "print" (a ("work",) step: the slips) or the step's own
#            name (("work", "card"): a void's or a refund's original PAN opened once the
#            screen it is checked behind is drawn, pos.ui.work_step)
#   gc_us    the collection the board loop runs after the event
#   loads    modules the event imported (an overlay's code loaded from .mpy)
# and a full-screen redraw (every cell of all four rows changed, two screens in turn), and a
# calibration workload (a fixed mix of calls, attribute reads, small-int arithmetic, list and
# string work) before and after, so that a slow machine shows in the figures.
# "marks" after ROUNDS: time.ticks_cpu() called right before and after each event, no
# calibration: run under `valgrind --tool=callgrind --dump-before=time_ticks_cpu`, each
# event's instructions are a dump of their own (the 2nd, 4th, ... dump), the same whatever
# the machine's load (a before/after of one key).
# Prints a JSON line a step ("\x02S:"), a line at the end of each day ("\x02DAY:"),
# then the rest ("\x02KEYS:").
import gc
import json
import sys
import time


def _us():
    return time.ticks_us()


def _since(t0):
    return time.ticks_diff(time.ticks_us(), t0)


# --- calibration ---------------------------------------------------------------------------
class _Rec:
    def __init__(self, a, b):
        self.a = a
        self.b = b

    def step(self, k):
        self.a = (self.a + k) & 0xFFFF
        return self.a ^ self.b


def _calib_once(n):
    r = _Rec(1, 7)
    arr = [0] * 64
    s = "POSTERM CALIBRATION STRING"
    acc = 0
    for i in range(n):
        acc = (acc + r.step(i & 31)) & 0xFFFFF
        arr[i & 63] = acc & 0xFF
        if s[i % 26] == "T":
            acc += arr[(i + 1) & 63]
        acc ^= len(s) + (i & 7)
    return acc


CALIB_LOOPS = 100000
CALIB_SHORT = 3000  # a sample after every event: ~1.5 ms on a quiet run here
_SAMPLES = [None, 0]  # loops/s of each short sample (an array allocated once), how many
# (the quietest moment is their maximum)


def calib_sample():
    t0 = _us()
    _calib_once(CALIB_SHORT)
    rate = CALIB_SHORT * 1000000 // _since(t0)
    arr, n = _SAMPLES
    if n < len(arr):
        arr[n] = rate
        _SAMPLES[1] = n + 1


def _sort(a, n):
    # shell sort of a[:n] in place
    gap = 1
    while gap < n // 3:
        gap = gap * 3 + 1
    while gap > 0:
        for i in range(gap, n):
            v = a[i]
            j = i
            while j >= gap and a[j - gap] > v:
                a[j] = a[j - gap]
                j -= gap
            a[j] = v
        gap //= 3


def calibrate(tries=5):
    # -> loops per second (the best of `tries`: the least disturbed run); counting
    # instructions ("marks"): one short run between two marks (its instructions a loop)
    if _MARK[0]:
        _ORDER.append("c")
        time.ticks_cpu()
        t0 = _us()
        _calib_once(CALIB_SHORT)
        dt = _since(t0)
        time.ticks_cpu()
        return CALIB_SHORT * 1000000 // max(1, dt)
    best = None
    for _ in range(tries):
        t0 = _us()
        _calib_once(CALIB_LOOPS)
        dt = _since(t0)
        if best is None or dt < best:
            best = dt
    return CALIB_LOOPS * 1000000 // best


# --- the board's display ---------------------------------------------------------------------
class NullBus:
    def __init__(self):
        self.bytes = 0

    def writeto(self, addr, data):
        self.bytes += len(data)
        return 1


def board_display(tree):
    from boards.display import CellDisplay
    from boards.font import Font
    from boards.ssd1306 import SSD1306

    font = Font.open(tree + "/boards/data/font16.bin")
    d = CellDisplay(SSD1306(NullBus()), font, rows=4)
    d.pages_at = tree + "/boards/data"  # as boards.boot does
    return d


def full_redraw_us(display, n=20):
    # two screens that differ in every cell of every row (one inverse), drawn in turn
    from pos.screen import Frame

    a = Frame(4, 16)
    b = Frame(4, 16)
    texts_a = ("消费撤销请输入主", "管理员密码确认键", "欢迎使用今日签到", "请刷卡或按菜单键")
    texts_b = ("1234567890ABCDEF", "交易成功正在打印", "0987654321.:-/()", "结算完成签退成功")
    for r in range(4):
        a.put(r, texts_a[r], inverse=(r == 0))
        b.put(r, texts_b[r])
    # every row drawn glyph by glyph: the rows a memory policy keeps (boards.display row_cap)
    # are off for it, then on (the same two screens again: every row put back from its bytes)
    cap = getattr(display, "row_cap", 0)
    out = []
    for keep in (0, cap):
        if hasattr(display, "row_cap"):
            display.row_cap = keep
            display.forget_rows()
        display.invalidate()
        display.draw(a)
        times = []
        for i in range(n):
            f = b if i % 2 == 0 else a
            # as a key's draw follows the board loop's collection after the key before
            gc.collect()
            if _MARK[0]:
                _ORDER.append("k" if keep else "r")
                time.ticks_cpu()
            t0 = _us()
            display.draw(f)
            times.append(_since(t0))
            if _MARK[0]:
                time.ticks_cpu()
        times.sort()
        out.append(times)
    plain, kept = out
    return plain[len(plain) // 2], plain[-1], kept[len(kept) // 2] if cap else None


# --- the day ----------------------------------------------------------------------------------
_LOADS = [0]  # modules imported (not found in sys.modules) since the bench started


def count_loads():
    # the modules an event loads: those still there when it ends, and those an overlay
    # scope loaded and dropped within it (pos.overlay.unload, wrapped to count them)
    from pos import overlay

    real = overlay.unload

    def counting(before):
        n = len(overlay.loaded()) - len(before)
        if n > 0:
            _LOADS[0] += n
        real(before)

    overlay.unload = counting


def _pos_modules():
    n = 0
    for name in sys.modules:
        if name.startswith("pos."):
            n += 1
    return n


_MARK = [False]  # "marks": time.ticks_cpu() around each event (instruction counts per event)
_ORDER = []  # "marks": what each pair of marks enclosed, in order ("c" a calibration run,
# "d" a day's events, one pair each, "r" / "k" a full redraw with the rows drawn / kept)
_PROF = [None]  # unixprof when profiling ("profile" after ROUNDS)
_ROM = []  # the ROMFS image's bytes, held while it is mounted
_ROM_IN = [True]  # ...in the VM's heap (read_high), or outside it (romaddr=: unixrom.py)
_CENTER = [0]  # the heap of the bench's center when it starts (bytes, measured in main())
_BOARD = [None, None]  # the board's profile name and free heap on the unix port (board=NAME:N)
# the board's collector ("gc=low:limit:high:factor", firmware/main.py's last gc.threshold, read
# by keylatency.py): a collection every `low` bytes allocated with less than `limit` free after the
# boot, else every `high` (a board's bytes; x `factor`/1000 here: the x64 objects' size), and what
# each day set ([the board's bytes, the x64 bytes, the board's free heap after the boot x64])
_GC = [None, None]
_DATA = [None]  # the terminal's files in this directory (data=DIR), as on a board's flash
_OFFSET = [0]  # the VM's heap beyond the board's (memory_policy)
_OWN = [0]  # the heap the bench holds before the firmware is loaded (main)


def memory_policy(display, strings=None):
    # as boards/boot.py does after the idle screen: the board profile's memory policy
    # (pos.overlaycache.configure: the overlay cache, the day's flows preloaded). Each day is a
    # boot: what the last day cached is dropped first. The VM's heap beyond the board's (the
    # bench's own room, the ROMFS image's bytes: flash on a board) is the offset, so the
    # cache sees the board's free heap (less the bench's center and day: conservative).
    from pos import overlaycache

    overlaycache.off()
    display.glyph_cap = 64
    glyphs = getattr(display, "_glyphs", None)
    if glyphs is not None:
        glyphs.clear()  # a boot: the glyphs are read from the font again
    name, heap = _BOARD
    if name is None:
        return
    from boards import profiles

    gc.collect()
    total = gc.mem_free() + gc.mem_alloc()
    # the bench's own heap is not the board's either: the calibration samples' array (its
    # size grows with the rounds: 11 KB for 7, which left a 7-round run's board 10 KB short
    # of a 1-round run's, the cache giving way at settlement's keys) and the center (another
    # machine; its size when it starts, measured in main())
    own = len(_SAMPLES[0]) * 4 + _CENTER[0]
    offset = total - heap - (len(_ROM[0]) if _ROM and _ROM_IN[0] else 0) - own
    if _GC[0] is not None:
        # the board's collector: all that the bench holds before the firmware is loaded (its
        # own code too: unixkeys, walk, scriptcenter, ~20 KB; the samples) and the center
        # (so the board's free heap after the boot is the board sim's: a Pico's from ROMFS
        # 139,776 B x64, main 4a14c42; without its code the bench said 118,425)
        offset = total - heap - _OWN[0] - _CENTER[0]
    _OFFSET[0] = offset
    overlaycache.configure(profiles.get(name).get("memory"), offset, display, strings)


def center_bytes():
    # -> the heap the bench's center (walk.DayCenter: another machine on a board's link) takes
    # when it starts
    import walk

    gc.collect()
    a = gc.mem_alloc()
    c = walk.DayCenter()
    gc.collect()
    n = gc.mem_alloc() - a
    del c
    gc.collect()
    return n


def _events(walk):
    # the day's events in order; with the board's collector one part at a time (the whole
    # day's list, ~250 tuples, is the bench's, and every collection would mark it)
    settle = walk.has_action("settle")
    if _GC[0] is None:
        for ev in walk.day_events(settle):
            yield ev
        return
    for _what, toks in walk.parts(settle):
        for ev in walk.events(toks):
            yield ev


def run_day(tree, display):
    import walk
    from pos import overlay
    from pos.memstorage import MemoryStorage
    from pos.storage import FileStorage

    # as boards/boot.py builds the board: DES loaded once, with its tables, and kept
    from pos import des

    if hasattr(des, "prepare"):
        des.prepare()

    # the terminal's files: with data=DIR in files of their own there (a board's littlefs;
    # each day a boot of a new terminal: the last day's files removed), as a board allocates
    # for them (MemoryStorage's append made the whole journal anew at every record: a block
    # of the journal's size, many KB by the evening, that a board never allocates and that
    # moved the collector's count); else in memory (the goals are CPU only, and this
    # machine's file system calls, ~4 ms a state file on a loaded disk, say nothing of a
    # board's flash: keylatency.py puts DIR on a RAM disk where there is one)
    if _DATA[0] is not None:
        import os

        for name in os.listdir(_DATA[0]):
            os.remove(_DATA[0] + "/" + name)
        storage = FileStorage(_DATA[0])
    else:
        storage = MemoryStorage()
    w = walk.Walk(storage, FileStorage(tree + "/menus", readonly=True))
    t = w.t
    t.defer_work = True  # as boards.runner.Board: work steps after the screen is drawn

    def perform(effects):
        # the board's perform(): draw what is shown; -> the frame to send, or None
        out = None
        for e in effects:
            if e[0] == "show":
                display.draw(e[1])
            elif e[0] == "send" and out is None:
                out = e[1]
        return out

    frame = perform(t.start())
    memory_policy(display, t.strings)
    gc.collect()
    if _GC[0] is not None:
        # firmware/main.py after the boot: a collection every `low` or `high` bytes allocated by
        # the board's free heap now (the heap beyond the board's not counted), in the x64
        # port's bytes (its objects are FACTOR/1000 times a board's)
        low, limit, high, factor = _GC[0]
        free = gc.mem_free() - _OFFSET[0]
        every = low if free * 1000 // factor < limit else high
        gc.threshold(every * factor // 1000 if every > 0 else -1)
        _GC[1] = [every, every * factor // 1000 if every > 0 else -1, free]
        gc.collect()
    if _MARK[0]:
        _ORDER.append("d")
    for ev in _events(walk):
        loads = _LOADS[0]
        present = _pos_modules()
        prof = _PROF[0]
        if prof is not None:
            prof.take()
        if _MARK[0]:
            time.ticks_cpu()  # a mark: callgrind --dump-before=time_ticks_cpu
        t0 = _us()
        frame = perform(t.handle(ev))
        us = _since(t0)
        if _MARK[0]:
            time.ticks_cpu()
        phases = prof.take() if prof is not None else None
        grown = _pos_modules() - present
        loads = _LOADS[0] - loads + (grown if grown > 0 else 0)
        sends = 0
        reply_us = []
        work_us = []
        work = []
        while True:
            # the flow's work steps (a slip built and printed once the screen before it is
            # drawn), each run as the board's loop runs it, right after: timed on their own
            while frame is None and t.waiting_for() == "work":
                step = t._wait  # ("work",) or ("work", what)
                work.append(step[1] if len(step) > 1 else "print")
                t0 = _us()
                frame = perform(t.work())
                work_us.append(_since(t0))
            if frame is None:
                break
            sends += 1
            reply = w.center.answer(frame)  # the center: another machine, not timed
            t0 = _us()
            frame = perform(t.handle(reply))
            reply_us.append(_since(t0))
        if prof is not None:
            prof.take()  # the work steps' phases are not the key's
        # the board loop's collection once the key's screen is drawn (boards.runner.step):
        # between two marks of its own, what a key pressed meanwhile waits before its own
        if _MARK[0]:
            time.ticks_cpu()
        t0 = _us()
        gc.collect()
        ov = overlay.CACHE
        if ov is not None:
            ov.collected()  # as boards.runner does after its collection (in gc_us)
        gc_us = _since(t0)
        if _MARK[0]:
            time.ticks_cpu()
        if not _MARK[0]:  # (counting instructions: no time to calibrate)
            calib_sample()  # how fast the machine is just now (outside the timing)
        key = ev[1] if ev[0] == "key" else "CARD"
        step = {
            "key": key,
            "us": us,
            "sends": sends,
            "reply_us": reply_us,
            "work_us": work_us,
            "work": work,
            "gc_us": gc_us,
            "loads": loads,
        }
        if phases is not None:
            step["phases"] = phases
        # one line a step, written outside the timing (nothing of the day is kept)
        sys.stdout.write("\x02S:" + json.dumps(step) + "\n")
        if _GC[0] is not None:
            # and its garbage collected, so that the next key starts, as on the board, with
            # the collector's count at 0 (the board's collection above reset it)
            gc.collect()


def read_high(path):
    # -> the file's bytes, placed at the top of the VM's heap. A board's ROMFS image is flash
    # (memory-mapped), not heap: here its bytes must be in the heap, and low in it (where a
    # first allocation goes) each allocation of more than a block would walk the image's
    # blocks in the allocation table looking for a free run (~1,600 table bytes for a 200 KB
    # image on the x64 port) whenever a free hole lies below it. A filler takes the heap's
    # low part while the image is read, then goes.
    import os

    size = os.stat(path)[6]
    gc.collect()
    room = gc.mem_free() - size - 64 * 1024
    filler = bytearray(room) if room > 0 else None
    with open(path, "rb") as f:
        data = f.read()
    del filler
    gc.collect()
    return data


def main(argv):
    tree, rounds = argv[1], int(argv[2])
    here = argv[0][: argv[0].rfind("/")] if "/" in argv[0] else "."
    sys.path[:] = [here, tree, ".frozen"]
    image = None
    for opt in argv[3:]:
        if opt.startswith("board="):
            name, heap = opt[6:].split(":")
            _BOARD[0] = name
            _BOARD[1] = int(heap)
        if opt.startswith("gc="):
            _GC[0] = [int(v) for v in opt[3:].split(":")]
        if opt.startswith("data="):
            _DATA[0] = opt[5:]
        if opt.startswith("romfs="):
            image = opt[6:]
        if opt.startswith("romaddr="):
            # the image in the memory of the process around the VM (unixrom.py), not in the
            # VM's heap: as a board's flash, the collector neither marks nor sweeps it
            import uctypes

            addr, n = opt[8:].split(":")
            _ROM.append(uctypes.bytearray_at(int(addr), int(n)))
            _ROM_IN[0] = False
    if image is not None:
        # the firmware from a ROMFS image, as `posterm flash --romfs` deploys it: mounted at
        # /rom (vfs.VfsRom over the image's bytes, flash on a board), .mpy imported in place;
        # the menus and the font read from there too
        import vfs

        if not _ROM:
            _ROM.append(read_high(image))
        vfs.mount(vfs.VfsRom(memoryview(_ROM[0])), "/rom")
        tree = "/rom"
        sys.path[:] = [here, "/rom", ".frozen"]
    if "marks" in argv[3:]:
        _MARK[0] = True
    if "profile" in argv[3:]:
        import unixprof

        unixprof.install()
        _PROF[0] = unixprof
    from array import array

    # a sample after every event: ~270 events a day (a list grown to thousands of entries
    # took a 32 KB block late in a long run)
    _SAMPLES[0] = array("I", bytes(4 * (rounds * 400 + 16)))
    calib = [calibrate()]
    _CENTER[0] = center_bytes()
    if _MARK[0]:
        # what the bench's own objects (its code, a center; not the board's) add to every
        # collection: one collection with them alone, before the firmware is loaded
        import walk

        c = walk.DayCenter()
        gc.collect()
        _ORDER.append("b")
        time.ticks_cpu()
        gc.collect()
        time.ticks_cpu()
        del c
    gc.collect()
    _OWN[0] = gc.mem_alloc()
    display = board_display(tree)
    count_loads()
    for _ in range(rounds):
        run_day(tree, display)
        from pos import overlaycache as oc

        gc.collect()
        day = {"cached": len(oc.CACHED), "cache": oc.KEEP, "evicted": list(oc.EVICTED),
               "threshold": _GC[1]}
        sys.stdout.write("\x02DAY:" + json.dumps(day) + "\n")
        gc.collect()
        display.invalidate()
        calib.append(calibrate())
    out = {}
    med, worst, kept = full_redraw_us(display)
    out["full_redraw_us"] = med
    out["full_redraw_us_max"] = worst
    out["full_redraw_kept_us"] = kept
    calib.append(calibrate())
    out["calib"] = calib
    arr, n = _SAMPLES
    _sort(arr, n)  # in place: no list of thousands of ints at the end of a long run
    out["calib_samples"] = {
        "n": n,
        "max": arr[n - 1],
        "median": arr[n // 2],
        "min": arr[0],
    }
    out["calib_loops"] = CALIB_SHORT if _MARK[0] else CALIB_LOOPS
    out["bench_own_bytes"] = [len(_SAMPLES[0]) * 4, _CENTER[0]]  # not the board's (above)
    if _MARK[0]:
        out["marks"] = "".join(_ORDER)
    impl = sys.implementation
    out["version"] = ".".join(str(v) for v in impl.version[:3])
    out["machine"] = getattr(impl, "_machine", "")
    sys.stdout.write("\x02KEYS:" + json.dumps(out) + "\n")


main(sys.argv)
