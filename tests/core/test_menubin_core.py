# The compiled menu (pos.menubin, menu.bin next to menu.json): a board looks the node on
# screen up in it without parsing menu.json at every move in the menu (issue 14 item 5).
from mptest import eq, true, raises, on_micropython
from rig import menus_dir
import fakecenter
from pos import menu, menubin
from pos.compat import json
from pos.keys import parse_token
from pos.memstorage import MemoryStorage
from pos.storage import FileStorage
from pos.terminal import Terminal

NOW = (2026, 11, 23, 9, 0, 0)
NAMES = ("menu.json", "params.json", "strings_zh.json", "strings_en.json", "respcodes.json",
         "card_orgs.json")


class CountingResources(MemoryStorage):
    # the menus as resources, counting what reads menu.json
    def __init__(self, files):
        MemoryStorage.__init__(self, files)
        self.menu_json_reads = 0

    def read(self, name):
        if name == "menu.json":
            self.menu_json_reads += 1
        return MemoryStorage.read(self, name)

    def load_json(self, name):
        if name == "menu.json":
            self.menu_json_reads += 1
        return MemoryStorage.load_json(self, name)

    def read_at(self, name, offset, n):
        if name == "menu.json":
            self.menu_json_reads += 1
        return MemoryStorage.read_at(self, name, offset, n)


class MappedResources(CountingResources):
    # ... whose files are also read in place (a ROMFS image's: pos.menu reads menu.bin there)
    def map(self, name):
        data = self.files.get(name)
        return memoryview(data) if data is not None else None


def shipped(compiled=True):
    src = FileStorage(menus_dir(), readonly=True)
    files = {}
    for name in NAMES:
        data = src.read(name)
        if data is not None:
            files[name] = data
    if compiled:
        files["menu.bin"] = menubin.compile(json.loads(files["menu.json"]))
    return files


def run_keys(resources, tokens, storage=None, lang=None):
    # -> the text of every screen shown while the keys are pressed
    storage = storage if storage is not None else MemoryStorage()
    t = Terminal(storage, resources, "lcd128x64", NOW)
    if lang is not None:
        t.strings.set_lang(lang)
    center = fakecenter.Center()
    shown = []

    def run(effects):
        q = list(effects)
        while q:
            e = q.pop(0)
            if e[0] == "show":
                shown.append("|".join(e[1].text()) + "#" + str(e[1].inverse))
            elif e[0] == "send":
                q.extend(t.handle(center.answer(e[1], e[2])))

    run(t.start())
    for tok in tokens:
        for ev in parse_token(tok):
            run(t.handle(ev))
    return shown


def submenus(node, path, out):
    out.append((path, node))
    items = node.get("items") or []
    for i in range(len(items)):
        if items[i].get("items"):
            submenus(items[i], path + [i], out)
    return out


def _en(lab):
    # the English label, the Chinese one where a node has none (what the screen shows)
    return lab.get("en") or lab["zh"]


def expected_view(node):
    items = []
    for it in node["items"]:
        lab = it["label"]
        items.append({"label": {"zh": lab["zh"], "en": _en(lab)},
                      "items": True if it.get("items") else None,
                      "action": it.get("action")})
    lab = node["label"]
    return {"label": {"zh": lab["zh"], "en": _en(lab)}, "items": items}


def bin_view(res, path):
    # the node at path as the menu reads it for a screen in each language (menu.bin_view's
    # light view, read through menu._count / menu._item), as expected_view's dict
    views = [menu.bin_view(res, path, menu.BIN_FILE, lang) for lang in ("zh", "en")]
    zh, en = views
    if zh is None or zh is False:
        eq(en, zh, "both languages alike at " + repr(path))
        return zh
    items = []
    for i in range(menu._count(zh)):
        label = {"zh": menu._item(zh, i, 0, "zh"), "en": menu._item(en, i, 0, "en")}
        items.append({"label": label,
                      "items": True if menu._item(zh, i, 1) else None,
                      "action": menu._item(zh, i, 2)})
    return {"label": {"zh": zh[0], "en": en[0]}, "items": items}


