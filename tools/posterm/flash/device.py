"""The board end of `posterm flash`: mpremote's SerialTransport (raw REPL, raw-paste), a few
snippets run on the board, and errors turned into one clear message with a hint."""

import json

import serial
from mpremote.transport import TransportError, TransportExecError
from mpremote.transport_serial import SerialTransport

from posterm.flash.build import commit_source


class FlashError(Exception):
    """What went wrong and what to try: printed as one message, never a traceback."""

    def __init__(self, message, hint=None):
        super().__init__(message)
        self.hint = hint

    def __str__(self):
        base = super().__str__()
        return f"{base}\n  hint: {self.hint}" if self.hint else base


_INFO = """
import os, sys, json
_commit()
try:
    with open('/manifest.json') as f:
        _m = json.loads(f.read())
except (OSError, ValueError):
    _m = None
try:
    _mach = os.uname().machine
except (AttributeError, OSError):
    _mach = ''
print(json.dumps({'mpy': getattr(sys.implementation, '_mpy', 0) & 0xFF,
                  'platform': sys.platform, 'version': list(sys.implementation.version),
                  'machine': _mach, 'manifest': _m}))
"""

_MKDIRS = """
import os
for _d in %r:
    try:
        os.mkdir(_d)
    except OSError:
        pass
"""

_COMMIT_NOW = "import os\nos.rename('/manifest.tmp', '/manifest.new')\n_commit()\n"


def _no_delay(port):
    # a socket:// port (a board behind a network bridge, the fake board): pyserial leaves
    # Nagle's algorithm on, and each raw-paste window then waits for the peer's delayed ACK
    # (~40 ms on Linux): a 270 KB tree took ~45 s over loopback instead of a few
    sock = getattr(port, "_socket", None)
    if sock is not None:
        import socket

        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass


class Board:
    def __init__(self, port, baudrate=115200):
        self.port = port
        try:
            self.t = SerialTransport(port, baudrate=baudrate)
        except (serial.SerialException, OSError, TransportError) as e:
            raise FlashError(
                f"cannot open {port}: {e}",
                "check the cable and the port name (python -m serial.tools.list_ports lists "
                "them; Linux: /dev/ttyACM0 for a Pico, /dev/ttyUSB0 for an ESP32 DevKit)",
            ) from None
        self.bytes_sent = 0
        _no_delay(getattr(self.t, "serial", None))

    def enter(self):
        try:
            self.t.enter_raw_repl(soft_reset=True, timeout_overall=10)
        except (TransportError, serial.SerialException, OSError) as e:
            raise FlashError(
                f"the board on {self.port} does not answer its REPL ({e})",
                "is MicroPython on it? Press its reset button and try again. If it keeps "
                "rebooting or printing (a boot loop), hold CANCEL while it powers up, or "
                "unplug it, plug it in and run posterm flash at once",
            ) from None
        self.exec(commit_source())

    def exec(self, code):
        try:
            return self.t.exec(code)
        except TransportExecError as e:
            raise FlashError(
                f"the board reported an error: {e.error_output.strip().splitlines()[-1]}",
                "run posterm flash --full to rewrite every file",
            ) from None
        except (TransportError, serial.SerialException, OSError) as e:
            raise FlashError(f"lost the board on {self.port}: {e}", "check the cable") from None

    def info(self):
        out = self.exec(_INFO)
        try:
            return json.loads(out.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise FlashError(
                f"unexpected answer from the board: {out[:80]!r}",
                "is this a MicroPython board? Try posterm flash --full",
            ) from None

    def has_romfs(self):
        out = self.exec("import vfs\nprint(hasattr(vfs, 'rom_ioctl'))\n")
        return out.decode().strip().endswith("True")

    def mkdirs(self, dirs):
        if dirs:
            self.exec(_MKDIRS % (sorted(dirs),))

    def write_verified(self, path, data, expect_hash):
        """Write data to path (must be a temp name), then check its sha256 on the board."""
        try:
            self.t.fs_writefile(path, data, chunk_size=2048)
            got = self.t.fs_hashfile(path, "sha256").hex()
        except (TransportError, serial.SerialException, OSError) as e:
            raise FlashError(f"writing {path} failed: {e}", "check the cable; run again") from None
        self.bytes_sent += len(data)
        if got != expect_hash:
            raise FlashError(f"{path}: hash mismatch after writing", "run posterm flash again")

    def commit(self):
        self.exec(_COMMIT_NOW)

    def reset(self):
        try:
            self.t.exec_raw_no_follow("import machine\nmachine.reset()\n")
        except (TransportError, serial.SerialException, OSError):
            pass

    def close(self):
        try:
            self.t.close()
        except (OSError, serial.SerialException):
            pass
