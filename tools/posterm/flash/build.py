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
import threading

from posterm import paths

# not deployed: test fakes and anything a board does not need
# not deployed: the tests' fake machine; the virtual chip card and its cryptography (a
# board's chip card is in its reader: on a dev board the bridge's, whose deck card answers
# the board's APDUs over the link, boards.cardlink; ~40 names and 9.7 KB of x64 heap the
# card took in the terminal's while it was read)
SKIP = ("boards/fakes.py", "pos/emv/card.py", "pos/emv/crypto.py")


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
    key = sha256(source + repr((args, name)).encode())[:24]
    out = os.path.join(cache_dir, key + ".mpy")
    if os.path.exists(out):
        with open(out, "rb") as f:
            return f.read()
    # the cache is shared by every process on the machine (tests and benches build at once):
    # each build writes under names of its own and renames into place, so that another
    # process never reads a half-written source or .mpy (mpy-cross once failed on a
    # SyntaxError reading a source another process was writing)
    tmp = "%s.%d.%d" % (key, os.getpid(), threading.get_ident())
    src = os.path.join(cache_dir, tmp + ".py")
    part = os.path.join(cache_dir, tmp + ".mpy")
    with open(src, "wb") as f:
        f.write(source)
    try:
        cmd = [sys.executable, "-m", "mpy_cross", *args, "-s", name, "-o", part, src]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise BuildError(f"mpy-cross failed on {name}: {proc.stderr.strip() or proc.stdout}")
        with open(part, "rb") as f:
            data = f.read()
        os.replace(part, out)
    finally:
        for path in (src, part):
            try:
                os.remove(path)
            except OSError:
                pass
    return data


# Interned names (qstrs) are never freed, and MicroPython keeps them in pools that double in
# size: the 7th pool a firmware's names need is one block of 1,280 entries (14 KB on the x64
# unix port, ~9 KB on a 32-bit board), taken when the 1,269th name is interned. With the
# modules loaded as overlays through the day, that happened mid-transaction (a chip card
# read), between the day's other objects, when no 14 KB block was left. The ROMFS image
# therefore holds /qnames.mpy, which main.py imports first, while the heap is empty: a module
# that does nothing, whose qstr table lists every name of every module deployed, so that all
# the pools are made at boot, at the bottom of the heap, and no later load interns anything.
# From ROMFS the names' bytes stay in the image (MicroPython 1.25+ interns a ROM .mpy's names
# in place); only the pools' entries are heap. (Not in the files deploy: see names_for_romfs.)
# With the renamer's names and no character taken out of a str on the board (a character
# taken out, s[i] or `for ch in s`, or made by chr(), is interned as a name: the screens,
# slips and GBK texts read code points from the UTF-8 instead), the firmware's names fit
# the 6 pools of 1,260 (board sim, ESP32, ROMFS: 1,233 with the sim's 229), so the 7th
# pool's 14 KB block is never made; the names module holds no characters of the data (it
# held the ~330 the screens could take out: 1,611 names at boot, 7 pools).
NAMES_PATH = "/qnames.mpy"
# modules a board never imports: their names would only fill the pools. The CPython halves;
# the desktop's storage (pos.memstorage: tests, replays, benches), the script-token parser
# (pos.keytokens: a board's keys come from its keypad), the strings index's builder
# (pos.textindex: posterm flash writes the .idx), the CPython codec's field table
# (pos.cupspec) and the pure Python CRC-32 (pos.crc32py: for a port without binascii.crc32).
# (The menu's compiler, pos.menubin, is a board's since it compiles a downloaded menu.) They are
# still deployed: a desktop tool running the deploy (the key-latency bench) may import them,
# and then interns their names as it does.
NAMES_SKIP = (
    "_cp.mpy",
    "/pos/memstorage.mpy",
    "/pos/keytokens.mpy",
    "/pos/textindex.mpy",
    "/pos/cupspec.mpy",
    "/pos/crc32py.mpy",
)


def _vuint(b, i):
    v = 0
    while True:
        c = b[i]
        i += 1
        v = (v << 7) | (c & 0x7F)
        if not c & 0x80:
            return v, i


def _put_vuint(v):
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.append(0x80 | (v & 0x7F))
        v >>= 7
    return bytes(reversed(out))


