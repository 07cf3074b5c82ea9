"""The files deploy's split: functions a board runs once (at boot) or rarely, moved out of
the modules it keeps loaded into side modules that are imported for the call and forgotten.

From a files deploy a module's bytecode is in the heap for as long as the module is loaded
(from ROMFS or frozen firmware it stays in flash): the ~27 modules a board keeps loaded at
idle hold their boot code (the drivers' and the terminal's __init__, the font's directory,
the strings index's set-up, the journal's scan at start) and the code of rare paths (a
damaged file, the settlement's journal walks, another board's panel) for the whole day.
Each function named in split.txt becomes a stub of the same signature

    def load(self, a, b=1):
        from pos import overlay; from pos import journal_x; return overlay.side(journal_x).lo...

and its body goes to the module's side module (pos/journal.py -> pos/journal_x.py), which
imports the home module's globals it reads by name (`from pos.journal import peek, crc`: a
name, so that the renamer gives it the home module's new name; imported at each call, so
its value is the home module's then), writes those it declares global as `_home.NAME`
(`from pos import journal as _home`), and copies its integer constants (folded in both).
Split functions call each other there directly (a method as `load(self)`, not through its
stub, which would import the side module again). A generator's stub is
`return (yield from ...)`. pos.overlay.side forgets the side module as soon as it is
imported: its bytecode goes when the call ends. The stub keeps the function's lines (blank
below its first), so a traceback's line in the home module stays the source's.

The cost is an import at each call (~0.1-0.3 ms on the unix port, a few ms on a board), so
the list holds only what the day's keys never run or run at one key of a rare flow
(posterm.bench.keylatency: no key of the day calls one more than once), and nothing that
runs short of heap (an import there would fail: the MemoryError paths stay resident).
A ROMFS deploy is not split (its bytecode is in flash: a split would add imports, not room).

Refused (BuildError): a function that is not a module's or a top-level class's, decorated,
async, on one line, calling super() with no argument, with a nested class or `nonlocal`.
"""

import ast
import builtins
import copy
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIST = HERE / "split.txt"
SUFFIX = "_x"
_BUILTINS = set(dir(builtins))


class SplitError(Exception):
    pass


