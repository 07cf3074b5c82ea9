"""Cashiers and settings on the desktop: real files, the real CLI and the embedded host
over TCP, and the key check value against an implementation nobody here wrote."""

import hashlib
import json
import os
import subprocess
import sys

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from hypothesis import given, settings, strategies as st

from pos import iso8583
from pos.flows import setup
from posterm import paths
from posterm.driver import Driver
from pos.keys import parse_token

POSTERM = [sys.executable, "-m", "posterm.cli"]


def keys(data, *tokens, date="2026-11-23T09:00"):
    cmd = POSTERM + ["keys", "--data", str(data), "--date", date] + list(tokens)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def last_frame(out):
    frames = [f for f in out.split("-" * 16) if f.strip()]
    return "".join(line.strip() for line in frames[-1].splitlines())


@settings(max_examples=50, deadline=None)
@given(st.binary(min_size=16, max_size=16))
def test_tmk_check_value_matches_cryptography(key):
    enc = Cipher(TripleDES(key + key[:8]), modes.ECB()).encryptor()
    want = (enc.update(bytes(8)) + enc.finalize())[:4].hex().upper()
    assert setup.key_check_value(key) == want


def _state(data):
    with open(os.path.join(paths.terminal_dir(str(data)), "state.json"), "rb") as f:
        return json.loads(f.read())


def test_passwords_on_disk_are_salted_pbkdf2_never_clear(tmp_path):
    keys(tmp_path, "MENU", "3", "4", "5", "123456", "ENTER", "654321", "ENTER", "654321", "ENTER")
    raw = open(os.path.join(paths.terminal_dir(str(tmp_path)), "state.json"), "rb").read()
    extra = json.loads(raw)["extra"]
    salt = extra["op_salt"]
    assert b"654321" not in raw.replace(salt.encode(), b"")
    scheme, rounds, digest = extra["ops"]["00"].split("$")
    assert scheme == "p1" and int(rounds) >= 100_000
    want = hashlib.pbkdf2_hmac("sha256", b"00:654321", salt.encode(), int(rounds)).hex()
    assert digest == want
    assert extra["ops"]["01"] == "f"  # the factory 0000, as printed in the manual


def test_operator_sign_in_goes_into_field_63_of_the_sign_in_sent_to_the_host(tmp_path):
    d = Driver(str(tmp_path), date=(2026, 11, 23, 9, 0, 0))
    sent = []
    d.send_listeners.append(lambda data, event, ms: sent.append(data))
    try:
        d.start()
        for tok in ("MENU", "3", "3", "03", "ENTER", "0000", "ENTER", "ENTER"):
            for ev in parse_token(tok):
                d.feed(ev)
        for tok in ("MENU", "4", "2", "ENTER"):
            for ev in parse_token(tok):
                d.feed(ev)
        assert "签到成功" in "".join(d.terminal.frame.text())
    finally:
        d.close()
    _tpdu, _hdr, body = iso8583.unpack_frame(sent[-1])
    msg = iso8583.decode(body)
    assert msg["mti"] == "0800"
    assert msg[63] == "03 "


def test_the_lock_survives_a_restart_of_the_cli(tmp_path):
    out = keys(tmp_path, "MENU", "3", "5", "ENTER", "0000", "ENTER")
    assert "键盘已锁定" in out
    out = keys(tmp_path, "MENU")
    assert "键盘锁定请解锁" in last_frame(out)
    out = keys(tmp_path, "01", "ENTER", "0000", "ENTER")
    assert "锁定解除!" in last_frame(out)
    assert "locked" not in _state(tmp_path)["extra"]


def test_language_chosen_in_settings_stays_after_a_restart(tmp_path):
    out = keys(tmp_path, "MENU", "5", "5", "12345678", "ENTER", "2")
    assert "Saved" in last_frame(out)
    out = keys(tmp_path)
    assert "Welcome" in last_frame(out)


def test_a_supervisor_cannot_be_the_operator_and_an_operator_cannot_add_one(tmp_path):
    out = keys(tmp_path, "MENU", "3", "3", "00", "ENTER")
    assert "主管操作员不能签到交易" in last_frame(out)
    out = keys(tmp_path, "MENU", "3", "4", "1", "000000", "ENTER")
    assert "主管密码错" in last_frame(out)
    assert sorted(_state(tmp_path)["extra"]["ops"]) == ["00", "01", "02", "03", "04", "05", "99"]
