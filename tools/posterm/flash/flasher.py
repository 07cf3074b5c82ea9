"""Flash = compare the board's manifest of file hashes with the deploy tree, upload what
changed under temporary names (each verified by its sha256 on the board), write the new
manifest, then rename everything in one step (firmware/main.py redoes the renames after a
power cut). An interrupted flash leaves the old firmware in place; the next one finishes."""

import json
import sys
import time

from posterm.flash import build
from posterm.flash.device import Board, FlashError

BOARDS = ("pico", "pico_w", "esp32")


class Result:
    def __init__(self):
        self.changed = []
        self.removed = []
        self.bytes_sent = 0
        self.seconds = 0.0
        self.mpy = 0
        self.dry_run = False
        self.romfs_bytes = 0  # the ROMFS image deployed (--romfs)

    def summary(self):
        verb = "would change" if self.dry_run else "changed"
        return (
            f"{len(self.changed)} files {verb}, {len(self.removed)} removed, "
            f"{self.bytes_sent} bytes sent in {self.seconds:.1f} s"
        )


def plan(tree, manifest, full=False):
    """-> (changed paths, removed paths), sorted."""
    old = (manifest or {}).get("files", {}) if not full else {}
    changed = sorted(p for p, data in tree.items() if old.get(p) != build.sha256(data))
    removed = sorted(p for p in (manifest or {}).get("files", {}) if p not in tree)
    return changed, removed


def _dirs(paths):
    out = set()
    for p in paths:
        parts = p.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            out.add("/" + "/".join(parts[:i]))
    return sorted(out, key=lambda d: (d.count("/"), d))


class Progress:
    def __init__(self, total, stream=None, width=30):
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.width = width

    def step(self, nbytes, name):
        self.done += nbytes
        n = self.width * self.done // self.total
        bar = "#" * n + "." * (self.width - n)
        self.stream.write(f"\r[{bar}] {self.done * 100 // self.total:3d}% {name[-28:]:<28}")
        self.stream.flush()

    def end(self):
        self.stream.write("\n")


def detect_board(info):
    """The board profile for a board's info (platform, machine), or None."""
    platform = info.get("platform", "")
    machine = info.get("machine", "")
    if platform == "rp2":
        return "pico_w" if "Pico W" in machine else "pico"
    if platform == "esp32":
        return "esp32"
    return None


def board_for(info, asked):
    """The profile to flash: the one asked for, checked against what the board says it is."""
    seen = detect_board(info)
    what = f"{info.get('platform', '?')} ({info.get('machine') or 'unknown machine'})"
    if asked is None:
        if seen is None:
            raise FlashError(
                f"cannot tell which board this is: {what}",
                "say it with --board " + " or ".join(BOARDS),
            )
        return seen
    if seen is not None and seen.split("_")[0] != asked.split("_")[0]:
        raise FlashError(
            f"the board on this port is {what}, not a {asked}",
            f"use --board {seen} (or leave --board out)",
        )
    return asked


