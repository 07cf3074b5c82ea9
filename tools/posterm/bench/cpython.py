"""The CPython figures of `posterm bench`: codec and DES against their peers, key latency
over the recorded walkthrough, display bytes per key, mpy-cross size."""

import os
import tempfile
import time

from posterm.bench import display, frames, scriptcenter, walk

_FIRMWARE = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "firmware"))
_MENUS = os.path.normpath(os.path.join(_FIRMWARE, "..", "menus"))


def best_rate(fn, items, repeat):
    # Items per second of the fastest of `repeat` runs of fn() (which handles `items`).
    best = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        if best is None or dt < best:
            best = dt
    return items / best


# -- codec ---------------------------------------------------------------------------------
def codec(n, repeat):
    from pos import iso8583

    msgs = [iso8583.decode(b) for b in frames.bodies()]
    enc = iso8583.encode
    dec = iso8583.decode

    def ours():
        for _ in range(n):
            for m in msgs:
                dec(enc(m))

    out = {"codec_msgs_per_s": best_rate(ours, 2 * n, repeat)}
    try:
        import iso8583 as pyiso
    except ImportError:
        out["codec_ratio_vs_pyiso8583"] = None
        out["_note_codec"] = "pyiso8583 is not installed (pip install -e '.[test]')"
        return out
    spec = frames.pyiso_spec()
    docs = [frames.to_pyiso(m) for m in msgs]
    for d, b in zip(docs, frames.bodies(), strict=True):
        raw, _ = pyiso.encode(dict(d), spec)
        if bytes(raw) != b:
            raise RuntimeError("pyiso8583 spec does not reproduce the reference frame")
    penc = pyiso.encode
    pdec = pyiso.decode

    def theirs():
        for _ in range(n):
            for d in docs:
                raw, _ = penc(d, spec)
                pdec(raw, spec)

    out["pyiso8583_msgs_per_s"] = best_rate(theirs, 2 * n, repeat)
    out["codec_ratio_vs_pyiso8583"] = out["codec_msgs_per_s"] / out["pyiso8583_msgs_per_s"]
    return out


# -- DES -----------------------------------------------------------------------------------
KEY16 = scriptcenter.PIK
BLOCK = bytes.fromhex("0612142000000001")


