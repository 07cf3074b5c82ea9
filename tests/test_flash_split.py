"""posterm.flash.split: the files deploy's boot and rare functions moved to side modules (a
compiler pass: a bug in it is a bricked board). A small firmware and the real one are split
and run, split and not, on CPython: they must print the same, and a side module must be
forgotten once its call is made."""

import subprocess
import sys
import textwrap

import pytest

from pathlib import Path

from posterm import paths
from posterm.flash import build, minify, split

FIRMWARE_DIR = Path(paths.FIRMWARE_DIR)


def _src(text):
    return textwrap.dedent(text).lstrip().encode()


FIRMWARE = {
    "pkg/__init__.py": b"",
    "pkg/helpers.py": _src(
        """
        def bump(v):
            return v + 100
        """
    ),
    "pkg/dev.py": _src(
        """
        from micropython import const
        from pkg import helpers

        _SIZE = const(4)
        LIMIT = 10
        counter = 0
        table = {"a": 1}


        def _scale(x):
            return x * _SIZE


        def setup(n, extra=2, *rest, flag=False):
            # a global written, a const, a module read, a call to another split function
            global counter
            counter += n
            vals = [_scale(v) + helpers.bump(v) for v in range(n)]
            return sum(vals) + extra + len(rest) + (1 if flag else 0) + LIMIT


        def plain(x):
            return _scale(x) + 1


        class Device:
            def __init__(self, name, size=3):
                self.name = name
                self.size = size
                self.ready = self._prepare()

            def _prepare(self):
                return [self.name * k for k in range(self.size)]

            def steps(self, n):
                for i in range(n):
                    yield table["a"] + i + _scale(i)
                return "done"

            def describe(self):
                return "%s:%d:%d:%d" % (self.name, self.size, len(self.ready), counter)
        """
    ),
    "pkg/main.py": _src(
        """
        import sys
        from pkg import dev


        def walk(d):
            got = yield from d.steps(3)
            return got


        def run_all():
            print(dev.setup(3), dev.setup(2, 5, 7, 8, flag=True), dev.counter, dev.plain(2))
            d = dev.Device("ab")
            g = walk(d)
            out = []
            try:
                while True:
                    out.append(next(g))
            except StopIteration as e:
                out.append(e.value)
            print(out, d.describe(), d.ready)
            print(sorted(m for m in sys.modules if m.startswith("pkg.")))
        """
    ),
}
# the stubs' pos.overlay (and what it imports), the firmware's
for _name in ("overlay.py", "compat.py"):
    FIRMWARE["pos/" + _name] = (FIRMWARE_DIR / "pos" / _name).read_bytes()
WANTED = [
    ("pkg/dev.py", "_scale"),
    ("pkg/dev.py", "setup"),
    ("pkg/dev.py", "Device.__init__"),
    ("pkg/dev.py", "Device._prepare"),
    ("pkg/dev.py", "Device.steps"),
]


def _write(root, sources):
    for rel, src in sources.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(src)


