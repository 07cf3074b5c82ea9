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
# A board's memory policy may keep the overlays' modules loaded instead (pos.overlaycache,
# loaded only then: CACHE below; the ESP32 keeps none).
import sys
from pos.compat import IS_MICROPYTHON

ENABLED = IS_MICROPYTHON
CACHE = None  # pos.overlaycache while a board's memory policy keeps a cache


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


def side(m):
    # A side module of the files deploy (posterm.flash.split: functions a board runs once or
    # rarely, moved out of a module it keeps loaded): forgotten as soon as it is imported,
    # so that its bytecode goes when the call ends. -> m
    for name in sys.modules:  # (found by identity: m.__name__ would pin the renamer)
        if sys.modules[name] is m:
            del sys.modules[name]
            _forget_attr(name)
            break
    return m


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
        if CACHE is not None:
            return CACHE.enter(self)
        self.before = loaded() if ENABLED else None
        if ENABLED and self.collect:
            import gc

            gc.collect()
        return self

    def __exit__(self, *exc):
        if CACHE is not None:
            return CACHE.exit(self, exc[0])
        if self.before is not None:
            unload(self.before)
            self.before = None
        return False
