"""The deploy tree: every file the board gets, by its path on the board.

firmware/pos and firmware/boards are compiled to .mpy with mpy-cross (for the board's .mpy
version), main.py stays source (MicroPython runs main.py, never main.mpy), menus/ and the font
files are copied as they are, and /board.json says which board profile to boot."""

import hashlib
import json
import os
import subprocess
import sys
import tempfile

from posterm import paths

# not deployed: test fakes and anything a board does not need
SKIP = ("boards/fakes.py",)


class BuildError(Exception):
    pass


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def mpy_cross_args(mpy_version):
    """mpy-cross options for a board whose sys.implementation._mpy & 0xFF is mpy_version."""
    if mpy_version == 6:
        return []  # v6.3 runs on MicroPython 1.23+ (6.x bytecode is compatible)
    if mpy_version == 5:
        return ["-c", "1.18"]
    raise BuildError(
        f"the board's MicroPython uses .mpy version {mpy_version}; posterm needs MicroPython "
        "1.12 or newer (.mpy 5 or 6): update the board's firmware"
    )


def compile_mpy(source, name, args, cache_dir):
    key = sha256(source + repr(args).encode())[:24]
    out = os.path.join(cache_dir, key + ".mpy")
    if os.path.exists(out):
        with open(out, "rb") as f:
            return f.read()
    src = os.path.join(cache_dir, key + ".py")
    with open(src, "wb") as f:
        f.write(source)
    cmd = [sys.executable, "-m", "mpy_cross", *args, "-s", name, "-o", out, src]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"mpy-cross failed on {name}: {proc.stderr.strip() or proc.stdout}")
    with open(out, "rb") as f:
        return f.read()


def _tree(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            yield os.path.join(dirpath, name)


def deploy_tree(board, mpy_version=6, firmware_dir=None, menus_dir=None, config=None):
    """-> {board path: bytes}. board: a profile name (pico, pico_w, esp32)."""
    firmware_dir = firmware_dir or paths.FIRMWARE_DIR
    menus_dir = menus_dir or paths.MENUS_DIR
    args = mpy_cross_args(mpy_version)
    cache = os.path.join(tempfile.gettempdir(), "posterm-mpy-cache")
    os.makedirs(cache, exist_ok=True)
    out = {}
    for pkg in ("pos", "boards"):
        base = os.path.join(firmware_dir, pkg)
        if not os.path.isdir(base):
            raise BuildError(f"{base} is missing: run posterm flash from a posterm checkout")
        for path in _tree(base):
            rel = os.path.relpath(path, firmware_dir).replace(os.sep, "/")
            if rel in SKIP:
                continue
            with open(path, "rb") as f:
                data = f.read()
            if rel.endswith(".py"):
                out["/" + rel[:-3] + ".mpy"] = compile_mpy(data, rel, args, cache)
            else:
                out["/" + rel] = data
    with open(os.path.join(firmware_dir, "main.py"), "rb") as f:
        out["/main.py"] = f.read()
    for path in _tree(menus_dir):
        rel = os.path.relpath(path, menus_dir).replace(os.sep, "/")
        # the data the core reads: menus, strings, response texts, and the GBK table for text
        # from the center (the issuer's name on the slip: pos.gbk reads menus/gbk.bin)
        if rel.endswith(".json") or rel == "gbk.bin":
            with open(path, "rb") as f:
                out["/menus/" + rel] = f.read()
    # the shipped menu compiled (pos.menubin): a board looks a node up without parsing
    # menu.json at every move in the menu
    if "/menus/menu.json" in out:
        from pos import menubin

        try:
            out["/menus/menu.bin"] = menubin.compile(json.loads(out["/menus/menu.json"]))
        except ValueError as e:
            raise BuildError(f"menus/menu.json: {e}") from e
    cfg = {"board": board}
    cfg.update(config or {})
    out["/board.json"] = json.dumps(cfg, sort_keys=True).encode()
    return out


def commit_source(firmware_dir=None):
    """The roll-forward function from firmware/main.py (one copy of the commit logic)."""
    with open(os.path.join(firmware_dir or paths.FIRMWARE_DIR, "main.py"), encoding="utf-8") as f:
        text = f.read()
    start = text.index("def _commit():")
    end = text.index("# --- end commit ---")
    return text[start:end]
