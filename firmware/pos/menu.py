# The menu engine. The tree is data (menus/menu.json, or a newer one the
# center sent with a menu update): nodes with a label in zh/en and either
# child items or an action name (see pos.actions). A digit picks an item,
# UP/DOWN page, CANCEL goes back one level, MENU returns to the top.
from pos.compat import json
from pos import keys as K
from pos import ui
from pos.text import label
from pos.compat import IS_MICROPYTHON

# On MicroPython the parsed tree is not kept between screens (pos.overlay: a board keeps
# as little as it can resident); CPython keeps it until the menu is left.
_UNLOAD = IS_MICROPYTHON

MENU_FILE = "menu.json"
BIN_FILE = "menu.bin"  # the shipped menu compiled by the deploy builder (pos.menubin)
# a downloaded menu.json (menu update) compiled by the first move in it, in the terminal's
# storage: the next moves read their node (bin_view) instead of parsing the whole file (a
# 47-node menu.json is ~24 KB of heap on the x64 unix port, parsed at every move for the
# rest of the day after a sign-in that downloaded it). Compiled there, not by the update: the
# sign-in holds the exchange's modules and the parsed tree leaves no block for the output
STORED_BIN = MENU_FILE + ".bin"


class MenuError(ValueError):
    pass


def load(storage, resources, damaged=None):
    # a downloaded menu (written by menu update) first, then the shipped one. A downloaded
    # one that cannot be used (not JSON, not a menu) is never read again in silence: it is
    # renamed menu.json.damaged-N (kept for inspection) and damaged, a list, gets
    # (why, the copy's name or "") for the caller to say (pos.flows.startup)
    for src in (storage, resources):
        load = getattr(src, "load_json", None)
        why = None
        try:
            if load is not None:
                tree = load(MENU_FILE)  # parsed as it is read (a board: no 4 KB block)
            else:
                data = src.read(MENU_FILE)
                tree = json.loads(data) if data else None
        except ValueError:
            tree = None
            why = "not JSON"  # a damaged download: the next source
        if tree:
            try:
                return validate(tree)
            except MenuError as e:
                why = str(e)
        elif why is None and src is storage and storage.size(MENU_FILE) >= 0:
            why = "unreadable or empty"
        if why is not None and src is storage:
            storage.remove(STORED_BIN)
            _set_aside(storage, why, damaged)
    raise MenuError("no usable menu.json")


def _set_aside(storage, why, damaged):
    n = 1
    while storage.size(MENU_FILE + ".damaged-" + str(n)) >= 0:
        n += 1
    copy = MENU_FILE + ".damaged-" + str(n)
    try:
        storage.rename(MENU_FILE, copy)
    except OSError:
        copy = ""
    if damaged is not None:
        damaged.append((why, copy))


def parse(data):
    try:
        tree = json.loads(data)
    except ValueError:
        raise MenuError("menu is not valid JSON")
    validate(tree)
    return tree


def validate(tree, known_actions=None):
    # -> list of problems (empty if fine); raises MenuError on the first one.
    if not isinstance(tree, dict) or "root" not in tree:
        raise MenuError("menu needs a 'root' node")
    if not isinstance(tree.get("version", 0), int):
        raise MenuError("menu 'version' must be an integer")
    _check(tree["root"], "root", known_actions)
    return tree


def _check(node, path, known):
    if not isinstance(node, dict):
        raise MenuError(path + ": a node must be an object")
    lab = node.get("label")
    if not isinstance(lab, dict) or not lab.get("zh") or not isinstance(lab["zh"], str):
        raise MenuError(path + ": needs a label with 'zh'")
    items = node.get("items")
    action = node.get("action")
    if items is None and action is None:
        raise MenuError(path + ": needs 'items' or 'action'")
    if items is not None and action is not None:
        raise MenuError(path + ": has both 'items' and 'action'")
    if action is not None:
        if not isinstance(action, str):
            raise MenuError(path + ": action must be a name")
        if known is not None and action not in known:
            raise MenuError(path + ": unknown action %r" % action)
        return
    if not isinstance(items, list) or not items:
        raise MenuError(path + ": 'items' must be a non-empty list")
    if len(items) > 9:
        raise MenuError(path + ": at most 9 items (one digit each)")
    for i in range(len(items)):
        _check(items[i], path + "." + str(i + 1), known)


def walk(tree, lang="zh"):
    # -> [(key_path, depth, label, action)] in menu order, for menu maps
    out = []

    def rec(node, path, depth):
        items = node.get("items") or []
        for i in range(len(items)):
            it = items[i]
            kp = path + (str(i + 1),)
            out.append((kp, depth, label(it["label"], lang), it.get("action")))
            if it.get("items"):
                rec(it, kp, depth + 1)

    rec(tree["root"], (), 0)
    return out


