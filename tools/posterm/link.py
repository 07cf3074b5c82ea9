"""The host link on the desktop: one TCP connection per message, framed by the
2-byte length prefix of the CUP dialect. Returns the core's events."""

import socket
import time

from pos import iso8583


class HostAddressError(ValueError):
    pass


def parse_address(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise HostAddressError(f"host address must be HOST:PORT, got {text!r}")
    try:
        p = int(port)
    except ValueError:
        raise HostAddressError(f"port must be a number, got {port!r}") from None
    if not 0 < p < 65536:
        raise HostAddressError(f"port out of range: {p}")
    return host, p


class TcpLink:
    def __init__(self, address, connect_timeout=5.0):
        self.address = address
        self.connect_timeout = connect_timeout
        self.last_ms = None

    def exchange(self, data, timeout):
        """Send one request, wait for its reply. -> a core event tuple."""
        started = time.monotonic()
        try:
            sock = socket.create_connection(
                self.address, timeout=min(self.connect_timeout, timeout)
            )
        except OSError as e:
            return (
                "link_error",
                f"connect {self.address[0]}:{self.address[1]}: {e.strerror or e}",
                False,
            )
        try:
            sock.settimeout(timeout)
            try:
                sock.sendall(data)
            except OSError as e:
                return ("link_error", f"send: {e}", False)
            try:
                head = _read_exact(sock, 2, started, timeout)
                if head is None:
                    return ("link_error", "center closed the connection", True)
                n = iso8583.frame_length(head)
                body = _read_exact(sock, n, started, timeout)
                if body is None:
                    return ("link_error", "center closed mid-message", True)
            except TimeoutError:
                return ("timeout",)
            except socket.timeout:
                return ("timeout",)
            except OSError as e:
                return ("link_error", f"receive: {e}", True)
            except iso8583.Iso8583Error as e:
                return ("link_error", f"bad frame: {e}", True)
            self.last_ms = (time.monotonic() - started) * 1000
            return ("reply", head + body)
        finally:
            sock.close()


def _read_exact(sock, n, started, timeout):
    buf = b""
    while len(buf) < n:
        left = timeout - (time.monotonic() - started)
        if left <= 0:
            raise TimeoutError()
        sock.settimeout(left)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf
