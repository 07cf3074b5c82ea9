# `posterm replay --runtime micropython-unix`: the player on the MicroPython unix port.
#
#   micropython -X heapsize=16M tools/posterm/replay/mpmain.py ROOT RECORDING
#
# Prints one line "\x02REPLAY:" + JSON: null when every output matched, else the first
# difference (player.py). The firmware runs from the repository's own files.
import json
import sys


def main(argv):
    root, path = argv[1], argv[2]
    here = root + "/tools/posterm/replay"
    sys.path[:] = [here, root + "/firmware", ".frozen"]
    import player
    from pos.storage import FileStorage

    resources = FileStorage(root + "/menus", readonly=True)
    paper = 32
    try:
        with open(path) as f:
            if json.loads(f.readline()).get("paper") == "80mm":
                paper = 48
    except (OSError, ValueError, AttributeError):
        pass
    escpos = player.escpos_encoder(root + "/firmware/boards/data/gb2312.bin", paper)
    try:
        with open(path) as f:
            d = player.play(f, resources, escpos)
    except Exception as e:  # noqa: BLE001 - reported as the result, not a traceback
        d = {
            "step": 0,
            "line": 0,
            "input": None,
            "what": "error",
            "expected": None,
            "got": "%s: %s" % (type(e).__name__, e),
        }
    sys.stdout.write("\x02REPLAY:" + json.dumps(d) + "\n")


main(sys.argv)
