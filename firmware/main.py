# posterm on a MicroPython board: finish an interrupted flash, then boot the
# shared core with this board's drivers (boards/boot.py builds them from
# /board.json and the board profile). Ctrl-C in the REPL stops the loop.


# --- commit: `posterm flash` runs this same function before it reads the manifest ---
def _commit():
    # A flash uploads files as X.new, then writes /manifest.new (the new file
    # hashes, the files to rename and to remove) and only then renames. Renames
    # are atomic on littlefs, so redoing them after a power cut is safe.
    import os
    import json

    try:
        with open("/manifest.new") as f:
            m = json.loads(f.read())
    except (OSError, ValueError):
        return False
    for p in m.get("pending", ()):
        try:
            os.rename(p + ".new", p)
        except OSError:
            pass
    for p in m.get("remove", ()):
        try:
            os.remove(p)
        except OSError:
            pass
    os.rename("/manifest.new", "/manifest.json")
    return True


# --- end commit ---


_commit()


def _boot():
    import machine
    import time
    from boards import boot

    return boot.start(machine, time), time


def _drop(names):
    # forget modules that are done with, so that their bytecode (in the heap unless the
    # firmware is in ROMFS or frozen) is freed
    import sys
    import boards

    for name in names:
        if "boards." + name in sys.modules:
            del sys.modules["boards." + name]
        try:
            delattr(boards, name)
        except AttributeError:
            pass


def _intern():
    # Import every core module once and drop it at once. What stays is the names their code
    # uses: MicroPython interns them for good (pools that are never freed), and here, before
    # the terminal's long-lived data, they go to the bottom of the heap instead of landing
    # between the day's data at each overlay's first load (on the board sim a 16 KB pool
    # was allocated in the middle of the first sale).
    import os
    import gc
    import pos
    from pos import overlay

    before = overlay.loaded()

    def walk(pkg, path):
        for name in sorted(os.listdir(path)):
            dot = name.rfind(".")
            if dot < 0:
                if name != "__pycache__":
                    walk(pkg + "." + name, path + "/" + name)
                continue
            mod = name[:dot]
            if name[dot:] not in (".mpy", ".py") or mod.startswith("__") or mod.endswith("_cp"):
                continue  # not a module, a package's own file, or a CPython-only half
            try:
                __import__(pkg + "." + mod)
            except ImportError:
                pass
            overlay.unload(before)
            gc.collect()

    try:
        walk("pos", pos.__path__)
    except (OSError, MemoryError):
        overlay.unload(before)  # a board that cannot list or load them all boots as before
    gc.collect()


_intern()
board, _time = _boot()
_drop(("boot", "profiles"))  # the drivers are built: the boot code and the pin tables go
if board is not None:
    import gc
    from boards import runner

    gc.collect()
    runner.run(board, _time)