def _run(tmp_path, sources, tag, code="from pkg.main import run_all\nrun_all()"):
    root = tmp_path / tag
    _write(root, sources)
    (root / "micropython.py").write_text("def const(x):\n    return x\n")
    return subprocess.run(
        [sys.executable, "-c", "import builtins\nbuiltins.const = lambda x: x\n" + code],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_the_split_firmware_prints_what_the_sources_print(tmp_path):
    out, done = split.split(FIRMWARE, WANTED)
    assert done == WANTED
    side = out["pkg/dev_x.py"].decode()
    home = out["pkg/dev.py"].decode()
    # the bodies moved, the home module keeps stubs on the same lines
    assert "helpers.bump" in side and "helpers.bump" not in home
    assert home.count("\n") == FIRMWARE["pkg/dev.py"].decode().count("\n")
    assert "return (yield from overlay.side(dev_x).steps(self, n))" in home
    plain = _run(tmp_path, FIRMWARE, "plain")
    assert _run(tmp_path, out, "split") == plain
    # the side module was forgotten after each call (only the modules the sources load)
    assert "pkg.dev_x" not in plain and "pkg.dev_x" not in _run(tmp_path, out, "split2")
    # and renamed after the split, as the deploy does
    res = minify.minify(out, beside=[("runner.py", "from pkg.main import run_all\nrun_all()\n")])
    assert _run(tmp_path, res.sources, "renamed") == plain


@pytest.mark.parametrize(
    "src,why",
    [
        ("class A:\n    @property\n    def f(self):\n        return 1\n", "decorated"),
        ("class A(B):\n    def f(self):\n        return super().f()\n", "super"),
        ("def f():\n    x = 1\n    def g():\n        nonlocal x\n        x = 2\n", "nonlocal"),
        ("def f(): return 1\n", "one line"),
    ],
)
def test_what_cannot_be_split_is_refused(src, why):
    qual = "A.f" if src.startswith("class") else "f"
    with pytest.raises(split.SplitError, match=why):
        split.split({"pkg/m.py": src.encode()}, [("pkg/m.py", qual)])
    with pytest.raises(split.SplitError, match="no function"):
        split.split({"pkg/m.py": b"x = 1\n"}, [("pkg/m.py", "f")])


def _firmware_sources():
    out = {}
    for pkg in ("pos", "boards"):
        for p in sorted((FIRMWARE_DIR / pkg).rglob("*.py")):
            out[p.relative_to(FIRMWARE_DIR).as_posix()] = p.read_bytes()
    return out


REAL = """
from pos import clock, journal, state, text
from pos.memstorage import MemoryStorage
from pos.storage import FileStorage
print(clock.parse("2026-12-02T01:30:05"), clock.civil_from_days(20790))
st = MemoryStorage()
j = journal.Journal(st)
for i in range(4):
    j.append({"trace": i, "amount": 100 * i, "pan": "62121420000000000%d" % i})
j.flush()
j2 = journal.Journal(st)
print(len(j2), [(v, o) for _r, v, o in j2.heads("trace")], j2.pan({"pan": "6212"}))
s = state.State(MemoryStorage(), {"merchant": "x"})
print(s.trace, s.params, s.reversal())
res = FileStorage(MENUS, readonly=True)
for indexed in (True, False):
    t = text.Strings(res, "zh", indexed)
    print(t.get("out_of_memory"), t.get("chip_remove"), t.response("00"))
print(text._find_value(b'{"a": "x", "b": "y"}', "b"))
"""


def test_the_split_real_firmware_runs_as_the_sources_do(tmp_path):
    # the functions split.txt names, split out of the firmware's own modules and run on
    # CPython (the core is the same code there): a journal written and read again, the
    # state, the strings from the menus (with their index and without), the clock
    sources = _firmware_sources()
    out, done = split.split(sources)
    assert len(done) == len(split.entries()) >= 40
    code = "MENUS = %r\n" % str(paths.MENUS_DIR) + REAL
    env_code = "import sys\nsys.path.insert(0, '.')\n" + code
    plain = subprocess.run([sys.executable, "-c", env_code], cwd=_tree(tmp_path / "p", sources),
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    got = subprocess.run([sys.executable, "-c", env_code], cwd=_tree(tmp_path / "s", out),
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert got == plain and "2026" in plain


def _tree(root, sources):
    _write(root, sources)
    return root


def test_the_files_deploy_is_split_and_a_romfs_image_is_not():
    # (not renamed: the renaming of the whole firmware takes ~40 s; the board sim's files
    # days run the renamed split deploy: tests/test_board_sim.py)
    files = build.deploy_tree("esp32", rename=False, lines=False, split=True)
    rom = build.deploy_tree("esp32", rename=False, lines=True)
    for rel in {rel for rel, _ in split.entries()}:
        side = "/" + rel[:-3] + split.SUFFIX + ".mpy"
        assert side in files and side not in rom
