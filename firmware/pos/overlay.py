# Overlays: code loaded for one piece of work and dropped after it, as firmware on a small
# board does. On MicroPython a module's bytecode lives in the heap (unless it is frozen or
# in ROMFS), so the terminal keeps only the idle loop and the menu resident: every action
# runs as an overlay (pos.actions), and a transaction runs its stages as overlays of their
# own (the exchange with the center, then the receipts), so that the heap holds one
# stage's code at a time. CPython keeps every module (RAM is plentiful there and the next
# use starts at once).
#
# An overlay is a block `with overlay.scope():` that imports what it runs (see scope).
# Rules for code run as an overlay: what it returns or leaves in the terminal's state is
# plain data (str, int, bytes, dict, list, tuple), never an object of a class of its own
# (that would keep its module alive), and its exceptions are handled inside it. A name
# the block imports is deleted before the block ends (or the block returns): a local
# would keep the module, and its bytecode, alive (tests/test_overlay_imports.py).
#
# The overlay cache (a board's memory policy: boards/profiles.py "memory", applied at boot by
# configure()): on a board with heap to spare (a Pico running from ROMFS, where a module's
# bytecode stays in flash and only its objects take heap), the modules a scope loaded stay
# loaded when it ends (CACHED), so the next key that needs them loads nothing. The cache
# gives way whenever the free heap, after a collection, is below LOW: a scope that ends then
# forgets what it loaded (as without the cache), and at the top (no overlay running, its
# modules in nobody's hands) every cached module is forgotten; a MemoryError does the same.
# Off on the ESP32 profile (and CPython keeps every module anyway).
import gc
import sys
from pos.compat import IS_MICROPYTHON

ENABLED = IS_MICROPYTHON
KEEP = False  # the cache is on (configure())
LOW = 0  # gc.mem_free() below which the cache gives way
CACHED = []  # the modules kept by the scopes that ended (and preloaded), in load order
_DEPTH = [0]  # scopes running
EVICTED = [0, 0]  # times the cache gave way: at the top (all), a scope's own modules
_FORGOT = [0]  # modules forgotten so far (a scope's exit: was anything loaded inside it?)


def free():
    # the free heap (MicroPython; CPython has no such figure: plenty)
    f = getattr(gc, "mem_free", None)
    return f() if f is not None else 1 << 30


def low():
    # the free heap is below LOW even after a collection
    if free() >= LOW:
        return False
    gc.collect()
    return free() < LOW


def configure(policy, offset=0):
    # A board's memory policy (boards/profiles.py "memory") -> True when the cache is on:
    #   "overlay_cache": "flash"  on when the firmware's bytecode is in flash (ROMFS at /rom,
    #                             or frozen), off when it is loaded from files into the heap
    #                    "always" on;  None: off (the ESP32: no heap to spare)
    #   "keep_free":     LOW, bytes of a 32-bit board's heap (x1.41 on a 64-bit port, whose
    #                    objects are that much larger: posterm.boardsim.sim.X64_FACTOR)
    #   "preload":       bytes (the same way): the day's flows (pos.preload.ORDER) loaded
    #                    now, each while the free heap is above this
    # offset: heap this VM has beyond the board's (a bench's own room): added to both
    global KEEP, LOW
    mode = policy.get("overlay_cache") if policy else None
    if not ENABLED or not mode:
        return False
    if mode == "flash" and not (__file__.startswith("/rom") or __file__.startswith(".frozen")):
        return False
    wide = sys.maxsize > 0xFFFFFFFF
    LOW = offset + _scaled(policy.get("keep_free", 0), wide)
    KEEP = True
    stop = offset + _scaled(policy.get("preload") or 0, wide)
    if stop > offset:
        from pos import preload

        names = preload.ORDER
        del preload
        forget("pos.preload")
        for name in names:
            if free() < stop:
                gc.collect()
                if free() < stop:
                    break
            with scope():
                __import__(name)
    return True


def _scaled(n, wide):
    return n * 141 // 100 if wide else n


