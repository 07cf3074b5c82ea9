# The compiled menu (menu.bin): the menu tree of menu.json compiled ahead of time (by the
# deploy builder, `posterm flash`, for the menu a board ships with) into a compact indexed
# file that pos.menu looks a node up in without parsing anything: on a board the tree is not
# kept in the heap (pos.menu), and parsing menu.json again at every move in the menu took
# ~2-3 ms on the unix port (~0.3-0.8 s on a Pico). Only compile() is here: the builder and
# the tests import it; the lookup is pos.menu.bin_view (resident, no import per key).
#
# Layout (little-endian):
#   b"PMB1" | node count u16 | menu version u16
#   a record per node, 8 B each, the root first and a node's children next to each other:
#     strings offset u16 (from the file's start) | zh length u8 | en length u8 |
#     action length u8 | children u8 (0: an action) | first child's index u16
#   the strings: per node its zh label, en label and action name (UTF-8), a node's
#   children's strings next to each other (one read gets a screen's labels)
import struct

MAGIC = b"PMB1"
HEAD = 8
REC = 8


def compile(tree):
    # -> menu.bin bytes of a menu tree (a pos.menu.validate()d one: raises MenuError)
    from pos import menu

    menu.validate(tree)
    nodes = [tree["root"]]  # breadth first: a node's children get consecutive indices
    first = [0]
    i = 0
    while i < len(nodes):
        items = nodes[i].get("items") or []
        first[i] = len(nodes) if items else 0
        for it in items:
            nodes.append(it)
            first.append(0)
        i += 1
    if len(nodes) > 0xFFFF:
        raise menu.MenuError("menu has too many nodes")
    strings = []
    offsets = []
    at = HEAD + REC * len(nodes)
    lens = []
    for node in nodes:
        lab = node["label"]
        zh = (lab.get("zh") or "").encode()
        en = (lab.get("en") or "").encode()
        act = (node.get("action") or "").encode()
        for part in (zh, en, act):
            if len(part) > 255:
                raise menu.MenuError("menu label or action longer than 255 bytes: %r" % part)
        offsets.append(at)
        lens.append((len(zh), len(en), len(act)))
        strings.append(zh + en + act)
        at += len(zh) + len(en) + len(act)
    if at > 0xFFFF:
        raise menu.MenuError("compiled menu over 64 KB")
    version = tree.get("version", 0)
    out = [MAGIC, struct.pack("<HH", len(nodes), version & 0xFFFF)]
    for k in range(len(nodes)):
        zl, el, al = lens[k]
        count = len(nodes[k].get("items") or [])
        out.append(struct.pack("<HBBBBH", offsets[k], zl, el, al, count, first[k]))
    out.extend(strings)
    return b"".join(out)
