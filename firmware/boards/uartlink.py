# The host link over a UART to `posterm bridge`: one request, one reply, with
# ACK/NAK and retransmission (framing.py). Non-blocking: start() sends, poll()
# is called from the board loop and returns the core's event once there is one:
#   ("reply", data) | ("timeout",) | ("link_error", reason, sent)
from boards import framing
from pos.compat import const

_ACK_MS = const(600)
_RETRIES = const(3)


def _diff(a, b):
    d = (a - b) & 0x3FFFFFFF
    return d - 0x40000000 if d & 0x20000000 else d


_READER = ("card", "chip", "tap", "scan", "removed")


def reader_event(payload, link=None):
    # a C frame's payload -> the card reader's event (pos.card), or None when it is none. A
    # chip card the bridge keeps in its reader (["chip"] / ["tap"]) is presented as a
    # boards.cardlink.BridgeCard: its APDUs go over this link
    from pos.compat import json

    try:
        ev = json.loads(payload.decode())
    except (ValueError, UnicodeError):
        return None
    if not isinstance(ev, list) or not ev or ev[0] not in _READER:
        return None
    if len(ev) == 1 and ev[0] in ("chip", "tap") and link is not None:
        from pos import overlay
        from boards import cardlink

        ev.append(cardlink.BridgeCard(link))
        overlay.side(cardlink)  # forgotten: its code goes with the card's last reference
    return tuple(ev)


class UartLink:
    # polled by the board loop while idle too: the bridge may present a card (a C frame)
    listens = True

    def __init__(self, uart, ack_ms=_ACK_MS, retries=_RETRIES, sleep_ms=None):
        self.uart = uart
        self.sleep_ms = sleep_ms  # the board's time.sleep_ms: a card's APDU waits for its answer
        self.ack_ms = ack_ms
        self.retries = retries
        self.parser = framing.Parser()
        self.seq = 0
        self.state = None  # None | "ack" (waiting for the ACK) | "reply"
        self.frame = b""
        self.tries = 0
        self.resend_at = 0
        self.deadline = 0
        self.last_rx_seq = -1
        self.resent = 0  # frames sent again (NAK or no ACK), for the log
        self.presented = []  # reader events of C frames not fed yet
        self.wrote = False  # the request began to go out (boards.runner asks after a MemoryError)

    def busy(self):
        return self.state is not None

    def start(self, data, timeout_s, now_ms):
        self.wrote = False
        self.uart.read(self.uart.any() or 0)  # drop stale bytes
        self.parser = framing.Parser()
        self.seq = (self.seq + 1) & 0xFF
        self.frame = framing.encode(framing.DATA, self.seq, data)
        self.tries = 1
        self.wrote = True  # before the write: one that fails part-way may have sent bytes
        # the terminal's timeout first, in a W frame (0x57, not ACKed): the bridge asks the
        # host for as long as this board waits (posterm.bridge.core)
        self.uart.write(framing.encode(0x57, self.seq, bytes((min(int(timeout_s), 255),))))
        self.uart.write(self.frame)
        self.state = "ack"
        self.resend_at = now_ms + self.ack_ms
        self.deadline = now_ms + int(timeout_s * 1000)

    def _finish(self, event):
        self.state = None
        return event

    def poll(self, now_ms):
        if self.state is None:
            return self._listen()
        n = self.uart.any()
        frames = self.parser.feed(self.uart.read(n)) if n else ()
        for kind, seq, payload in frames:
            if kind == framing.CARD:  # a card while a request is out: ACKed, not read
                self.uart.write(framing.encode(framing.ACK, seq))
                continue
            if kind == framing.BAD:
                self.uart.write(framing.encode(framing.NAK, seq))
            elif kind == framing.NAK and seq == self.seq and self.state == "ack":
                ev = self._resend(now_ms)
                if ev:
                    return ev
            elif kind == framing.ACK and seq == self.seq and self.state == "ack":
                self.state = "reply"
            elif kind in (framing.DATA, framing.ERROR):
                self.uart.write(framing.encode(framing.ACK, seq))
                if self.state == "ack":
                    self.state = "reply"  # the ACK was lost, the reply tells us
                if seq == self.last_rx_seq:
                    continue  # a repeat: our ACK was lost
                self.last_rx_seq = seq
                if kind == framing.DATA:
                    return self._finish(("reply", payload))
                if payload[:1] == b"T":
                    return self._finish(("timeout",))
                reason = payload[1:].decode()
                return self._finish(("link_error", reason, payload[:1] == b"1"))
        if self.state == "ack" and _diff(now_ms, self.resend_at) >= 0:
            ev = self._resend(now_ms)
            if ev:
                return ev
        if _diff(now_ms, self.deadline) >= 0:
            return self._finish(
                ("timeout",)
                if self.state == "reply"
                else ("link_error", "no answer from the bridge", False)
            )
        return None

    def _listen(self):
        # idle: the bridge's C frames -> the reader's events, one a pass
        n = self.uart.any()
        if n:
            for kind, seq, payload in self.parser.feed(self.uart.read(n)):
                if kind == framing.CARD:
                    self.uart.write(framing.encode(framing.ACK, seq))
                    ev = reader_event(payload, self)
                    if ev is not None:
                        self.presented.append(ev)
        return self.presented.pop(0) if self.presented else None

    def _resend(self, now_ms):
        if self.tries > self.retries:
            return self._finish(("link_error", "the bridge does not acknowledge", False))
        self.tries += 1
        self.resent += 1
        self.uart.write(self.frame)
        self.resend_at = now_ms + self.ack_ms
        return None