def mpy_qstrs(mpy):
    """An .mpy's (version 6) qstr table -> ([entry], index after it), each entry the name's
    bytes or, for a static qstr (one of the firmware's own), its index as an int; None for
    another .mpy version."""
    if len(mpy) < 4 or mpy[0] != ord("M") or mpy[1] != 6:
        return None
    n, i = _vuint(mpy, 4)
    _, i = _vuint(mpy, i)
    out = []
    for _ in range(n):
        v, i = _vuint(mpy, i)
        if v & 1:
            out.append(v >> 1)
            continue
        k = v >> 1
        out.append(bytes(mpy[i : i + k]))
        i += k + 1
    return out, i


def mpy_names(mpy):
    """The names an .mpy (version 6) interns when it is loaded: its qstr table, less the
    static ones (the firmware's own: in the firmware, never interned). -> [bytes] or None
    for another .mpy version."""
    table = mpy_qstrs(mpy)
    if table is None:
        return None
    return [q for q in table[0] if not isinstance(q, int)]


def names_module(tree, args, cache_dir, file_prefix=""):
    """-> the .mpy of an empty module whose qstr table also holds every name the deployed
    modules intern (see NAMES_PATH), or None (an .mpy version without a qstr table).
    file_prefix: where the modules are imported from, for their __file__ names ("": the
    filesystem, "pos/ui.mpy"; "/rom/": a ROMFS image)."""
    seen = {}
    for path in sorted(tree):
        if not path.endswith(".mpy") or path.endswith(NAMES_SKIP) or path == NAMES_PATH:
            continue
        names = mpy_names(tree[path])
        if names is None:
            return None
        for name in names:
            seen.setdefault(name, None)
        # interned when the module is imported: its dotted name, its name in its package,
        # its __file__
        dotted = path[1:-4].replace("/", ".")
        if dotted.endswith(".__init__"):
            dotted = dotted[:-9]
        seen.setdefault(dotted.encode(), None)
        seen.setdefault(dotted[dotted.rfind(".") + 1 :].encode(), None)
        for i, ch in enumerate(dotted):
            if ch == ".":  # its packages (with or without an __init__) and their names in
                # theirs ("emv" of pos.emv: interned by the package's first import)
                seen.setdefault(dotted[:i].encode(), None)
                seen.setdefault(dotted[dotted.rfind(".", 0, i) + 1 : i].encode(), None)
        seen.setdefault((file_prefix + path[1:]).encode(), None)
    empty = compile_mpy(b"", "qnames.py", args, cache_dir)
    if mpy_names(empty) is None:
        return None
    n, i = _vuint(empty, 4)
    start = i  # the qstr count is followed by the object count, then the qstrs
    _, i = _vuint(empty, i)
    for _ in range(n):
        v, i = _vuint(empty, i)
        if not v & 1:
            i += (v >> 1) + 1
    own = set(mpy_names(empty))
    extra = [name for name in seen if name not in own]
    table = b"".join(_put_vuint(len(name) << 1) + name + b"\0" for name in extra)
    head = empty[:4] + _put_vuint(n + len(extra)) + empty[start:i]
    return head + table + empty[i:]


def names_for_romfs(tree):
    """The deploy tree with the names module for modules imported from a ROMFS image (only
    there: from a ROMFS image the names' bytes stay in flash, and the pools are made at
    boot; on a filesystem every name of every module, used that day or not, would be copied
    into the heap at boot: the files deploy needed ~10 KB more, board sim, x64)."""
    cache = os.path.join(tempfile.gettempdir(), "posterm-mpy-cache")
    os.makedirs(cache, exist_ok=True)
    out = dict(tree)
    names = names_module(tree, mpy_cross_args(6), cache, "/rom/")
    if names is not None:
        out[NAMES_PATH] = names
    return out


