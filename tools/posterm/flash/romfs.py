"""The ROMFS deploy: the firmware's bytecode, font, menus and strings in a ROMFS image.

A board with a ROM partition (MicroPython 1.25+, rp2 boards built with MICROPY_HW_ROMFS_BYTES,
esp32 with a romfs partition) mounts the image at /rom and imports .mpy from it in place: the
bytecode and its constants stay in flash instead of the heap. The image is built with
mpremote's own writer (mpremote.romfs.VfsRomWriter, the format `mpremote romfs build` makes);
the filesystem keeps only what must be writable or what MicroPython runs from there:
/main.py, /board.json (its "menus" points into /rom) and the terminal's /data.
"""

import json

from mpremote.romfs import VfsRomWriter

ROM = "/rom"
# stays on the filesystem: MicroPython runs /main.py from there, board.json is written by
# the flash, the rest goes into the image
ON_FS = ("/main.py", "/board.json")


def split(tree):
    """deploy tree {board path: bytes} -> (image files {path: bytes}, filesystem files)."""
    image, fs = {}, {}
    for path, data in tree.items():
        (fs if path in ON_FS else image)[path] = data
    if "/board.json" in fs:
        cfg = json.loads(fs["/board.json"])
        cfg["menus"] = ROM + "/menus"
        fs["/board.json"] = json.dumps(cfg, sort_keys=True).encode()
    return image, fs


def build_image(files):
    """{path: bytes} (absolute paths, ASCII names) -> a ROMFS image (bytes)."""
    root = {}
    for path, data in files.items():
        parts = path.strip("/").split("/")
        node = root
        for d in parts[:-1]:
            node = node.setdefault(d, {})
            if not isinstance(node, dict):
                raise ValueError(f"{path}: a file is in the way")
        node[parts[-1]] = bytes(data)
    w = VfsRomWriter()

    def add(node):
        for name in sorted(node):
            item = node[name]
            if isinstance(item, dict):
                w.opendir(name)
                add(item)
                w.closedir()
            else:
                w.mkfile(name, item)

    add(root)
    return w.finalise()


def romfs_deploy(tree):
    """deploy tree -> (ROMFS image bytes, the files for the filesystem)."""
    from posterm.flash.build import names_for_romfs

    image, fs = split(names_for_romfs(tree))
    return build_image(image), fs
