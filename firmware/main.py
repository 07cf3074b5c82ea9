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


def _names():
    # Intern every name the firmware uses now, while the heap is empty: /rom/qnames.mpy (in
    # the ROMFS image `posterm flash --romfs` writes: tools/posterm/flash/build.py) is an empty
    # module whose qstr table holds them all, their bytes left in flash. MicroPython never
    # frees a name and keeps them in pools that double in size; interned by the overlays
    # through the day, a pool of 1,280 names (~9 KB on a 32-bit board) was needed in the
    # middle of a transaction, where no such block was left. (A files deploy has none.)
    import sys

    try:
        import qnames  # type: ignore[import-not-found]  # noqa: F401  (made by posterm flash)
    except ImportError:
        return
    del sys.modules["qnames"]


_names()


def _collect_often():
    # The boot's garbage (each module's loading, the profile tables, the files read) is
    # collected as it is made, every 4 KB, so that what the boot keeps lies low and together
    # instead of being spread over the whole heap between garbage collected only when the
    # heap is full (board sim, ESP32 ROMFS: largest free block after boot 4.5 -> ~45 KB).
    import gc

    gc.collect()
    gc.threshold(4096)


_collect_often()


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


board, _time = _boot()
_drop(("boot", "profiles"))  # the drivers are built: the boot code and the pin tables go
if board is not None:
    import gc
    from boards import runner

    gc.collect()
    # a collection after every 32 KB allocated, not only when an allocation fails: the
    # garbage of a stage (a message, a decoded answer, an overlay's objects) is freed before
    # the next one is placed above it, so the free heap stays in larger pieces. With less
    # than 88 KB free after the boot (an ESP32: ~57 KB, a Pico W ~68 KB) every 4 KB: the
    # day's stages then find their blocks among less garbage (board sim, ESP32 profile, full
    # N scans 2026-12-02 06:16-06:20: ROMFS 100,352 -> 97,280, files -> 159,744, a chip
    # purchase from ROMFS 107,520 -> 102,400; 16 KB before that), for more collections in
    # the keys that allocate most. A Pico from ROMFS has ~99 KB free once its memory policy
    # preloaded the day's flows (board sim --heap-report, 2026-12-02: 139,456 B x64 / 1.41;
    # at a 96 KB limit it was 3 KB from every 4 KB, and the latency bench's 84 KB below):
    # the board with the latency goal collects after each key in its loop anyway, and a
    # collection of its heap is ~1.1M instructions (33 ms): every 16 KB put one inside 20 of
    # the day's keys that do not send, every 32 KB inside 2 (the bench's collector model),
    # while its day's worst key still leaves a 79 KB block (92 KB at 16 KB; board sim,
    # Pico profile, ROMFS, at its cap). 88 KB, not 72: the board sim compares its x64 bytes,
    # and an ESP32 there has 80,288 B free after the boot at its cap (~84 KB at the top of
    # the ROMFS scan), so at 72 KB the sim's ESP32 collected every 32 KB, a real one (~57 KB)
    # every 4 KB; a real Pico's ~99 KB stays 11 KB above. With no threshold at all a Pico's
    # key that sends went 15.3M -> 11.0M instructions (464 -> 335 ms) but its worst key's
    # largest free block 79 -> 16 KB (every 64 KB: 13.8M, 65 KB): not taken
    gc.threshold(4096 if gc.mem_free() < 88 * 1024 else 32768)
    runner.run(board, _time)
