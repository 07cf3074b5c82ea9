# The key latency bench (python -m posterm.bench.keylatency): the day runs on the unix port
# from files and from a ROMFS image, and --profile charges each key's time to the phases
# that took it. Nothing here checks a time (the machine is shared): only that every event
# is there, that the phases add up within the key's time, and that each phase shows where
# the day must spend it.
import pytest

from posterm.bench import keylatency


def _figures(**kw):
    try:
        return keylatency.figures(keylatency.run(1, **kw))
    except keylatency.Unavailable as e:
        pytest.fail(str(e))


def test_the_profile_charges_each_key_to_its_phases_within_its_time():
    fig = _figures(profile=True)
    steps = fig["_steps"]
    assert fig["unix_key_events"] == 254
    for s in steps:
        ph = s["phases"]
        assert all(v >= 0 for v in ph.values()), s
        assert sum(ph.values()) <= s["us"] + 5, s
    sends = [s for s in steps if s["sends"]]
    # the ten purchases' PIN blocks and MACs (the sign-in has neither)
    assert len([s for s in sends if s["phases"].get("crypto", 0) > 0]) >= 10, sends
    assert all(s["phases"].get("codec", 0) > 0 for s in sends), "the request encoded"
    menus = [s for s in steps if s["key"] == "MENU"]
    assert menus and all(s["phases"].get("menu", 0) > 0 for s in menus)
    assert all(s["phases"].get("draw", 0) > 0 for s in menus), "the menu drawn on the panel"
    assert any(s["phases"].get("import", 0) > 0 for s in steps), "an overlay loaded"
    table = keylatency.profile_table(fig)
    assert "the keys that send" in table and "menu" in table.splitlines()[0]


def test_the_day_runs_from_a_romfs_image_with_the_same_keys_as_from_files():
    files = _figures()
    rom = _figures(romfs=True)
    assert [s["key"] for s in rom["_steps"]] == [s["key"] for s in files["_steps"]]
    assert [s["sends"] for s in rom["_steps"]] == [s["sends"] for s in files["_steps"]]
    assert rom["unix_key_events"] == 254 and rom["pico_send_key_ms"] > 0
    # the void's and the refund's original PAN opened as work steps of their own, named with
    # the keys they follow (not in those keys' time)
    card = rom["unix_work_steps"]["card"]
    assert card["n"] == 2 and card["max_ms"] > 0 and rom["pico_work_step_max_ms"]["card"] > 0
    assert card["after"] == [
        "ENTER (void of the 2nd purchase (trace 4))", "ENTER (refund of the 1st purchase)"]


def test_the_board_option_names_a_known_board(monkeypatch):
    import sys

    monkeypatch.setattr(sys, "argv", ["keylatency", "--board", "esp8266", "1"])
    with pytest.raises(SystemExit) as e:
        keylatency.main()
    assert "pico, pico_w or esp32" in str(e.value)


def test_the_esp32_keeps_no_overlay_cache_and_a_pico_from_romfs_keeps_the_days_code():
    esp = _figures(romfs=True, board="esp32")
    pico = _figures(romfs=True)
    assert esp["overlay_cache"] is False and esp["unix_key_loading"] > 0
    assert pico["overlay_cache"] is True and pico["overlay_cache_modules"] >= 30
    assert pico["unix_key_loading"] == 0, "the day's code preloaded at boot"
    # the slips are print jobs of their own, reported beside the keys
    assert pico["unix_print_jobs"] >= 13 and pico["pico_print_job_max_ms"] > 0


def _dumps(tmp_path, counts):
    # callgrind's numbered dumps as --dump-before / --dump-after write them (and the last,
    # unnumbered one): (instructions, "m" a mark | "s" a collection's start | "g" its end), or
    # instructions alone (a dump that names no trigger: a mark)
    trig = {"m": "--dump-before=time_ticks_cpu", "s": "--dump-before=gc_collect",
            "g": "--dump-after=gc_collect"}
    for n, c in enumerate(counts, 1):
        ir, t = c if isinstance(c, tuple) else (c, "")
        desc = f"desc: Trigger: {trig[t]}\n" if t else ""
        (tmp_path / f"cg.out.{n}").write_text(
            f"version: 1\ncmd: x\n{desc}summary: {ir}\ntotals: {ir}\n")
    (tmp_path / "cg.out").write_text("summary: 5\n")


