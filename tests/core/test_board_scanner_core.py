# The GM65-style barcode scanner driver (boards.scanner) against a fake UART whose other
# end the test plays: codes with either end mark, split across passes, several in one read,
# no end mark at all, and what is no code (too long, the module's binary answers, blank).
import sys

import pos

_fw = pos.__file__.replace("\\", "/").rsplit("/", 2)[0]
if _fw not in sys.path:
    sys.path.append(_fw)

from boards import fakes  # noqa: E402
from boards.scanner import TRIGGER, Scanner  # noqa: E402
from mptest import eq  # noqa: E402

WECHAT = b"134567890000000029"
UNIONPAY = b"6288880000000000011"


def _scanner():
    uart = fakes.UART(1, 9600)
    return uart, Scanner(uart)


def test_a_code_with_a_cr_end_mark_is_one_scan_event():
    uart, s = _scanner()
    eq(s.poll(0), None)
    uart.push(WECHAT + b"\r")
    eq(s.poll(5), ("scan", "134567890000000029"))
    eq(s.poll(6), None)
    eq(s.codes, 1)


def test_a_code_split_across_passes_waits_for_its_end_mark():
    uart, s = _scanner()
    uart.push(UNIONPAY[:7])
    eq(s.poll(0), None)
    uart.push(UNIONPAY[7:])
    eq(s.poll(2), None)
    uart.push(b"\r\n")
    eq(s.poll(3), ("scan", "6288880000000000011"))
    eq(s.poll(4), None)  # the LF of CR LF is no second code


def test_two_codes_in_one_read_come_out_one_pass_each():
    uart, s = _scanner()
    uart.push(WECHAT + b"\r\n" + UNIONPAY + b"\r\n")
    eq(s.poll(0), ("scan", WECHAT.decode()))
    eq(s.poll(1), ("scan", UNIONPAY.decode()))
    eq(s.poll(2), None)


def test_a_module_without_an_end_mark_gives_the_code_once_the_line_is_quiet():
    uart, s = _scanner()
    uart.push(WECHAT)
    eq(s.poll(1000), None)
    eq(s.poll(1050), None)
    eq(s.poll(1080), ("scan", WECHAT.decode()))
    eq(s.poll(2000), None)


def test_what_is_no_code_is_dropped_and_counted_and_the_next_code_reads():
    uart, s = _scanner()
    uart.push(b"http://example.com/" + b"x" * 80 + b"\r")  # too long for a payment code
    uart.push(b"\x02\x00\x00\x01\x00\x33\x31\r")  # the module's answer to a command
    uart.push(b"   \r")
    uart.push(WECHAT + b"\r")
    eq(s.poll(0), ("scan", WECHAT.decode()))
    eq(s.dropped, 3)


def test_the_ticks_wrap_around_without_a_false_gap():
    uart, s = _scanner()
    uart.push(WECHAT)
    top = 0x3FFFFFFF
    eq(s.poll(top - 10), None)
    eq(s.poll(top), None)
    eq(s.poll(75), ("scan", WECHAT.decode()))  # 86 ms later, past the wrap


def test_trigger_sends_the_command_mode_read():
    uart, s = _scanner()
    s.trigger()
    eq(bytes(uart.tx), TRIGGER)
    eq(TRIGGER[0:2], b"\x7e\x00")
