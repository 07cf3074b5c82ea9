# A GM65-style barcode scanner module on a UART (Grow GM65 and its family: GM60, GM67,
# GM805, GM812 ...; TTL-232, 9600 baud 8N1 out of the box). In its continuous or induction
# read mode the module sends each code it decodes as ASCII and then its end mark (CR, or
# CR LF: a setting of the module); in command mode it reads once when the board sends
# TRIGGER. A cashier holds the customer's payment code (付款码) under it.
#
# poll(now_ms) never blocks: it takes what the UART holds (any(), read()) and returns the
# core's event once a whole code is in: ("scan", code), else None. A code without an end
# mark counts as whole when the line has been quiet for gap_ms (a module set to send no
# end mark). What is no code is dropped and counted, never fed: a line longer than
# `limit` (a URL, garbage), bytes that are not printable ASCII (the module's answers to a
# command: 02 00 00 ...), an empty line. The buffer is preallocated: a pass allocates
# only the code it returns.
from pos.compat import const

_LIMIT = const(64)  # payment codes are 16 to 24 digits; a longer line is not one
_GAP_MS = const(80)  # at 9600 baud a code's bytes come ~1 ms apart
_CR = const(13)
_LF = const(10)

# command mode: read once (zone bit 0x0002 = 1), as the GM65 manual's serial commands give it
# ("AB CD": the module does not check the CRC)
TRIGGER = b"\x7e\x00\x08\x01\x00\x02\x01\xab\xcd"


def _diff(a, b):
    d = (a - b) & 0x3FFFFFFF
    return d - 0x40000000 if d & 0x20000000 else d


class Scanner:
    def __init__(self, uart, limit=_LIMIT, gap_ms=_GAP_MS):
        self.uart = uart
        self.limit = limit
        self.gap_ms = gap_ms
        self.buf = bytearray(limit)
        self.n = 0  # bytes of the line in buf
        self.over = False  # the line ran past `limit`: dropped at its end mark
        self.last_ms = None  # when the line's last byte came
        self.pending = bytearray()  # bytes read but not looked at yet (after a code)
        self.codes = 0  # codes returned
        self.dropped = 0  # lines that were no code

    def trigger(self):
        # command mode: ask the module for one read
        self.uart.write(TRIGGER)

    def poll(self, now_ms):
        n = self.uart.any()
        if n:
            data = self.uart.read(n)
            if data:
                self.pending.extend(data)
                self.last_ms = now_ms
        i = 0
        p = self.pending
        while i < len(p):
            b = p[i]
            i += 1
            if b == _CR or b == _LF:
                code = self._end()
                if code is not None:
                    p[:] = p[i:]  # the rest waits for the next pass
                    return ("scan", code)
            elif self.n < self.limit:
                self.buf[self.n] = b
                self.n += 1
            else:
                self.over = True
        if i:
            p[:] = p[i:]
        if (self.n or self.over) and self.last_ms is not None and _diff(
            now_ms, self.last_ms
        ) >= self.gap_ms:
            code = self._end()  # quiet long enough: the module sends no end mark
            if code is not None:
                return ("scan", code)
        return None

    def _end(self):
        # the line in buf is complete -> its code, or None (nothing, or no code: dropped)
        n = self.n
        over = self.over
        self.n = 0
        self.over = False
        if n == 0 and not over:
            return None  # the LF of a CR LF, or an empty line
        if over:
            self.dropped += 1
            return None
        buf = self.buf
        for j in range(n):
            if buf[j] < 0x20 or buf[j] > 0x7E:
                self.dropped += 1
                return None
        code = bytes(buf[0:n]).decode().strip()
        if not code:
            self.dropped += 1
            return None
        self.codes += 1
        return code