def des(n, repeat):
    from pos.des import DesKey

    key = DesKey(KEY16)

    def ours():
        b = BLOCK
        for _ in range(n):
            b = key.encrypt_block(b)

    out = {"des_blocks_per_s": best_rate(ours, n, repeat)}
    try:
        import pyDes
    except ImportError:
        out["des_ratio_vs_pydes"] = None
        out["_note_pydes"] = "pyDes is not installed (pip install -e '.[test]')"
    else:
        k = pyDes.triple_des(KEY16, pyDes.ECB)
        m = max(20, n // 20)  # pyDes is slow: fewer blocks, same per-block rate

        def pydes():
            b = BLOCK
            for _ in range(m):
                b = k.encrypt(b)

        if k.encrypt(BLOCK) != key.encrypt_block(BLOCK):
            raise RuntimeError("pyDes and our 3DES disagree")
        out["pydes_blocks_per_s"] = best_rate(pydes, m, repeat)
        out["des_ratio_vs_pydes"] = out["des_blocks_per_s"] / out["pydes_blocks_per_s"]
    try:
        from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
        from cryptography.hazmat.primitives.ciphers import Cipher, modes
    except ImportError:
        out["des_ratio_vs_cryptography"] = None
        out["_note_cryptography"] = "cryptography is not installed (pip install -e '.[test]')"
    else:
        # the same two-key EDE as K1 K2 K1 (cryptography deprecates 16-byte keys)
        enc = Cipher(TripleDES(KEY16 + KEY16[:8]), modes.ECB()).encryptor()
        if enc.update(BLOCK) != key.encrypt_block(BLOCK):
            raise RuntimeError("cryptography and our 3DES disagree")

        def native():
            b = BLOCK
            upd = enc.update
            for _ in range(n):
                b = upd(b)

        out["cryptography_blocks_per_s"] = best_rate(native, n, repeat)
        native_rate = out["cryptography_blocks_per_s"]
        out["des_ratio_vs_cryptography"] = out["des_blocks_per_s"] / native_rate
    return out


# -- the walkthrough: key latency and display bytes ------------------------------------------
def p99(values):
    v = sorted(values)
    if not v:
        return None
    return v[min(len(v) - 1, int(len(v) * 0.99))]


def walkthrough(settle, rounds):
    # Key latency p99 over `rounds` runs of the cashier's day (walk.parts), a fresh terminal
    # each: the time of Terminal.handle() for each key event (the center answers outside
    # the timed part).
    from pos.memstorage import MemoryStorage
    from pos.storage import FileStorage

    lat = []
    perf = time.perf_counter_ns
    evs = walk.day_events(settle)
    for _ in range(rounds):
        w = walk.Walk(MemoryStorage(), FileStorage(_MENUS, readonly=True))
        w.start()
        for ev in evs:
            t0 = perf()
            eff = w.handle(ev)
            dt = perf() - t0
            w.after(eff)
            if ev[0] == "key":
                lat.append(dt / 1e6)
    keys = sum(1 for ev in evs if ev[0] == "key")
    return {
        "key_latency_p99_ms_cpython": p99(lat),
        "key_latency_max_ms_cpython": max(lat),
        "walk_keys": keys,
        "walk_events": len(evs),
        "walk_sends": w.sends,
        "walk_journal": len(w.t.journal.entries()),
    }


def display_ratio(settle):
    # Bytes the board's display driver writes to the panel's bus per key press (frames
    # caused by the key and by the center's answers to it), over the bytes of a full frame,
    # over the same cashier's day as the latency (every key counts).
    from pos.memstorage import MemoryStorage
    from pos.storage import FileStorage

    w = walk.Walk(MemoryStorage(), FileStorage(_MENUS, readonly=True))
    disp = display.BoardDisplay(w.t.rows, w.t.cols)
    try:
        for f in w.start():
            disp.show(f)
        start = disp.bus.bytes
        start_data = disp.bus.data
        keys = 0
        per = []  # bytes per key press
        for ev in walk.day_events(settle):
            b0 = disp.bus.bytes
            for f in w.after(w.handle(ev)):
                disp.show(f)
            if ev[0] == "key":
                keys += 1
                per.append(disp.bus.bytes - b0)
        per_key = (disp.bus.bytes - start) / keys
        data_per_key = (disp.bus.data - start_data) / keys
        full = disp.full_frame_wire_bytes()
    finally:
        disp.close()
    # keys that replace most of the screen (menu <-> idle <-> submenu, result screens):
    # their bytes alone set a floor under the ratio that no diffing can remove
    big = [b for b in per if b > full // 2]
    return {
        "display_bytes_per_key": per_key,
        "display_pixel_bytes_per_key": data_per_key,
        "display_full_frame_bytes": full,
        "display_bytes_per_key_ratio": per_key / full,
        "display_screen_change_keys": len(big),
        "display_ratio_from_screen_changes": sum(big) / keys / full,
        "display_driver": "firmware/boards CellDisplay + SSD1306 on a recording I2C bus",
    }


# -- firmware size -----------------------------------------------------------------------------
def compile_mpy(dest):
    # mpy-cross over firmware/pos/** into dest/pos/** (what a board is flashed with), four
    # files at a time, through the build's cache (the same source and options give the same
    # bytes). -> (total bytes, files)
    from concurrent.futures import ThreadPoolExecutor

    from posterm.flash import build

    cache = os.path.join(tempfile.gettempdir(), "posterm-mpy-cache")
    os.makedirs(cache, exist_ok=True)
    jobs = []
    root = os.path.join(_FIRMWARE, "pos")
    for dirpath, _dirs, files in os.walk(root):
        for name in sorted(files):
            if name.endswith(".py"):
                src = os.path.join(dirpath, name)
                jobs.append((src, os.path.relpath(src, _FIRMWARE)))

    def one(job):
        src, rel = job
        with open(src, "rb") as f:
            source = f.read()
        try:
            data = build.compile_mpy(source, rel, [], cache)
        except build.BuildError as e:
            raise RuntimeError(str(e)) from e
        out = os.path.join(dest, rel[:-3] + ".mpy")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "wb") as f:
            f.write(data)
        return len(data)

    with ThreadPoolExecutor(4) as pool:
        sizes = list(pool.map(one, jobs))
    return sum(sizes), len(sizes)


# modules a board never imports: the CPython halves (*_cp) and what only they and the
# desktop tools use (tools/posterm/bench/mp.mjs leaves the same ones out)
CPYTHON_ONLY = ("pos/cupspec.mpy",)


def mpy_size():
    with tempfile.TemporaryDirectory() as tmp:
        total, count = compile_mpy(tmp)
        board = 0
        for dirpath, _dirs, files in os.walk(tmp):
            for name in files:
                rel = os.path.relpath(os.path.join(dirpath, name), tmp).replace(os.sep, "/")
                if name.endswith("_cp.mpy") or rel in CPYTHON_ONLY:
                    continue
                board += os.path.getsize(os.path.join(dirpath, name))
    return {
        "firmware_mpy_bytes": total,
        "firmware_mpy_files": count,
        "firmware_mpy_bytes_board": board,
    }
