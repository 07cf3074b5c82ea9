"""The board font: every character the menus, strings, response texts, lessons and firmware
literals use is in the committed font (and, when GB2312 has it, in the printer table); the
committed files are what `posterm font build` makes."""

import io

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


def test_the_shipped_glyphs_are_turned_into_the_panels_pages():
    # posterm flash's pages16.bin: each shipped character's glyph in the SSD1306's own layout
    # (page 0's columns, then page 1's), as the panel shows it when the display draws the
    # character from the font (CPython: the driver's Python transpose)
    from posterm.flash import build, pages

    tree = build.deploy_tree("pico")
    Font = load("font").Font
    pg = Font(io.BytesIO(tree["/boards/data/pages16.bin"]))
    font = _font()
    display = load("display")
    SSD1306 = load("ssd1306").SSD1306
    frame_mod = __import__("pos.screen", fromlist=["Frame"])
    shipped = pages.characters(
        [v for k, v in tree.items() if k.startswith("/menus/strings_") and k.endswith(".json")]
    )
    for ch in "消费撤销金额A9:" + "".join(chr(c) for c in sorted(shipped)[-3:]):
        cp = ord(ch)
        g = pg.glyph_cp(cp)
        assert g is not None, ch
        w, cols = g
        assert w == font.glyph_cp(cp)[0]
        panel = SSD1306(_Bus())
        f = frame_mod.Frame(4, 16)
        f.put(0, ch)
        display.CellDisplay(panel, font).draw(f)
        assert bytes(panel.buf[0:w]) + bytes(panel.buf[128 : 128 + w]) == cols, ch
    assert ord("中") not in shipped or pg.glyph_cp(ord("中")) is not None
    assert pg.glyph_cp(0x9F98) is None  # a character no shipped text has


class _Bus:
    def writeto(self, addr, data):
        return 1
