"""The host on the wire: an asyncio TCP server speaking LEN + TPDU + header + ISO 8583 body.

One connection may carry several request/reply pairs; malformed input closes only that
connection (one log line with peer, field, offset, reason).  Faults armed in the store
(timeout, respond CODE, badmac, drop, delay SECONDS) are applied per terminal here.

The event loop never waits for the database: every database step runs on one worker thread
(requests are served in arrival order), and each has a bounded wait (db_wait, default
DB_WAIT seconds from its arrival): when the database is locked by another process or
otherwise unavailable, the terminal gets 96 within that time and nothing has changed.
Group commit: what queues up while the thread is busy is served as one group (at most
max_group requests), each request as if in its own transaction, with one commit for the
group and no reply sent before it (Processor.handle_many).

Connections are capped: at most max_connections open in all (more wait in the listen
backlog, BACKLOG deep, until one closes: the host never accepts more than its file
descriptors allow, fd_cap) and max_per_peer from one IP address (one over it is closed at
once).  One log line when a cap is first hit, one when it clears (with how many were
refused), never a line per attempt.  A connection that sends nothing for idle_timeout
seconds is closed.
"""

import asyncio
import functools
import logging
import re
import socket
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from pos import iso8583

from posterm.host import processor as proc
from posterm.host.processor import Processor
from posterm.host.store import FaultsArmed, Store

log = logging.getLogger("posterm.host")

REPLY_HEADER = bytes.fromhex("603100000000")  # byte 3's low nibble: the processing requirement
MAX_BODY = 2048  # the largest CUP POS message is far below this
READ_TIMEOUT = 30.0  # idle timeout: seconds to wait for a frame (or the rest of one)
DB_WAIT = 5.0  # seconds a request may wait for the database before it is answered 96
MAX_CONNECTIONS = 2048  # lowered to what the file-descriptor limit leaves (fd_cap)
MAX_PER_PEER = 1024
_FD_RESERVE = 64  # descriptors kept for the database, logs, the listener
FOLLOW_WAIT = 1.0  # seconds the driver's settings follow-up may wait for a locked database
CAP_QUIET = 1.0  # seconds below the caps that end a cap episode (its second log line)
BACKLOG = 2048
MAX_GROUP = 64  # requests served under one commit at most (group commit)
PREPARE_WAIT = 1.0  # seconds the host's start waits for the write lock to make tables
CHECKPOINT_EVERY = 0.25  # seconds between two WAL checkpoints (SQLite, Checkpointer)
_FINANCIAL_MTIS = ("0100", "0200", "0220", "0400")

_PAN_RUN = re.compile(r"(?<!\d)(\d{6})(\d{3,9})(\d{4})(?!\d)")


def mask_pans(text):
    """Every run of 13..19 digits shown as first 6 + '*' + last 4."""
    return _PAN_RUN.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)


class _MaskFilter(logging.Filter):
    def filter(self, record):
        record.msg = mask_pans(record.getMessage())
        record.args = None
        return True


log.addFilter(_MaskFilter())


def _summary(req, rep, started):
    f60 = req.get(60, "")
    what = f60[8:11] if req["mti"][1] in "358" else req.get(3, "-")
    ms = (time.monotonic() - started) * 1000
    code = rep.get(39, "-") if rep else "none"
    trace = req.get(11, "-")
    return f"{req.get(41, '-')} {req['mti']} {what or '-'} trace={trace} 39={code} {ms:.0f}ms"


def _corrupt(mac_value):
    hexdigits = "0123456789ABCDEF"
    text = mac_value.decode("ascii", "replace").upper()
    if len(text) == 8 and all(c in hexdigits for c in text):
        return "".join(hexdigits[(hexdigits.index(c) + 1) % 16] for c in text).encode()
    return bytes(b ^ 0xFF for b in mac_value)


GC_THRESHOLDS = (20000, 50, 1000)  # a `posterm host` process's (Python's are 700, 10, 10)


def tune_gc():
    """The collector of a process that serves (`posterm host`, the storm): what it made to
    start up is frozen out of every collection (gc.freeze), and a young collection waits for
    20,000 new objects, not 700.  A storm's 1,000 connections keep ~20,000 young objects
    alive: Python's defaults collected them ~50 times in a storm, up to 15-18 ms each on the
    event loop and the database thread alike (the purchases' p99); now about once."""
    import gc

    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return before


