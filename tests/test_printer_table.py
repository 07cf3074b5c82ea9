"""The printer's GB2312 table read for each slip (boards.printer: EscPos given the table's
path), not held in a board's heap all day: the same bytes as with the table loaded."""

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
