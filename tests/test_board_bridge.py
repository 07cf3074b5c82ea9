"""The board (firmware/boards, fake machine parts) signs in through `posterm bridge`'s frame
handling to a real host (posterm.host.server.start_in_thread) over TCP."""

import datetime
import sys

import pytest

from posterm import paths
from posterm.bridge.core import Bridge, encode, NAK
from posterm.host.server import start_in_thread
from posterm.host.store import Store
from posterm.link import TcpLink

sys.path.append(paths.FIRMWARE_DIR)

from boards import boot, fakes, framing  # noqa: E402
from pos.memstorage import MemoryStorage  # noqa: E402


class _Time:
    def sleep_ms(self, ms):
        pass


@pytest.fixture
def host(tmp_path):
    h = start_in_thread(
        str(tmp_path / "host.db"),
        paths.menu_file(),
        now=lambda: datetime.datetime(2026, 11, 23, 9, 0, 0),
    )
    yield h
    h.stop()


def test_manual_sign_in_from_the_board_through_the_bridge_to_a_real_host(host):
    m = fakes.Machine(printer_answer=fakes.printer_ok)
    m.rtc.datetime((2026, 11, 23, 0, 8, 59, 0, 0))
    b = boot.build(
        m, _Time(), {"board": "pico", "menus": paths.MENUS_DIR}, lambda *a: None, MemoryStorage()
    )
    link = TcpLink(tuple(host.address))
    asked = []  # how long the bridge asked the host: the board's own timeout (its W frame)
    bridge = Bridge(lambda data, timeout: asked.append(timeout) or link.exchange(data, timeout))
    m.made["uart0"].answer = bridge.feed
    b.start(0)
    b.t.state.params["timeout"] = 45  # as a center's parameter download may set it
    for key in ("MENU", "4", "2", "ENTER"):
        b.press(key)
    for t in range(10, 500, 10):
        b.step(t)
    assert bridge.requests == 1 and asked == [44], asked  # its 45 s, less the margin
    assert b.t.state.signin_date == "20261123" and b.t.state.mak
    assert m.rtc.dt[4:6] == (9, 0)  # the host's time (fields 12/13) set the RTC


def test_the_bridge_and_the_board_agree_on_frames_and_nak_a_damaged_one():
    f = encode(0x44, 5, b"abc")
    assert f == framing.encode(framing.DATA, 5, b"abc")
    calls = []
    br = Bridge(lambda data, timeout: calls.append(data) or ("reply", b"\x00\x01R"))
    bad = bytearray(f)
    bad[5] ^= 1
    assert br.feed(bytes(bad)) == encode(NAK, 5)
    out = br.feed(f)
    got = framing.Parser().feed(out)
    assert got == [(framing.ACK, 5, b""), (framing.DATA, 1, b"\x00\x01R")]
    assert br.feed(f) == out, "a repeated request gets the same reply, not a second exchange"
    assert calls == [b"abc"]
    lost = Bridge(lambda data, timeout: ("link_error", "connect refused", False))
    assert framing.Parser().feed(lost.feed(f))[1] == (framing.ERROR, 1, b"0connect refused")


