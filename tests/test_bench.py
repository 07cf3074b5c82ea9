"""`posterm bench --quick --json`: every figure of issue 7 is there and is a number.

The goals and any wall-clock limits are not asserted here: the bench prints them (CI runs
this in --quick mode to check that the bench still works)."""

import json
import math
import subprocess
import sys

ISSUE_KEYS = (
    "codec_msgs_per_s",
    "codec_ratio_vs_pyiso8583",
    "des_blocks_per_s",
    "des_ratio_vs_pydes",
    "des_ratio_vs_cryptography",
    "mp_des_blocks_per_s",
    "mp_des_alloc_bytes_per_block",
    "mp_codec_alloc_bytes_per_msg",
    "key_latency_p99_ms_cpython",
    "key_latency_p99_ms_mp",
    "mp_max_live_heap_bytes",
    "firmware_mpy_bytes",
    "display_bytes_per_key_ratio",
    "emulator_start_s",
    # issue 14: the board sim on the unix port
    "unix_min_heap_files_bytes",
    "unix_min_heap_romfs_bytes",
    "unix_worst_largest_free_block_bytes",
    "unix_x64_factor",
    # issue 14 item 5: key latency on the unix port, Pico and ESP32 estimates
    "unix_key_p99_ms",
    "unix_send_key_max_ms",
    "unix_full_redraw_ms",
    "pico_key_p99_ms",
    "pico_send_key_ms",
    "pico_full_redraw_ms",
    "esp32_key_p99_ms",
)


def _bench(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "posterm.cli", "bench", "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, json.loads(out.read_text())


def test_quick_bench_writes_every_issue_key_as_a_positive_number(tmp_path):
    stdout, fig = _bench(tmp_path)
    for key in ISSUE_KEYS:
        assert key in fig, key
        v = fig[key]
        assert isinstance(v, (int, float)) and not isinstance(v, bool), (key, v, fig["notes"])
        assert math.isfinite(v) and v > 0, (key, v)
        assert key in stdout, f"{key} missing from the printed table"
    env = fig["env"]
    for k in ("date", "machine", "cpu", "python", "node"):
        assert env[k], k
    assert fig["quick"] is True
    assert fig["walk_keys"] >= 200, "the walkthrough has at least 200 key presses"
    assert fig["walk_sends"] > 0, "the walkthrough reached the center"
    # one walkthrough, a cashier's day, for latency, heap and display; its parts add up
    comp = fig["walk_composition"]
    assert sum(n for _what, n in comp["parts"]) == comp["keys"] == fig["walk_keys"]
    whats = [what for what, _n in comp["parts"]]
    assert sum(1 for w in whats if w.startswith("purchase")) >= 10
    assert any("idle" in w for w in whats) and any("via menu" in w for w in whats)
    for part in ("sign-in", "void", "refund", "balance", "reprint", "journal", "settlement"):
        assert any(w.startswith(part) for w in whats), part
    assert fig["walk_summary"] in stdout
    # the heap with every module kept resident, split into modules and the day's data
    assert fig["mp_max_live_heap_bytes_all_resident"] == (
        fig["mp_live_heap_all_modules_bytes"] + fig["mp_max_live_heap_data_bytes"]
    )
    # overlays: the board's figure is below the all-resident one, and the walk waited for
    # the center (its heap then is measured too)
    assert 0 < fig["mp_max_live_heap_bytes"] < fig["mp_max_live_heap_bytes_all_resident"]
    assert 0 < fig["mp_max_live_heap_waiting_bytes"]
    assert isinstance(fig["mp_romfs"], bool)
    assert fig["mp_max_live_heap_bytes_est_firmware_in_flash"] == (
        fig["mp_max_live_heap_bytes_all_resident"] - fig["firmware_mpy_bytes_board"]
    )
    assert 0 < fig["firmware_mpy_bytes_board"] < fig["firmware_mpy_bytes"]


def _heap_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "posterm.bench.boardheap", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_boardheap_cli_runs_one_day_at_a_cap_and_says_where_it_ran_out():
    # a cap far below any N: the ROMFS firmware runs out while it boots, and the command
    # says so (exit 1), naming the stage; the full scan (no --cap) is the bench's figure
    proc = _heap_cli("--romfs", "--cap", "70000")
    assert proc.returncode == 1, proc.stderr
    assert "ROMFS, the day at 70,000 B: does not complete" in proc.stdout
    assert "memory_error" in proc.stdout and "(boot)" in proc.stdout


def test_boardheap_cli_refuses_a_cap_that_is_not_bytes():
    proc = _heap_cli("--cap", "100")
    assert proc.returncode == 2
    assert "a cap is in bytes" in proc.stderr and "Traceback" not in proc.stderr