def untune_gc(before):
    """Python's collector as it was before tune_gc (a storm run inside a test process)."""
    import gc

    gc.unfreeze()
    gc.set_threshold(*before)


def loop_factory():
    """The event loop of a `posterm host` process: uvloop's (libuv, a pinned dependency) when
    it imports, else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def reply_frame(processor, frame, conn=None):
    """A whole request frame (LEN + TPDU + header + body) in, the host's reply frame out (None:
    nothing is answered): what the host sends back, without sockets or armed faults."""
    tpdu, _header, body = iso8583.unpack_frame(frame)
    out = processor.serve(body, conn)
    if out is None:
        return None
    return iso8583.pack_frame(iso8583.swap_tpdu(tpdu), REPLY_HEADER, out)


def prepare(db_path, menu_path=None):
    """Provision the default terminal, cards and menu on a fresh database; on an existing
    one, take a changed shipped menu as the next version (see start_in_thread)."""
    store = Store(db_path)
    try:
        if store.fresh:
            store.provision_defaults(menu_path)
        elif menu_path is not None:
            store.sync_menu(menu_path)
    finally:
        store.close()


def fd_cap(wanted):
    """`wanted`, lowered so that the open connections never reach the process's
    file-descriptor limit (where accept() fails and every terminal's sign-in with it)."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, ValueError, OSError):
        return wanted
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - _FD_RESERVE))