def find_action(tree, action):
    # -> key path tuple of the first item running `action`, or None
    for kp, _d, _l, a in walk(tree):
        if a == action:
            return kp
    return None


def draw(t, node, page):
    # (each line made with one format: on MicroPython every str made is first looked for
    # among the interned names, ~10,000 instructions with the firmware's; str(i + 1) + "." +
    # a label made three)
    lang = t.lang()
    n = _count(node)
    per = t.rows - 1
    pages = (n + per - 1) // per
    title = node[0] if type(node) is list else label(node["label"], lang)
    if pages > 1:
        title = "%s %d/%d" % (title, page + 1, pages)
    from pos.screen import Frame

    f = Frame(t.rows, t.cols)
    f.put(0, title, "center", True)
    for r in range(per):
        i = page * per + r
        if i >= n:
            break
        f.put(r + 1, "%d.%s" % (i + 1, _item(node, i, 0, lang)))
    t.show(f)
    return pages


# A node on screen is either _view's dict (a parsed menu.json) or bin_view's light view (a
# list: [its label, children, the node table, the first child's record, the strings, their
# offset]) whose children's strings are read when drawn or picked: a node's labels in both
# languages and its actions, all made as strs at every move, were most of a menu key
# (a 9-item submenu: 29 strs)
def _count(node):
    return node[1] if type(node) is list else len(node["items"])


def _item(node, i, k, lang=None):
    # item i's label in lang (k 0), whether it opens a submenu (k 1), its action name (k 2:
    # None when unreadable). (5 locals: 11 words of state, so that MicroPython keeps the
    # frame on the C stack, not taken from the heap at every call: i becomes the item's
    # record, node the item in a parsed tree)
    if type(node) is not list:
        node = node["items"][i]
        return (
            label(node["label"], lang)
            if k == 0
            else node.get("items")
            if k == 1
            else node["action"]
        )
    tab = node[2]
    i = node[3] + 8 * i
    if k == 1:
        return tab[i + 5]
    if k == 0:
        k = 1 if lang == "en" and tab[i + 3] else 0
        return _text(tab, i, node[4], node[5], k)
    return _text(tab, i, node[4], node[5], 2) or None


def _text(tab, q, data, base, k):
    # string k (0 zh label, 1 en label, 2 action) of the node record at tab[q]; the strings
    # data start at file offset base ("" when it cannot be read)
    o = (tab[q] | (tab[q + 1] << 8)) - base
    j = 0
    while j < k:
        o += tab[q + 2 + j]
        j += 1
    try:
        return str(data[o : o + tab[q + 2 + k]], "utf-8")
    except UnicodeError:
        return ""


def run(t, path=None):
    # Generator: the menu from the top (or at `path`, item indices from the root) until the
    # user leaves it (CANCEL at the top: -> None) or picks what runs without it: -> (action
    # name, None, path), or ("purchase", the card's event, None) for a card at the menu.
    # The caller (pos.flows.main) runs the action with this module dropped (from a files
    # deploy its bytecode is in the heap: ~5 KB through every exchange started from the
    # menu), then the menu again at `path` when the action says so, as a real terminal
    # goes back to the menu it was on; path None: back to idle.
    # RAM: the parsed tree (~8 KB on MicroPython) is not kept: only a shallow copy of
    # the node on screen (its label and its items' labels and actions) is; the tree is
    # parsed again when the position changes (a submenu, CANCEL, MENU) or after an action
    # (the position is kept as item numbers).
    try:
        r = yield from _run(t, list(path or ()))
    finally:
        t.reload_menu()
    return r


def _run(t, path):
    page = 0
    node = None
    while True:
        if node is None:
            node = _view(t, path)
            if node is None:
                path = []
                continue
        pages = draw(t, node, page)
        ev = yield from ui.wait_input(t, ui.IDLE_TIMEOUT, card=True, menu_key=True)
        if ev[0] == "timeout":
            return None
        if ev[0] in ("card", "chip", "tap"):
            # a card swiped (read with its tracks: a chip card's service code asks for the
            # chip), inserted or tapped while a menu is open starts the sale, as at idle
            return ("purchase", ev, None)
        k = ev[1]
        if k == K.MENU:
            path = []
            page = 0
            node = None
        elif k == K.CANCEL:
            if not path:
                return None
            path.pop()
            page = 0
            node = None
        elif k == K.DOWN:
            page = (page + 1) % pages
        elif k == K.UP:
            page = (page - 1) % pages
        elif k in K.DIGITS and k != "0":
            i = int(k) - 1
            if i >= _count(node):
                t.emit(("beep", "error"))
                continue
            if _item(node, i, 1):
                node = None
                path.append(i)
                page = 0
            else:
                act = _item(node, i, 2)
                if act is None:
                    t.emit(("beep", "error"))
                    continue
                return (act, None, path)
        else:
            t.emit(("beep", "error"))


