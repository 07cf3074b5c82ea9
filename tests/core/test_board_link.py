# The serial host link: frames with CRC-16, ACK/NAK and retransmission, against
# a fake UART whose other end the test plays.
import sys

import pos

_fw = pos.__file__.replace("\\", "/").rsplit("/", 2)[0]
if _fw not in sys.path:
    sys.path.append(_fw)

from boards import fakes, framing  # noqa: E402
from boards.uartlink import UartLink  # noqa: E402
from pos.crc import crc16_ccitt  # noqa: E402
from mptest import eq, true  # noqa: E402

MSG = b"\x00\x05hello"


def _sent(uart):
    frames = framing.Parser().feed(bytes(uart.tx))
    uart.tx = bytearray()
    return frames


def test_a_frame_is_stx_kind_seq_length_payload_and_crc16():
    f = framing.encode(framing.DATA, 7, b"abc")
    eq(f[:6], b"\x02D\x07\x00\x03a")
    c = crc16_ccitt(b"D\x07\x00\x03abc")
    eq(f[-2:], bytes((c >> 8, c & 0xFF)))
    eq(crc16_ccitt(b"123456789"), 0x29B1, "CRC-16/CCITT-FALSE check value")


def test_the_parser_resyncs_after_garbage_and_reports_bad_crc():
    good = framing.encode(framing.DATA, 1, b"xyz")
    bad = bytearray(framing.encode(framing.DATA, 2, b"xyz"))
    bad[6] ^= 0x01
    p = framing.Parser()
    out = p.feed(b"\xff\x00junk" + good[:4])
    eq(out, [])
    out = p.feed(good[4:] + bytes(bad) + framing.encode(framing.ACK, 3))
    eq(out, [(framing.DATA, 1, b"xyz"), (framing.BAD, 2, b""), (framing.ACK, 3, b"")])


def test_a_request_acked_and_answered_gives_the_reply_and_acks_it():
    uart = fakes.UART(0)
    link = UartLink(uart)
    link.start(MSG, 30, 0)
    eq(_sent(uart), [(framing.DATA, 1, MSG)])
    uart.push(framing.encode(framing.ACK, 1))
    eq(link.poll(10), None)
    uart.push(framing.encode(framing.DATA, 9, b"\x00\x02ok"))
    eq(link.poll(20), ("reply", b"\x00\x02ok"))
    eq(_sent(uart), [(framing.ACK, 9, b"")])
    eq(link.busy(), False)


def test_each_request_is_preceded_by_the_terminal_s_timeout_for_the_bridge():
    # a W frame (not ACKed) with the seconds the board waits: the bridge asks the host as long
    uart = fakes.UART(0)
    link = UartLink(uart)
    link.start(MSG, 45, 0)
    w = framing.encode(0x57, 1, bytes((45,)))
    eq(bytes(uart.tx[: len(w)]), w)
    eq(_sent(uart), [(framing.DATA, 1, MSG)], "then the request, as ever")


def test_a_nak_makes_the_board_send_the_frame_again():
    uart = fakes.UART(0)
    link = UartLink(uart)
    link.start(MSG, 30, 0)
    _sent(uart)
    uart.push(framing.encode(framing.NAK, 1))
    eq(link.poll(5), None)
    eq(_sent(uart), [(framing.DATA, 1, MSG)])
    eq(link.resent, 1)


def test_a_missing_ack_is_retried_then_reported_as_not_sent():
    uart = fakes.UART(0)
    link = UartLink(uart, ack_ms=100, retries=3)
    link.start(MSG, 30, 0)
    events = []
    for t in range(10, 1000, 10):
        ev = link.poll(t)
        if ev:
            events.append((t, ev))
    eq(len(_sent(uart)), 4, "first try and three retries")
    eq(events, [(400, ("link_error", "the bridge does not acknowledge", False))])


def test_a_damaged_reply_is_nakked_and_its_repeat_accepted():
    uart = fakes.UART(0)
    link = UartLink(uart)
    link.start(MSG, 30, 0)
    uart.push(framing.encode(framing.ACK, 1))
    link.poll(1)
    _sent(uart)
    bad = bytearray(framing.encode(framing.DATA, 4, b"\x00\x01Z"))
    bad[-1] ^= 0xFF
    uart.push(bytes(bad))
    eq(link.poll(2), None)
    eq(_sent(uart), [(framing.NAK, 4, b"")])
    uart.push(framing.encode(framing.DATA, 4, b"\x00\x01Z"))
    eq(link.poll(3), ("reply", b"\x00\x01Z"))


def test_bridge_errors_become_timeout_or_link_error_events():
    for payload, want in (
        (b"T", ("timeout",)),
        (b"0connect refused", ("link_error", "connect refused", False)),
        (b"1center closed", ("link_error", "center closed", True)),
    ):
        uart = fakes.UART(0)
        link = UartLink(uart)
        link.start(MSG, 30, 0)
        uart.push(framing.encode(framing.ERROR, 1, payload))
        eq(link.poll(1), want)
        eq(_sent(uart)[-1], (framing.ACK, 1, b""))


def test_no_reply_within_the_timeout_is_a_timeout_event():
    uart = fakes.UART(0)
    link = UartLink(uart)
    link.start(MSG, 2, 0)
    uart.push(framing.encode(framing.ACK, 1))
    eq(link.poll(1), None)
    eq(link.poll(1999), None)
    eq(link.poll(2000), ("timeout",))


def test_an_idle_link_reads_the_cards_the_bridge_presents_and_acks_them():
    from boards.uartlink import reader_event

    u = fakes.UART(0, 115200)
    link = UartLink(u)
    eq(link.poll(0), None)
    u.push(framing.encode(framing.CARD, 1, b'["scan","134567890000000029"]')
           + framing.encode(framing.CARD, 2, b'["chip",{"pan":"6212142000000001010"}]'))
    eq(link.poll(1), ("scan", "134567890000000029"))
    eq(link.poll(2), ("chip", {"pan": "6212142000000001010"}))
    eq(link.poll(3), None)
    got = framing.Parser().feed(bytes(u.tx))
    eq(got, [(framing.ACK, 1, b""), (framing.ACK, 2, b"")])
    for bad in (b"not json", b'{"chip": 1}', b'["key","1"]', b"[]", b"\xff"):
        eq(reader_event(bad), None, bad)


def test_a_card_presented_while_a_request_is_out_is_acked_and_the_request_goes_on():
    u = fakes.UART(0, 115200)
    link = UartLink(u)
    link.start(MSG, 30, 0)
    u.tx[:] = b""
    u.push(framing.encode(framing.CARD, 9, b'["scan","134567890000000029"]'))
    eq(link.poll(10), None)
    true(link.busy())
    eq(framing.Parser().feed(bytes(u.tx)), [(framing.ACK, 9, b"")])
