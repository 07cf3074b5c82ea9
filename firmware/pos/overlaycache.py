# The overlay cache: a board's memory policy (boards/profiles.py "memory", applied at boot by
# configure()) for a board with heap to spare (a Pico running from ROMFS, where a module's
# bytecode stays in flash and only its objects take heap). The modules an overlay scope
# (pos.overlay.scope) loaded stay loaded when it ends (CACHED), so the next key that needs
# them loads nothing. The cache gives way whenever the free heap, after a collection, is
# below LOW: a scope that loaded something and ends then forgets what it loaded (as without
# the cache), and at the top (no overlay running, their modules in nobody's hands) every
# cached module is forgotten; a MemoryError ending a scope does the same. The heap is looked
# at (gc.mem_free() walks it) only where something was loaded and after the board loop's
# collection (collected()), never at every scope. This module is
# loaded only when a policy keeps a cache (the ESP32's keeps none: not even this code).
import gc
import sys
from pos import overlay

KEEP = False  # the cache is on (configure())
LOW = 0  # gc.mem_free() below which the cache gives way
CACHED = []  # the modules kept by the scopes that ended (and preloaded), in load order
EVICTED = [0, 0]  # times the cache gave way since configure(): at the top (all), a scope's
_DEPTH = [0]  # scopes running
_SHORT = [False]  # the heap was short at the board loop's last collection (collected())
_FORGOT = [0]  # modules forgotten by the cache (a scope's exit: was anything loaded?)
_DISPLAY = [None, None]  # the display whose drawn rows are kept (configure "screens"), and
# the terminal's strings that keep the day's (configure "strings")


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


def configure(policy, offset=0, display=None, strings=None):
    # A board's memory policy (boards/profiles.py "memory") -> True when the cache is on:
    #   "overlay_cache": "flash"  on when the firmware's bytecode is in flash (ROMFS at /rom,
    #                             or frozen), off when it is loaded from files into the heap
    #                    "always" on;  None: off (no heap to spare)
    #   "keep_free":     LOW, bytes of a 32-bit board's heap (x1.41 on a 64-bit port, whose
    #                    objects are that much larger: posterm.boardsim.sim.X64_FACTOR)
    #   "preload":       bytes (the same way): the day's flows (pos.preload.ORDER) loaded
    #                    now, each while the free heap is above this
    #   "glyphs":        (n, bytes): the display keeps n glyphs (a day draws ~150 different
    #                    characters; boards.display keeps 64 and reads them again from the
    #                    font, ~1,000 reads a day) when this much is free now
    #   "screens":       (frames, rows, bytes[, strings]): pos.screen keeps the screens it
    #                    laid out (two generations of `frames`), the display the rows it
    #                    drew (of `rows`) and pos.text that many strings (8 otherwise) when
    #                    this much is free after the preload; given up whenever the heap is
    #                    short after the board loop's collection
    #   "strings":       bytes: `strings` (the terminal's pos.text.Strings) reads and keeps
    #                    the day's (pos.preload.STRINGS) when this much is free after the
    #                    screens; given up with the screens (read when asked for again)
    # offset: heap this VM has beyond the board's (a bench's own room): added to all of them
    global KEEP, LOW
    mode = policy.get("overlay_cache") if policy else None
    if not overlay.ENABLED or not mode:
        return off()
    f = overlay.__file__
    if mode == "flash" and not (f.startswith("/rom") or f.startswith(".frozen")):
        return off()
    wide = sys.maxsize > 0xFFFFFFFF
    EVICTED[0] = EVICTED[1] = 0
    _SHORT[0] = False
    gc.collect()
    g = policy.get("glyphs")
    if display is not None and g and free() >= offset + _scaled(g[1], wide):
        display.glyph_cap = g[0]
        ready = getattr(display, "open_pages", None)  # the shipped glyphs, turned (boards)
        if ready is not None:
            ready()
    LOW = offset + _scaled(policy.get("keep_free", 0), wide)
    KEEP = True
    overlay.CACHE = sys.modules[__name__]
    stop = offset + _scaled(policy.get("preload") or 0, wide)
    if stop > offset:
        from pos import preload

        names = preload.ORDER
        del preload
        forget("pos.preload")
        for name in names:
            gc.collect()  # the last import's garbage freed: this one's objects fill its holes
            if free() < stop:
                break
            with overlay.scope():
                __import__(name)
        gc.collect()
    g = policy.get("screens")  # after the preload: what is left decides
    if g:
        gc.collect()
        if free() >= offset + _scaled(g[2], wide):
            from pos import screen

            screen.remember(g[0])
            if display is not None and hasattr(display, "row_cap"):
                display.row_cap = g[1]
                _DISPLAY[0] = display
            if len(g) > 3:
                from pos import text

                text.remember(g[3])
    g = policy.get("strings")
    if strings is not None and g:
        gc.collect()
        if free() >= offset + _scaled(g, wide):
            from pos import preload

            keys = preload.STRINGS
            del preload
            forget("pos.preload")
            try:
                strings.preload(keys)
                _DISPLAY[1] = strings
            except MemoryError:
                strings.forget()
            del keys
            gc.collect()
    return True