def test_the_bridge_presents_a_deck_chip_card_and_the_board_pays_with_it(host):
    # `posterm bridge --cards`: CHIP=<PAN> typed at the bridge reaches the board's terminal
    # as an insert; the chip purchase goes through the same bridge to the host
    from posterm.host import deck

    m = fakes.Machine(printer_answer=fakes.printer_ok)
    m.rtc.datetime((2026, 11, 23, 0, 8, 59, 0, 0))
    b = boot.build(
        m, _Time(), {"board": "pico", "menus": paths.MENUS_DIR}, lambda *a: None, MemoryStorage()
    )
    bridge = Bridge(TcpLink(tuple(host.address)).exchange)
    uart = m.made["uart0"]
    uart.answer = bridge.feed
    b.start(0)
    now = [0]

    def run(ms=600):
        for _ in range(ms // 10):
            now[0] += 10
            b.step(now[0])

    for key in ("MENU", "4", "2", "ENTER"):
        b.press(key)
    run()
    b.press("CANCEL")
    for key in ("MENU", "1", "2", "1", "0", "0", "0", "0", "ENTER"):
        b.press(key)
    run(100)
    (insert,) = deck.Deck().parse_token("CHIP=6212142000000001010")
    uart.push(bridge.present(insert))
    run(100)
    for key in ("1", "2", "3", "4", "5", "6", "ENTER"):
        b.press(key)
    run()
    sale = [e for e in b.t.journal.entries() if e.get("type") == "purchase"]
    assert sale and sale[-1]["entry"] == "05" and sale[-1]["amount"] == 10000
    assert bridge.presented == 1 and bridge.requests >= 2
    # the card stayed at the bridge: the board's kernel asked it over the link
    assert [c[1] for c, _ in bridge.apdus if c].count(0xAE) == 2


def test_bridge_cards_reads_the_decks_tokens_and_refuses_keys_and_bad_cards():
    import io
    import queue

    from posterm.bridge.cli import _read_tokens

    q, err = queue.Queue(), io.StringIO()
    _read_tokens(io.StringIO("CHIP=6212142000000001010 SCAN=134567890000000029\nENTER\n"
                             "TAP=6212142000000000012 REMOVE\n"), q, err)
    got = [q.get() for _ in range(q.qsize())]
    assert [e[0] for e in got] == ["chip", "scan", "removed"]
    assert got[0][1]["pan"] == "6212142000000001010"
    assert "not a card token 'ENTER'" in err.getvalue()
    assert "has no contactless chip" in err.getvalue()
    frame = Bridge(lambda *a: None).present(got[1])
    assert framing.Parser().feed(frame) == [
        (framing.CARD, 1, b'["scan","134567890000000029"]')]


PAN = "6212142000000000012"


def test_a_host_slower_than_the_boards_ack_timeout_still_gets_one_request_and_a_kept_sale(host):
    # `posterm bridge` ACKs a request at once, before it asks the host: the board resends an
    # unACKed frame after 600 ms and gives up after three resends as "not sent". With the
    # ACK held until the host answered, a host taking 3 s made the board disarm the reversal
    # of a purchase the host had approved (money moved, no record). Here the host's answers
    # reach the board 3 s (board time) after the request; the ACK at once
    m = fakes.Machine(printer_answer=fakes.printer_ok)
    m.rtc.datetime((2026, 11, 23, 0, 8, 59, 0, 0))
    b = boot.build(
        m, _Time(), {"board": "pico", "menus": paths.MENUS_DIR}, lambda *a: None, MemoryStorage()
    )
    uart = m.made["uart0"]
    bridge = Bridge(TcpLink(tuple(host.address)).exchange, send=uart.push)
    late = []  # (when, bytes) the host's answers, held back
    now = [0]
    uart.answer = lambda data: late.append((now[0] + 3000, bridge.feed(data))) or b""

    def run(ms):
        end = now[0] + ms
        while now[0] < end:
            now[0] += 10
            for item in [x for x in late if x[0] <= now[0]]:
                late.remove(item)
                uart.push(item[1])
            b.step(now[0])

    b.start(0)
    for key in ("MENU", "4", "2", "ENTER"):
        b.press(key)
    run(4000)
    assert b.t.signed_in_today()
    b.press("CANCEL")
    for key in ("MENU", "1", "2", "5", "0", "0", "ENTER"):
        b.press(key)
    b.feed(("card", PAN, "3012"))
    for key in "123456":
        b.press(key)
    b.press("ENTER")
    run(4000)
    assert bridge.requests == 2, "each request asked of the host once"
    assert [e["amount"] for e in b.t.journal.entries()] == [500], "the approved sale is kept"
    assert b.t.state.reversal() is None


def test_a_board_restarted_with_its_numbering_from_1_is_not_answered_from_the_cache():
    # the bridge's cache answers a repeat (our ACK lost): the same number and the same bytes.
    # A board that restarted numbers from 1 again: its new request with the last one's number
    # is asked of the host, not answered with the reply to another message
    calls = []
    br = Bridge(lambda data, timeout: calls.append(data) or ("reply", b"\x00\x01" + data[:1]))
    first = encode(0x44, 1, b"old request")
    br.feed(first)
    assert br.feed(first).endswith(br.last_reply) and len(calls) == 1  # a repeat: cached
    out = br.feed(encode(0x44, 1, b"new request"))
    assert calls == [b"old request", b"new request"]
    assert framing.Parser().feed(out)[-1] == (framing.DATA, 2, b"\x00\x01n")


def test_the_bridge_asks_the_host_as_long_as_the_board_waits_from_the_request_s_arrival():
    # the board's W frame says its timeout (the terminal's parameter); none said: the
    # bridge's own (--timeout). Queued, the time runs from the arrival: a request behind a
    # slow one gets what is left, one whose time ran out there is not asked at all
    now = [100.0]
    asked = []

    during = []  # what the board sends while the host is asked: (after s, frames)

    def slow_host(data, timeout):  # takes all the time it is given
        asked.append((data, timeout))
        for after, frames in during:
            now[0] += after
            timeout -= after
            br.feed(frames)
        during.clear()
        now[0] += timeout + 1  # and a second more (a connect that overran)
        return ("timeout",)

    def req(seq, data, wait=None):
        w = encode(0x57, seq, bytes((wait,))) if wait else b""
        return w + encode(0x44, seq, data)

    plain = Bridge(slow_host, timeout=12, clock=lambda: now[0])
    plain.feed(req(1, b"a"))
    plain.feed(req(2, b"b", 45))
    # the board's seconds less the bridge's margin (1 s: its answer is back before the board
    # gives up); before: 30 whatever the board waits
    assert [t for _, t in asked] == [11, 44]
    asked.clear()
    br = Bridge(slow_host, queued=True, clock=lambda: now[0])
    br.feed(req(1, b"sale", 5))
    # while the host has the sale: its reversal at 4 s (the board gave up at once), then at
    # 4.5 s another request (the reversal given up too); each exchange overruns by 1 s
    during.extend([(4, req(2, b"reversal", 5)), (0.5, req(3, b"next", 5))])
    assert br.serve() == b"", "the sale's answer: the board sent newer ones"
    assert br.serve() == b""
    out = br.serve()
    # (4 s each: the boards' 5 less the margin) the reversal had 3 of its 4 s left when the
    # sale's exchange ended (5 s); "next" (due at 8.5 s) had none when the reversal's ended
    # (9 s): not asked
    assert asked == [(b"sale", 4), (b"reversal", 3.0)], asked
    assert framing.Parser().feed(out)[-1][2].startswith(b"0not sent"), out


CHIP = {"pan": PAN, "seq": "01", "expiry": "3012", "pin": "123456",
        "imk_ac": "0123456789ABCDEFFEDCBA9876543210", "label": "UnionPay Debit",
        "track2": PAN + "=301212001234101"}  # fmt: skip


def test_the_bridge_keeps_a_chip_card_in_its_reader_and_answers_the_boards_apdus():
    # the card stays at the bridge (C frame ["chip"]: no spec crosses); an I frame's command
    # gets the card's answer in an R frame of the same seq; a repeat (its R was lost) gets the
    # same R without asking the card again (a GENERATE AC counts); no card: an empty R
    br = Bridge(lambda *a: None)
    frame = br.present(("chip", dict(CHIP)))
    assert framing.Parser().feed(frame) == [(framing.CARD, 1, b'["chip"]')]
    atr = framing.Parser().feed(br.feed(encode(framing.ICC, 1, b"")))
    assert atr[0][:2] == (framing.ICC_REPLY, 1) and atr[0][2][:1] == b"\x3b"
    select = bytes.fromhex("00A404000E") + b"1PAY.SYS.DDF01" + b"\x00"
    first = br.feed(encode(framing.ICC, 2, select))
    (kind, seq, answer), = framing.Parser().feed(first)
    assert (kind, seq, answer[-2:]) == (framing.ICC_REPLY, 2, b"\x90\x00")
    assert br.feed(encode(framing.ICC, 2, select)) == first and len(br.apdus) == 2
    bad = bytearray(encode(framing.ICC, 3, select))
    bad[6] ^= 1
    assert br.feed(bytes(bad)) == encode(NAK, 3) and len(br.apdus) == 2
    assert framing.Parser().feed(br.present(("removed",)))[0][2] == b'["removed"]'
    assert framing.Parser().feed(br.feed(encode(framing.ICC, 4, select))) == [
        (framing.ICC_REPLY, 4, b"")]


def _board_link(answer):
    from boards.uartlink import UartLink

    uart = fakes.UART(answer=answer)
    return UartLink(uart, sleep_ms=lambda ms: None), uart


def test_the_boards_kernel_sends_the_same_apdus_to_the_bridges_card_as_to_one_in_its_heap():
    # boards.cardlink: the terminal's side is the same bytes whether the card is in the
    # board's heap or in the bridge's reader (the board sim's and a dev board's chip cards)
    from pos.emv import card as emvcard
    from pos.emv import kernel
    from pos.flows import chipdone

    class Logged:
        def __init__(self, card):
            self.card, self.sent = card, []

        def reset(self):
            self.sent.append(b"")
            return self.card.reset()

        def apdu(self, cmd):
            self.sent.append(bytes(cmd))
            return self.card.apdu(cmd)

    terminal = {0x9F02: bytes.fromhex("000000012800"), 0x9F03: bytes(6), 0x9A: b"\x26\x11\x23",
                0x9C: b"\x00", 0x9F37: b"\x01\x02\x03\x04", 0x9F1E: b"00000001",
                0x9F41: b"\x00\x00\x00\x01", 0x9F7A: b"\x00"}  # fmt: skip

    def read(icc):
        apps = kernel.candidates(icc, [bytes.fromhex("A000000333")])
        ctx = kernel.start(icc, apps[0][0], dict(terminal))
        chipdone.risk(ctx, 0)
        assert chipdone.first_ac(icc, ctx) == "ARQC"
        return chipdone.field55(ctx)

    here = Logged(emvcard.Card(dict(CHIP)))
    br = Bridge(lambda *a: None)
    link, uart = _board_link(br.feed)
    (kind, _, payload), = framing.Parser().feed(br.present(("chip", dict(CHIP))))
    uart.push(encode(kind, 1, payload))
    ev = link.poll(0)
    assert ev[0] == "chip" and type(ev[1]).__name__ == "BridgeCard"
    assert read(ev[1]) == read(here), "the same field 55 (the same ARQC)"
    assert [cmd for cmd, _ in br.apdus] == here.sent
    assert len(here.sent) >= 6 and here.sent[-1][1] == 0xAE


def test_a_bridge_that_does_not_answer_or_has_no_card_is_a_chip_that_failed():
    from pos.emv import apdu, kernel

    silent, uart = _board_link(None)
    (kind, seq, payload), = framing.Parser().feed(Bridge(lambda *a: None).present(("chip",)))
    uart.push(encode(kind, seq, payload))
    ev = silent.poll(0)
    with pytest.raises(kernel.ChipError, match="reader: the bridge's reader does not answer"):
        apdu.exchange(ev[1], b"\x00\xa4\x04\x00\x00")
    assert len(uart.writes) == 1 + 3, "the ACK, then the command sent three times"
    empty = Bridge(lambda *a: None)
    link, uart = _board_link(empty.feed)
    uart.push(empty.present(("chip",)))
    ev = link.poll(0)
    with pytest.raises(kernel.ChipError, match="no card in the bridge's reader"):
        kernel.candidates(ev[1], [bytes.fromhex("A000000333")])


def _queued_board(host):
    # a board (pico, fake machine) and `posterm bridge` as it runs (queued: its UART read
    # while a worker asks the host), in board time: the host takes 50 ms, or 8 s for each
    # request named in `slow`; -> (board, bridge, run(ms), slow)
    m = fakes.Machine(printer_answer=fakes.printer_ok)
    m.rtc.datetime((2026, 11, 23, 0, 8, 59, 0, 0))
    b = boot.build(
        m, _Time(), {"board": "pico", "menus": paths.MENUS_DIR}, lambda *a: None, MemoryStorage()
    )
    uart = m.made["uart0"]
    bridge = Bridge(TcpLink(tuple(host.address)).exchange, queued=True)
    now = [0]
    out = []  # (when, bytes) for the board
    busy = [None]  # when the host answers the request the worker asks
    slow = []

    def answer(data):
        ack = bridge.feed(data)
        if ack:
            out.append((now[0], ack))
        return b""

    uart.answer = answer

    def run(ms):
        end = now[0] + ms
        while now[0] < end:
            now[0] += 10
            if busy[0] is None and bridge.queue:  # the worker takes the next request
                busy[0] = now[0] + (8000 if slow and slow.pop(0) else 50)
            if busy[0] is not None and now[0] >= busy[0]:  # ... and the host answers it
                busy[0] = None
                out.append((now[0], bridge.serve()))
            for item in sorted([x for x in out if x[0] <= now[0]], key=lambda x: x[0]):
                out.remove(item)
                if item[1]:
                    uart.push(item[1])
            b.step(now[0])

    b.start(0)
    for key in ("MENU", "4", "2", "ENTER"):
        b.press(key)
    run(2000)
    assert b.t.signed_in_today()
    b.t.state.params["timeout"] = 5
    return b, bridge, run, slow


def _swipe(b, keys):
    b.press("CANCEL")
    for key in keys:
        b.press(key)
    b.feed(("card", PAN, "3012"))
    for key in "123456":
        b.press(key)
    b.press("ENTER")


def _center(host):
    store = Store(host.host.db_path)
    try:
        return {r["amount_fen"]: r["status"] for r in store.list_transactions("12345678")}
    finally:
        store.close()


def test_a_sale_sent_while_the_bridge_waits_for_the_host_is_acked_and_never_lost(host):
    # a balance inquiry the host takes 8 s to answer, the board's timeout 5 s, a sale at
    # once: the bridge's single loop read nothing while it waited for the host, so the sale
    # got no ACK within the board's 2.4 s, the board called it "not sent" (连接中心失败) and
    # armed no reversal, then the bridge read it from the serial buffer and the host
    # approved it: money moved, no record. Queued, it is ACKed at once and asked after
    b, bridge, run, slow = _queued_board(host)
    slow.append(True)
    _swipe(b, ("MENU", "1", "5"))
    run(5500)  # the board gave up at 5 s; the host still at it
    _swipe(b, ("MENU", "1", "2", "7", "0", "0", "ENTER"))
    run(6000)
    kept = [e["amount"] for e in b.t.journal.entries()]
    assert _center(host).get(700) == "approved" and kept == [700], (kept, _center(host))
    assert b.t.state.reversal() is None
    assert bridge.dropped == 1, "the inquiry's late answer was not written"


def test_a_late_answer_to_a_timed_out_sale_is_not_taken_for_its_reversal(host):
    # the sale's answer comes after the board's timeout; the reversal that goes before the
    # next sale gets its own answer, not the sale's late 0210 (a bad reply: the try lost)
    b, bridge, run, slow = _queued_board(host)
    slow.append(True)
    _swipe(b, ("MENU", "1", "2", "5", "0", "0", "ENTER"))
    run(5500)
    assert b.t.state.reversal() is not None
    _swipe(b, ("MENU", "1", "2", "7", "0", "0", "ENTER"))
    run(6000)
    assert b.t.state.reversal() is None, "the reversal got its own answer"
    assert [e["amount"] for e in b.t.journal.entries()] == [700], "the next sale went"
    assert _center(host) == {500: "reversed", 700: "approved"}
    assert bridge.dropped == 1