def test_compiled_menu_gives_every_submenu_as_menu_json_has_it():
    files = shipped()
    res = MemoryStorage(files)
    tree = json.loads(files["menu.json"])
    nodes = submenus(tree["root"], [], [])
    true(len(nodes) >= 6, "the shipped menu has submenus")
    for path, node in nodes:
        eq(bin_view(res, path), expected_view(node), "node at " + repr(path))
        # a digit past the items, and an item that runs an action: not a submenu
        eq(bin_view(res, path + [len(node["items"])]), None, "past " + repr(path))
        for i in range(len(node["items"])):
            if node["items"][i].get("action"):
                eq(bin_view(res, path + [i]), None, "action at " + repr(path + [i]))


# every submenu, its pages, the digits past the end, MENU and CANCEL, two actions run and
# left (a viewer that returns to the menu, one that goes to idle)
WALK = ("MENU", "DOWN", "UP", "1", "DOWN", "6", "2", "CANCEL", "CANCEL", "2", "CANCEL",
        "3", "4", "9", "CANCEL", "MENU", "4", "CANCEL", "5", "DOWN", "DOWN", "1", "CANCEL",
        "CANCEL", "CANCEL", "ENTER", "3", "2", "CANCEL", "CANCEL", "CANCEL")


def test_menu_moves_parse_no_menu_json_when_the_menu_is_compiled():
    res = CountingResources(shipped())
    plain = CountingResources(shipped(compiled=False))
    got = run_keys(res, WALK)
    want = run_keys(plain, WALK)
    eq(got, want, "the same screens with the compiled menu as with menu.json")
    true(len(got) > 20, "the walk went through the menus")
    eq(res.menu_json_reads, 0, "menu.json reads with menu.bin there")
    # without it: parsed again at each move on MicroPython (the tree is not kept), at each
    # time the menu is opened on CPython
    true(plain.menu_json_reads > (10 if on_micropython() else 2), plain.menu_json_reads)
    # the file read in place (ROMFS), and the English labels (an item without one: zh)
    mapped = MappedResources(shipped())
    eq(run_keys(mapped, WALK), want, "the same screens with menu.bin read in place")
    eq(run_keys(mapped, WALK, lang="en"), run_keys(plain, WALK, lang="en"), "in English")
    eq(mapped.menu_json_reads, 0, "menu.json reads with menu.bin there, in place")


def test_a_downloaded_menu_wins_over_the_compiled_one():
    tree = {"version": 9, "root": {"label": {"zh": "新菜单"}, "items": [
        {"label": {"zh": "下载的一项"}, "action": "show_params"}]}}
    storage = MemoryStorage({"menu.json": json.dumps(tree).encode()})
    got = run_keys(CountingResources(shipped()), ("MENU",), storage)
    true("下载的一项" in got[-1], got[-1])


def test_a_damaged_compiled_menu_falls_back_to_menu_json():
    want = run_keys(MemoryStorage(shipped(compiled=False)), WALK)
    good = shipped()["menu.bin"]
    for bad in (b"XXXX" + good[4:], good[:6], good[:40], good[: len(good) - 3], b""):
        files = shipped(compiled=False)
        files["menu.bin"] = bad
        eq(run_keys(MemoryStorage(files), WALK), want, "menu.bin of %d bytes" % len(bad))
        if len(bad) > 8:  # short of its table or strings, read in place
            eq(run_keys(MappedResources(files), WALK), want, "in place, %d bytes" % len(bad))


def test_compile_refuses_what_validate_refuses():
    with raises(menu.MenuError):
        menubin.compile({"root": {"label": {"zh": "x"}, "items": [{"label": {"zh": "y"}}]}})
    with raises(menu.MenuError):
        menubin.compile({"root": {"label": {"zh": "x"}, "items": [
            {"label": {"zh": "长" * 90}, "action": "lock"}]}})
