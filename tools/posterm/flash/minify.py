"""The build's renamer: shorter and fewer names (qstrs) in the firmware `posterm flash` deploys.

MicroPython interns every name a module's bytecode uses (functions, classes, globals,
attributes, argument names) and never frees one; the pools that hold them double in size, so
that past ~1,260 names in all a 1,280-entry pool (one 14 KB block on the x64 unix port) is
needed, and from a files deploy every name's bytes are copied into the heap too. This pass
renames identifiers of the firmware's sources, before mpy-cross compiles them, to short names
drawn from one pool shared by all modules (`a`, `b`, ... `_a`, ...), so that different modules
reuse the same names. The desktop (CPython, the emulator, the core tests on CPython and both
MicroPythons) keeps running the sources as they are; only the deploy is transformed.

It is a consistent renaming of an identifier's text: every token X of the whole firmware
(every module that mentions X, in every role: global, attribute, argument, keyword, local)
becomes the same Y, so that the program means what it meant, as a refactoring tool's rename
would. An identifier is renamed only if nothing outside the renamed sources can name it
(`_pinned`):
  - a word of any string or bytes literal in the firmware, or of the data files it reads
    (menus/*.json): getattr/hasattr by a literal name, the action table's functions,
    `__import__` fromlists, dict keys that could meet `**` (none in the firmware), json;
  - an identifier or word of the code that runs next to the deploy but is not renamed:
    firmware/main.py (stays source), boards/fakes.py, the board sim's simside.py, the flash
    tools and the board tests that drive a deployed firmware (BESIDE);
  - a module or package name (imports, sys.modules, __file__);
  - a dunder;
  - a name of MicroPython or its libraries (RUNTIME_FILE: the builtins, every identifier of
    the rp2, esp32 and stdlib stubs, every word of the unix port's binary) when it is used as
    an attribute or a keyword anywhere in the firmware (it could be looked up on, or passed
    to, a runtime object); other identifiers (locals, arguments, globals used by name) only
    need not be builtins;
  - any identifier of a module with a dynamic lookup the pass cannot follow (getattr with a
    computed name, globals(), vars(), `__dict__`...), unless the site is one audited below
    (AUDITED), and then also every attribute name of the firmware.
Argument names are renamed with the function (a keyword argument at a call is the same
token X as the parameter, so both change); a `**kwargs` parameter pins every keyword name.

The new names: identifiers used as attributes (or keywords) anywhere get names of their own,
one per identifier across the whole firmware (objects travel between modules); the others
(module globals, functions and classes used by name, arguments, imported names) are colored:
two identifiers get the same new name only if no module mentions both, so each module's
namespace stays one to one. A module's own `NAME = const(int)` or `NAME = <int literal>`
(assigned once, bound nowhere else, read only below it) becomes `_x = const(...)`: MicroPython
folds it into the code and keeps neither the global nor the name.

The map of every rename is written beside the build (`names_map`) and the board sim and
`posterm flash --names-map` use it to show tracebacks with the sources' names (`translate`).
"""

import ast
import io
import keyword
import re
import tokenize
from pathlib import Path

WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
HERE = Path(__file__).resolve().parent
RUNTIME_FILE = HERE / "runtime_names.txt"

# dynamic lookups read and found safe: (module, what): actions.flow/run/preload getattr a
# flow's function by the name in its own _TABLE string (whose words are pinned); overlay
# walks a package's __dict__ for a submodule's name and deletes it (module names are pinned)
AUDITED = {
    ("pos/actions.py", "getattr"),
    ("pos/overlay.py", "__dict__"),
    ("pos/overlay.py", "delattr"),
}
# tables of flows: {module: its string constant}, a line "action module function flag" each;
# the function (getattr'd from pos.flows.<module> by that word) is renamed with its def and
# the table's third column rewritten to its new name (its words are not pinned; the other
# columns' are: the action names are the menus', the modules' are module names)
TABLES = {"pos/actions.py": "_TABLE"}
DYNAMIC_CALLS = ("getattr", "setattr", "hasattr", "delattr", "globals", "locals", "vars", "dir")
DYNAMIC_ATTRS = ("__dict__", "__class__", "__globals__")

# names MicroPython's compiler gives a meaning (viper and inline assembler types, const)
COMPILER = {
    "const",
    "micropython",
    "native",
    "viper",
    "asm_thumb",
    "asm_xtensa",
    "ptr",
    "ptr8",
    "ptr16",
    "ptr32",
    "uint",
    "self",
    "cls",
    # a call super() is compiled as the method's super(__class__, self): a function renamed
    # to it (a ROM name) fails with NameError '__class__' (board sim, every key)
    "super",
}


