"""A refused SM field 62 is the caller's KeyCheckError even when pos.smkeys was loaded with an
earlier pos.keyload (an overlay drops pos.keyload and loads it again; pos.smkeys may stay
loaded). In the whole suite this showed 系统错误 for the 84-byte SM refusal instead of
密钥校验错 (tests/test_realhost.py::test_an_84_byte_field_62_is_refused_with_the_old_keys_kept)."""

import importlib
import sys

import pytest


def test_a_refused_sm_field_62_is_the_reloaded_keyloads_error():
    import pos
    import pos.keyload
    import pos.smkeys  # bound to this keyload's KeyCheckError

    old = sys.modules["pos.keyload"]
    try:
        del sys.modules["pos.keyload"]
        fresh = importlib.import_module("pos.keyload")
        assert fresh is not old
        assert fresh.KeyCheckError is not pos.smkeys.KeyCheckError
        with pytest.raises(fresh.KeyCheckError) as got:
            fresh.unpack_signin_keys_all(bytes(84), bytes(16), sm=True)
        assert "84 bytes" in got.value.reason and got.value.key is None
    finally:
        sys.modules["pos.keyload"] = old
        pos.keyload = old
