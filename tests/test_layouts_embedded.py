"""The terminal with each key layout it can ask for (60.3 = 001 / 003 / 004, and the SM keys
005 / 006) against the embedded center: sign in, a swipe (its track TDK-encrypted under 004 /
006) is approved and never reversed."""

import pytest

from pos.keys import parse_token
from posterm.driver import Driver


@pytest.mark.parametrize(
    "layout, tdk",
    [("001", False), ("003", False), ("004", True), ("005", False), ("006", True)],
)
def test_each_key_layout_signs_in_and_buys_at_the_embedded_center(tmp_path, layout, tdk):
    d = Driver(str(tmp_path), date=(2026, 11, 23, 9, 0, 0))
    frames = []
    d.frame_listeners.append(lambda f: frames.append("".join(x.strip() for x in f.text())))
    d.terminal.state.params["key_layout"] = layout
    d.start()
    try:
        for tok in ("MENU", "4", "2", "ENTER", "CANCEL", "MENU", "1", "2", "10000", "ENTER",
                    "CARD=6212142000000000012", "123456", "ENTER"):
            for ev in parse_token(tok):
                d.feed(ev)
        assert "请撕下商户存根" in frames[-1], frames[-4:]
        assert bool(d.terminal.state.extra.get("tdk")) is tdk
        assert d.terminal.state.reversal() is None
        assert len(d.terminal.journal.entries()) == 1
        sm = d.terminal.state.extra.get("keys") == "sm"
        assert sm is (layout in ("005", "006")), "SM keys: the SM MAC, PIN block and track"
    finally:
        d.close()