def collected():
    # the board loop collected after an event (boards.runner): is the heap short now? (a
    # single look at the free heap, outside any key's time; the next action at the top
    # gives the cache up then, the kept screens and rows go now)
    _SHORT[0] = free() < LOW
    if _SHORT[0] and _screens():
        # what they held is collected now, here, not by the next key's look at the heap
        gc.collect()
        _SHORT[0] = free() < LOW


def _screens():
    # the screens and rows kept (pos.screen, the display) given up (they are kept again
    # from the next screen on, while the heap has room) -> True when any were kept
    from pos import screen, text

    kept = screen.forget()
    text.remember(8)  # (back to the few a board keeps without a policy, until configured)
    d = _DISPLAY[0]
    if d is not None and d.forget_rows():
        kept = True
    s = _DISPLAY[1]
    if s is not None and s.forget():
        kept = True
    return kept


def off():
    # no cache (what it kept is forgotten) -> False
    global KEEP
    evict()
    from pos import screen, text

    screen.remember(0)
    text.remember(8)
    d = _DISPLAY[0]
    if d is not None:
        d.forget_rows()
        d.row_cap = 0
        _DISPLAY[0] = None
    s = _DISPLAY[1]
    if s is not None:
        s.forget()
        _DISPLAY[1] = None
    KEEP = False
    overlay.CACHE = None
    return False


def _scaled(n, wide):
    return n * 141 // 100 if wide else n


def forget(name):
    # forget one module (sys.modules and its parent package's attribute)
    if name in sys.modules:
        del sys.modules[name]
        overlay._forget_attr(name)
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


_JUDGED = [-1, -1, -1]  # len(sys.modules), _FORGOT[0] when a scope's exit last looked at the
# heap and kept what it had loaded, and len(sys.modules) at that scope's entry: a scope around
# it that loaded nothing more needs no look of its own (settlement's ENTER ended three scopes
# around the TC upload's import, gc.mem_free() walking the heap at two of them: ~0.87M
# instructions each on the unix port), and when it loaded nothing before that scope began
# either, nothing to keep (_keep's walk of sys.modules against the list before: ~0.2M). Whether
# the heap is short since is the board loop's look after its collection (collected()).
_SNAP = [None, -1, -1]  # overlay.loaded() as it was, at len(sys.modules), _FORGOT[0]


def _loaded():
    # overlay.loaded(), made again only when a module came or went since it was last made:
    # with the day's code loaded, a scope's entry walked sys.modules (~100 names) and built
    # that list at every scope, a few a key. Never changed in place (a new list each time)
    n = len(sys.modules)
    if _SNAP[0] is None or _SNAP[1] != n or _SNAP[2] != _FORGOT[0]:
        _SNAP[0] = None
        _SNAP[0] = overlay.loaded()
        _SNAP[1] = n
        _SNAP[2] = _FORGOT[0]
    return _SNAP[0]


def enter(sc):
    # overlay.scope's __enter__ with the cache on
    if _DEPTH[0] == 0 and _SHORT[0]:
        _SHORT[0] = False
        if CACHED and low():
            evict()  # short of heap at the top: the cache goes before anything loads
    sc.before = _loaded()
    sc.n = len(sys.modules)  # the same at the exit, and nothing forgotten: nothing loaded
    sc.forgot = _FORGOT[0]
    _DEPTH[0] += 1
    if sc.collect:
        gc.collect()
    return sc


def exit(sc, kind):
    # overlay.scope's __exit__ with the cache on -> False (the exception goes on)
    before = sc.before
    if before is None:
        return False
    sc.before = None
    _DEPTH[0] -= 1
    ok = kind is None or not issubclass(kind, MemoryError)
    n = len(sys.modules)
    if ok and n == sc.n and _FORGOT[0] == sc.forgot:
        return False  # nothing loaded inside: nothing to keep or to forget
    judged = n == _JUDGED[0] and _FORGOT[0] == _JUDGED[1]
    if ok and judged and sc.n == _JUDGED[2]:
        return False  # all it loaded was loaded, looked at and kept inside a scope of its own
    if ok and (judged or not low()):
        try:
            _keep(before)
            _JUDGED[0] = n
            _JUDGED[1] = _FORGOT[0]
            _JUDGED[2] = sc.n
            return False
        except MemoryError:
            pass
    overlay.unload(before)
    _FORGOT[0] += n - len(sys.modules)
    EVICTED[1] += 1
    if _DEPTH[0] == 0:
        evict()
    else:
        _prune()
    return False
