"""Which of the firmware's functions get their frame from the heap on MicroPython.

usage (from tools/, the venv active):
  python -m posterm.bench.heapframes [--all] [PATH_SUBSTR ...]
MicroPython's fun_bc_call (py/objfun.c) keeps a call's state on the C stack only when
n_state*word + n_exc_stack*2 words <= 11 words (VM_MAX_STATE_ON_STACK); a bigger frame is
m_malloc_maybe'd (a search of the heap) and freed on return. n_state = args + locals + max
stack depth (+ cells); n_exc_stack = deepest try/with nesting. Prints each function with
S + 2E > 11 (or all with --all): module, dotted path of nested names (source names), S, E.
Reads the deploy tree's .mpy (esp32 board, renamed as deployed, source names mapped back).
"""

import sys

from posterm.flash import build


vuint = build._vuint  # (an .mpy's variable-length unsigned int: (value, next index))


def skip_obj(b, i):
    t = b[i]
    i += 1
    if t <= 4:
        return i
    n, i = vuint(b, i)
    if t == 10:
        for _ in range(n):
            i = skip_obj(b, i)
        return i
    i += n
    if t in (5, 6):
        i += 1
    return i


STATIC = {}


def parse(mpy):
    table = build.mpy_qstrs(mpy)
    if table is None:
        raise ValueError("not an .mpy of version 6")
    qstrs = [("#static", q) if isinstance(q, int) else q.decode() for q in table[0]]
    _, j = vuint(mpy, 4)
    n_o, _ = vuint(mpy, j)  # (the header's second count: the constant objects)
    i = table[1]
    for _ in range(n_o):
        i = skip_obj(mpy, i)
    out = []

    def raw(i, path):
        kind_len, i = vuint(mpy, i)
        has_children = kind_len & 4
        n = kind_len >> 3
        data = mpy[i : i + n]
        i += n
        j = 0
        z = data[j]
        j += 1
        S = (z >> 3) & 0xF
        E = (z >> 2) & 1
        k = 0
        while z & 0x80:
            z = data[j]
            j += 1
            S |= (z & 0x30) << (2 * k)
            E |= (z & 0x02) << k
            k += 1
        S += 1
        # size: xIIIIIIC bytes
        while data[j] & 0x80:
            j += 1
        j += 1
        name_idx, j = vuint(data, j)
        name = qstrs[name_idx] if name_idx < len(qstrs) else "?"
        if isinstance(name, tuple):
            name = STATIC.get(name[1], "#static%d" % name[1])
        p = path + [name]
        out.append((p, S, E))
        if has_children:
            nc, i = vuint(mpy, i)
            for _ in range(nc):
                i = raw(i, p)
        return i

    raw(i, [])
    return out


def static_names():
    """{static qstr index: text}, found by compiling every runtime name through mpy-cross."""
    import os
    import keyword
    import re
    import tempfile

    words = []
    for line in open(os.path.join(os.path.dirname(build.__file__), "runtime_names.txt")):
        w = line.strip()
        if (
            w
            and not w.startswith(("#", "["))
            and re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", w)
            and not keyword.iskeyword(w)
            and w != "__debug__"
        ):
            words.append(w)
    src = ("\n".join("x.%s" % w for w in words) + "\n").encode()
    cache = os.path.join(tempfile.gettempdir(), "posterm-mpy-cache")
    mpy = build.compile_mpy(src, "s.py", build.mpy_cross_args(6), cache)
    out = {}
    entries = [q if isinstance(q, int) else q.decode() for q in build.mpy_qstrs(mpy)[0]]
    # the table: the source name, "<module>", then the attributes in source order ("x" itself
    # somewhere): align the rest with the words
    rest = [e for e in entries[2:] if e != "x"]
    uniq = list(dict.fromkeys(words))
    assert len(rest) == len(uniq), (len(rest), len(uniq))
    for e, w in zip(rest, uniq, strict=True):
        if isinstance(e, int):
            out[e] = w
        else:
            assert e == w, (e, w)
    return out


def heap_frames(only=(), show_all=False):
    """-> [(module rel, dotted function, S, E, words)] of the esp32 deploy tree's functions
    (those with S + 2E > 11 words unless show_all)."""
    names = {}
    tree = build.deploy_tree("esp32", names_map=names)
    STATIC.update(static_names())
    rows = []
    for path, data in sorted(tree.items()):
        if not path.endswith(".mpy"):
            continue
        rel = path[1:-4] + ".py"
        if only and not any(a in rel for a in only):
            continue
        back = names.get(rel, {})
        for p, S, E in parse(data):
            words = S + 2 * E
            if show_all or words > 11:
                fn = ".".join(back.get(x, x) for x in p[1:]) or "<module>"
                rows.append((rel, fn, S, E, words))
    return rows


def main(argv=None):
    args = sys.argv[1:] if argv is None else list(argv)
    if "-h" in args or "--help" in args:
        print(__doc__.strip())
        return
    show_all = "--all" in args
    args = [a for a in args if a != "--all"]
    rows = heap_frames(args, show_all)
    for rel, fn, S, E, words in rows:
        print(
            "%-34s %-44s S=%-3d E=%d  %d words%s"
            % (rel, fn, S, E, words, "  HEAP" if words > 11 else "")
        )
    print("%d functions listed" % len(rows))


if __name__ == "__main__":
    main()