class MinifyError(Exception):
    pass


# -- the runtime's names ----------------------------------------------------------------
def _sections():
    out = {}
    section = None
    for line in RUNTIME_FILE.read_text().splitlines():
        if line.startswith("["):
            section = out.setdefault(line.strip("[]"), [])
            continue
        if line and not line.startswith("#") and section is not None:
            section.append(line)
    return out


def runtime_names():
    """-> (builtins, every name of the runtime and its libraries) from RUNTIME_FILE."""
    sections = _sections()
    builtins_ = set(sections.get("builtins", ()))
    everything = set(sections.get("runtime", ())) | builtins_ | set(sections.get("core", ()))
    return builtins_, everything


def core_names():
    """Names every MicroPython port has in its firmware (its ROM names: the builtins and the
    methods of the core types), shortest first: a module-level or local name renamed to one
    of them costs no entry in the name pools (RUNTIME_FILE's [core], from the unix port)."""
    return sorted(_sections().get("core", ()), key=lambda n: (len(n), n))


def refresh_runtime_names(binary=None):
    """Regenerate RUNTIME_FILE from the installed board stubs, the unix port's binary and
    CPython's builtins (`python -m posterm.flash.minify --refresh`)."""
    import builtins
    import importlib.metadata
    import subprocess

    everything = set()
    for dist in (
        "micropython-rp2-rpi-pico-stubs",
        "micropython-esp32-stubs",
        "micropython-stdlib-stubs",
    ):
        d = importlib.metadata.distribution(dist)
        for f in d.files or ():
            if str(f).endswith((".pyi", ".py")):
                # the stubs' code names (modules, classes, functions, their parameters and
                # constants), not the words of their docstrings
                text = Path(d.locate_file(f)).read_text("utf-8", "replace")
                everything |= _code_names(text)
    mp_builtins = set()
    if binary:
        # the names compiled into the unix port: its C strings that are a whole name (its
        # qstrs), not the words of its messages
        data = Path(binary).read_bytes()
        found = re.findall(rb"(?<![A-Za-z0-9_ ])([A-Za-z_][A-Za-z0-9_]*)\x00", data)
        everything |= {w.decode() for w in found}
        out = subprocess.run(
            [binary, "-c", "import builtins;print(' '.join(dir(builtins)))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        mp_builtins = set(out.split())
        out = subprocess.run(
            [binary, str(HERE / "runtime_dir.py")], capture_output=True, text=True, check=True
        ).stdout
        everything |= set(out.split())
    for t in (
        str,
        bytes,
        bytearray,
        list,
        dict,
        tuple,
        set,
        frozenset,
        int,
        float,
        object,
        memoryview,
        BaseException,
        type,
        range,
        slice,
        property,
        io.BytesIO,
    ):
        everything |= set(dir(t))
    bnames = set(dir(builtins)) | mp_builtins | COMPILER
    everything = {w for w in everything if len(w) > 1} - bnames
    head = (
        "# Names of MicroPython and its libraries (posterm.flash.minify: never renamed when\n"
        "# used as an attribute or keyword). Made by `python -m posterm.flash.minify --refresh`\n"
        "# from the rp2/esp32/stdlib stubs, the unix port's binary and the builtins.\n"
    )
    core = set()
    if binary:
        out = subprocess.run(
            [binary, "-c", _CORE_SCRIPT], capture_output=True, text=True, check=True
        ).stdout
        core = {n for n in out.split() if WORD.fullmatch(n) and not n.startswith("__")}
    text = head + "[builtins]\n" + "\n".join(sorted(bnames)) + "\n[runtime]\n"
    text += "\n".join(sorted(everything - core)) + "\n"
    text += "[core]\n" + "\n".join(sorted(core)) + "\n"
    RUNTIME_FILE.write_text(text)
    return len(bnames), len(everything)


# the builtins and the core types' methods, in every port's firmware
_CORE_SCRIPT = (
    "import builtins\n"
    "def g():\n    yield 1\n"
    "n = set(dir(builtins))\n"
    "for o in ('', b'', bytearray(), [], {}, (), set(), frozenset(), 1, 1.0, memoryview(b''),"
    " object(), g(), Exception(), OSError(), {}.keys(), {}.items(), iter([]), range(1)):\n"
    "    n.update(dir(o))\n"
    "print(' '.join(sorted(n)))\n"
)


def _code_names(text):
    out = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.NAME:
                out.add(tok.string)
    except (tokenize.TokenError, SyntaxError):
        out |= set(WORD.findall(text))
    return out


# -- reading a module -------------------------------------------------------------------
class Module:
    """One source: its NAME tokens, its strings' words, and the roles of its identifiers."""

    def __init__(self, rel, source):
        self.rel = rel
        self.text = source.decode("utf-8") if isinstance(source, bytes) else source
        self.idents = set()
        self.allwords = set()  # every word of every string literal (f-strings' fields too)
        self.strwords = set()  # the strings that could name an identifier (see _scan_ast)
        self.exposed = set()  # used as an attribute or a keyword (or defined in a class body)
        self.pinned = set()  # must keep their names (imports' module names, f-strings...)
        self.dynamic = []  # dynamic lookups: (what, line)
        self.consts = {}  # module-level NAME = const(int) (or = int) -> its line
        self.wrap = {}  # module-level NAME = int -> (line, value's columns): const() added
        self.kwargs_defs = False
        self.table = None  # (first, last line) of its TABLES string
        self.table_funcs = set()  # the functions its table names (column 3)
        # classes: (name, [base names], {attributes it owns: its body's names and every
        # self.X its methods say}); attributes stored on anything but self (unique names)
        self.classes = []
        self.adhoc = set()
        self._scan_tokens()
        self._scan_ast()

    def _tokens(self):
        return tokenize.generate_tokens(io.StringIO(self.text).readline)

    def _scan_tokens(self):
        depth = 0  # inside an f-string (Python 3.12+ tokenizes its fields)
        for tok in self._tokens():
            name = tokenize.tok_name[tok.type]
            if name == "FSTRING_START":
                depth += 1
            elif name == "FSTRING_END":
                depth -= 1
            elif tok.type == tokenize.STRING or name == "FSTRING_MIDDLE":
                self.allwords.update(WORD.findall(tok.string))
            elif tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                self.idents.add(tok.string)
                if depth:
                    self.pinned.add(tok.string)

    def _scan_ast(self):
        tree = ast.parse(self.text, self.rel)
        audited = any(rel == self.rel for rel, _ in AUDITED)
        table = None
        for item in tree.body:
            if (
                TABLES.get(self.rel)
                and isinstance(item, ast.Assign)
                and len(item.targets) == 1
                and isinstance(item.targets[0], ast.Name)
                and item.targets[0].id == TABLES[self.rel]
                and isinstance(item.value, ast.Constant)
                and isinstance(item.value.value, str)
            ):
                table = item.value
                self.table = (item.value.lineno, item.value.end_lineno)
                rows = [ln.split() for ln in table.value.splitlines() if ln.strip()]
                if any(len(r) != 4 for r in rows):
                    raise MinifyError(f"{self.rel}: {TABLES[self.rel]}: a line is not 4 words")
                for r in rows:
                    self.strwords.update((r[0], r[1], r[3]))
                    self.table_funcs.add(r[2])
        for node in ast.walk(tree):
            if node is table:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
                text = node.value if isinstance(node.value, str) else node.value.decode("latin-1")
                if audited:
                    # a module that looks names up by its strings' words (the action table)
                    self.strwords.update(WORD.findall(text))
                elif WORD.fullmatch(text):
                    self.strwords.add(text)  # a string that is a name: it may be looked up
            if isinstance(node, ast.JoinedStr):
                # an f-string's fields are code: their names stay (Python 3.11 tokenizes an
                # f-string as one string, so the rewrite would not see them)
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Name):
                        self.pinned.add(sub.id)
                    elif isinstance(sub, ast.Attribute):
                        self.pinned.add(sub.attr)
            if isinstance(node, ast.Attribute):
                self.exposed.add(node.attr)
                if node.attr in DYNAMIC_ATTRS:
                    self.dynamic.append((node.attr, node.lineno))
                elif node.attr in ("__name__", "__qualname__") and not (
                    isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Name)
                    and node.value.func.id == "type"
                ):
                    # a function's or class's name as data would change with the rename
                    # (type(x).__name__ of the error messages names a builtin type)
                    self.dynamic.append((node.attr, node.lineno))
            elif isinstance(node, ast.keyword):
                if node.arg is None:
                    self.dynamic.append(("**", node.lineno))
                else:
                    self.exposed.add(node.arg)
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                        self.exposed.add(item.name)
                    for t in _targets(item):
                        self.exposed.add(t)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                if isinstance(node, ast.ImportFrom) and node.module:
                    self.pinned.update(node.module.split("."))
                for a in node.names:
                    # `from pos import ui`: ui may be a module; `from pos.ui import show`:
                    # show is a global of pos.ui, renamed with it (kept if a module name)
                    if isinstance(node, ast.Import):
                        self.pinned.update(a.name.split("."))
                    if a.asname:
                        self.pinned.add(a.asname)
                    if a.name == "*":
                        self.dynamic.append(("import *", node.lineno))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in DYNAMIC_CALLS or node.func.id == "__import__":
                    # the words of every string given to a lookup by name
                    for a in node.args:
                        for sub in ast.walk(a):
                            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                                self.strwords.update(WORD.findall(sub.value))
                if node.func.id in DYNAMIC_CALLS:
                    literal = (
                        node.func.id in ("getattr", "setattr", "hasattr", "delattr")
                        and len(node.args) >= 2
                        and isinstance(node.args[1], ast.Constant)
                        and isinstance(node.args[1].value, str)
                    )
                    if not literal:
                        self.dynamic.append((node.func.id, node.lineno))
                elif node.func.id in ("__import__", "exec", "eval", "compile"):
                    if node.func.id != "__import__":
                        self.dynamic.append((node.func.id, node.lineno))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                if node.args.kwarg is not None:
                    self.kwargs_defs = True
        self._scan_classes(tree)
        for item in tree.body:
            if (
                isinstance(item, ast.Assign)
                and len(item.targets) == 1
                and isinstance(item.targets[0], ast.Name)
                and isinstance(item.value, ast.Call)
                and isinstance(item.value.func, ast.Name)
                and item.value.func.id == "const"
                and len(item.value.args) == 1
                and _int_expr(item.value.args[0])
            ):
                self.consts[item.targets[0].id] = item.lineno
            elif (
                isinstance(item, ast.Assign)
                and len(item.targets) == 1
                and isinstance(item.targets[0], ast.Name)
                and _int_expr(item.value)
                and item.value.lineno == item.value.end_lineno
            ):
                # a plain int global: made a const by the rewrite when it is folded
                name = item.targets[0].id
                self.consts[name] = item.lineno
                self.wrap[name] = (item.lineno, item.value.col_offset, item.value.end_col_offset)
        # names bound anywhere else (MicroPython folds a const's name wherever it is said:
        # a local, a parameter, a def of the same name would become a literal), or global
        bound = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Global, ast.Nonlocal)):
                bound.update(node.names)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                if node.lineno != self.consts.get(node.id):
                    bound.add(node.id)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(node.name)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                bound.add(node.name)
            elif isinstance(node, ast.alias):
                bound.add(node.asname or node.name.split(".")[0])
        for name in bound:
            self.consts.pop(name, None)
            self.wrap.pop(name, None)

    def _scan_classes(self, tree):
        owned_stores = set()  # id() of the Attribute nodes that are self.X
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = []
            for b in node.bases:
                if isinstance(b, ast.Name):
                    bases.append(b.id)
                elif isinstance(b, ast.Attribute):
                    bases.append(b.attr)
            owned = set()
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    owned.add(item.name)
                owned.update(_targets(item))
                if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                static = any(
                    isinstance(d, ast.Name) and d.id == "staticmethod" for d in item.decorator_list
                )
                args = item.args.posonlyargs + item.args.args
                if static or not args:
                    continue
                me = args[0].arg  # self (cls in a classmethod)
                for sub in ast.walk(item):
                    if (
                        isinstance(sub, ast.Attribute)
                        and isinstance(sub.value, ast.Name)
                        and sub.value.id == me
                    ):
                        owned.add(sub.attr)
                        owned_stores.add(id(sub))
            self.classes.append((node.name, bases, owned))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, (ast.Store, ast.Del))
                and id(node) not in owned_stores
            ):
                self.adhoc.add(node.attr)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Attribute):
                if id(node.target) not in owned_stores:
                    self.adhoc.add(node.target.attr)

    def unaudited(self):
        return [d for d in self.dynamic if (self.rel, d[0]) not in AUDITED]

    def rewrite(self, renames, fold=()):
        """-> the source with every NAME token in `renames` replaced (lines unchanged), and
        the int globals in `fold` made consts (`X = 3` -> `X = const(3)`)."""
        lines = self.text.splitlines(keepends=True)
        for name in fold:
            row, col, end = self.wrap[name]
            raw = lines[row - 1].encode("utf-8")  # ast's columns are UTF-8 offsets
            raw = raw[:col] + b"const(" + raw[col:end] + b")" + raw[end:]
            lines[row - 1] = raw.decode("utf-8")
        text = "".join(lines)
        lines = text.splitlines(keepends=True)
        edits = {}
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.NAME and tok.string in renames:
                (row, col) = tok.start
                edits.setdefault(row, []).append((col, tok.string, renames[tok.string]))
        for row, items in edits.items():
            line = lines[row - 1]
            for col, old, new in sorted(items, reverse=True):
                assert line[col : col + len(old)] == old
                line = line[:col] + new + line[col + len(old) :]
            lines[row - 1] = line
        return "".join(lines)

    def rewrite_table(self, text, renames):
        """-> text with its TABLES string's third column renamed (lines unchanged)."""
        if self.table is None:
            return text
        lines = text.splitlines(keepends=True)
        first, last = self.table
        for i in range(first - 1, last):
            words = lines[i].split()
            if len(words) == 4 and words[2] in renames:
                words[2] = renames[words[2]]
                lines[i] = " ".join(words) + "\n"
        return "".join(lines)

    def reads_before(self, name, line):
        """True if `name` is mentioned above its const definition at `line`."""
        for tok in self._tokens():
            if tok.start[0] >= line:
                return False
            if tok.type == tokenize.NAME and tok.string == name:
                return True
        return False


