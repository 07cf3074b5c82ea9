# pos.menucheck: a downloaded menu checked as it is read, never parsed whole. It must say
# what parsing the file and pos.menu.validate said (None for a menu), for every file and
# however the file is cut into chunks.
import json

from mptest import eq
from pos import menu, menucheck
from pos.memstorage import MemoryStorage
from rig import Rig


def _node(zh, **kw):
    d = {"label": {"zh": zh, "en": "x"}}
    for k in kw:
        d[k] = kw[k]
    return d


def _menu(root, **kw):
    d = {"version": 3, "root": root}
    for k in kw:
        d[k] = kw[k]
    return json.dumps(d)


LEAF = _node("签到", action="sign_in_auto")
CASES = [
    _menu(_node("菜单", items=[LEAF, _node("消费", action="purchase")])),
    _menu(_node("菜单", items=[_node("子", items=[LEAF] * 9)])),
    # not a menu: each of pos.menu.validate's rules, where it is first broken
    '{"version": 3}',
    "[1, 2]",
    '"menu"',
    "3",
    _menu(_node("菜单", items=[LEAF]), version="3"),
    _menu(_node("菜单", items=[LEAF]), version=1.5),
    _menu(_node("菜单", items=[LEAF]), version=None),
    _menu(_node("菜单", items=[LEAF]), version=True),
    _menu(None),
    _menu([LEAF]),
    _menu({"items": [LEAF]}),
    _menu({"label": "菜单", "items": [LEAF]}),
    _menu({"label": {"en": "menu"}, "items": [LEAF]}),
    _menu({"label": {"zh": ""}, "items": [LEAF]}),
    _menu({"label": {"zh": 5}, "items": [LEAF]}),
    _menu(_node("菜单")),
    _menu(_node("菜单", items=None, action=None)),
    _menu(_node("菜单", items=[LEAF], action="purchase")),
    _menu(_node("菜单", action=7)),
    _menu(_node("菜单", action=None, items=[LEAF])),
    _menu(_node("菜单", items=[])),
    _menu(_node("菜单", items={"1": LEAF})),
    _menu(_node("菜单", items="abc")),
    _menu(_node("菜单", items=[LEAF] * 10)),
    _menu(_node("菜单", items=[LEAF, 5])),
    _menu(_node("菜单", items=[LEAF, _node("子", items=[LEAF, {"label": {}}])])),
    # the node's own problem first, then its items' in order
    _menu(_node("", items=[{"label": {}}])),
    _menu(_node("菜单", items=[_node("a", items=[]), _node("b", action=1)])),
    _menu(_node("菜单", items=[_node("a", action="x"), _node("b", items=[LEAF] * 12)])),
    # a key twice: its last value counts, as in a parsed dict
    '{"root": 1, "version": 3, "root": ' + json.dumps(_node("菜单", action="x")) + "}",
    '{"root": {"label": {"zh": "a"}, "items": [1], "items": null, "action": "x"}}',
    '{"root": {"label": {"zh": "a"}, "items": [], "items": [{"label": {"zh": "b"}, '
    '"action": "y"}]}}',
    # escapes, numbers, literals, white space, other keys anywhere
    '{"x": [true, false, null, -1.5e3, 0, "\\"}\\\\", {"a": []}], '
    '"root": {"label": {"zh": "\\u83dc\\u5355\\\\"}, "note": "a\\"b", "action": "p"}}',
    ' \r\n\t{ "root" : { "label" : { "zh" : "a" } , "action" : "p" } } \n',
]
# not JSON, whatever else is wrong (said so by the check on every runtime: MicroPython's own
# json.loads takes some of these, a missing colon for one; the check's grammar is JSON's)
NOT_JSON = [
    "",
    "   ",
    "{",
    '{"root": ',
    '{"root": {"label": {"zh": "a"}, "action": "p"}',
    '{"root": {"label": {"zh": "a"}, "action": "p"}} x',
    '{"root": {"label": {"zh": "a"}, "action": "p"}}}',
    '{"root" {"label": {"zh": "a"}, "action": "p"}}',
    '{"root": {"label": {"zh": "a"} "action": "p"}}',
    '{"root": {"label": {"zh": "a"}, "action": "p",}}',
    '{"root": {"label": {"zh": "a"}, "action": tru}}',
    '{"root": {"label": {"zh": "a"}, "action": "p}}',
    '{"version": [1, 2, , 3], "root": 1}',
    '{"root": [1 2]}',
    "{root: 1}",
    '{"root": 1, "version": 3, "root": 2 3}',
    "[1, 2",
    '{"root": {"label": {"zh": "a"}, "items": [{"label": {"zh": "b"}, "action": "p"}]]}',
]


def _expected(text):
    # what the update said: the file parsed whole, then pos.menu.validate
    tree = json.loads(text)
    try:
        menu.validate(tree)
    except menu.MenuError as e:
        return str(e)
    return None


def test_a_menu_checked_as_it_is_read_says_what_parsing_it_whole_said():
    shipped = Rig().t.resources.read("menu.json")
    cases = [(t, _expected(t)) for t in [shipped.decode()] + CASES]
    cases += [(t, menucheck.NOT_JSON) for t in NOT_JSON]
    old = menucheck._CHUNK
    try:
        for chunk in (512, 7, 2, 1):
            menucheck._CHUNK = chunk
            for text, said in cases:
                st = MemoryStorage({"m.dl": text.encode()})
                eq(menucheck.problem(st, "m.dl"), said, "%d: %s" % (chunk, text[:80]))
    finally:
        menucheck._CHUNK = old
    eq(_expected(shipped.decode()), None, "the shipped menu is a menu")
    eq(_expected(CASES[3]), "menu needs a 'root' node")
