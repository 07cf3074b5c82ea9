# The host link over Wi-Fi (Pico W, ESP32): TCP straight to the host, the same
# 2-byte length-prefixed ISO 8583 frames as the desktop. The exchange blocks
# (the screen already shows "connecting"); poll() hands the result to the loop.
# The terminal's timeout bounds the whole exchange (connect, send, every read: each gets
# what is left of it), not each read: a center that trickles its answer byte by byte is
# a timeout once the time is up, as on the desktop.
# The center's name is looked up once and its address kept (a board's getaddrinfo blocks
# and takes no timeout: looked up at every sale, a slow DNS server made every sale slow);
# the time the look-up took counts against the exchange's, and a connection refused or
# timed out drops the address so that the next exchange looks the name up again (the
# center moved). An IP address needs no look-up.


def connect_wifi(network, ssid, password, wait_ms=15000, sleep_ms=None):
    # -> the WLAN interface, connected; raises OSError with a readable reason
    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    if not wlan.isconnected():
        wlan.connect(ssid, password)
        waited = 0
        while not wlan.isconnected() and waited < wait_ms:
            if sleep_ms is not None:
                sleep_ms(100)
            waited += 100
    if not wlan.isconnected():
        raise OSError("Wi-Fi %r: not connected after %d s" % (ssid, wait_ms // 1000))
    return wlan


class WifiLink:
    def __init__(self, host, port, sock_mod=None, ticks_ms=None):
        if sock_mod is None:
            # imported here: a build without networking can still load this module
            import socket as sock_mod
        if ticks_ms is None:  # the board's millisecond clock (CPython: from time.time)
            import time

            ticks_ms = getattr(time, "ticks_ms", None) or (lambda: int(time.time() * 1000))
        self.ticks_ms = ticks_ms
        self.host = host
        self.port = port
        self.socket = sock_mod
        self.addr = None  # the center's address, once looked up
        self._result = None
        self.wrote = False

    def busy(self):
        return self._result is not None

    def start(self, data, timeout_s, now_ms):
        self.wrote = False  # the request began to go out (boards.runner asks after a MemoryError)
        self._result = self.exchange(data, timeout_s)

    def poll(self, now_ms):
        ev = self._result
        self._result = None
        return ev

    def exchange(self, data, timeout_s):
        so = self.socket
        t0 = self.ticks_ms()
        limit = int(timeout_s * 1000)
        addr = self.addr
        try:
            if addr is None:
                addr = so.getaddrinfo(self.host, self.port)[0][-1]
            s = so.socket()
        except OSError as e:
            return ("link_error", "resolve %s: %s" % (self.host, e), False)
        self.addr = addr  # (kept even when the look-up took the whole time: next is quick)
        try:
            try:
                _left(s, self.ticks_ms, t0, limit)
            except OSError:  # the look-up took the whole time: nothing was sent
                return ("link_error", "resolve %s: timed out" % (self.host,), False)
            try:
                s.connect(addr)
            except OSError as e:
                self.addr = None  # look the name up again next time
                return ("link_error", "connect %s:%d: %s" % (self.host, self.port, e), False)
            self.wrote = True  # before the send: one that fails part-way may have sent bytes
            try:
                _left(s, self.ticks_ms, t0, limit)
                s.send(data) if not hasattr(s, "sendall") else s.sendall(data)
            except OSError as e:
                return ("link_error", "send: %s" % (e,), False)
            try:
                head = _read(s, 2, self.ticks_ms, t0, limit)
                if head is None:
                    return ("link_error", "center closed the connection", True)
                # the 2-byte length prefix (the codec is not loaded for it: pos.overlay)
                body = _read(s, (head[0] << 8) | head[1], self.ticks_ms, t0, limit)
                if body is None:
                    return ("link_error", "center closed mid-message", True)
            except OSError as e:
                if "timed out" in str(e) or (e.args and e.args[0] in (110, 116)):
                    return ("timeout",)
                return ("link_error", "receive: %s" % (e,), True)
            return ("reply", head + body)
        finally:
            s.close()


def _left(s, ticks_ms, t0, limit):
    # the socket's timeout set to what is left of the exchange's limit since t0 (the ticks
    # wrap at 2**30 on a board: the time taken is masked); none left: ETIMEDOUT
    left = limit - ((ticks_ms() - t0) & 0x3FFFFFFF)
    if left <= 0:
        raise OSError(110, "timed out")
    s.settimeout(left / 1000)


def _read(s, n, ticks_ms, t0, limit):
    buf = b""
    while len(buf) < n:
        _left(s, ticks_ms, t0, limit)
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf
