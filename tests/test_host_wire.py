"""The host's connection handling: malformed input, several messages per connection,
read timeouts, injected faults, and what reaches the log."""

import logging
import socket
import time

import pytest
from pos import iso8583
from posterm.host.server import Host, mask_pans, start_in_thread
from test_host_support import CARD, HEADER, MID, TID, TPDU, Terminal, read_frame


@pytest.fixture
def term(host):
    t = Terminal(host.address)
    assert t.sign_in()[39] == "00"
    return t


def closed_by_host(sock, timeout=5.0):
    """True when the host closes the connection (EOF) without sending anything."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def garbage_then_check(host, payload, shut=False):
    with socket.create_connection(host.address, timeout=5) as s:
        s.sendall(payload)
        if shut:
            s.shutdown(socket.SHUT_WR)
        assert closed_by_host(s)
    assert Terminal(host.address).sign_in()[39] == "00"  # the host still serves others


@pytest.mark.parametrize(
    "payload, shut",
    [
        (b"\xff\xff" + b"GET / HTTP/1.0\r\n\r\n", False),  # huge length
        (b"\x00\x03\x60\x00", True),  # length below TPDU + header
        (b"\x00\x40" + TPDU + HEADER + b"\x08\x00", True),  # truncated frame
        (b"\x00\x0d" + b"\x61\x00\x03\x00\x00" + HEADER + b"\x08\x00", False),  # bad TPDU id
        (b"\x00\x13" + TPDU + HEADER + b"\x08\x00\xff\xff\xff\xff\xff\xff\xff\xff", False),
        (b"\x00", True),  # closed inside the length
    ],
    ids=["huge-length", "too-short", "truncated", "bad-tpdu", "bad-bitmap", "half-length"],
)
def test_malformed_input_closes_only_that_connection(host, payload, shut, caplog):
    caplog.set_level(logging.INFO, logger="posterm.host")
    garbage_then_check(host, payload, shut)
    assert any("malformed" in r.getMessage() for r in caplog.records)


def test_malformed_log_line_names_field_offset_and_reason(host, caplog):
    caplog.set_level(logging.INFO, logger="posterm.host")
    garbage_then_check(host, b"\xff\xff", shut=True)
    line = next(r.getMessage() for r in caplog.records if "malformed" in r.getMessage())
    assert "127.0.0.1:" in line and "field=len" in line and "offset=0" in line
    assert "reason=" in line


def test_a_silent_client_does_not_block_others(host):
    with socket.create_connection(host.address, timeout=5):
        assert Terminal(host.address).sign_in()[39] == "00"


def test_several_requests_share_one_connection(term):
    first = term.exchange(term.financial("0200", "000000", "22", amount=100), keep=True)[2]
    second = term.exchange(term.financial("0200", "000000", "22", amount=200), keep=True)[2]
    term.close()
    assert (first[39], second[39]) == ("00", "00")
    assert (first[4], second[4]) == ("000000000100", "000000000200")


async def test_an_idle_connection_is_closed_after_the_read_timeout(tmp_path):
    import asyncio

    host = Host(str(tmp_path / "h.db"), read_timeout=0.2)
    addr = await host.start()
    try:
        reader, writer = await asyncio.open_connection(*addr)
        started = time.monotonic()
        assert await asyncio.wait_for(reader.read(1), 5) == b""
        assert time.monotonic() - started >= 0.15
        writer.close()
    finally:
        await host.stop()


def test_the_idle_timeout_counts_from_the_last_reply_never_cuts_a_request_in_service(tmp_path):
    # one sweep for all connections (not a timer per request): a request the center serves
    # for longer than the idle timeout (a delay fault) is answered, and the connection is
    # closed an idle timeout after that answer, not after the request came
    from posterm.host.store import Store

    h = start_in_thread(str(tmp_path / "host.db"), read_timeout=0.2)
    try:
        t = Terminal(h.address)

        def sign_in_msg():
            return {"mti": "0800", 11: t.next_trace(), 41: TID, 42: MID,
                    60: "00" + t.batch + "003", 63: "01 "}

        assert t.send(sign_in_msg(), keep=True)[39] == "00"
        s = Store(h.host.db_path)
        s.set_fault(TID, "delay", "0.5", remaining=1)
        s.close()
        started = time.monotonic()
        assert t.send(sign_in_msg(), keep=True)[39] == "00"  # 0.5 s in service
        answered = time.monotonic()
        assert answered - started >= 0.5
        assert closed_by_host(t.sock, 3)
        assert 0.15 <= time.monotonic() - answered < 1.5
        t.close()
    finally:
        h.stop()


def test_embedded_host_starts_fast_and_stops(tmp_path):
    started = time.monotonic()
    h = start_in_thread(str(tmp_path / "host.db"))
    elapsed = time.monotonic() - started
    try:
        assert Terminal(h.address).sign_in()[39] == "00"
    finally:
        h.stop()
    assert elapsed < 1.0
    with pytest.raises(OSError):
        socket.create_connection(h.address, timeout=1).close()


def test_embedded_host_reports_a_busy_port(host, tmp_path):
    with pytest.raises(OSError):
        start_in_thread(str(tmp_path / "other.db"), port=host.address[1])


# -- faults -----------------------------------------------------------------------------------
def test_fault_timeout_reads_the_request_and_never_answers(term, store):
    store.set_fault(TID, "timeout", remaining=1)
    with pytest.raises(socket.timeout):
        term.purchase(amount=700, timeout=0.5)
    # the purchase went through on the host (the reply was lost): a reversal has work to do
    assert store.get_card(CARD)["balance_fen"] == 1000000 - 700
    assert store.get_fault(TID) is None
    assert term.purchase(amount=100)[39] == "00"


def test_fault_timeout_on_sign_in_keeps_the_old_keys(term, store):
    keys = store.get_terminal(TID)["mak"]
    store.set_fault(TID, "timeout")
    with pytest.raises(socket.timeout):
        t = Terminal(term.address)
        t.exchange({"mti": "0800", 11: "000001", 41: TID, 42: MID, 60: "00000001003"}, timeout=0.5)
    assert store.get_terminal(TID)["mak"] == keys


def test_fault_respond_answers_with_the_code_without_processing(term, store):
    store.set_fault(TID, "respond", "05", remaining=2)
    for _ in range(2):
        rep = term.purchase(amount=100)
        assert rep[39] == "05" and term.reply_mac_ok(rep)
    assert store.get_card(CARD)["balance_fen"] == 1000000
    assert term.purchase(amount=100)[39] == "00"


def test_fault_respond_can_refuse_a_sign_in(host, store):
    store.set_fault(TID, "respond", "97")
    t = Terminal(host.address)
    assert t.sign_in()[39] == "97"
    assert t.sign_in()[39] == "97"  # persistent
    store.clear_faults(TID)
    assert t.sign_in()[39] == "00"


def test_fault_drop_closes_without_a_reply(term, store):
    store.set_fault(TID, "drop", remaining=1)
    with pytest.raises(ConnectionError):
        term.purchase(amount=100)
    assert term.purchase(amount=100)[39] == "00"


def test_fault_badmac_corrupts_only_replies_that_carry_a_mac(host, store):
    store.set_fault(TID, "badmac", remaining=1)
    t = Terminal(host.address)
    assert t.sign_in()[39] == "00"  # 0810 has no MAC: the fault waits
    rep = t.purchase(amount=100)
    assert rep[39] == "00" and len(rep[64]) == 8 and not t.reply_mac_ok(rep)
    assert t.reply_mac_ok(t.purchase(amount=100))


def test_fault_delay_answers_late(term, store):
    store.set_fault(TID, "delay", "0.3", remaining=1)
    started = time.monotonic()
    assert term.purchase(amount=100)[39] == "00"
    assert time.monotonic() - started >= 0.3


def test_faults_of_one_terminal_leave_others_alone(host, store):
    store.set_fault("87654321", "respond", "96")
    assert Terminal(host.address).sign_in()[39] == "00"


# -- logging ----------------------------------------------------------------------------------
def test_one_log_line_per_message_with_the_pan_masked(term, caplog):
    caplog.set_level(logging.INFO, logger="posterm.host")
    term.purchase(amount=100)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1
    line = lines[0]
    assert TID in line and "0200" in line and "000000" in line and "39=00" in line
    assert "ms" in line
    for record in caplog.records:
        assert CARD not in record.getMessage()


def test_mask_pans_keeps_six_and_four():
    assert mask_pans("card 6212142000000000012 rrn 112410150001") == (
        "card 621214*********0012 rrn 112410150001"
    )


def test_decode_errors_in_a_valid_frame_name_the_field(host, caplog):
    caplog.set_level(logging.INFO, logger="posterm.host")
    body = iso8583.encode({"mti": "0800", 11: "000001", 41: TID})
    body = body[:-3]  # cut into field 41
    garbage_then_check(host, iso8583.pack_frame(TPDU, HEADER, body))
    line = next(r.getMessage() for r in caplog.records if "malformed" in r.getMessage())
    assert "field=41" in line


def test_reply_frames_use_the_host_header(term):
    with socket.create_connection(term.address, timeout=5) as s:
        msg = {"mti": "0820", 11: "000002", 41: TID, 42: MID, 60: "00000001301"}
        s.sendall(iso8583.pack_frame(TPDU, HEADER, iso8583.encode(msg)))
        _, header, body = iso8583.unpack_frame(read_frame(s))
    assert header == bytes.fromhex("603100000000")
    assert iso8583.decode(body)[39] == "00"


def test_stopping_with_open_connections_is_clean(tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="asyncio")
    h = start_in_thread(str(tmp_path / "host.db"))
    socks = [socket.create_connection(h.address, timeout=5) for _ in range(3)]
    assert Terminal(h.address).sign_in()[39] == "00"
    socks += [socket.create_connection(h.address, timeout=5) for _ in range(3)]
    h.stop()
    for s in socks:
        assert closed_by_host(s)
        s.close()
    assert not [r for r in caplog.records if r.name == "asyncio" and r.levelno >= logging.ERROR]
