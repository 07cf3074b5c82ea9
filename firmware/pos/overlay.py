# Overlays: code loaded for one piece of work and dropped after it, as firmware on a small
# board does. On MicroPython a module's bytecode lives in the heap (unless it is frozen or
# in ROMFS), so the terminal keeps only the idle loop and the menu resident: every action
# runs as an overlay (pos.actions), and a transaction runs its stages as overlays of their
# own (the exchange with the center, then the receipts), so that the heap holds one
# stage's code at a time. CPython keeps every module (RAM is plentiful there and the next
# use starts at once).
#
# Rules for code run as an overlay: what it returns or leaves in the terminal's state is
# plain data (str, int, bytes, dict, list, tuple), never an object of a class of its own
# (that would keep its module alive), and its exceptions are handled inside it.
import sys
from pos.compat import IS_MICROPYTHON

ENABLED = IS_MICROPYTHON


def loaded():
    return [name for name in sys.modules if name.startswith("pos.")]


def unload(before):
    # Forget the pos.* modules imported since `before` (sys.modules and the parent
    # package's attribute), so that the garbage collector can free them.
    keep = {}
    for name in before:
        keep[name] = True
    for name in loaded():
        if name in keep:
            continue
        del sys.modules[name]
        dot = name.rfind(".")
        parent = sys.modules.get(name[:dot])
        if parent is not None:
            try:
                delattr(parent, name[dot + 1 :])
            except AttributeError:
                pass


def load(module, before):
    # import `module`; short of heap, forget what the failed import left, collect and try
    # once more (a module's bytecode needs a block of its size: a collection often frees one)
    try:
        __import__(module)
    except MemoryError:
        if before is not None:
            unload(before)
        import gc

        gc.collect()
        __import__(module)
    return sys.modules[module]


def call(module, function, *args):
    # module.function(*args) (a plain function) as an overlay -> its result.
    before = loaded() if ENABLED else None
    try:
        return getattr(load(module, before), function)(*args)
    finally:
        if before is not None:
            unload(before)


def run(module, function, *args):
    # Generator: module.function(*args) (a generator function) as an overlay -> its result.
    before = loaded() if ENABLED else None
    gen = None
    try:
        gen = getattr(load(module, before), function)(*args)
        return (yield from gen)
    finally:
        gen = None
        if before is not None:
            unload(before)