def entries(path=LIST):
    """-> [(rel, qualified name)] from split.txt: `pos/journal.py Journal.load  # why`."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            rel, name = line.split()
            out.append((rel, name))
    return out


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _walk_scope(nodes):
    """The nodes of a scope's body, not descending into nested scopes (their def/class
    nodes themselves are yielded) nor comprehensions (yielded too)."""
    todo = list(nodes)
    while todo:
        n = todo.pop()
        yield n
        if isinstance(n, _SCOPES + _COMPS):
            continue
        todo.extend(ast.iter_child_nodes(n))


def _arg_names(a):
    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    if a.vararg:
        names.append(a.vararg.arg)
    if a.kwarg:
        names.append(a.kwarg.arg)
    return names


def _bound(nodes):
    """-> (names bound in this scope, names declared global in it)."""
    names = set()
    glob = set()
    for n in _walk_scope(nodes):
        if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
            names.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            for a in n.names:
                names.add(a.asname or a.name.split(".")[0])
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.add(n.name)
        elif isinstance(n, ast.Global):
            glob.update(n.names)
        elif isinstance(n, ast.Nonlocal):
            raise SplitError("nonlocal")
        elif isinstance(n, ast.NamedExpr):
            names.add(n.target.id)
    return names - glob, glob


def _module_names(tree):
    """Every name bound at a module's top level, or declared global in one of its
    functions; and its integer constants ({name: statement}, assigned once)."""
    names, _ = _bound(tree.body)
    counts = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Global):
            names.update(n.names)
            for x in n.names:
                counts[x] = counts.get(x, 0) + 2  # rebound elsewhere: not a constant
    consts = {}
    for st in tree.body:
        if isinstance(st, ast.Assign) and len(st.targets) == 1:
            t = st.targets[0]
            if isinstance(t, ast.Name):
                counts[t.id] = counts.get(t.id, 0) + 1
                v = st.value
                if isinstance(v, ast.Call) and getattr(v.func, "id", None) == "const":
                    v = v.args[0] if len(v.args) == 1 else None
                if isinstance(v, ast.UnaryOp) and isinstance(v.op, ast.USub):
                    v = v.operand
                if isinstance(v, ast.Constant) and type(v.value) is int:
                    consts[t.id] = st
        elif isinstance(st, (ast.AugAssign, ast.AnnAssign)) and isinstance(st.target, ast.Name):
            counts[st.target.id] = counts.get(st.target.id, 0) + 2
    return names, {k: v for k, v in consts.items() if counts.get(k) == 1}


class _Rewrite(ast.NodeTransformer):
    """A function's reads and writes of its module's globals -> `_home.NAME`."""

    def __init__(self, module_names, consts, local_fns=None, methods=None):
        self.module_names = module_names
        self.consts = consts
        # the module's functions split into the same side module ({name: side name}): called
        # there directly, not through their stubs (which would import the side module again);
        # and the same class's split methods called on self ({method: side name})
        self.local_fns = local_fns or {}
        self.methods = methods or {}
        self.written = set()  # the globals the function declares global
        self.imported = set()  # the globals it reads
        self.stack = []  # the enclosing function scopes' local names
        self.used_consts = set()

    def _is_local(self, name):
        return any(name in s for s in self.stack)

    def _function(self, node, body):
        names, _glob = _bound(body if isinstance(body, list) else [body])
        node.args = self.visit(node.args)  # defaults: evaluated in the enclosing scope
        self.stack.append(names | set(_arg_names(node.args)))
        node.body = [self.visit(x) for x in body] if isinstance(body, list) else self.visit(body)
        self.stack.pop()
        return node

    def visit_FunctionDef(self, node):
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        self._function(node, node.body)
        node.body = [x for x in node.body if x is not None] or [ast.Pass()]
        return node

    def visit_Lambda(self, node):
        return self._function(node, node.body)

    def _comp(self, node):
        targets = set()
        for g in node.generators:
            for n in ast.walk(g.target):
                if isinstance(n, ast.Name):
                    targets.add(n.id)
        # the first iterable is evaluated outside
        node.generators[0].iter = self.visit(node.generators[0].iter)
        self.stack.append(targets)
        for i, g in enumerate(node.generators):
            g.target = self.visit(g.target)
            if i:
                g.iter = self.visit(g.iter)
            g.ifs = [self.visit(x) for x in g.ifs]
        for f in ("elt", "key", "value"):
            if hasattr(node, f):
                setattr(node, f, self.visit(getattr(node, f)))
        self.stack.pop()
        return node

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comp

    def visit_ClassDef(self, node):
        raise SplitError("a class inside it")

    def visit_Global(self, node):
        return None  # its names are written as _home.NAME (collected before: _globals)

    def visit_Call(self, node):
        f = node.func
        if (
            isinstance(f, ast.Attribute)
            and isinstance(f.value, ast.Name)
            and f.value.id == "self"
            and f.attr in self.methods
            and len(self.stack) == 1
        ):
            node.func = ast.Name(id=self.methods[f.attr], ctx=ast.Load())
            node.args.insert(0, ast.Name(id="self", ctx=ast.Load()))
        return self.generic_visit(node)

    def visit_Name(self, node):
        x = node.id
        if self._is_local(x) or x not in self.module_names:
            return node  # a local, or a builtin
        if x in self.local_fns and isinstance(node.ctx, ast.Load):
            node.id = self.local_fns[x]
            return node
        if x in self.consts and isinstance(node.ctx, ast.Load):
            self.used_consts.add(x)
            return node
        if x in self.written:
            # a global the function binds: the home module's, written and read there
            return ast.copy_location(
                ast.Attribute(value=ast.Name(id="_home", ctx=ast.Load()), attr=x, ctx=node.ctx),
                node,
            )
        # read: imported from the home module by name as the side module loads (at each
        # call, so its value is the home module's then); a name, not an attribute, so that
        # the renamer gives it the name it has there
        self.imported.add(x)
        return node


def _is_generator(fn):
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _walk_scope(fn.body))


def _find(tree, qual):
    parts = qual.split(".")
    body = tree.body
    owner = None
    if len(parts) == 2:
        owner = next((c for c in body if isinstance(c, ast.ClassDef) and c.name == parts[0]), None)
        if owner is None:
            return None, None
        body = owner.body
    elif len(parts) != 1:
        return None, None
    fn = next((f for f in body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
               and f.name == parts[-1]), None)  # fmt: skip
    return owner, fn


def _check(fn):
    if isinstance(fn, ast.AsyncFunctionDef):
        raise SplitError("async")
    if fn.decorator_list:
        raise SplitError("decorated")
    if fn.body[0].lineno == fn.lineno:
        raise SplitError("on one line")
    for n in ast.walk(fn):
        if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "super" and not n.args:
            raise SplitError("super() with no argument")
        if isinstance(n, ast.Name) and n.id == "__class__":
            raise SplitError("__class__")


def _call_args(a):
    out = [x.arg for x in a.posonlyargs + a.args]
    if a.vararg:
        out.append("*" + a.vararg.arg)
    out += ["%s=%s" % (x.arg, x.arg) for x in a.kwonlyargs]
    if a.kwarg:
        out.append("**" + a.kwarg.arg)
    return ", ".join(out)


def dotted(rel):
    d = rel[:-3].replace("/", ".")
    return d[: -len(".__init__")] if d.endswith(".__init__") else d


def split(sources, wanted=None):
    """sources: {rel: bytes} -> ({rel: bytes} with the stubs and the side modules,
    [(rel, qualified name)] split). wanted: [(rel, qualified name)] (split.txt's)."""
    wanted = entries() if wanted is None else wanted
    by_rel = {}
    for rel, qual in wanted:
        by_rel.setdefault(rel, []).append(qual)
    out = dict(sources)
    done = []
    for rel, quals in by_rel.items():
        if rel not in sources:
            raise SplitError(f"split.txt: {rel} is not in the deploy")
        side_rel = rel[:-3] + SUFFIX + ".py"
        if side_rel in sources:
            raise SplitError(f"{side_rel} exists: the side module's name is taken")
        text = sources[rel].decode("utf-8")
        tree = ast.parse(text, rel)
        module_names, consts = _module_names(tree)
        home = dotted(rel)
        home_pkg, _, home_leaf = home.rpartition(".")
        side_leaf = dotted(side_rel).rpartition(".")[2]
        lines = text.splitlines(keepends=True)
        side_defs = []
        taken = set()
        used_consts = set()
        imported = set()
        uses_home = False
        found = []
        for qual in quals:
            owner, fn = _find(tree, qual)
            if fn is None:
                raise SplitError(f"split.txt: {rel} has no function {qual}")
            name = fn.name.strip("_") if fn.name.startswith("__") else fn.name
            base = name
            k = 2
            while name in taken or name in _BUILTINS or (name in module_names and name != fn.name):
                name = "%s%d" % (base, k)
                k += 1
            taken.add(name)
            found.append((qual, owner, fn, name))
        local_fns = {fn.name: name for _q, owner, fn, name in found if owner is None}
        for qual, owner, fn, name in found:
            first_arg = (fn.args.posonlyargs + fn.args.args or [None])[0]
            methods = {}
            if owner is not None and first_arg is not None and first_arg.arg == "self":
                methods = {f.name: n for _q, o, f, n in found if o is owner}
            try:
                _check(fn)
                rw = _Rewrite(module_names, consts, local_fns, methods)
                rw.written = {x for n in ast.walk(fn) if isinstance(n, ast.Global)
                              for x in n.names}  # fmt: skip
                new = rw.visit_FunctionDef(copy.deepcopy(fn))
            except SplitError as e:
                raise SplitError(f"split.txt: {rel} {qual} cannot be split ({e})") from None
            used_consts |= rw.used_consts
            imported |= rw.imported
            uses_home = uses_home or bool(rw.written)
            new.name = name
            new.args.defaults = []
            new.args.kw_defaults = [None] * len(new.args.kwonlyargs)
            side_defs.append(new)
            call = "overlay.side(%s).%s(%s)" % (side_leaf, name, _call_args(fn.args))
            if _is_generator(fn):
                call = "(yield from %s)" % call
            first = fn.body[0].lineno
            indent = " " * fn.body[0].col_offset
            stub = "%sfrom pos import overlay; from %s import %s; return %s\n" % (
                indent, home_pkg, side_leaf, call)  # fmt: skip
            for i in range(first - 1, fn.end_lineno):
                lines[i] = "\n"
            lines[first - 1] = stub
            done.append((rel, qual))
        head = ["# %s's functions a board runs once or rarely (posterm.flash.split)\n" % home]
        if uses_home:
            head.append("from %s import %s as _home\n" % (home_pkg, home_leaf))
        if imported:
            head.append("from %s import %s\n" % (home, ", ".join(sorted(imported))))
        if any(
            isinstance(consts[c].value, ast.Call) for c in used_consts
        ):  # const() as in the home module
            head.append("from micropython import const\n")
        for c in sorted(used_consts):
            head.append(ast.unparse(consts[c]) + "\n")
        body = "\n\n".join(ast.unparse(ast.fix_missing_locations(d)) for d in side_defs)
        out[rel] = "".join(lines).encode("utf-8")
        out[side_rel] = ("".join(head) + "\n\n" + body + "\n").encode("utf-8")
    return out, done
