"""The bridge, sans-IO: feed() takes bytes from the board's UART and returns the bytes to
send back. Frames (firmware/boards/framing.py): STX | kind | seq | len u16 | payload |
CRC-16/CCITT-FALSE (pos.crc.crc16_ccitt). A data frame is ACKed, sent to the host over TCP,
and the host's reply goes back as a data frame (or an E frame: b"T" timeout, b"0"/b"1" +
reason). With `send` the ACK goes at once, before the host is asked: the board resends a frame
not ACKed within 600 ms and gives up after three resends as "not sent", so an ACK held until a
host that takes 2.4 s has answered made the board disarm the reversal of a request the host
had (money moved, no record). A repeated request (the same sequence number and bytes: our ACK
was lost) gets the cached reply again; the same number with other bytes (a board that
restarted, its numbering from 1 again) is a new request. A NAK resends.
present() builds a C frame: a card or a code from the test deck for the board's terminal, as
its card reader would give it (the board ACKs it)."""

import json
import struct

from pos.crc import crc16_ccitt

STX, DATA, ACK, NAK, ERROR, CARD = 0x02, 0x44, 0x41, 0x4E, 0x45, 0x43


def encode(kind, seq, payload=b""):
    body = struct.pack(">BBH", kind, seq & 0xFF, len(payload)) + payload
    return b"\x02" + body + struct.pack(">H", crc16_ccitt(body))


class Bridge:
    def __init__(self, exchange, send=None):
        self.exchange = exchange  # (request bytes, timeout) -> core event (posterm.link)
        self.send = send  # bytes -> None: writes to the board at once (the ACK), or None
        self.buf = bytearray()
        self.seq = 0
        self.last_req = None  # (seq, payload) of the last request answered
        self.last_reply = b""  # the frame sent for it
        self.requests = 0
        self.card_seq = 0  # the C frames' own numbering (the board reads each once)
        self.presented = 0

    def present(self, event):
        """A card reader event (posterm.host.deck's CARD= / CHIP= / TAP= / SCAN= / REMOVE)
        -> the C frame that presents it to the board."""
        self.card_seq = (self.card_seq + 1) & 0xFF
        self.presented += 1
        payload = json.dumps(list(event), separators=(",", ":")).encode()
        return encode(CARD, self.card_seq, payload)

    def feed(self, data):
        self.buf.extend(data)
        out = b""
        while True:
            i = self.buf.find(b"\x02")
            if i < 0:
                self.buf.clear()
                return out
            del self.buf[:i]
            if len(self.buf) < 5:
                return out
            kind, seq, n = struct.unpack(">BBH", self.buf[1:5])
            if kind not in (DATA, ACK, NAK, ERROR) or n > 4096:
                del self.buf[:1]
                continue
            if len(self.buf) < 7 + n:
                return out
            frame = bytes(self.buf[: 7 + n])
            if crc16_ccitt(frame[1:-2]) != struct.unpack(">H", frame[-2:])[0]:
                del self.buf[:1]
                out += encode(NAK, seq)
                continue
            del self.buf[: 7 + n]
            out += self._frame(kind, seq, frame[5:-2])

    def _frame(self, kind, seq, payload):
        if kind == NAK and seq == self.seq:
            return self.last_reply
        if kind != DATA:
            return b""
        if (seq, payload) == self.last_req:
            return encode(ACK, seq) + self.last_reply
        self.requests += 1
        ack = encode(ACK, seq)
        if self.send is not None:
            self.send(ack)
            ack = b""
        ev = self.exchange(payload, 30)
        self.seq = (self.seq + 1) & 0xFF
        if ev[0] == "reply":
            reply = encode(DATA, self.seq, ev[1])
        elif ev[0] == "timeout":
            reply = encode(ERROR, self.seq, b"T")
        else:
            reply = encode(ERROR, self.seq, (b"1" if ev[2] else b"0") + ev[1].encode())
        self.last_req = (seq, bytes(payload))
        self.last_reply = reply
        return ack + reply
