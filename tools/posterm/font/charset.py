"""Every character the terminal can show or print: printable ASCII, every string in the
menus/ JSON files (menus, strings, response codes, params, lessons), the non-ASCII string
literals of the firmware's own source, and the issuers' names a host sends in 63.2 (the
common ones, issuers.json here, and those of the center's own BINs, host/bins.json)."""

import ast
import json
import os

from posterm import paths

ASCII = "".join(chr(c) for c in range(0x20, 0x7F))


def _strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


_HERE = os.path.dirname(os.path.abspath(__file__))
ISSUERS = os.path.join(_HERE, "issuers.json")
BINS = os.path.join(os.path.dirname(_HERE), "host", "bins.json")


def issuer_names():
    """-> the issuers' names the font must have (issuers.json, then the center's BINs')."""
    with open(ISSUERS, encoding="utf-8") as f:
        names = list(json.load(f)["names"])
    with open(BINS, encoding="utf-8") as f:
        names += [b["issuer"] for b in json.load(f)["bins"] if b.get("issuer")]
    return names


def sources(menus_dir=None, firmware_dir=None):
    """-> {file path: set of characters used}."""
    menus_dir = menus_dir or paths.MENUS_DIR
    firmware_dir = firmware_dir or paths.FIRMWARE_DIR
    out = {}
    for dirpath, _, files in os.walk(menus_dir):
        for name in sorted(files):
            if name.endswith(".json"):
                p = os.path.join(dirpath, name)
                with open(p, encoding="utf-8") as f:
                    out[p] = {ch for s in _strings(json.load(f)) for ch in s}
    for dirpath, dirs, files in os.walk(firmware_dir):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in sorted(files):
            if name.endswith(".py"):
                p = os.path.join(dirpath, name)
                with open(p, encoding="utf-8") as f:
                    tree = ast.parse(f.read(), p)
                chars = set()
                for node in ast.walk(tree):
                    if isinstance(node, ast.Constant) and isinstance(node.value, str):
                        chars.update(ch for ch in node.value if ord(ch) > 0x7E)
                out[p] = chars
    out[ISSUERS] = {ch for name in issuer_names() for ch in name}
    return out


def used(menus_dir=None, firmware_dir=None):
    """-> sorted string of every character needed (control characters left out)."""
    chars = set(ASCII)
    for s in sources(menus_dir, firmware_dir).values():
        chars |= s
    return "".join(sorted(ch for ch in chars if ord(ch) >= 0x20 and ch not in "\x7f"))