def _int_expr(node):
    """An expression of int literals only (what MicroPython folds as a const)."""
    if isinstance(node, ast.Constant):
        return type(node.value) is int
    if isinstance(node, ast.UnaryOp):
        return _int_expr(node.operand)
    if isinstance(node, ast.BinOp):
        return _int_expr(node.left) and _int_expr(node.right)
    return False


def _targets(stmt):
    if isinstance(stmt, ast.Assign):
        for t in stmt.targets:
            yield from _names_of(t)
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        yield from _names_of(stmt.target)


def _names_of(t):
    if isinstance(t, ast.Name):
        yield t.id
    elif isinstance(t, (ast.Tuple, ast.List)):
        for e in t.elts:
            yield from _names_of(e)
    elif isinstance(t, ast.Starred):
        yield from _names_of(t.value)


_CALL = re.compile(r"[A-Za-z0-9_\]\)]\(")
_JS_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|`(?:[^`\\]|\\.)*`')


def _code_like(s):
    """A string that may be code or a name sent to the firmware's VM (a REPL snippet, a
    script, a name, a dotted name, a path), not prose (a help text, a message)."""
    if not s.split() or len(s.split()) == 1:
        return True
    return "\n" in s or "import " in s or "=" in s or bool(_CALL.search(s))


def beside_names(name, text, vm=True):
    """The names code that is not renamed can reach the firmware by. A Python file that
    runs in the firmware's VM (vm): its attributes, keywords, imported names and every word
    of its strings. A desktop file: the words of its strings that may be code or names
    (_code_like: what it can send to the VM). Another file (JavaScript): the same of its
    string literals."""
    if not name.endswith(".py"):
        return {
            w for m in _JS_STRING.findall(text) if _code_like(m[1:-1]) for w in WORD.findall(m)
        }
    try:
        tree = ast.parse(text, name)
    except SyntaxError:
        return set(WORD.findall(text))
    if not vm:
        return {
            w
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _code_like(node.value)
            for w in WORD.findall(node.value)
        }
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, ast.keyword) and node.arg:
            out.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.ImportFrom) and node.module:
                out.update(node.module.split("."))
            for a in node.names:
                out.update(a.name.split("."))
                if a.asname:
                    out.add(a.asname)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.update(WORD.findall(node.value))
        elif isinstance(node, ast.Global):
            out.update(node.names)
    return out


# -- functions nothing calls -------------------------------------------------------------
def unused_defs(sources, beside=(), data_words=(), runtime=None):
    """sources: {rel: bytes} -> {rel: [(name, first line, last line)]}: the functions and
    classes (a module's own, or a class's methods) whose name no module says anywhere else
    and nothing outside the renamed sources can reach them by (the pinned words of the
    renamer: strings, the code beside, data files; a runtime name, which the runtime could
    call as a method, or a dunder). Kept in the sources for the desktop (the center and the
    tests use some: field48's parsers, receipt's text); a board never calls them, and each
    costs its bytecode and a raw code record (and its names) when its module is loaded."""
    builtins_, everything = (runtime or runtime_names())[:2]
    mods = {rel: Module(rel, src) for rel, src in sources.items()}
    pinned = set(data_words)
    for name, text, *vm in beside:
        pinned |= beside_names(name, text, vm[0] if vm else True)
    counts = {}
    for m in mods.values():
        pinned |= m.allwords | m.pinned
        for tok in m._tokens():
            if tok.type == tokenize.NAME:
                counts[tok.string] = counts.get(tok.string, 0) + 1
    out = {}
    for rel, m in mods.items():
        tree = ast.parse(m.text, rel)
        found = []
        bodies = [tree.body] + [c.body for c in tree.body if isinstance(c, ast.ClassDef)]
        for body in bodies:
            mine = []
            for item in body:
                if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    continue
                x = item.name
                if x.startswith("__") or x in pinned or x in everything or x in builtins_:
                    continue
                if counts.get(x, 0) != 1:
                    continue
                first = min([item.lineno] + [d.lineno for d in item.decorator_list])
                mine.append((x, first, item.end_lineno))
            if body is not tree.body and len(mine) == len(body):
                mine = mine[1:]  # a class body cannot be empty: its first stays
            found.extend(mine)
        if found:
            out[rel] = found
    return out


def drop_unused(sources, beside=(), data_words=(), runtime=None):
    """-> ({rel: bytes} with the unused_defs blanked, [(rel, name)] dropped), repeated
    until no more (a function only a dropped one called goes too). The lines stay (blank):
    a traceback's line is the source's."""
    sources = dict(sources)
    dropped = []
    while True:
        found = unused_defs(sources, beside, data_words, runtime)
        if not found:
            return sources, dropped
        for rel, defs in found.items():
            lines = sources[rel].decode("utf-8").splitlines(keepends=True)
            for name, first, last in defs:
                for i in range(first - 1, last):
                    lines[i] = "\n"
                dropped.append((rel, name))
            sources[rel] = "".join(lines).encode("utf-8")


# -- the pool of new names --------------------------------------------------------------
def _pool(reserved, underscore=False):
    """Short names in order (a..z, A..Z, then two letters...), none of them reserved."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    rest = letters + "0123456789_"
    size = 1
    while True:
        for i in range(len(letters) * len(rest) ** (size - 1)):
            name, j = letters[i % len(letters)], i // len(letters)
            for _ in range(size - 1):
                name += rest[j % len(rest)]
                j //= len(rest)
            if underscore:
                name = "_" + name
            if name not in reserved and not keyword.iskeyword(name) and not name.startswith("__"):
                yield name
        size += 1


# -- the whole firmware -----------------------------------------------------------------
class Result:
    def __init__(self):
        self.sources = {}  # rel -> bytes (renamed)
        self.renames = {}  # old -> new (the whole firmware)
        self.modules = {}  # rel -> {new: old} (the names that module uses)
        self.kept = set()  # identifiers of qstr worth that keep their names
        self.notes = []  # what the pass left alone and why (unaudited dynamic lookups)
        self.folded = set()  # module-level int names made `_x = const(...)`
        self.dropped = []  # (rel, name): functions left out (drop_unused)

    def names_map(self):
        """The map as text: one `module new old` line per renamed name a module uses."""
        return format_map(self.modules)


NO_LINES_MARK = "# no line numbers"


def format_map(by_module, lines=True):
    """{module rel: {new: old}} -> the names map's text (parse_map reads it); lines False:
    the deploy's bytecode has no line numbers (said in the map for translate)."""
    out = ["# posterm flash names map: module new-name source-name"]
    if not lines:
        out.append(NO_LINES_MARK + " (posterm flash without --lines): a frame's line is not known")
    for rel in sorted(by_module):
        for new, old in sorted(by_module[rel].items()):
            out.append(f"{rel} {new} {old}")
    return "\n".join(out) + "\n"


def minify(sources, beside=(), data_words=(), qstrs=None, runtime=None):
    """sources: {rel path: bytes} of the modules to rename (pos/..., boards/...);
    beside: [(file name, text[, vm side])] of code that runs with them unrenamed
    (beside_names);
    data_words: words of the data files the firmware reads;
    qstrs: {rel: set of names its .mpy interns} (only those are worth renaming; None: all).
    -> Result."""
    builtins_, everything = (runtime or runtime_names())[:2]
    mods = {rel: Module(rel, src) for rel, src in sources.items()}
    res = Result()
    # pinned words: strings anywhere, the code beside, module names, data
    pinned = set(data_words)
    for name, text, *vm in beside:
        pinned |= beside_names(name, text, vm[0] if vm else True)
    for rel, m in mods.items():
        pinned |= m.strwords | m.pinned
        parts = rel[:-3].split("/")
        pinned.update(parts)
        if parts[-1] == "__init__":
            pinned.update(parts[:-1])
    exposed = set()
    for m in mods.values():
        exposed |= m.exposed
    all_attrs_pinned = False
    for rel, m in mods.items():
        bad = m.unaudited()
        if bad:
            pinned |= m.idents
            all_attrs_pinned = True
            res.notes.append(f"{rel}: dynamic lookups {bad}: its names and every attribute kept")
        if m.kwargs_defs:
            # a **kwargs parameter receives keyword names as strings: keep every keyword
            pinned |= {k for k in exposed if k in m.idents}
            res.notes.append(f"{rel}: a **kwargs parameter: keyword names kept")
    if all_attrs_pinned:
        pinned |= exposed

    def renamable(x):
        if x in pinned or x.startswith("__") or keyword.iskeyword(x):
            return False
        if x in builtins_ or x in COMPILER:
            return False
        return not (x in exposed and x in everything)

    idents = set()
    where = {}
    for rel, m in mods.items():
        idents |= m.idents
        for x in m.idents:
            where.setdefault(x, set()).add(rel)
    worth = set()
    for rel, m in mods.items():
        q = qstrs.get(rel) if qstrs is not None else None
        worth |= m.idents if q is None else (m.idents & q)
    chosen = {x for x in worth if renamable(x)}
    res.kept = worth - chosen
    reserved = idents | pinned | everything | builtins_ | COMPILER
    core = core_names() if runtime is None else sorted(runtime[2] if len(runtime) > 2 else ())
    renames, folded = _color(mods, chosen, exposed, where, reserved, core, pinned)
    res.folded = folded
    res.renames = renames
    for rel, m in mods.items():
        mine = {x: renames[x] for x in m.idents if x in renames}
        res.modules[rel] = {new: old for old, new in mine.items()}
        fold = sorted(x for x in folded if x in m.wrap)
        res.sources[rel] = m.rewrite_table(m.rewrite(mine, fold), renames).encode("utf-8")
    return res


def _components(mods):
    """-> {identifier: set of class-hierarchy components whose classes own it}: classes are
    joined with their bases (by name: a renamed name is the same in every module), so that
    a subclass's attributes and its base's, wherever they are defined, are told apart."""
    parent = {}

    def find(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for m in mods.values():
        for name, bases, _ in m.classes:
            for b in bases:
                parent[find(name)] = find(b)
    owners = {}
    for m in mods.values():
        for name, _, owned in m.classes:
            for x in owned:
                owners.setdefault(x, set()).add(find(name))
    return owners


def _color(mods, chosen, exposed, where, reserved, core=(), pinned=frozenset()):
    """-> {old: new} for the chosen identifiers. Two identifiers share a new name only if
    no module mentions both (each module's names stay one to one), no class hierarchy owns
    both (an object's attributes stay apart), and neither is stored as an attribute on
    something other than self (an ad hoc attribute could be on any object: a name of its
    own)."""
    adhoc = set()
    for m in mods.values():
        adhoc |= m.adhoc
    owners = _components(mods)
    used_mod = {rel: set() for rel in mods}
    used_comp = {}
    solo = set()  # new names given to one identifier for good
    order = sorted(chosen, key=lambda x: (-len(where[x]), x))
    plain = list(_take(_pool(reserved), len(chosen) + 64))
    under = list(_take(_pool(reserved, underscore=True), len(chosen) + 64))
    # a name of the firmware itself for an identifier that is only ever said by name (a
    # global, a function, a class, an argument: never an attribute nor a keyword), in the
    # modules that do not say it (a global that would shadow a builtin they never use)
    # (not the exception classes: the compiler says some of them itself, AssertionError)
    rom = [y for y in core if y not in pinned and not keyword.iskeyword(y) and y[0].islower()
           and y not in COMPILER]
    core_set = set(core)
    renames = {}
    folded = set()  # the consts given an underscore name (folded by MicroPython)
    for x in order:
        mods_x = where[x]
        comps = owners.get(x, ()) if x in exposed else ()
        # a private integer const with nothing reading it above: an underscore name, folded
        const = (
            x not in exposed
            and len(mods_x) == 1
            and all(
                x in mods[r].consts and not mods[r].reads_before(x, mods[r].consts[x])
                for r in mods_x
            )
        )
        alone = x in exposed and x in adhoc
        if const:
            candidates = under
        elif x in exposed:
            candidates = plain
        else:
            candidates = rom + plain
        for y in candidates:
            if y in solo:
                continue
            if y in core_set and any(y in mods[r].idents for r in mods_x):
                continue
            if any(y in used_mod[r] for r in mods_x):
                continue
            if any(y in used_comp.get(c, ()) for c in comps):
                continue
            if alone and any(y in u for u in used_mod.values()):
                continue
            break
        else:  # pragma: no cover - the lists are longer than the names
            raise MinifyError("ran out of new names")
        renames[x] = y
        if const:
            folded.add(x)
        if alone:
            solo.add(y)
        for r in mods_x:
            used_mod[r].add(y)
        for c in comps:
            used_comp.setdefault(c, set()).add(y)
    return renames, folded


def _take(it, n):
    for _ in range(n):
        yield next(it)


# -- tracebacks back to the sources' names -----------------------------------------------
def parse_map(text):
    """names.map text -> {module rel: {new: old}}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        rel, new, old = line.split()
        out.setdefault(rel, {})[new] = old
    return out


_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')


def _module_of(source_name, by_module):
    # the source name is the dotted module name (build.source_name) or a path
    for rel in by_module:
        dotted = rel[:-3].replace("/", ".")
        if dotted.endswith(".__init__"):
            dotted = dotted[: -len(".__init__")]
        if source_name in (dotted, rel) or source_name.endswith("/" + rel[:-3] + ".mpy"):
            return rel
    return None


def translate(text, by_module, lines=True):
    """A board traceback (or any firmware output) with the sources' names: a frame's
    function by its module's map; a quoted name in a message ('x': NameError,
    AttributeError) by the map of the traceback's last frame, else only where every module
    that has that new name has it for the same source name (an attribute's is the same in
    every module; a module's own names may be another's elsewhere). lines False: the
    bytecode had no line numbers (MicroPython then says line 1): a firmware frame's line
    is left out."""
    if not by_module:
        return text
    union = {}
    for m in by_module.values():
        for new, old in m.items():
            union.setdefault(new, set()).add(old)
    last = [None]

    def frame(mt):
        rel = _module_of(mt.group(1), by_module)
        last[0] = rel
        fn = mt.group(3)
        if rel is not None:
            fn = by_module[rel].get(fn, fn)
            if not lines:
                return f'File "{mt.group(1)}", in {fn}'
        return f'File "{mt.group(1)}", line {mt.group(2)}, in {fn}'

    out = []
    for line in text.split("\n"):
        if line.startswith("Traceback"):
            last[0] = None
        if _FRAME.search(line):
            out.append(_FRAME.sub(frame, line))
            continue
        local = by_module.get(last[0], {}) if last[0] else {}

        def word(mw, local=local):
            w = mw.group(0)
            if w in local:
                return local[w]
            olds = union.get(w, ())
            return next(iter(olds)) if len(olds) == 1 else w

        out.append(re.sub(r"(?<=')[A-Za-z_][A-Za-z0-9_]*(?=')", word, line))
    return "\n".join(out)


def main(argv=None):
    import argparse

    p = argparse.ArgumentParser(
        prog="python -m posterm.flash.minify", description=__doc__.split("\n")[0]
    )
    p.add_argument("--refresh", action="store_true", help="rewrite runtime_names.txt")
    p.add_argument(
        "--map",
        metavar="FILE",
        help="a names map (posterm flash --names-map): translate standard input with it",
    )
    args = p.parse_args(argv)
    if args.map:
        import sys

        try:
            with open(args.map, encoding="utf-8") as f:
                text = f.read()
            by_module = parse_map(text)
        except (OSError, ValueError) as e:
            print(f"posterm: cannot read the names map {args.map}: {e}", file=sys.stderr)
            return 2
        lines = NO_LINES_MARK not in text
        sys.stdout.write(translate(sys.stdin.read(), by_module, lines))
        return 0
    if args.refresh:
        from posterm.boardsim.sim import micropython_binary

        print(refresh_runtime_names(micropython_binary()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