class Host:
    """Host(db_path, now=None): `now` returns the host clock's datetime (default now).
    read_timeout: the idle timeout (s); db_wait: the bounded database wait (s) per request;
    max_connections / max_per_peer: the connection caps; backlog: the listen backlog."""

    def __init__(
        self,
        db_path,
        now=None,
        read_timeout=READ_TIMEOUT,
        db_wait=DB_WAIT,
        max_connections=MAX_CONNECTIONS,
        max_per_peer=MAX_PER_PEER,
        backlog=BACKLOG,
        max_group=MAX_GROUP,
        reuse_port=False,
        random_bytes=None,
    ):
        self.db_path = db_path
        self.random_bytes = random_bytes  # the sign-ins' keys' bytes (Processor.random_bytes)
        self.now = now or datetime.now
        self.read_timeout = read_timeout
        self.db_wait = db_wait
        self.max_connections = fd_cap(max_connections)
        self.max_per_peer = max_per_peer
        self.backlog = backlog
        self.max_group = max(1, max_group)
        self.reuse_port = reuse_port
        self._queue = []  # requests waiting for the database thread (group commit)
        self._qlock = threading.Lock()
        self._draining = False
        self.store = None
        self.processor = None
        self._listener = None  # the listening socket
        self._watched = set()  # listening sockets whose readiness we watch
        self._conns = set()  # open connections' transports
        self._served = set()  # their protocols (_Conn), for the idle sweep
        self._sweeper = None  # the pending idle sweep (_sweep), while connections are open
        self._adopting = {}  # sockets being given their transport: coroutine -> (socket, ...)
        self._retry = None  # the pending re-watch after a failed accept
        self._db = None
        self._checkpointer = None
        self._open = 0
        self._per_peer = {}
        self._capped = None  # the log line's reason while capped, else None
        self._refused = 0
        self._accept_failed = False
        self._cap_hit = 0.0
        self._clear = None  # the pending check that ends a cap episode

    async def start(self, host="127.0.0.1", port=0):
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="posterm-host-db")
        loop = asyncio.get_running_loop()
        try:
            self.store = await loop.run_in_executor(
                self._db, lambda: Store(self.db_path, timeout=self.db_wait)
            )
            if self.store.dialect == "sqlite":  # its WAL copied back off the commit path
                self._checkpointer = Checkpointer(self.db_path)
                await loop.run_in_executor(self._db, self.store.set_autocheckpoint, False)
            self.processor = Processor(self.store, self.now)
            if self.random_bytes is not None:
                self.processor.random_bytes = self.random_bytes
            # a fleet on one SQLite file: the sign-ins' keys drawn before the write lock
            self.processor.keys_ahead = self.reuse_port and self.store.dialect == "sqlite"
            for hook in self.processor.hooks:  # tables a hook writes, made before serving
                prepare_hook = getattr(hook, "prepare", None)
                if prepare_hook is not None:
                    await loop.run_in_executor(self._db, self._prepare_hook, prepare_hook)
            self._listen(host, port)
        except BaseException:
            await self._close_store()
            raise
        return self.address

    def _prepare_hook(self, prepare_hook):
        """A hook's tables made before serving, waiting at most PREPARE_WAIT for the write
        lock: a database locked elsewhere leaves them to the first message (which makes
        them, or answers 96 within its own bounded wait), the host starts all the same."""
        try:
            self.store.set_wait(min(PREPARE_WAIT, self.db_wait))
            prepare_hook(self.store)
        except sqlite3.Error as e:
            log.info("back office tables not made before serving (%s); the first message "
                     "makes them", e)

    def _listen(self, host, port):
        """Listen on host:port with our own accept loop: connections accepted while the total
        cap leaves room, none while it is reached (they wait in the kernel's backlog), so the
        host never runs out of file descriptors however hard a storm comes.  `reuse_port`:
        several center processes may listen on the same address (SO_REUSEPORT; the kernel
        spreads the connections over them)."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.create_server((host, port), family=family, backlog=self.backlog,
                                    reuse_port=self.reuse_port)
        sock.setblocking(False)
        old, self._listener = self._listener, sock
        self.address = sock.getsockname()[:2]
        self._watch(sock)
        if old is not None:
            self._unwatch(old)
            old.close()

    def _watch(self, sock):
        if sock not in self._watched:
            asyncio.get_running_loop().add_reader(sock.fileno(), self._acceptable, sock)
            self._watched.add(sock)

    def _unwatch(self, sock):
        if sock in self._watched:
            self._watched.discard(sock)
            try:
                asyncio.get_running_loop().remove_reader(sock.fileno())
            except (ValueError, OSError):
                pass

    async def stop(self):
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if self._clear is not None:
            self._clear.cancel()
            self._clear = None
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self._listener is not None:
            sock, self._listener = self._listener, None
            self._unwatch(sock)
            sock.close()
            for coro in list(self._adopting):
                coro.close()  # its transport is closed (GeneratorExit where it waits)
                self._adoption_failed(coro, None)
            for conn in list(self._conns):
                conn.abort()
            await asyncio.sleep(0)  # their connection_lost callbacks run
        await self._close_store()

    async def relisten(self, host, port):
        """Serve on host:port instead (the old listener closes once the new one is up;
        open connections carry on).  OSError (port busy ...) leaves the old one serving."""
        self._listen(host, port)
        return self.address

    async def _close_store(self):
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._db is None:
            return
        store, self.store = self.store, None
        if store is not None:
            await asyncio.get_running_loop().run_in_executor(self._db, store.close)
        self._db.shutdown(wait=True)
        self._db = None

    # -- idle connections -----------------------------------------------------------------
    def _sweep_every(self):
        """Seconds between two idle sweeps: a quarter of the idle timeout, at most 1 s."""
        return min(1.0, max(0.01, self.read_timeout / 4))

    def _watch_idle(self, conn):
        self._served.add(conn)
        if self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().call_later(self._sweep_every(),
                                                                  self._sweep)

    def _sweep(self):
        """Close the connections that have waited for a request for the idle timeout: one
        timer for all of them, every _sweep_every() seconds while any is open, instead of a
        timer set and cancelled for every request (~5 us each of the event loop's time in a
        storm of sign-ins)."""
        self._sweeper = None
        if not self._served:
            return
        limit = time.monotonic() - self.read_timeout
        for conn in [c for c in self._served if c.idle_since is not None
                     and c.idle_since <= limit]:
            conn._idle()
        if self._served:
            self._sweeper = asyncio.get_running_loop().call_later(self._sweep_every(),
                                                                  self._sweep)

    # -- the database, off the loop -------------------------------------------------------
    # -- connections ----------------------------------------------------------------------
    def _cap(self, reason):
        """A cap was hit: one log line for the whole episode (a storm that keeps the host
        at its cap is one episode; it ends after CAP_QUIET seconds below the caps)."""
        self._cap_hit = time.monotonic()
        if self._capped is None:
            self._capped = reason
            self._refused = 0
            log.warning("connection cap reached: %s", reason)

    def _uncap(self):
        if self._capped is not None and self._clear is None:
            self._clear = asyncio.get_running_loop().call_later(CAP_QUIET, self._maybe_clear)

    def _maybe_clear(self):
        self._clear = None
        if self._capped is None:
            return
        if time.monotonic() - self._cap_hit < CAP_QUIET or self._open >= self.max_connections:
            self._uncap()
            return
        log.warning(
            "connection cap cleared: %d connection(s) were refused (%s)",
            self._refused,
            self._capped,
        )
        self._capped = None

    def _acceptable(self, sock):
        """The listening socket is readable: accept what waits, as far as the caps allow."""
        loop = asyncio.get_running_loop()
        accepted, family = _accepted, sock.family
        for _ in range(self.backlog):
            if self._open >= self.max_connections:
                self._cap(
                    f"{self._open} connections open (cap {self.max_connections});"
                    " new ones wait in the listen backlog"
                )
                self._unwatch(sock)  # watched again when one closes (_release)
                return
            try:
                fd, addr = sock._accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as e:  # out of descriptors or buffers: wait, say it once
                if not self._accept_failed:
                    self._accept_failed = True
                    log.error("accept failed (%s); retrying every 0.5 s", e.strerror or e)
                self._unwatch(sock)
                self._retry = loop.call_later(0.5, self._rewatch, sock)
                return
            conn = accepted(family, fd)
            if self._accept_failed:
                self._accept_failed = False
                log.warning("accepting connections again")
            ip = addr[0]
            if self._per_peer.get(ip, 0) >= self.max_per_peer:
                self._cap(
                    f"{ip} has {self._per_peer[ip]} connections open"
                    f" (cap {self.max_per_peer}); refusing its new ones"
                )
                self._refused += 1
                conn.close()
                continue
            self._open += 1
            self._per_peer[ip] = self._per_peer.get(ip, 0) + 1
            self._adopt(loop, conn, ip, addr)  # the loop makes it non-blocking

    def _adopt(self, loop, conn, ip, addr):
        """Give the accepted socket its transport: the loop's connect_accepted_socket, stepped
        here by hand (it does its work at once, then only awaits its connection_made), not as
        a task of its own for every connection."""
        proto = _Conn(self, ip, addr)
        coro = loop.connect_accepted_socket(lambda: proto, sock=conn)
        self._adopting[coro] = (conn, proto, ip, addr)
        self._adoption_step(coro)

    def _adoption_step(self, coro, _waiter=None):
        if coro not in self._adopting:  # closed meanwhile (the host stopped)
            return
        try:
            waiter = coro.send(None)
        except StopIteration:
            self._adopting.pop(coro, None)
            return
        except (OSError, RuntimeError, asyncio.CancelledError) as e:  # gone, or stopping
            self._adoption_failed(coro, e)
            return
        except Exception as e:  # noqa: BLE001 - this connection only
            log.error("internal error adopting a connection: %s: %s", type(e).__name__, e)
            self._adoption_failed(coro, e)
            return
        try:
            waiter.add_done_callback(functools.partial(self._adoption_step, coro))
        except AttributeError:  # not a future: nothing to wait for that we know of
            coro.close()
            self._adoption_failed(coro, RuntimeError(f"the loop awaited {waiter!r}"))

    def _adoption_failed(self, coro, e):
        item = self._adopting.pop(coro, None)
        if item is None:
            return
        conn, proto, ip, addr = item
        log.info("%s:%s lost before it was served: %s", addr[0], addr[1], e or "stopped")
        conn.close()
        if not proto.released:
            proto.released = True
            self._release(ip)

    def _rewatch(self, sock):
        self._retry = None
        if sock is self._listener:
            self._watch(sock)

    def _release(self, ip):
        self._open -= 1
        left = self._per_peer.get(ip, 1) - 1
        if left:
            self._per_peer[ip] = left
        else:
            self._per_peer.pop(ip, None)
        if self._open < self.max_connections:
            if self._listener is not None and self._retry is None:
                self._watch(self._listener)
            self._uncap()

    # -- group commit -----------------------------------------------------------------------
    def _queued(self, req, body, conn, faults, done):
        """Queue a request for the database thread; `done(step)` is called on the event loop
        with its step.  The thread serves what has queued up while it was busy as one group
        (one commit: Processor.handle_many), so under load many requests share a commit and
        at rest each has its own."""
        item = (req, body, conn, time.monotonic() + self.db_wait, faults, done)
        with self._qlock:
            self._queue.append(item)
            if self._draining:
                return
            self._draining = True
        self._db.submit(self._drain, asyncio.get_running_loop())

    def _drain(self, loop):
        """On the database thread: serve queued groups until the queue is empty."""
        while True:
            with self._qlock:
                if not self._queue:
                    self._draining = False
                    return
                group = self._queue[: self.max_group]
                del self._queue[: self.max_group]
            try:
                steps = self._serve_group(group)
            except BaseException as e:  # noqa: BLE001 - never leave a request waiting
                steps = [("done", e, False, False)] * len(group)
            loop.call_soon_threadsafe(_deliver, group, steps)

    def _serve_group(self, group):
        now = time.monotonic()
        steps = [None] * len(group)
        todo = []
        for i, (req, _body, _conn, deadline, _faults, _fut) in enumerate(group):
            if deadline <= now:
                steps[i] = self._late(req, f"not reached within {self.db_wait:g}s")
            else:
                todo.append(i)
        if not todo:
            return steps
        left = min(group[i][3] for i in todo) - now
        check = any(group[i][4] for i in todo)  # are faults armed? (a test bench's)
        try:
            self.store.set_wait(max(left, 0))
            # on PostgreSQL the question goes with the group's BEGIN (FaultsArmed below)
            armed = check and self.store.dialect == "sqlite" and self.store.any_fault()
        except sqlite3.Error as e:
            for i in todo:
                steps[i] = self._late(group[i][0], f"{type(e).__name__}: {e}")
            return steps
        if not armed:
            try:
                reps = self.processor.handle_many([group[i][:3] for i in todo],
                                                  check_faults=check)
            except FaultsArmed:
                armed = True
            else:
                for i, rep in zip(todo, reps, strict=True):
                    steps[i] = ("done", rep, True, False)
                return steps
        if armed:  # faults are a test bench's: served one by one, as armed
            for i in todo:
                req, body, conn, deadline, faults, _fut = group[i]
                left = deadline - time.monotonic()
                try:
                    if faults:
                        steps[i] = self._fault_step(left, req, body, conn)
                    else:
                        steps[i] = self._process_step(left, req, body, conn, None)
                except Exception as e:  # noqa: BLE001 - this request's connection only
                    steps[i] = ("done", e, False, False)
        return steps

    def _late(self, req, why):
        log.error(
            "database unavailable for %s %s: %s; answered 96", req.get(41, "-"), req["mti"], why
        )
        return "done", self.processor.unavailable(req), True, False

    def _fault_step(self, left, req, body, conn):
        """On the database thread: the armed fault of the terminal, then the processor."""
        if left <= 0:
            return self._late(req, f"not reached within {self.db_wait:g}s")
        tid = req.get(41)
        try:
            fault = self.store.get_fault(tid) if tid else None
            kind = fault["kind"] if fault else None
            if kind == "respond":
                self.store.use_fault(tid)
                return "done", self.processor.answer(req, fault["arg"]), True, False
            if kind in ("timeout", "drop"):
                self.store.use_fault(tid)
                if req["mti"] in _FINANCIAL_MTIS:  # processed, the reply lost on the way back
                    self.processor.handle(req, body, conn)
                log.info("fault %s for %s: no reply to %s", kind, tid, req["mti"])
                return "done", None, kind == "timeout", False
            if kind == "delay":
                self.store.use_fault(tid)
                return "delay", float(fault["arg"])
            if kind == "need":  # answered as ever, the header asking for processing N
                self.store.use_fault(tid)
                return self._process_step(left, req, body, conn, kind) + (int(fault["arg"]),)
        except sqlite3.Error as e:
            return self._late(req, f"{type(e).__name__}: {e}")
        return self._process_step(left, req, body, conn, kind)

    def _process_step(self, left, req, body, conn, kind):
        if left <= 0:
            return self._late(req, f"not reached within {self.db_wait:g}s")
        rep = self.processor.handle(req, body, conn)  # answers 96 itself on a database error
        bad = kind == "badmac" and rep is not None and 64 in rep
        if bad:
            try:
                self.store.use_fault(req.get(41))
            except sqlite3.Error:
                pass
        return "done", rep, True, bad


class Checkpointer:
    """Copies a SQLite database's write-ahead log back into the database file from a thread
    of its own (PRAGMA wal_checkpoint(PASSIVE) every CHECKPOINT_EVERY seconds, on a
    connection of its own), so that no commit of the host's waits for it: SQLite's own
    checkpoint runs inside the commit that fills the log past 1,000 pages, and its fsyncs
    took 20-25 ms on this machine, in about one group of messages in fifty.  A passive
    checkpoint never waits for the writer nor makes it wait."""

    def __init__(self, path, every=None):
        self.path = str(path)
        self.every = CHECKPOINT_EVERY if every is None else every
        self.done = 0  # checkpoints run
        self.last = None  # what the last one said: (busy, frames in the log, frames copied)
        self.copied = 0  # the most frames one of them copied back
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="posterm-host-wal", daemon=True)
        self._thread.start()

    def _run(self):
        try:
            db = sqlite3.connect(self.path, timeout=0.1, isolation_level=None,
                                 check_same_thread=False)
        except sqlite3.Error as e:
            log.error("WAL checkpoints off: %s", e)
            return
        try:
            while not self._stop.wait(self.every):
                self.checkpoint(db)
            self.checkpoint(db)
        finally:
            db.close()

    def checkpoint(self, db):
        try:
            self.last = tuple(db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())
            self.copied = max(self.copied, self.last[2])
            self.done += 1
        except sqlite3.Error as e:  # busy, or the disk: the next round tries again
            log.info("WAL checkpoint skipped: %s", e)

    def stop(self):
        self._stop.set()
        self._thread.join(10)


class _Conn(asyncio.Protocol):
    """One terminal's connection: frames read as they come (LEN + TPDU + header + body), one
    request served at a time, in order (what arrives meanwhile waits in the buffer).  The
    connection closes when no whole request has come within the idle timeout, on a malformed
    frame (one log line with peer, field, offset, reason), or after a fault that sends
    nothing back."""

    def __init__(self, host, ip, addr):
        self.host = host
        self.ip = ip
        self.addr = addr
        self.transport = None
        self.buf = bytearray()
        self.busy = False
        self.closed = False
        self.released = False
        self.state = {}  # what the processor keeps per connection (which keys it got)
        self.idle_since = None  # monotonic time it began waiting for a request (None: busy)
        self.current = None  # (req, body, tpdu, started) of the request being served

    @property
    def peer(self):
        """HOST:PORT of the terminal (for the log)."""
        return "{}:{}".format(*self.addr[:2])

    # -- asyncio's callbacks --------------------------------------------------------------
    def connection_made(self, transport):
        self.transport = transport
        self.host._conns.add(transport)
        self.host._watch_idle(self)
        self._arm()

    def data_received(self, data):
        if not self.buf and not self.busy and len(data) >= 13:
            n = (data[0] << 8) | data[1]
            if n == len(data) - 2 and n <= MAX_BODY:  # the usual read: one whole request
                self._serve_frame(data)
                return
        self.buf += data
        if not self.busy:
            self._next()

    def eof_received(self):
        return False  # close our side too

    def connection_lost(self, exc):
        self.closed = True
        self.idle_since = None
        self.host._conns.discard(self.transport)
        self.host._served.discard(self)
        if self.buf and not self.busy:
            n = len(self.buf)
            if n < 2:
                err = iso8583.Iso8583Error("len", 0, "connection closed inside the length")
            else:
                want = iso8583.frame_length(bytes(self.buf[:2]))
                err = iso8583.Iso8583Error(
                    "len", n, f"truncated: length says {want}, got {n - 2}")
            self._malformed(err)
        if not self.released:
            self.released = True
            self.host._release(self.ip)

    # -- serving --------------------------------------------------------------------------
    def _arm(self):
        """Wait for the next request: at most the idle timeout (Host._sweep)."""
        self.idle_since = time.monotonic()

    def _idle(self):
        self.idle_since = None
        if not self.closed and not self.busy:
            log.info("%s closed: no request within %gs", self.peer, self.host.read_timeout)
            self.transport.close()

    def _malformed(self, e):
        log.warning("%s malformed: field=%s offset=%s reason=%s", self.peer, e.field, e.offset,
                    e.reason)

    def _next(self):
        """Serve the next whole frame of the buffer, if there is one."""
        while not self.busy and not self.closed and len(self.buf) >= 2:
            n = iso8583.frame_length(bytes(self.buf[:2]))
            if n < 11 or n > MAX_BODY:
                self._malformed(iso8583.Iso8583Error(
                    "len", 0, f"frame length {n} out of range 11..{MAX_BODY}"))
                self.buf.clear()
                self.transport.close()
                return
            if len(self.buf) < 2 + n:
                return
            frame = bytes(self.buf[: 2 + n])
            del self.buf[: 2 + n]
            self._serve_frame(frame)

    def _serve_frame(self, frame):
        """One whole frame (its length checked): decoded and queued for the database, or
        the connection closed on a malformed one; a response MTI is not answered."""
        if self.closed:
            return
        started = time.monotonic()
        try:
            tpdu, _header, body = iso8583.unpack_frame(frame)
            req = iso8583.decode(body)
        except iso8583.Iso8583Error as e:
            self._malformed(e)
            self.buf.clear()
            self.transport.close()
            return
        if proc.is_response(req.get("mti", "")):
            log.info("a response MTI %s was sent to the center: not answered", req["mti"])
            return
        self.busy = True
        self.idle_since = None
        self.current = (req, body, tpdu, started)
        self._queue(True)

    def _queue(self, faults):
        req, body = self.current[0], self.current[1]
        self.host._queued(req, body, self.state, faults, self._stepped)

    def _stepped(self, step):
        if step[0] == "delay":
            asyncio.get_running_loop().call_later(step[1], self._queue, False)
            return
        req, _body, tpdu, started = self.current
        self.current = None
        rep, keep, bad_mac = step[1:4]
        need = step[4] if len(step) > 4 else 0  # a "need" fault: the header's requirement
        if isinstance(rep, proc.CommitUnknown):
            # not a bug: the database connection died during COMMIT (stored or not is
            # unknown), so nothing is answered; the terminal reverses, the reversal finds out
            log.error("%s %s trace %s not answered, connection closed: the database "
                      "connection was lost during COMMIT (whether it was stored is unknown; "
                      "the terminal's reversal finds out): %s", self.peer, req.get("mti"),
                      req.get(11, "?"), rep)  # fmt: skip
        elif isinstance(rep, Exception):
            log.error("%s internal error, connection closed: %s: %s", self.peer,
                      type(rep).__name__, rep)
        if isinstance(rep, Exception):
            self.busy = False
            self.buf.clear()
            if not self.closed:
                self.transport.close()
            return
        if log.isEnabledFor(logging.INFO):
            log.info("%s %s", self.peer, _summary(req, rep, started))
        if self.closed:
            return
        if rep is not None:
            try:
                out = proc.encode(rep)
            except Exception as e:  # noqa: BLE001 - one bad reply must never take the host down
                log.error("%s internal error, connection closed: %s: %s", self.peer,
                          type(e).__name__, e)
                self.transport.close()
                return
            if bad_mac and 64 in rep:
                out = out[:-8] + _corrupt(out[-8:])
            header = REPLY_HEADER[:2] + bytes((REPLY_HEADER[2] | need,)) + REPLY_HEADER[3:]
            self.transport.write(iso8583.pack_frame(iso8583.swap_tpdu(tpdu), header, out))
        self.busy = False
        if not keep:
            self.buf.clear()
            self.transport.close()
            return
        self._arm()
        self._next()


class _Accepted4(socket.socket):
    """An accepted connection's socket whose family and type are plain attributes: the event
    loop asks for them (three times) when it adopts the socket, and socket.socket answers
    through properties that make an enum each time (~1 us a question in a storm's accepts)."""

    __slots__ = ()
    family = socket.AF_INET
    type = socket.SOCK_STREAM


class _Accepted6(socket.socket):
    __slots__ = ()
    family = socket.AF_INET6
    type = socket.SOCK_STREAM


def _accepted(family, fd):
    """The socket object of descriptor `fd` accepted on a listener of `family` (what
    socket.accept() makes, as _Accepted4 / _Accepted6)."""
    if family == socket.AF_INET:
        return _Accepted4(socket.AF_INET, socket.SOCK_STREAM, 0, fileno=fd)
    if family == socket.AF_INET6:
        return _Accepted6(socket.AF_INET6, socket.SOCK_STREAM, 0, fileno=fd)
    return socket.socket(family, socket.SOCK_STREAM, 0, fileno=fd)


def _deliver(group, steps):
    """On the event loop: each request's step to its connection (called straight, no future
    a request: one call_soon_threadsafe for the whole group)."""
    for item, step in zip(group, steps, strict=True):
        try:
            item[5](step)
        except Exception:  # noqa: BLE001 - one connection's failure is not the group's
            log.exception("internal error delivering an answer")


class HostThread:
    """A Host running its own event loop in a daemon thread (the embedded host)."""

    def __init__(self, host):
        self.host = host
        self.loop = asyncio.new_event_loop()
        self.address = None
        self._thread = None

    def _run(self, bind, port, ready, failure):
        asyncio.set_event_loop(self.loop)
        try:
            self.address = self.loop.run_until_complete(self.host.start(bind, port))
        except BaseException as e:  # noqa: BLE001 - re-raised in the starting thread
            failure.append(e)
            ready.set()
            self.loop.close()
            return
        ready.set()
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self.host.stop())
            self.loop.close()

    def start(self, bind, port):
        ready = threading.Event()
        failure = []
        self._thread = threading.Thread(
            target=self._run,
            args=(bind, port, ready, failure),
            name="posterm-host",
            daemon=True,
        )
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    # -- what the driver calls when the terminal's settings change ------------------------
    def follow_terminal(self, tid, mac_algo=None, mid=None):
        """Configure the embedded center for terminal `tid` as the terminal is set up (its
        MAC algorithm ecb / x9.9 / x9.19, its merchant id), as a real center is configured
        per terminal.  Unknown TIDs are left alone (the center answers them 97).  Returns
        True when the center knows `tid`."""
        from posterm.host import validate

        store = Store(self.host.db_path, timeout=FOLLOW_WAIT)
        try:
            row = store.get_terminal(tid)
            if row is None:
                return False
            algo = None if mac_algo is None else validate.mac_algo(mac_algo)
            if (algo or row["mac_algo"]) != row["mac_algo"] or (mid or row["mid"]) != row["mid"]:
                store.configure_terminal(tid, mac_algo=algo, mid=mid)  # only when it changed
        finally:
            store.close()
        return True

    def move_to(self, port, bind=None):
        """Listen on `port` (the terminal's 5.3 host port) instead; returns the address.
        Raises OSError when the port cannot be used (the old port keeps serving)."""
        bind = bind or self.address[0]
        fut = asyncio.run_coroutine_threadsafe(self.host.relisten(bind, port), self.loop)
        self.address = fut.result(10)
        return self.address

    def stop(self):
        if self._thread is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
        self._thread = None


def start_in_thread(db_path, menu_path=None, host="127.0.0.1", port=0, now=None, **options):
    """Start the embedded host: provisions the default terminal, cards and menu on a fresh
    database, serves in a daemon thread, returns a HostThread (.address, .stop()).
    The shipped menu (menus/menu.json) is only the first version: when it changed since,
    it becomes the next version only while no menu was published with `posterm host menus
    publish` (a published menu stays).  `options` go to Host (db_wait, max_connections ...)."""
    prepare(db_path, menu_path)
    return HostThread(Host(db_path, now=now, **options)).start(host, port)


__all__ = ["Host", "HostThread", "mask_pans", "prepare", "reply_frame", "start_in_thread"]
