"""Helpers for the host tests: a scripted terminal that builds requests with pos.iso8583,
pos.mac and pos.pinblock directly and talks to a real host over TCP, or to the center's
processor in-process (`Local`: frames in and out, no sockets: the business rules' tests).
(No tests here.)"""

import socket
from datetime import datetime

from pos import des, iso8583, mac, pinblock

NOW = datetime(2026, 11, 24, 10, 15, 30)
TPDU = bytes.fromhex("6000030000")
HEADER = bytes.fromhex("603100000000")
TMK = bytes.fromhex("11111111111111112222222222222222")
TID = "12345678"
MID = "898310048990001"
CARD = "6212142000000000012"
POOR_CARD = "6212142000000000020"
EXPIRED_CARD = "6212142000000000038"
LOST_CARD = "6212142000000000046"
STOLEN_CARD = "6212142000000000053"
UNKNOWN_CARD = "6212142000000000061"  # Luhn-valid, not in the deck
PIN = "123456"


def read_frame(sock):
    prefix = b""
    while len(prefix) < 2:
        chunk = sock.recv(2 - len(prefix))
        if not chunk:
            raise ConnectionError("closed")
        prefix += chunk
    n = iso8583.frame_length(prefix)
    rest = b""
    while len(rest) < n:
        chunk = sock.recv(n - len(rest))
        if not chunk:
            raise ConnectionError("closed inside a frame")
        rest += chunk
    return prefix + rest


class Local:
    """The center without sockets: its processor on a store of `db_path` (provisioned as
    the embedded host is), whole frames in and out (posterm.host.server.reply_frame).
    `address` is itself, so that Terminal(center.address) works as over TCP; `host.db_path`
    as a HostThread's, for the store fixture."""

    def __init__(self, db_path, menu_path=None, now=lambda: NOW):
        from types import SimpleNamespace

        from posterm.host.processor import Processor
        from posterm.host.server import prepare
        from posterm.host.store import Store

        prepare(db_path, menu_path)
        self.store = Store(db_path)
        self.processor = Processor(self.store, now)
        self.address = self
        self.host = SimpleNamespace(db_path=db_path)

    def exchange(self, frame, conn):
        from posterm.host.server import reply_frame

        return reply_frame(self.processor, frame, conn)

    def stop(self):
        self.store.close()


def unsign_keys(f62, tmk=TMK):
    """(pik, mak) from an 003 field 62, checked with pos.des and kcv (not pos.keyload)."""
    assert len(f62) == 40
    pik = des.decrypt(tmk, f62[0:16])
    mak = des.decrypt(tmk, f62[20:28])
    assert des.kcv(pik) == f62[16:20]
    assert f62[28:36] == bytes(8)
    assert des.kcv(mak) == f62[36:40]
    return pik, mak


class Terminal:
    def __init__(self, address, tid=TID, mid=MID, tmk=TMK):
        self.address = address
        self.tid = tid
        self.mid = mid
        self.tmk = tmk
        self.trace = 0
        self.batch = "000001"
        self.pik = None
        self.mak = None
        self.sock = None
        self.conn = None  # the connection's state in-process (Local)
        self.bodies = {}
        self.algo = "ecb"

    def next_trace(self):
        self.trace = self.trace % 999999 + 1
        return f"{self.trace:06d}"

    def exchange(self, msg, timeout=5.0, keep=False):
        """Send one request, return (tpdu, header, decoded reply)."""
        frame = iso8583.pack_frame(TPDU, HEADER, iso8583.encode(msg))
        if isinstance(self.address, Local):  # in-process: `keep` keeps the connection state
            if self.conn is None:
                self.conn = {}
            out = self.address.exchange(frame, self.conn)
            if not keep:
                self.conn = None
            if out is None:
                raise ConnectionError("no reply")
            tpdu, header, body = iso8583.unpack_frame(out)
            rep = iso8583.decode(body)
            self.bodies[id(rep)] = body
            return tpdu, header, rep
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=timeout)
        self.sock.settimeout(timeout)
        try:
            self.sock.sendall(frame)
            tpdu, header, body = iso8583.unpack_frame(read_frame(self.sock))
        finally:
            if not keep:
                self.close()
        rep = iso8583.decode(body)
        self.bodies[id(rep)] = body  # the bytes as received, for the MAC check
        return tpdu, header, rep

    def send(self, msg, **kw):
        return self.exchange(msg, **kw)[2]

    def close(self):
        self.conn = None
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def sign_in(self):
        rep = self.send(
            {
                "mti": "0800",
                11: self.next_trace(),
                41: self.tid,
                42: self.mid,
                60: "00" + self.batch + "003",
                63: "01 ",
            }
        )
        if rep[39] == "00":
            self.pik, self.mak = unsign_keys(rep[62], self.tmk)
            self.batch = rep[60][2:8]
        return rep

    def signed(self, msg):
        msg[64] = bytes(8)
        msg[64] = mac.compute(self.algo, self.mak, iso8583.mab(msg))
        return msg

    def financial(
        self,
        mti,
        f3,
        f60_1,
        pan=CARD,
        amount=10000,
        pin=PIN,
        trace=None,
        f25="00",
        extra=None,
        sign=True,
    ):
        msg = {
            "mti": mti,
            2: pan,
            3: f3,
            4: f"{amount:012d}",
            11: trace or self.next_trace(),
            22: "021" if pin else "022",
            25: f25,
            41: self.tid,
            42: self.mid,
            49: "156",
            53: "2600000000000000",
            60: f60_1 + self.batch + "000",
        }
        if pin:
            msg[26] = "12"
            msg[52] = pinblock.encrypt(self.pik, pin, pan)
        if extra:
            msg.update(extra)
        return self.signed(msg) if sign else msg

    def purchase(self, pan=CARD, amount=10000, timeout=5.0, **kw):
        return self.send(
            self.financial("0200", "000000", "22", pan, amount, **kw), timeout=timeout
        )

    def reversal_of(self, original, reason="98"):
        msg = {"mti": "0400"}
        for f in (2, 3, 4, 11, 14, 22, 25, 41, 42, 49, 60):
            if f in original:
                msg[f] = original[f]
        msg[39] = reason
        return self.send(self.signed(msg))

    def reply_mac_ok(self, rep):
        """The reply's MAC checks out over the bytes received (never a re-encoding)."""
        body = self.bodies.get(id(rep))
        mab = body[:-8] if body is not None else iso8583.mab(rep)
        return mac.verify(self.algo, self.mak, mab, rep[64])
