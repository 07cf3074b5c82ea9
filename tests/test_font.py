"""The board font: every character the menus, strings, response texts, lessons and firmware
literals use is in the committed font (and, when GB2312 has it, in the printer table); the
committed files are what `posterm font build` makes."""

import pytest

from posterm.font import charset
from posterm.font.boards_loader import load
from posterm.paths import FIRMWARE_DIR

DATA = FIRMWARE_DIR + "/boards/data/"


def _font():
    return load("font").Font.open(DATA + "font16.bin")


def test_every_character_used_is_in_the_font():
    font = _font()
    lacking = {}
    for path, chars in charset.sources().items():
        missing = "".join(sorted(ch for ch in chars if ch >= " " and not font.has(ch)))
        if missing:
            lacking[path] = missing
    assert not lacking, f"run `posterm font build`; characters missing from the font: {lacking}"


def test_every_gb2312_character_used_is_in_the_printer_table():
    gb = load("gbtable").GbTable.open(DATA + "gb2312.bin")
    for ch in charset.used():
        if ord(ch) < 0x80:
            continue
        try:
            code = ch.encode("gb2312")
        except UnicodeEncodeError:
            continue
        assert gb.lookup(ord(ch)) == (code[0] << 8) | code[1], ch


def test_glyphs_are_full_and_half_width_and_not_blank():
    font = _font()
    w, data = font.glyph("签")
    assert w == 16 and len(data) == 32 and sum(bin(b).count("1") for b in data) > 30
    w, data = font.glyph("A")
    assert w == 8 and len(data) == 16 and any(data)
    assert font.glyph("\u9fa5") is None  # not used anywhere: not in the font


def test_the_build_reproduces_the_committed_files(tmp_path):
    from posterm.font import cli, render

    try:
        render.find_font()
    except render.FontToolError as e:
        pytest.fail(f"{e} (.ci/run installs it)")
    chars, missing, font, gb = cli.build(out_dir=str(tmp_path))
    assert missing == []
    assert (tmp_path / "font16.bin").read_bytes() == open(DATA + "font16.bin", "rb").read()
    assert (tmp_path / "gb2312.bin").read_bytes() == open(DATA + "gb2312.bin", "rb").read()
