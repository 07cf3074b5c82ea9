"""The printer's GB2312 table read for each slip (boards.printer: EscPos given the table's
path), not held in a board's heap all day: the same bytes as with the table loaded."""

import pathlib
import sys

from posterm import paths

sys.path.insert(0, str(paths.FIRMWARE_DIR))
from boards import fakes  # noqa: E402
from boards.gbtable import GbTable, pack  # noqa: E402
from boards.printer import EscPos  # noqa: E402

_GB = ((0x7B7E, 0xC7A9), (0x8D2D, 0xB9BA), (0x5355, 0xB5A5), (0x91D1, 0xBDF0))
LINES = [("T", "签购单"), ("", "金额 12.50"), ("-", ""), ("B", "签单好"), ("C", "END")]


def test_a_slip_from_the_table_s_path_is_the_slip_from_the_table(tmp_path):
    path = tmp_path / "gb2312.bin"
    path.write_bytes(pack(_GB))
    want = fakes.UART(1)
    EscPos(want, GbTable(pack(_GB)), width=32).print_lines(LINES)
    got = fakes.UART(1)
    sys.modules.pop("boards.gbtable", None)
    p = EscPos(got, str(path), width=32)
    n = p.print_lines(LINES) + p.print_lines(LINES)  # two slips, the table read for each
    assert bytes(got.tx) == bytes(want.tx) * 2 and n == len(got.tx)
    assert b"\xc7\xa9\xb9\xba\xb5\xa5" in bytes(got.tx)
    # the table's module was read for the slips and forgotten after (a board's heap)
    assert "boards.gbtable" not in sys.modules


def test_a_table_file_is_read_in_parts_and_looks_up_as_the_whole_table(tmp_path):
    # a board short of heap after an exchange has no 1.7 KB block for the whole table
    # (boards.gbtable.PART): the parts find what the whole finds, a short file what it has
    import struct

    from boards import gbtable

    raw = (pathlib.Path(paths.FIRMWARE_DIR) / "boards" / "data" / "gb2312.bin").read_bytes()
    whole = GbTable(raw)
    path = tmp_path / "gb2312.bin"
    path.write_bytes(raw)
    parted = GbTable.open(str(path))
    assert len(parted.parts) > 1 and max(len(p) for p in parted.parts) <= gbtable.PART
    cps = [struct.unpack(">H", raw[6 + 4 * i : 8 + 4 * i])[0] for i in range(whole.count)]
    for cp in cps:
        assert parted.lookup(cp) == whole.lookup(cp) != -1
        assert parted.lookup(cp + 1) == whole.lookup(cp + 1)
    assert parted.lookup(0) == parted.lookup(0xFFFF) == -1
    text = "".join(chr(cp) for cp in cps[::7])
    assert parted.encode(text) == whole.encode(text) and b"?" not in parted.encode(text)
    path.write_bytes(raw[:700])  # cut short: the pairs it has
    short = GbTable.open(str(path))
    assert short.lookup(cps[0]) == whole.lookup(cps[0]) and short.lookup(cps[-1]) == -1


SLIP = """
import sys
sys.path.insert(0, ".")
from boards import fakes
from boards.printer import EscPos
uart = fakes.UART(1)
EscPos(uart, GB, width=32).print_lines([("T", "签购单"), ("", "金额 1.00")])
print(bytes(uart.tx).hex(), "boards.gbtable" in sys.modules)
"""


def test_the_files_deploy_s_split_printer_forgets_the_table_s_module(tmp_path):
    # the files deploy (posterm.flash.split) reads the table for each slip and forgets its
    # module after; a split function of boards.gbtable's own imported it again by name, and
    # it stayed loaded for the rest of the day (boards.* modules are no overlay's)
    import subprocess

    from posterm.flash import split

    root = pathlib.Path(paths.FIRMWARE_DIR)
    sources = {}
    for pkg in ("pos", "boards"):
        for p in sorted((root / pkg).rglob("*.py")):
            sources[p.relative_to(root).as_posix()] = p.read_bytes()
    code = "GB = %r\n" % str(root / "boards" / "data" / "gb2312.bin") + SLIP
    outs = []
    for name, tree in (("plain", sources), ("split", split.split(sources)[0])):
        for rel, data in tree.items():
            dest = tmp_path / name / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path / name,
                             capture_output=True, text=True, check=True)  # fmt: skip
        outs.append(run.stdout)
    assert outs[0] == outs[1] and outs[0].endswith(" False\n") and "c7a9" in outs[0]