def deploy_romfs_image(port, image):
    """Write a ROMFS image to the board's ROM partition with mpremote's romfs support."""
    import os
    import subprocess
    import sys
    import tempfile

    fd, path = tempfile.mkstemp(suffix=".romfs")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(image)
        proc = subprocess.run(
            [sys.executable, "-m", "mpremote", "connect", port, "romfs", "deploy", path],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.remove(path)
    if proc.returncode != 0:
        why = (proc.stdout + proc.stderr).strip().splitlines()
        raise FlashError(
            "mpremote romfs deploy failed: " + (why[-1] if why else f"exit {proc.returncode}"),
            "check the board's ROM partition size (mpremote romfs query)",
        )


def write_names_map(path, text):
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise FlashError(f"cannot write the names map {path}: {e.strerror}") from None


def flash(
    port,
    board="pico",
    full=False,
    dry_run=False,
    *,
    tree_fn=None,
    progress=True,
    out=print,
    on_file=None,
    reset=True,
    config=None,
    romfs=False,
    romfs_deploy=None,
    rename=True,
    names_map=None,
    lines=False,
):
    """Flash the board on port. romfs: the firmware's .mpy, font, menus and strings go to
    the board's ROM partition as a ROMFS image (`mpremote romfs deploy`, MicroPython 1.25+),
    the filesystem keeps main.py and board.json (romfs_deploy(port, image): tests).
    board None: the profile the board's own answer names (rp2 ->
    pico / pico_w, esp32 -> esp32). tree_fn(mpy_version) -> deploy tree (tests); on_file(path)
    is called after each uploaded file (tests interrupt a flash there). rename: the firmware's
    names shortened by the build (posterm.flash.minify); names_map: a file to write the map
    of the renamed names to (for the board's tracebacks); lines: keep the bytecode's line
    numbers in a files deploy (a ROMFS deploy keeps them: they are in flash there)."""
    if board is not None and board not in BOARDS:
        raise FlashError(f"unknown board {board!r}", "use --board " + " or ".join(BOARDS))
    started = time.monotonic()
    res = Result()
    res.dry_run = dry_run
    dev = Board(port)
    try:
        dev.enter()
        info = dev.info()
        board = board_for(info, board)
        res.mpy = info["mpy"]
        try:
            if tree_fn:
                tree = tree_fn(res.mpy)
            else:
                names = {}
                tree = build.deploy_tree(
                    board,
                    res.mpy,
                    config=config,
                    rename=rename,
                    names_map=names,
                    lines=lines or romfs,
                    split=not romfs,
                )
                if names_map:
                    from posterm.flash import minify

                    write_names_map(names_map, minify.format_map(names, lines or romfs))
        except build.BuildError as e:
            raise FlashError(str(e)) from None
        version = ".".join(str(v) for v in info["version"][:3])
        out(f"board on {port}: MicroPython {version} ({info['platform']}), .mpy v{res.mpy}")
        image = None
        if romfs:
            from posterm.flash import romfs as romfs_mod

            if not dev.has_romfs():
                raise FlashError(
                    f"the board's MicroPython {version} has no ROMFS (vfs.rom_ioctl)",
                    "ROMFS needs MicroPython 1.25+ built with a ROM partition (rp2: "
                    "MICROPY_HW_ROMFS_BYTES; esp32: a romfs partition); flash without --romfs",
                )
            image, tree = romfs_mod.romfs_deploy(tree)
            res.romfs_bytes = len(image)
        res.changed, res.removed = plan(tree, info.get("manifest"), full)
        if dry_run:
            if image is not None:
                out(f"  would deploy a ROMFS image of {len(image)} bytes (mpremote romfs)")
            for p in res.changed:
                out(f"  would send   {p} ({len(tree[p])} bytes)")
            for p in res.removed:
                out(f"  would remove {p}")
            res.bytes_sent = sum(len(tree[p]) for p in res.changed)
            return res
        if image is not None:
            # the image first: until the filesystem's old modules are removed (the manifest
            # switch below) they come first on sys.path, so the old firmware keeps running
            dev.close()
            (romfs_deploy or deploy_romfs_image)(port, image)
            out(f"ROMFS image deployed: {len(image)} bytes")
            dev = Board(port)
            dev.enter()
        if not res.changed and not res.removed:
            out("up to date")
            return res
        dev.mkdirs(_dirs(res.changed))
        bar = Progress(sum(len(tree[p]) for p in res.changed)) if progress else None
        for p in res.changed:
            dev.write_verified(p + ".new", tree[p], build.sha256(tree[p]))
            if bar:
                bar.step(len(tree[p]), p)
            if on_file:
                on_file(p)
        if bar:
            bar.end()
        manifest = {
            "files": {p: build.sha256(d) for p, d in sorted(tree.items())},
            "pending": res.changed,
            "remove": res.removed,
        }
        data = json.dumps(manifest, sort_keys=True).encode()
        dev.write_verified("/manifest.tmp", data, build.sha256(data))
        dev.commit()
        res.bytes_sent = dev.bytes_sent
        if reset:
            dev.reset()
        return res
    finally:
        res.seconds = time.monotonic() - started
        dev.close()
