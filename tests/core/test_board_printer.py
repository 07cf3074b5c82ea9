# ESC/POS receipts on a UART: golden bytes for a slip, GB2312 from the table,
# paper status read back.
import sys

import pos

_fw = pos.__file__.replace("\\", "/").rsplit("/", 2)[0]
if _fw not in sys.path:
    sys.path.append(_fw)

from boards import fakes  # noqa: E402
from boards.gbtable import GbTable, pack  # noqa: E402
from boards.printer import EscPos  # noqa: E402
from mptest import eq, raises  # noqa: E402

# GB2312 codes of a few receipt characters (from CPython's gb2312 codec)
_GB = (
    (0x7B7E, 0xC7A9),  # 签
    (0x8D2D, 0xB9BA),  # 购
    (0x5355, 0xB5A5),  # 单
    (0x5546, 0xC9CC),  # 商
    (0x6237, 0xBBA7),  # 户
    (0x91D1, 0xBDF0),  # 金
    (0x989D, 0xB6EE),  # 额
    (0x5143, 0xD4AA),  # 元
)


def _table():
    return GbTable(pack(_GB))


def test_the_table_encodes_ascii_as_is_and_chinese_as_gb2312():
    gb = _table()
    eq(gb.encode("金额 12.50元"), b"\xbd\xf0\xb6\xee 12.50\xd4\xaa")
    eq(gb.encode("好"), b"?", "not in the table")
    eq(gb.lookup(0x5355), 0xB5A5)
    eq(gb.lookup(0x4E00), -1)
    with raises(ValueError):
        GbTable(b"XXXX\x00\x00")


def test_golden_escpos_bytes_for_a_slip():
    uart = fakes.UART(1)
    p = EscPos(uart, _table(), width=32)
    lines = [
        ("T", "签购单"),
        ("", "商户存根"),
        ("-", ""),
        ("B", "金额 RMB 12.50"),
        ("C", "END"),
    ]
    n = p.print_lines(lines)
    want = (
        b"\x1b\x40"  # ESC @ init
        b"\x1c\x26"  # FS & Chinese mode
        b"\x1b\x61\x01\x1d\x21\x11\x1b\x45\x01"  # centre, double size, bold
        b"\xc7\xa9\xb9\xba\xb5\xa5\n"  # 签购单
        b"\x1b\x45\x00\x1d\x21\x00\x1b\x61\x00"  # bold off, normal size, left
        b"\xc9\xcc\xbb\xa7??\n" + b"-" * 32 + b"\n"  # 商户 + two characters the table lacks
        b"\x1b\x45\x01\xbd\xf0\xb6\xee RMB 12.50\n\x1b\x45\x00"
        b"\x1b\x61\x01END\n\x1b\x61\x00"
        b"\x1b\x64\x04\x1d\x56\x42\x00"  # feed 4 lines, partial cut
    )
    eq(bytes(uart.tx), want)
    eq(n, len(want))


def test_a_title_is_clipped_to_half_the_paper_width():
    p = EscPos(fakes.UART(1), _table(), width=8)
    data = p.receipt_bytes([("T", "ABCDEFGH")])
    eq(b"ABCD\n" in data, True)
    eq(b"ABCDE" in data, False)


def test_long_receipts_go_out_line_by_line_never_as_one_buffer():
    # the heap never holds the whole slip (a board short of memory failed building it)
    uart = fakes.UART(1)
    p = EscPos(uart, _table(), width=32)
    lines = [("", "x" * 30)] * 40
    n = p.print_lines(lines)
    eq(max(len(w) for w in uart.writes) <= 64, True, "each write is about a line")
    eq(len(uart.writes) >= 40, True)
    eq(bytes(uart.tx), p.receipt_bytes(lines))
    eq(n, len(uart.tx))


def test_paper_status_is_read_with_dle_eot_4():
    eq(EscPos(fakes.UART(1, answer=fakes.printer_ok), _table()).status(), "ok")
    eq(EscPos(fakes.UART(1, answer=fakes.printer_paper_out), _table()).status(), "paper_out")
    silent = fakes.UART(1)
    eq(EscPos(silent, _table()).status(), None, "a printer that does not answer")
    eq(bytes(silent.tx), b"\x10\x04\x04")