def _view(t, path):
    # A shallow copy of the node at `path` ({"label", "items": [{"label", "items": True
    # or None, "action"}]}), or None when the tree changed under the path; the parsed tree
    # itself is dropped. The shipped menu compiled (menu.bin, pos.menubin) is read straight
    # from the file, nothing parsed; a downloaded menu (menu update) is menu.json.
    if t.storage.size(MENU_FILE) < 0:
        view = bin_view(t.resources, path, BIN_FILE, t.lang())
    else:
        view = bin_view(t.storage, path, STORED_BIN, t.lang())  # a downloaded menu, compiled
    if view is not False:
        return view
    node = _node(t, path)
    if t.storage.size(MENU_FILE) >= 0 and t.storage.size(STORED_BIN) < 0:
        _store_compiled(t)
    view = None
    if node is not None:
        items = []
        for it in node["items"]:
            items.append(
                {
                    "label": it["label"],
                    "items": True if it.get("items") else None,
                    "action": it.get("action"),
                }
            )
        view = {"label": node["label"], "items": items}
    node = None
    if _UNLOAD:  # MicroPython: drop the tree (CPython keeps it until the menu is left)
        t.reload_menu()
    return view


def _store_compiled(t):
    # the downloaded menu (parsed now for this move: t.menu()) compiled into storage for the
    # next moves; short of heap or of storage it is left for a later move (nothing is half
    # written: storage.write replaces the file at once)
    try:
        from pos import menubin

        data = menubin.compile(t.menu())
        menubin = None
        t.storage.write(STORED_BIN, data)
    except (MemoryError, OSError, MenuError):
        pass
    data = None


def _node(t, path):
    # The node at `path` in the current tree, or None when the tree changed under it.
    node = t.menu()["root"]
    for i in path:
        items = node.get("items") or []
        if i >= len(items) or not items[i].get("items"):
            return None
        node = items[i]
    return node


def bin_view(res, path, name, lang):
    # The node at `path` of the compiled menu (pos.menubin) as _view gives it, None when
    # the path is not a submenu there, False when there is no usable menu.bin. Three reads
    # of the file: the node table, the node's label, its children's labels and actions.
    # The light view for the screen in lang (see _count): the file in place when it is
    # (ROMFS: nothing read), its children's strings read once, made as strs when drawn
    m = getattr(res, "map", None)
    if m is not None:
        m = m(name)
    if m is None:
        read_at = getattr(res, "read_at", None)
        if read_at is None:
            return False
        tab = read_at(name, 0, 512)
    else:
        tab = m
    if not tab or len(tab) < 8 or tab[:4] != b"PMB1":
        return False
    n = tab[4] | (tab[5] << 8)
    end = 8 + 8 * n
    if len(tab) < end:
        if m is not None:
            return False
        tab = read_at(name, 0, end)
        if tab is None or len(tab) < end:
            return False
    i = 0
    for p in path:
        r = 8 + 8 * i
        if p >= tab[r + 5]:
            return None
        i = (tab[r + 6] | (tab[r + 7] << 8)) + p
        if i >= n or not tab[8 + 8 * i + 5]:
            return None
    r = 8 + 8 * i
    count = tab[r + 5]
    if not count:
        return None
    c0 = tab[r + 6] | (tab[r + 7] << 8)
    if c0 + count > n:
        return False
    a = 8 + 8 * c0
    z = 8 + 8 * (c0 + count - 1)
    start = tab[a] | (tab[a + 1] << 8)
    stop = (tab[z] | (tab[z + 1] << 8)) + tab[z + 2] + tab[z + 3] + tab[z + 4]
    if m is not None:
        if stop > len(m) or (tab[r] | (tab[r + 1] << 8)) + tab[r + 2] + tab[r + 3] > len(m):
            return False
        return [_text(m, r, m, 0, 1 if lang == "en" and tab[r + 3] else 0), count, m, a, m, 0]
    k = 1 if lang == "en" and tab[r + 3] else 0
    off = tab[r] | (tab[r + 1] << 8)
    own = read_at(name, off, tab[r + 2] + tab[r + 3])
    if own is None or len(own) != tab[r + 2] + tab[r + 3]:
        return False
    own = _text(tab, r, own, off, k)
    data = read_at(name, start, stop - start)
    if data is None or len(data) != stop - start:
        return False
    return [own, count, tab, a, data, start]