def forget(name):
    # forget one module (sys.modules and its parent package's attribute)
    if name in sys.modules:
        del sys.modules[name]
        _forget_attr(name)
        _FORGOT[0] += 1


def evict():
    # forget every cached module (at the top: no overlay is running)
    if CACHED:
        EVICTED[0] += 1
    for name in CACHED:
        forget(name)
    del CACHED[:]


def _keep(before):
    # the modules loaded since `before` join the cache
    for n in sys.modules:
        if n.startswith("pos.") and n not in before and n not in CACHED:
            CACHED.append(n)


def _prune():
    # cached names whose module a scope forgot (in place: allocates nothing)
    i = 0
    while i < len(CACHED):
        if CACHED[i] in sys.modules:
            i += 1
        else:
            CACHED.pop(i)


def loaded():
    return [name for name in sys.modules if name.startswith("pos.")]


def unload(before):
    # Forget the pos.* modules imported since `before` (sys.modules and the parent
    # package's attribute), so that the garbage collector can free them. Allocates
    # nothing (no list, no sliced name): it runs when an overlay ends, often because the
    # heap ran out, and a MemoryError here would leave the overlay's modules loaded.
    while True:
        name = None
        for n in sys.modules:
            if n.startswith("pos.") and n not in before:
                name = n
                break
        if name is None:
            return
        del sys.modules[name]
        _forget_attr(name)
        _FORGOT[0] += 1


def _forget_attr(name):
    # delete the module's attribute from its parent package (pos.flows.online: "online"
    # from pos.flows), finding both names among the existing strings
    dot = name.rfind(".")
    parent = None
    for n in sys.modules:
        if len(n) == dot and name.startswith(n):
            parent = sys.modules[n]
            break
    if parent is None:
        return
    tail = len(name) - dot - 1
    d = parent.__dict__
    for a in d:
        if type(a) is str and len(a) == tail and name.endswith(a):
            try:
                delattr(parent, a)
            except AttributeError:
                pass
            return


class scope:
    # A block of code run as an overlay: the pos.* modules imported inside it are forgotten
    # when it ends (on a board), so their bytecode can be freed. Overlays are addressed by
    # import, never by strings, so a rename fails at import time and tools can follow the
    # calls (tests/test_overlay_imports.py):
    #
    #     with overlay.scope():
    #         from pos.flows import online
    #         reply = yield from online.send(t, title, kind, msg)
    #         del online   # unless the block returns: a local would keep the module alive
    #
    # (A MemoryError inside the block, an import short of heap included, ends the block
    # like any other error: what it loaded is forgotten, the caller reports 内存不足;
    # MicroPython's allocator has already collected once before it raises.)
    def __init__(self, collect=False):
        # collect: a collection before the block loads anything (the previous stage's
        # garbage freed first, so that this stage's code is placed low and together). Costs
        # a collection's time (~0.3 ms on the unix port, ~40 ms on a Pico): only for the
        # stages that load the most where a board has the least (the chip card's end)
        self.collect = collect

    def __enter__(self):
        if not ENABLED:
            self.before = None
            return self
        if KEEP and _DEPTH[0] == 0 and CACHED and low():
            evict()  # short of heap at the top: the cache goes before anything loads
        self.before = loaded()
        self.n = len(sys.modules)  # the same at the exit, and nothing forgotten: no load
        self.forgot = _FORGOT[0]
        _DEPTH[0] += 1
        if self.collect:
            gc.collect()
        return self

    def __exit__(self, kind, *exc):
        before = self.before
        if before is None:
            return False
        self.before = None
        _DEPTH[0] -= 1
        ok = kind is None or not issubclass(kind, MemoryError)
        if KEEP and ok and len(sys.modules) == self.n and _FORGOT[0] == self.forgot:
            return False  # nothing loaded inside: nothing to keep or to forget
        if KEEP and ok and not low():
            try:
                _keep(before)
                return False
            except MemoryError:
                pass
        unload(before)
        if KEEP:
            EVICTED[1] += 1
            if _DEPTH[0] == 0:
                evict()
            else:
                _prune()
        return False