def _tree(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            yield os.path.join(dirpath, name)


# mpy-cross -O3: no line numbers in the bytecode (-O1 and up also drop asserts; the firmware
# has none, and no docstring is ever kept). From files a module's bytecode is in the heap
# while it is loaded: the line tables are ~6 % of the firmware's .mpy (192 -> 181 KB), ~3 KB
# of heap at the day's worst key (board sim, pico cap, files). From ROMFS they cost flash
# only, so the ROMFS deploy keeps them. A traceback then shows a function (by its source
# name with the names map) without its line.
NO_LINES = ["-O3"]


def source_name(rel):
    """The source name a module's .mpy carries (tracebacks' File "..."): its dotted module
    name ("pos/ui.py" -> "pos.ui"), a name the import interns anyway; the file's path would
    be one more name per module (~110)."""
    dotted = rel[:-3].replace("/", ".")
    return dotted[: -len(".__init__")] if dotted.endswith(".__init__") else dotted


# code that runs next to a deployed firmware without being renamed (posterm.flash.minify
# pins the names it can reach the firmware by). VM_SIDE runs in the same MicroPython as the
# firmware (the board's main.py, the fake machine, the board sim's VM side, the key-latency
# bench's scripts): its attributes, keywords, imports and strings are pinned. BESIDE drives a
# deployed firmware from the desktop: only through strings (REPL snippets, scripts), whose
# words are pinned. Paths relative to the repository.
VM_SIDE = (
    "firmware/main.py",
    "firmware/boards/fakes.py",
    "tools/posterm/boardsim/simside.py",
    "tools/posterm/bench/unixkeys.py",
    "tools/posterm/bench/walk.py",
    "tools/posterm/bench/scriptcenter.py",
    "tools/posterm/bench/unixprof.py",
)
BESIDE = (
    "tools/posterm/boardsim/*.py",
    "tools/posterm/flash/*.py",
    "tools/posterm/flash/*.mjs",
    "tools/posterm/bench/*.py",
    "tests/test_board*.py",
    "tests/test_chip_board.py",
    "tests/test_flash*.py",
    "tests/test_keylatency_bench.py",
    "tests/test_recordings.py",
)
BESIDE_SKIP = ("minify.py", "test_flash_minify.py")  # the renamer and its tests (by the map)


def _beside_texts(firmware_dir):
    """-> [(file name, text, vm side)]."""
    import glob

    root = os.path.dirname(os.path.abspath(firmware_dir))
    out = []
    seen = set()
    for patterns, vm in ((VM_SIDE, True), (BESIDE, False)):
        for pattern in patterns:
            for path in sorted(glob.glob(os.path.join(root, pattern))):
                if os.path.basename(path) in BESIDE_SKIP or path in seen:
                    continue
                seen.add(path)
                with open(path, encoding="utf-8", errors="replace") as f:
                    out.append((os.path.basename(path), f.read(), vm))
    return out


def _data_words(menus_dir):
    # the data files' strings that are names (a name the firmware could look up by them)
    import re

    words = set()
    for path in _tree(menus_dir):
        if path.endswith(".json"):
            with open(path, encoding="utf-8", errors="replace") as f:
                words.update(re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"', f.read()))
    return words


_RENAMED = {}  # one renaming per set of sources in a process (the bench builds ~80 trees)
_RENAMING = threading.Lock()


def renamed_sources(sources, firmware_dir, menus_dir, args, cache, split=False):
    """{rel: source} -> posterm.flash.minify.Result for the firmware as it is now.
    split: the boot and rare functions moved to side modules (posterm.flash.split)."""

    key = sha256(b"".join(rel.encode() + b"\0" + src for rel, src in sorted(sources.items())))
    key += repr(args) + repr(split)
    with _RENAMING:  # one renaming at a time: the bench's scans build from two threads, and
        return _renamed(key, sources, firmware_dir, menus_dir, args, cache, split)  # ast


def _split(sources):
    from posterm.flash import split

    try:
        return split.split(sources)[0]
    except (SyntaxError, split.SplitError) as e:
        raise BuildError(f"splitting the firmware's boot and rare functions out: {e}") from e


def _renamed(key, sources, firmware_dir, menus_dir, args, cache, split=False):
    from posterm.flash import minify

    if key not in _RENAMED:
        beside = _beside_texts(firmware_dir)
        data = _data_words(menus_dir)
        try:
            # the functions nothing on a board calls are left out first (minify.drop_unused)
            sources, dropped = minify.drop_unused(sources, beside, data)
            if split:
                sources = _split(sources)
            qstrs = {}
            for rel, src in sources.items():
                names = mpy_names(compile_mpy(src, source_name(rel), args, cache))
                qstrs[rel] = None if names is None else {n.decode() for n in names}
            _RENAMED[key] = minify.minify(sources, beside=beside, data_words=data, qstrs=qstrs)
            _RENAMED[key].dropped = dropped
        except (SyntaxError, minify.MinifyError) as e:
            raise BuildError(f"renaming the firmware's names: {e}") from e
    return _RENAMED[key]


def deploy_tree(
    board,
    mpy_version=6,
    firmware_dir=None,
    menus_dir=None,
    config=None,
    rename=True,
    names_map=None,
    lines=True,
    split=False,
):
    """-> {board path: bytes}. board: a profile name (pico, pico_w, esp32).
    rename: the firmware's names shortened and shared (posterm.flash.minify); names_map: a
    dict that gets {module rel: {new name: source name}} of the renaming; lines: keep the
    line numbers in the bytecode (NO_LINES); split: the functions a board runs once or
    rarely moved out of the modules it keeps loaded (posterm.flash.split: a files deploy's,
    where bytecode is in the heap; not a ROMFS image's)."""
    firmware_dir = firmware_dir or paths.FIRMWARE_DIR
    menus_dir = menus_dir or paths.MENUS_DIR
    args = mpy_cross_args(mpy_version)
    if not lines:
        args = args + NO_LINES
    cache = os.path.join(tempfile.gettempdir(), "posterm-mpy-cache")
    os.makedirs(cache, exist_ok=True)
    out = {}
    sources = {}
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
            if rel.endswith("/__init__.py") and _empty(data):
                # a package of comments: not deployed (MicroPython imports a directory
                # without __init__ as a namespace package; its .mpy would cost the names of
                # its __file__ and the bytes of a module)
                continue
            if rel.endswith(".py"):
                sources[rel] = data
            else:
                out["/" + rel] = data
    if rename:
        res = renamed_sources(sources, firmware_dir, menus_dir, args, cache, split)
        sources = res.sources
        if names_map is not None:
            names_map.update(res.modules)
    elif split:
        sources = _split(sources)
    for rel, data in sources.items():
        out["/" + rel[:-3] + ".mpy"] = compile_mpy(data, source_name(rel), args, cache)
    with open(os.path.join(firmware_dir, "main.py"), "rb") as f:
        out["/main.py"] = f.read()
    for path in _tree(menus_dir):
        rel = os.path.relpath(path, menus_dir).replace(os.sep, "/")
        # the data the core reads: menus, strings, response texts, and the GBK table for text
        # from the center (the issuer's name on the slip: pos.gbk reads menus/gbk.bin)
        if rel.endswith(".json") or rel == "gbk.bin":
            with open(path, "rb") as f:
                out["/menus/" + rel] = f.read()
            if rel.startswith("strings_") and "/" not in rel:
                # the strings file's index, built here instead of at every boot (pos.text)
                from pos.text import pack_index

                out["/menus/" + rel[:-5] + ".idx"] = pack_index(out["/menus/" + rel])
    # the shipped menu compiled (pos.menubin): a board looks a node up without parsing
    # menu.json at every move in the menu
    if "/menus/menu.json" in out:
        from pos import menubin

        try:
            out["/menus/menu.bin"] = menubin.compile(json.loads(out["/menus/menu.json"]))
        except ValueError as e:
            raise BuildError(f"menus/menu.json: {e}") from e
    # the shipped texts' glyphs in the SSD1306's own layout (posterm.flash.pages)
    if "/boards/data/font16.bin" in out:
        from posterm.flash import pages

        texts = [
            v
            for k, v in out.items()
            if k.startswith("/menus/")
            and k.endswith(".json")
            and (k.startswith("/menus/strings_") or k == "/menus/menu.json")
        ]
        out["/boards/data/pages16.bin"] = pages.build(out["/boards/data/font16.bin"], texts)
    cfg = {"board": board}
    cfg.update(config or {})
    out["/board.json"] = json.dumps(cfg, sort_keys=True).encode()
    return out


def _empty(source):
    import ast

    try:
        return not ast.parse(source).body
    except SyntaxError:
        return False


def commit_source(firmware_dir=None):
    """The roll-forward function from firmware/main.py (one copy of the commit logic)."""
    with open(os.path.join(firmware_dir or paths.FIRMWARE_DIR, "main.py"), encoding="utf-8") as f:
        text = f.read()
    start = text.index("def _commit():")
    end = text.index("# --- end commit ---")
    return text[start:end]
