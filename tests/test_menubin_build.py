# The deploy builder compiles the shipped menu (pos.menubin) next to menu.json, for files and
# ROMFS alike, and refuses a menu that does not validate (issue 14 item 5).
import json
import shutil

import pytest

from pos import menu, menubin
from posterm import paths
from posterm.flash import build, romfs


def test_the_deploy_tree_carries_the_compiled_menu_of_its_menu_json():
    tree = build.deploy_tree("pico", 6)
    data = tree["/menus/menu.bin"]
    assert data == menubin.compile(json.loads(tree["/menus/menu.json"]))
    image, fs = romfs.split(tree)
    assert image["/menus/menu.bin"] == data and "/menus/menu.bin" not in fs

    class Res:
        def read_at(self, name, offset, n):
            return data[offset : offset + n] if name == "menu.bin" else None

    root = json.loads(tree["/menus/menu.json"])["root"]
    view = menu.bin_view(Res(), [], menu.BIN_FILE, "zh")
    assert [menu._item(view, i, 0, "zh") for i in range(menu._count(view))] == [
        it["label"]["zh"] for it in root["items"]]


def test_a_menu_json_that_does_not_validate_stops_the_build(tmp_path):
    menus = tmp_path / "menus"
    shutil.copytree(paths.MENUS_DIR, menus)
    (menus / "menu.json").write_text(
        json.dumps({"root": {"label": {"zh": "x"}, "items": [{"label": {"zh": "y"}}]}}))
    with pytest.raises(build.BuildError, match=r"menus/menu.json: root.1"):
        build.deploy_tree("pico", 6, menus_dir=str(menus))
