"""A TCP proxy between terminals and a center that injects the faults of a real line, per
terminal and message: the answer lost after the center booked the request, the request
lost before the center saw it, an answer late (after the terminal's timeout), twice, with a
bad MAC, another MTI, trace or amount, cut short; and the center restarted (stopped and
started again on its database) when a given message arrives. It reads and mangles frames
with tests/realhost.py's codec (frames by hand), never with the project's.

    proxy = FaultProxy(target=(host, port))
    proxy.plan[("30000001", "0200", 2)] = "lost"   # that terminal's 2nd 0200
    proxy.restart = restart                          # restart() -> the center's new address
    proxy.plan[("30000004", "0320", 1)] = "restart"  # the center dies mid batch upload
    proxy.restart_on.append(("0500", 2, restart))    # ... or at the 2nd 0500 of anyone

What went through is kept in `seen`: [tid, mti, request frame, fault, the center answered,
its answer reached the terminal as the center sent it, seconds from the request to the
answer written (None: nothing written)].
"""

import socket
import struct
import threading
import time

import realhost

# what a fault does with the center's answer
# ("restart": the center dies with its answer in hand and comes back, `restart`)
FAULTS = ("lost", "down", "late", "twice", "badmac", "mti", "trace", "amount", "truncated",
          "restart")  # fmt: skip


def read_frame(conn):
    head = realhost.read_exact(conn, 2)
    if head is None:
        return None
    body = realhost.read_exact(conn, struct.unpack(">H", head)[0])
    return None if body is None else head + body


def mangle(reply, field, value):
    """The reply frame with one field changed, re-framed by hand (the MAC left as it was)."""
    tpdu, header, body = reply[2:7], reply[7:13], reply[13:]
    mti, fields = realhost.parse(body)
    fields[field] = value
    return realhost.frame(tpdu, header, realhost.build(mti, fields))


class FaultProxy:
    def __init__(self, target, late_by=1.6):
        self.target = tuple(target)
        self.late_by = late_by  # how long after the center's answer a "late" one goes
        self.plan = {}  # (tid, mti, nth of that MTI from that terminal) -> fault
        self.restart_on = []  # [(mti, nth of that MTI over all terminals, restart callable)]
        self.restart = None  # what the fault "restart" calls -> the center's new address
        self.seen = []
        self.problems = []
        self._counts = {}
        self._lock = threading.Lock()
        self._restarting = threading.Lock()
        self._srv = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.address = self._srv.getsockname()
        self._stop = False
        self._threads = []
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    @property
    def hostport(self):
        return "%s:%d" % self.address

    def close(self):
        self._stop = True
        try:
            socket.create_connection(self.address, timeout=1).close()
        except OSError:
            pass
        self._srv.close()
        self._accept.join(timeout=5)
        for th in self._threads:
            th.join(timeout=5)

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self._srv.accept()
            except OSError:
                return
            if self._stop:
                conn.close()
                return
            th = threading.Thread(target=self._one, args=(conn,), daemon=True)
            self._threads.append(th)
            th.start()

    def _decide(self, tid, mti):
        with self._lock:
            key = (tid, mti)
            self._counts[key] = self._counts.get(key, 0) + 1
            fault = self.plan.get((tid, mti, self._counts[key]))
            k = ("*", mti)
            self._counts[k] = self._counts.get(k, 0) + 1
            restart = None
            for on_mti, nth, call in self.restart_on:
                if on_mti == mti and self._counts[k] == nth:
                    restart = call
            return fault, restart

    def _one(self, conn):
        with conn:
            conn.settimeout(10)
            try:
                req = read_frame(conn)
                if req is None:
                    return
                mti, fields = realhost.parse(req[13:])
                tid = fields.get(41, b"").decode()
                fault, restart = self._decide(tid, mti)
                began = time.monotonic()
                entry = [tid, mti, req, fault, False, False, None]
                with self._lock:
                    self.seen.append(entry)
                if fault == "down":  # the center never sees it; the line drops
                    return
                with self._restarting:  # a restart finishes before anything is forwarded
                    target = self.target
                try:
                    with socket.create_connection(target, timeout=10) as up:
                        up.sendall(req)
                        reply = read_frame(up)
                except OSError:  # the center is restarting (refused, reset): the line drops
                    return
                entry[4] = reply is not None
                if fault == "restart" and self.restart is not None:
                    restart = self.restart
                if restart is not None:
                    with self._restarting:
                        self.target = tuple(restart())
                    return  # the center went down with its answer
                if reply is None or fault == "lost":
                    return
                wrote = self._answer(conn, reply, fault)
                entry[5] = wrote and fault in (None, "twice")
                entry[6] = time.monotonic() - began if wrote else None
            except Exception as e:  # a test helper: say it, never hang a terminal
                self.problems.append("proxy: %r" % (e,))

    def _answer(self, conn, reply, fault):
        if fault == "late":
            time.sleep(self.late_by)
        elif fault == "badmac":
            reply = reply[:-1] + bytes([reply[-1] ^ 0x55])
        elif fault == "mti":
            other = bytes.fromhex("%04d" % (int(reply[13:15].hex()) + 20))  # 0210 -> 0230
            reply = reply[:13] + other + reply[15:]
        elif fault == "trace":
            reply = mangle(reply, 11, "999999")
        elif fault == "amount":
            mti, fields = realhost.parse(reply[13:])
            reply = mangle(reply, 4, "%012d" % (int(fields.get(4, "0")) + 1))
        elif fault == "truncated":
            reply = reply[: len(reply) // 2]
        try:
            conn.sendall(reply)
            if fault == "twice":
                conn.sendall(reply)
        except OSError:
            return False  # the terminal gave up and closed (late)
        return True
