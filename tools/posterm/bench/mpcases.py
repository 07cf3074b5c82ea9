# The MicroPython side of `posterm bench` (tools/posterm/bench/mp.mjs copies this file,
# walk.py, firmware/pos and menus into the wasm VM and calls these functions, one
# top-level call each: the wasm port collects garbage only between top-level calls, so
# gc.mem_alloc() read at the start of a call is the live heap, and the growth of
# mem_alloc() within a call is what that call allocated). Results are JSON strings.
import gc
import json
import time

try:
    # The wasm port's ticks_us() moves in whole milliseconds: mp.mjs registers a module
    # with JavaScript's performance.now() (float milliseconds, microsecond resolution).
    import benchclock

    def _ticks_us():
        return int(benchclock.now() * 1000) & 0x3FFFFFFF

    def _ticks_diff(a, b):
        return (a - b) & 0x3FFFFFFF

except ImportError:  # a board or CPython
    try:
        _ticks_us = time.ticks_us
        _ticks_diff = time.ticks_diff
    except AttributeError:

        def _ticks_us():
            return time.perf_counter_ns() // 1000

        def _ticks_diff(a, b):
            return a - b


_S = {}


def mem():
    return gc.mem_alloc()


def collect():
    # Flags a collection for the end of this top-level call (wasm: gc.collect() only flags).
    gc.collect()


def des_setup():
    from pos.des import DesKey

    _S["key"] = DesKey(bytes.fromhex("0123456789ABCDEFFEDCBA9876543210"))
    _S["block"] = b"\x06\x12\x14\x20\x00\x00\x00\x01"
    _S["key"].encrypt_block(_S["block"])
    return "{}"


def des_run(n):
    # n 3DES blocks through the public API (encrypt_block: a fresh bytes per block).
    key = _S["key"]
    block = _S["block"]
    m0 = gc.mem_alloc()
    t0 = _ticks_us()
    for _ in range(n):
        block = key.encrypt_block(block)
    us = _ticks_diff(_ticks_us(), t0)
    m1 = gc.mem_alloc()
    return json.dumps({"n": n, "us": us, "alloc": m1 - m0})


def codec_setup(hex_0200, hex_0810):
    from pos import iso8583

    bodies = []
    for h in (hex_0200, hex_0810):
        bodies.append(iso8583.unpack_frame(bytes.fromhex(h))[2])
    _S["bodies"] = bodies
    _S["msgs"] = [iso8583.decode(b) for b in bodies]
    for i in range(2):
        if iso8583.encode(_S["msgs"][i]) != bodies[i]:
            raise ValueError("codec round trip differs")
    return "{}"


def codec_run(which, n):
    # n encode+decode round trips of message `which` (0: the 0200, 1: the 0810).
    from pos import iso8583

    enc = iso8583.encode
    dec = iso8583.decode
    msg = _S["msgs"][which]
    m0 = gc.mem_alloc()
    t0 = _ticks_us()
    for _ in range(n):
        dec(enc(msg))
    us = _ticks_diff(_ticks_us(), t0)
    m1 = gc.mem_alloc()
    return json.dumps({"n": n, "us": us, "alloc": m1 - m0})


def walk_setup(settle, data_dir):
    # Builds the event script (the cashier's day); loads no firmware module (the heap
    # baseline comes next).
    import walk

    _S["walk_mod"] = walk
    _S["events"] = walk.day_events(settle)
    _S["dir"] = data_dir
    return json.dumps({"events": len(_S["events"])})


def walk_start():
    from pos.storage import FileStorage

    walk = _S["walk_mod"]
    w = walk.Walk(FileStorage(_S["dir"]), FileStorage("/menus", readonly=True))
    w.start()
    _S["w"] = w
    return "{}"


def walk_handle(i):
    # One event, its effects queued (walk_pump works through them): the live heap before
    # it, the time of handle() alone.
    live = gc.mem_alloc()
    w = _S["w"]
    ev = _S["events"][i]
    t0 = _ticks_us()
    eff = w.handle(ev)
    us = _ticks_diff(_ticks_us(), t0)
    w.begin(eff)
    eff = None
    return json.dumps({"live": live, "us": us, "key": ev[0] == "key"})


def walk_pump():
    # Up to the next send: {"live": heap at the start of this call, "send": a send now
    # waits for the center} (the live heap of the call after a send is the heap while the
    # terminal waits for the center's answer).
    live = gc.mem_alloc()
    w = _S["w"]
    waiting = w.pump()
    return json.dumps({"live": live, "send": waiting, "frame": w.t.frame.text()})


def import_all(names):
    # Import every firmware module (for the "everything loaded" figure).
    for n in names:
        __import__(n)
    return "{}"
