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
`posterm bridge` runs it queued: the board's UART is read while the host is asked (a worker
thread asks it), so a request the board sends meanwhile is ACKed at once and asked after the
one before (never overtaking it), and the answer to a request the board gave up (its timeout,
then a newer one sent) is never written: a single loop read nothing while it waited for the
host, so a sale sent after a balance inquiry timed out got no ACK within the board's 2.4 s,
the board called it "not sent" and disarmed its reversal, and the bridge then read it from
the serial buffer and the host approved it (money moved, no record); and the late answer of
a request was read as the next request's.
present() builds a C frame: a card or a code from the test deck for the board's terminal, as
its card reader would give it (the board ACKs it). A chip card stays here, in the bridge's
reader: the C frame says only that one was inserted (["chip"]) or tapped (["tap"]), and the
deck's virtual card (pos.emv.card, on the desktop) answers the board's kernel in I / R frames
(an I frame's command APDU, or nothing for a power-on, -> an R frame with the card's answer,
or nothing when no card is in the reader); a repeated I frame (its R was lost) gets the same
R, the card not asked again (a GENERATE AC counts). REMOVE takes the card out.
How long the host is asked: as long as the board waits, less MARGIN. The board sends its
timeout (the terminal's `timeout` parameter, seconds) in a W frame before each request (not
ACKed: a W lost or damaged leaves the last one in force); a board that sends none is taken to
wait `timeout` (`posterm bridge --timeout`, 30 s: the terminal's default). The time runs from
the request's arrival here, not from when the host is asked: a request queued behind a slow
one gets what is left of it, and one whose time ran out in the queue is not asked at all (E
"0": not sent). The bridge gives up MARGIN before the board does, so its answer or its E "T"
reaches the board while the board still waits for it: nothing it writes for a request comes
after the board's own timeout, when the board may have sent the next request and would take
it for that one's. Before, a fixed 30 s: a board that waits 60 s (a center's parameter
download) got the bridge's timeout at 30, one that waits 5 s got the answer to a request it
had given up up to 25 s later, and the requests behind it waited in the queue meanwhile."""

import json
import struct
import threading
import time

from pos.crc import crc16_ccitt

STX, DATA, ACK, NAK, ERROR, CARD, ICC, ICC_REPLY = 0x02, 0x44, 0x41, 0x4E, 0x45, 0x43, 0x49, 0x52
WAIT = 0x57  # "W": the board's timeout for its next request, 1 byte of seconds
TIMEOUT = 30  # seconds, for a board that sends no W frame (the terminal's default timeout)
MARGIN = 1.0  # seconds the bridge gives up before the board (the UART's way back, the loop)


def encode(kind, seq, payload=b""):
    body = struct.pack(">BBH", kind, seq & 0xFF, len(payload)) + payload
    return b"\x02" + body + struct.pack(">H", crc16_ccitt(body))


class Bridge:
    def __init__(self, exchange, send=None, queued=False, timeout=TIMEOUT, clock=time.monotonic):
        self.exchange = exchange  # (request bytes, timeout) -> core event (posterm.link)
        self.timeout = timeout  # seconds the host is asked when the board said none (W)
        self.board_timeout = None  # the board's own, from its last W frame
        self.clock = clock
        self.deadlines = {}  # (seq, payload) ACKed -> when the board stops waiting for it
        self.send = send  # bytes -> None: writes to the board at once (the ACK), or None
        # queued: feed() only ACKs a request and queues it; serve() (a worker thread of the
        # caller's) asks the host, one request at a time, and gives the reply to write
        self.queued = queued
        self.queue = []  # (seq, payload) ACKed, not yet asked of the host
        self.asking = None  # (seq, payload) being asked of the host
        self.latest = None  # (seq, payload) of the board's newest request
        self.dropped = 0  # replies not written: the board had sent a newer request
        self.lock = threading.Lock()
        self.ready = threading.Condition(self.lock)
        self.buf = bytearray()
        self.seq = 0
        self.last_req = None  # (seq, payload) of the last request answered
        self.last_reply = b""  # the frame sent for it
        self.requests = 0
        self.card_seq = 0  # the C frames' own numbering (the board reads each once)
        self.presented = 0
        self.card = None  # the chip card in the bridge's reader (pos.emv.card.Card)
        self.last_icc = None  # (seq, command) of the last I frame, and its R frame
        self.last_icc_reply = b""
        self.apdus = []  # (command, response) of every I frame the card answered

    def present(self, event):
        """A card reader event (posterm.host.deck's CARD= / CHIP= / TAP= / SCAN= / REMOVE)
        -> the C frame that presents it to the board. A chip card's spec stays here: the
        card goes into the bridge's reader (ValueError: a spec no card can be built from)."""
        event = list(event)
        if event[:1] == ["removed"]:
            self.card = None
        elif event[:1] in (["chip"], ["tap"]) and len(event) > 1:
            if isinstance(event[1], dict):
                from pos.emv import card as emvcard

                self.card = emvcard.Card(event[1])  # its counters go on in the spec (the deck's)
            else:
                self.card = event[1]  # an object answering APDUs (a test's card)
            self.last_icc = None
            event = event[:1]
        self.card_seq = (self.card_seq + 1) & 0xFF
        self.presented += 1
        payload = json.dumps(event, separators=(",", ":")).encode()
        return encode(CARD, self.card_seq, payload)

    def _icc(self, seq, command):
        # an I frame: the card's answer in an R frame of the same seq
        if (seq, command) == self.last_icc:
            return self.last_icc_reply
        card = self.card
        answer = b""
        if card is not None:
            try:
                answer = bytes(card.reset() if not command else card.apdu(command))
            except Exception:  # noqa: BLE001 - a card that breaks is a chip that does not answer
                answer = b""
        self.apdus.append((command, answer))
        if len(self.apdus) > 256:  # a bridge that runs all day keeps the last ones
            del self.apdus[:-128]
        self.last_icc = (seq, command)
        self.last_icc_reply = encode(ICC_REPLY, seq, answer)
        return self.last_icc_reply

    def feed(self, data):
        with self.lock:
            return self._feed(data)

    def _feed(self, data):
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
            if kind not in (DATA, ACK, NAK, ERROR, ICC, WAIT) or n > 4096:
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
        if kind == ICC:
            return self._icc(seq, payload)
        if kind == WAIT:
            if payload and payload[0]:
                self.board_timeout = payload[0]
            return b""
        if kind == NAK and seq == self.seq:
            return self.last_reply
        if kind != DATA:
            return b""
        req = (seq, bytes(payload))
        if req == self.last_req:
            return encode(ACK, seq) + self.last_reply
        if self.queued:
            if req == self.asking or req in self.queue:
                return encode(ACK, seq)  # a repeat of one not answered yet: our ACK was lost
            # a new request: the board has given up whatever it sent before (it sends one
            # at a time), so no reply of an older one is written any more; this one is
            # asked of the host after the one being asked (a reversal must not overtake
            # its sale)
            self.requests += 1
            self.latest = req
            self.deadlines[req] = self.clock() + self._wait()
            ack = encode(ACK, seq)
            if self.send is not None:  # written before a worker can take it up (the lock)
                self.send(ack)
                ack = b""
            self.queue.append(req)
            self.ready.notify()
            return ack
        self.requests += 1
        ack = encode(ACK, seq)
        if self.send is not None:
            self.send(ack)
            ack = b""
        ev = self.exchange(payload, self._wait())
        return ack + self._reply(req, ev)

    def _wait(self):
        # seconds the host is asked: what the board waits, less the margin
        return max((self.board_timeout or self.timeout) - MARGIN, MARGIN)

    def _reply(self, req, ev):
        self.seq = (self.seq + 1) & 0xFF
        if ev[0] == "reply":
            reply = encode(DATA, self.seq, ev[1])
        elif ev[0] == "timeout":
            reply = encode(ERROR, self.seq, b"T")
        else:
            reply = encode(ERROR, self.seq, (b"1" if ev[2] else b"0") + ev[1].encode())
        self.last_req = req
        self.last_reply = reply
        return reply

    def wait(self, timeout=None):
        """Queued: -> True when a request waits for serve() (after up to `timeout` s)."""
        with self.lock:
            if not self.queue:
                self.ready.wait(timeout)
            return bool(self.queue)

    def serve(self):
        """Queued: ask the host the next request -> the frame to write to the board (b"" when
        none waits, or when the board sent a newer request meanwhile: it gave this one up,
        and an answer written now would be read as the newer one's)."""
        with self.lock:
            if not self.queue:
                return b""
            req = self.asking = self.queue.pop(0)
            end = self.deadlines.pop(req, None)
        left = self._wait() if end is None else end - self.clock()
        if left > 0:
            ev = self.exchange(req[1], left)
        else:  # the board's time ran out while it waited behind another: not asked
            ev = ("link_error", "not sent: the board's timeout passed in the bridge's queue",
                  False)  # fmt: skip
        with self.lock:
            self.asking = None
            if req != self.latest:
                self.dropped += 1
                return b""
            return self._reply(req, ev)