def test_the_instruction_count_of_each_event_is_what_its_marks_enclose_collections_apart(
        tmp_path):
    # marks: a calibration run, a day of three events (each then the loop's collection), two
    # redraws, a calibration run; the dumps outside the marks are the bench's own code, a
    # collection outside them the center's; the key that sends paid a collection
    _dumps(tmp_path, [900, 3000, 1, 10, 2, (4, "s"), (300, "g"), (6, "m"),
                      3, (5, "s"), (250, "g"), (15, "m"), 4, (1, "s"), (320, "g"), (2, "m"),
                      (7, "s"), (280, "g"), (3, "m"), (40, "m"), 5, (2, "s"), (330, "g"),
                      (1, "m"), 6, 500, 6, 600, 7, 3100])
    counts = keylatency._dump_counts(tmp_path)
    assert counts[:3] == [(900, "mark"), (3000, "mark"), (1, "mark")] and len(counts) == 30
    assert counts[5:7] == [(4, "gc_start"), (300, "gc")]
    days = [[{"key": "1", "sends": 0}, {"key": "ENTER", "sends": 1}, {"key": "2", "sends": 0}]]
    ins = keylatency._assign(counts, "cdrrc", days)
    assert ins == {"days": [[10, 270, 40]], "days_gc": [[[], [250], []]],
                   "idle_gc": [[310, 323, 333]], "calib": [3000, 3100], "redraw": [500, 600],
                   "redraw_kept": [], "bench_gc": [], "other_gc": [280]}
    with pytest.raises(keylatency.Unavailable, match="do not match"):
        keylatency._assign(counts[:-2], "cdrrc", days)
    raw = {"days": days, "instructions": ins, "calib_loops": 1, "labels": ["a", "b", "c"],
           "collector": {"heap": 300 * 1024, "policy": [4096, 65536, 16384],
                         "romfs_outside": True},
           "day_ends": [{"threshold": [16384, 23101, 120000]}]}
    fig = keylatency.instruction_figures(raw)
    assert fig["ir_send_key_max"] == 270 and fig["ir_send_key_max_nogc"] == 20
    assert fig["ir_key_p99"] == 40 and fig["ir_key_p50"] == 40
    assert fig["ir_key_slowest"][0] == ("2", "c", 40) and fig["ir_full_redraw"] == 600
    assert fig["gc_keys_collecting"] == [0, 1] and fig["gc_inside_max"] == 250
    assert fig["gc_idle_p50"] == 323 and fig["gc_idle_max"] == 333
    # a Pico's 50 ms is 1.65M instructions (36,300 a pystone, 909 pystones/s)
    assert round(1_650_000 / keylatency.IR_PER_PYSTONE / keylatency.PICO_PYSTONES, 3) == 0.05
    table = keylatency.instruction_table(fig)
    assert "goal <= 50 ms" in table and "without (less its gc)" in table
    assert "every 16,384 B (x64 23,101 B" in table and "what a key pressed then waits" in table
    assert "an ESP32 at 1661" in keylatency.instruction_table(fig, "esp32")


def test_the_collector_policy_is_read_from_the_firmwares_main(tmp_path):
    low, limit, high = keylatency.gc_policy()  # firmware/main.py as it ships
    assert low > 0 and limit > 0 and (high == -1 or high >= low)  # -1: none
    (tmp_path / "main.py").write_text(
        "import gc\ngc.threshold(4096)\nx = 1\ngc.threshold(8 * 1024)\n")
    assert keylatency.gc_policy(tmp_path) == (8192, 0, 8192)
    (tmp_path / "main.py").write_text("gc.threshold(4096 if gc.mem_free() < 88 * 1024 else -1)\n")
    assert keylatency.gc_policy(tmp_path) == (4096, 90112, -1)
    (tmp_path / "main.py").write_text("import gc\ngc.threshold(n)\n")
    with pytest.raises(keylatency.Unavailable, match="the bench reads gc.threshold"):
        keylatency.gc_policy(tmp_path)


def test_the_instruction_count_needs_valgrind(monkeypatch):
    monkeypatch.setattr(keylatency.shutil, "which", lambda name: None)
    with pytest.raises(keylatency.Unavailable, match="valgrind"):
        keylatency.run(1, instructions=True)
