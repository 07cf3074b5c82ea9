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

from boards import boot  # noqa: E402

boot.main()
