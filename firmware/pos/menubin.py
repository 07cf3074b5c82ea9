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

MAGIC = b"PMB1"
HEAD = 8
REC = 8


def compile(tree):
    # -> menu.bin bytes of a menu tree (a pos.menu.validate()d one: raises MenuError). Two
    # walks of the nodes in breadth-first order (a node's children get consecutive indices):
    # the sizes, then each record and its strings written into one buffer, so that a board
    # compiling a downloaded menu (pos.flows.menuupdate) holds little beside the tree
    from pos import menu

    menu.validate(tree)
    nodes = [tree["root"]]
    i = 0
    size = 0
    while i < len(nodes):
        node = nodes[i]
        items = node.get("items")
        if items:
            nodes.extend(items)
        for part in _parts(node):
            size += len(part)
        i += 1
    n = len(nodes)
    if n > 0xFFFF:
        raise menu.MenuError("menu has too many nodes")
    at = HEAD + REC * n
    if at + size > 0xFFFF:
        raise menu.MenuError("compiled menu over 64 KB")
    out = bytearray(at + size)
    out[0:4] = MAGIC
    _u16(out, 4, n)
    _u16(out, 6, tree.get("version", 0) & 0xFFFF)
    child = 1  # the index of the next first child
    for k in range(n):
        node = nodes[k]
        r = HEAD + REC * k
        _u16(out, r, at)
        j = 2
        for part in _parts(node):
            if len(part) > 255:
                raise menu.MenuError("menu label or action longer than 255 bytes: %r" % part)
            out[r + j] = len(part)
            out[at : at + len(part)] = part
            at += len(part)
            j += 1
        count = len(node.get("items") or ())
        out[r + 5] = count
        _u16(out, r + 6, child if count else 0)
        child += count
    return bytes(out)


def _parts(node):
    # the node's zh label, en label and action name, as UTF-8
    lab = node["label"]
    return (
        (lab.get("zh") or "").encode(),
        (lab.get("en") or "").encode(),
        (node.get("action") or "").encode(),
    )


def _u16(out, i, v):
    out[i] = v & 0xFF
    out[i + 1] = v >> 8
