# The Wi-Fi host link: TCP to the center with 2-byte length-prefixed frames, against a
# fake socket module whose center the test plays (replies arrive in pieces, as TCP does).
import sys

import pos

_fw = pos.__file__.replace("\\", "/").rsplit("/", 2)[0]
if _fw not in sys.path:
    sys.path.append(_fw)

from boards.wifilink import WifiLink  # noqa: E402
from mptest import eq, true  # noqa: E402


class FakeSocket:
    def __init__(self, mod):
        self.mod = mod
        self.sent = b""
        self.closed = False

    def settimeout(self, t):
        self.mod.timeout = t

    def connect(self, addr):
        if self.mod.refuse:
            raise OSError(111, "ECONNREFUSED")
        self.mod.addr = addr

    def sendall(self, data):
        self.sent += data

    def recv(self, n):
        if self.mod.timeout_on_recv:
            raise OSError(110, "ETIMEDOUT")
        if self.mod.trickle_ms:  # each byte comes this long after the one before
            if self.mod.timeout is not None and self.mod.trickle_ms > self.mod.timeout * 1000:
                raise OSError(110, "ETIMEDOUT")  # what a socket's timeout (per read) does
            self.mod.now += self.mod.trickle_ms
            n = 1
        if not self.mod.chunks:
            return b""
        c = self.mod.chunks.pop(0)
        if len(c) > n:
            self.mod.chunks.insert(0, c[n:])
            c = c[:n]
        return c

    def close(self):
        self.closed = True


class FakeSocketModule:
    def __init__(self, chunks=(), refuse=False, timeout_on_recv=False, trickle_ms=0):
        self.chunks = list(chunks)
        self.trickle_ms = trickle_ms
        self.now = 0  # the board's millisecond clock (ticks_ms), moved by a trickle
        self.refuse = refuse
        self.timeout_on_recv = timeout_on_recv
        self.sockets = []
        self.addr = None
        self.timeout = None
        self.lookups = 0
        self.lookup_ms = 0  # how long a name look-up takes (the board's blocks)

    def getaddrinfo(self, host, port):
        self.lookups += 1
        self.now += self.lookup_ms
        return [(2, 1, 0, "", (host, port))]

    def socket(self):
        s = FakeSocket(self)
        self.sockets.append(s)
        return s


REQ = b"\x00\x03abc"
REPLY = b"\x01\x02" + bytes(range(256)) + b"\x01\x02"  # 258 bytes after the prefix


def test_a_reply_in_pieces_is_read_by_its_length_prefix():
    mod = FakeSocketModule([REPLY[:1], REPLY[1:100], REPLY[100:]])
    # the fake's clock (not moved by these pieces): with the real one a millisecond passing
    # between the reads left 29.999 s of the 30
    link = WifiLink("10.0.0.2", 5800, mod, lambda: mod.now)
    link.start(REQ, 30, 0)
    true(link.busy())
    eq(link.poll(0), ("reply", REPLY))
    eq(mod.sockets[0].sent, REQ)
    eq(mod.addr, ("10.0.0.2", 5800))
    eq(mod.timeout, 30)
    true(mod.sockets[0].closed, "one connection per exchange")


def test_a_short_reply_a_timeout_and_a_refusal_are_link_events():
    link = WifiLink("h", 1, FakeSocketModule([REPLY[:50]]))
    link.start(REQ, 5, 0)
    eq(link.poll(0), ("link_error", "center closed mid-message", True))
    link = WifiLink("h", 1, FakeSocketModule(timeout_on_recv=True))
    link.start(REQ, 5, 0)
    eq(link.poll(0), ("timeout",))
    link = WifiLink("h", 1, FakeSocketModule(refuse=True))
    link.start(REQ, 5, 0)
    ev = link.poll(0)
    eq((ev[0], ev[2]), ("link_error", False), "nothing left the terminal")


def test_a_center_that_trickles_its_answer_is_a_timeout_once_the_terminal_s_time_is_up():
    # one byte a second, each read well within the socket's timeout: the terminal's 5 s
    # bound the whole exchange (before, each read had 5 s: the 260 bytes took 260 s)
    mod = FakeSocketModule([REPLY], trickle_ms=1000)
    link = WifiLink("h", 1, mod, lambda: mod.now)
    link.start(REQ, 5, 0)
    eq(link.poll(0), ("timeout",))
    true(mod.now <= 5000, mod.now)
    true(mod.sockets[0].closed)
    # the clock of a board wraps at 2**30 ms: an exchange across the wrap is timed alike
    mod = FakeSocketModule([REPLY], trickle_ms=1000)
    mod.now = (1 << 30) - 2500
    link = WifiLink("h", 1, mod, lambda: mod.now & 0x3FFFFFFF)
    link.start(REQ, 5, 0)
    eq(link.poll(0), ("timeout",))
    eq(mod.now - ((1 << 30) - 2500), 5000)
    # an answer that comes byte by byte within the time is read whole
    mod = FakeSocketModule([REQ], trickle_ms=900)
    link = WifiLink("h", 1, mod, lambda: mod.now)
    link.start(b"x", 5, 0)
    eq(link.poll(0), ("reply", REQ))


def test_the_center_s_name_is_looked_up_once_and_again_after_a_refusal():
    mod = FakeSocketModule([REPLY, REPLY])
    link = WifiLink("center.example", 5800, mod, lambda: mod.now)
    for _ in range(2):
        link.start(REQ, 30, 0)
        eq(link.poll(0), ("reply", REPLY))
    eq(mod.lookups, 1, "the address is kept between sales")
    mod.refuse = True
    link.start(REQ, 30, 0)
    eq(link.poll(0)[0], "link_error")
    mod.refuse = False
    mod.chunks = [REPLY]
    link.start(REQ, 30, 0)
    eq(link.poll(0), ("reply", REPLY))
    eq(mod.lookups, 2, "a refused connection looks the name up again")


def test_a_slow_look_up_counts_against_the_terminal_s_time():
    mod = FakeSocketModule([REPLY])
    mod.lookup_ms = 4000
    link = WifiLink("center.example", 5800, mod, lambda: mod.now)
    link.start(REQ, 5, 0)
    eq(link.poll(0), ("reply", REPLY))
    eq(mod.timeout, 1, "1 s of the 5 left after a 4 s look-up")
    mod = FakeSocketModule([REPLY])
    mod.lookup_ms = 6000
    link = WifiLink("center.example", 5800, mod, lambda: mod.now)
    link.start(REQ, 5, 0)
    ev = link.poll(0)
    eq((ev[0], ev[2]), ("link_error", False), "the time was up before anything was sent")
    true("resolve" in ev[1], ev)
    eq(mod.sockets[0].sent, b"")
    true(mod.sockets[0].closed)
    mod.chunks = [REPLY]
    link.start(REQ, 5, 0)
    eq(link.poll(0), ("reply", REPLY), "the address found late is used at the next sale")
    eq(mod.lookups, 1)
