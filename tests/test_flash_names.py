"""The deploy's /qnames.mpy (tools/posterm/flash/build.py, imported first by main.py): every
name the firmware's modules intern is interned by it, so that MicroPython's name pools are
all made at boot, while the heap is empty, and a module loaded later in the day interns
nothing (a pool of 1,280 names, one 14 KB block on the unix port, was otherwise taken in
the middle of a chip card's read, and did not fit at the ESP32 cap)."""

import re
import subprocess

import pytest

from posterm.boardsim import sim
from posterm.flash import build
from posterm.flash import romfs

POOL = re.compile(r"n_pool=(\d+), n_qstr=(\d+)")


def test_the_names_module_holds_every_name_of_every_module_and_each_module_name():
    tree = build.deploy_tree("esp32")
    assert build.NAMES_PATH not in tree, "the files deploy has none (names copied to the heap)"
    tree = build.names_for_romfs(tree)
    names = set(build.mpy_names(tree[build.NAMES_PATH]))
    for path, data in tree.items():
        if path.endswith(".mpy") and not path.endswith(build.NAMES_SKIP):
            missing = set(build.mpy_names(data)) - names
            assert not missing, (path, sorted(missing)[:5])
    assert b"pos.flows.online" in names and b"pos.emv.kernel" in names and b"pos" in names
    assert b"/rom/pos/terminal.mpy" in names  # the modules' __file__ in the image
    # not the names of the modules a board never imports (build.NAMES_SKIP)
    assert b"pos.keytokens" not in names and b"/rom/pos/memstorage.mpy" not in names
    # but those it does: the menu's compiler (a downloaded menu), a package's own name
    # ("emv": interned by the first `from pos.emv import ...`, a chip card's read)
    assert b"pos.menubin" in names and b"emv" in names and b"boards.cardlink" in names
    # a board has no virtual chip card: its card answers in the bridge's reader
    assert "/pos/emv/card.mpy" not in tree and "/pos/emv/crypto.mpy" not in tree
    assert b"pos.emv.card" not in names
    # and none of the data's characters: the board takes none out of a str (the text paths'
    # test below), so they need no names (the module held ~330 of them: a 7th pool)
    assert "签".encode() not in names and "银".encode() not in names


def test_the_romfs_boot_s_names_fit_six_pools():
    # MicroPython's name pools double from 20: six hold 1,260 names, the 7th (1,280 entries,
    # one 14 KB block on the unix port) is made by the 1,261st. The ROMFS boot (board sim,
    # ESP32, its own names included) interns every name the firmware has (the names module):
    # nothing later adds one (the text paths' test below), so under 1,260 here
    # the day never makes the 7th pool. Before: 1,611 at boot, 7 pools.
    from posterm.bench import boardheap_breakdown

    _, snaps, _ = boardheap_breakdown.run(romfs=True, board="esp32", events=[])
    boot = next(s for s in snaps if s.tag == "boot")
    pools, count = boot.pool[0], boot.pool[1]
    assert pools <= 6 and count < 1260, (
        f"the ROMFS boot interns {count} names ({pools} pools): over the 6 pools' 1,260 the "
        "7th (14 KB of heap) is made; fewer names in the firmware (a new module costs 3, its "
        "dotted name, __file__ and name; see python -m posterm.bench.boardheap_breakdown)"
    )


PROBE = r"""
import sys, vfs, micropython
img = open(sys.argv[1], "rb").read()
vfs.mount(vfs.VfsRom(memoryview(img)), "/rom")
sys.path[:] = ["/rom"]
print("START")
micropython.qstr_info()
import qnames
del sys.modules["qnames"]
print("NAMES")
micropython.qstr_info(1)
import pos.terminal, boards.runner, boards.display, pos.flows.chipread, boards.cardlink
import pos.comm, pos.flows.online, pos.flows.purchase, pos.flows.chipdone, pos.receipt
import pos.menubin
print("LOADED")
micropython.qstr_info(1)
# text with characters no name has (written as UTF-8 bytes: a literal of 10 bytes or less
# would be a name): wrapped, printed, decoded from GBK and from a field's bytes. A character
# taken out of a str is interned as a name, never freed: these paths must take none.
import pos.cells, pos.gbk, pos.isobase, boards.gbtable
rare = b"\xe9\xbe\x98\xe9\xbe\x96\xe9\xb1\xbb\xe9\xba\xa4 12.34 \xe5\x9a\xb4\xe7\x81\xa9".decode()
lines = pos.cells.wrap(rare + rare + rare, 6)
lines = pos.cells.wrap(rare + rare, 7, True)
joined = pos.cells.run_on(rare, rare)
table = boards.gbtable.GbTable(open("/rom/boards/data/gb2312.bin", "rb").read())
slip = table.encode(rare + "abc")


class Rom:
    def read_at(self, name, offset, n):
        with open("/rom/menus/" + name, "rb") as f:
            f.seek(offset)
            return f.read(n)


gbk_name = b"\xd6\xd0\xb9\xfa\xd2\xf8\xd0\xd0\xb2\xe2\xca\xd4"  # 中国银行测试
field = pos.isobase.as_text(gbk_name)
shown = pos.gbk.text(field, Rom())
back = pos.gbk.raw(field)
print("TEXT", "".join(lines) == (rare + rare).replace(" ", ""), shown.encode().hex(),
      back == gbk_name, slip.hex())
micropython.qstr_info(1)
"""


def test_after_the_names_module_the_firmware_s_imports_intern_nothing(tmp_path):
    binary = sim.micropython_binary()
    if binary is None:
        pytest.fail("needs the unix port: pip install -e '.[test]'")
    tree = build.deploy_tree("esp32")
    image, _ = romfs.romfs_deploy(tree)
    (tmp_path / "rom.img").write_bytes(image)
    (tmp_path / "probe.py").write_text(PROBE)
    out = subprocess.run(
        [binary, str(tmp_path / "probe.py"), str(tmp_path / "rom.img")],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    got = {}
    names = {"NAMES": set(), "LOADED": set(), "TEXT": set()}
    tag = None
    for line in out.splitlines():
        if line in ("START", "NAMES", "LOADED") or line.startswith("TEXT "):
            tag = line.split()[0]
        m = POOL.search(line)
        if m and tag:
            got[tag] = (int(m.group(1)), int(m.group(2)))
        if tag in names and line.strip().startswith("Q(") and line.strip().endswith(")"):
            names[tag].add(line.strip()[2:-1])
    assert set(got) == {"START", "NAMES", "LOADED", "TEXT"}, out
    # and they did their work: the lines give the text back, 中国银行测试 read from GBK
    text_line = next(line for line in out.splitlines() if line.startswith("TEXT "))
    _, whole, shown, back, slip = text_line.split()
    assert (whole, shown, back) == ("True", "中国银行测试".encode().hex(), "True"), text_line
    assert slip.endswith("616263") and "3f" in slip, slip  # the rare ones print as ?
    # the firmware's names (~1,450 once posterm.flash.minify has shared them out; ~2,100 before)
    assert got["NAMES"][1] - got["START"][1] > 1000
    assert got["LOADED"][0] == got["NAMES"][0], "no pool made after boot"
    # nothing interned by the imports but single characters (a character taken from a str
    # or made by chr() is interned as it is made: not a name of the code)
    new = sorted(n for n in names["LOADED"] - names["NAMES"] if len(n) > 1)
    assert new == [], new[:10]
    # the text paths intern nothing, not one character
    assert names["TEXT"] - names["LOADED"] == set(), sorted(names["TEXT"] - names["LOADED"])
