"""The core's own CJK width table agrees with rich.cells for everything we show."""

import json
import pathlib

from rich.cells import cell_len

from pos import cells

MENUS = pathlib.Path(__file__).resolve().parents[1] / "menus"

# East Asian *ambiguous* glyphs that terminals disagree on: keep them off screens.
AMBIGUOUS = "…“”‘’—·①②③°±×÷§¥"


def _strings():
    out = []
    for name in ("strings_zh.json", "strings_en.json"):
        out.extend(json.loads((MENUS / name).read_text("utf-8")).values())
    for entry in json.loads((MENUS / "respcodes.json").read_text("utf-8")).values():
        out.extend(entry.values())

    def labels(node):
        yield from node["label"].values()
        for it in node.get("items", []):
            yield from labels(it)

    out.extend(labels(json.loads((MENUS / "menu.json").read_text("utf-8"))["root"]))
    return out


def test_every_shown_string_has_the_same_width_as_rich_says():
    for s in _strings():
        for line in s.split("\n"):
            assert cells.width(line) == cell_len(line), line


def test_cjk_ranges_agree_with_rich():
    for cp in list(range(0x4E00, 0x9FFF, 37)) + list(range(0xFF01, 0xFF60)) + [0x3000, 0x3001]:
        ch = chr(cp)
        assert cells.char_width(ch) == cell_len(ch), hex(cp)
    for ch in "abcXYZ019.,:!?-*/ ":
        assert cells.char_width(ch) == 1


def test_no_ambiguous_glyph_on_any_screen():
    for s in _strings():
        for ch in AMBIGUOUS:
            assert ch not in s, (ch, s)
