"""Issue 11 item 7 against the embedded center: its keys for the terminal change behind the
terminal's back (a copied data dir, someone else's sign-in). An A0 on any message, the
reversal's included, means sign in again before anything else."""

import datetime
import os

from pos.keys import parse_token
from posterm import paths
from posterm.driver import Driver
from posterm.host.store import Store

PAN = "6212142000000000012"
TID = "12345678"


def _term(tmp_path):
    d = Driver(str(tmp_path), date=(2026, 11, 23, 9, 0, 0))
    frames = []
    d.frame_listeners.append(lambda f: frames.append("".join(x.strip() for x in f.text())))
    d.terminal.state.params["timeout"] = 2
    d.start()

    def press(*tokens):
        for tok in tokens:
            for ev in parse_token(tok):
                d.feed(ev)

    return d, frames, press


def _keys_changed_behind_the_terminal(tmp_path):
    store = Store(paths.host_db(str(tmp_path)))
    try:
        store.set_working_keys(TID, os.urandom(16), os.urandom(8), datetime.datetime.now())
    finally:
        store.close()


def _buy(press, amount="10000"):
    press("MENU", "1", "2", amount, "ENTER", "CARD=" + PAN, "123456", "ENTER")


def test_a0_on_a_purchase_asks_for_a_sign_in(tmp_path):
    d, frames, press = _term(tmp_path)
    try:
        press("MENU", "4", "2", "ENTER", "CANCEL")
        assert d.terminal.signed_in_today()
        _keys_changed_behind_the_terminal(tmp_path)
        _buy(press)
        assert "应答码:A0" in frames[-1]
        assert not d.terminal.signed_in_today(), "A0: sign in again"
        press("CANCEL", "MENU", "1", "2")
        assert "请做终端签到" in frames[-1]
        assert "今日未签到" not in frames[-1]
    finally:
        d.close()


def test_a0_on_the_reversal_asks_for_a_sign_in_and_the_reversal_goes_after_it(tmp_path):
    d, frames, press = _term(tmp_path)
    try:
        press("MENU", "4", "2", "ENTER", "CANCEL")
        store = Store(paths.host_db(str(tmp_path)))
        store.set_fault(TID, "timeout", remaining=1)
        store.close()
        _buy(press)
        assert d.terminal.state.reversal() is not None
        press("CANCEL")
        _keys_changed_behind_the_terminal(tmp_path)
        m = len(frames)
        _buy(press, "500")
        assert any("冲正" in f for f in frames[m:])
        assert "A0" in frames[-1]
        assert not d.terminal.signed_in_today(), "A0 on the reversal: sign in again"
        assert d.terminal.state.reversal() is not None, "the reversal is kept"
        press("CANCEL")
        idle = frames[-1]
        assert "今日未签到" in idle, "the idle screen no longer says 今日已签到"
        press("MENU", "4", "2", "ENTER", "CANCEL")
        _buy(press, "700")
        assert d.terminal.state.reversal() is None, "sent with the new keys"
        assert "请撕下商户存根" in frames[-1]
    finally:
        d.close()
