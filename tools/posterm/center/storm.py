"""`posterm host storm`: N simulated terminals against a running center over loopback.

1. sign-in: all N terminals connect and send their 0800 at once (one connection each, kept);
2. heartbeat: each sends one status upload 0820 / 362;
3. purchases: `concurrency` of them send purchases back to back (closed loop, MAC'd, no PIN)
   until `purchases` have been answered; with `faults`, that many faulty connections at a
   time meanwhile (from 127.0.1.x): frames cut off mid-frame, a length prefix alone, a length
   out of range, purchase frames with bytes changed, a purchase whose connection closes before
   the answer: the purchases must all still be answered, and each faulty connection either
   answered or closed by the center within FAULT_WAIT seconds (else it counts as a stall).
Each phase reports how many got 00, any other answer or error, and the latency p50 / p99 /
max; the purchase phase also its rate.  The terminals are provisioned into the center's
database first (TIDs S0000001.., the test TMK, and a card each with room for every purchase:
customers' cards, not one card every purchase of the storm would queue for; CARD, one more
card, is there for tests that want many terminals to spend from one).
Connections come from several loopback addresses (127.0.0.2, .3, ...), at most 200 a
source, as terminals behind different networks do (the center caps connections per peer).
"""

import asyncio
import errno
import os
import select
import socket
import subprocess
import sys
import tempfile
import time

from pos import iso8583

from posterm.host import hostcrypto

TPDU = bytes.fromhex("6000030000")
HEADER = bytes.fromhex("603100000000")
TMK = bytes.fromhex("11111111111111112222222222222222")
MID = "898310048990001"
CARD = "6212140000000000014"
PER_SOURCE = 200
FAULT_PAUSE = 0.05  # seconds between two faulty connections of one faulty peer
FAULT_WAIT = 5.0  # seconds a faulty connection waits for the center to answer or close it
SIGNIN_WAIT = 30.0  # seconds without any answer after which a sign-in counts as an error
_BIND_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)  # Linux's, since 4.2
FAULT_KINDS = ("cut mid-frame", "length alone", "length out of range", "bytes changed",
               "closed before the answer")


def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def tids(n):
    return [f"S{i + 1:07d}" for i in range(n)]


def card_of(index):
    """The storm card of terminal number `index` (19 digits, Luhn-valid)."""
    head = f"621214{index + 1:012d}"
    total = 0
    for i, ch in enumerate(reversed(head)):  # the check digit will be position 0
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return head + str(-total % 10)


def provision(db_path, n, purchases):
    """Terminals S0000001.. and the storm card, into the center's database."""
    from posterm.host.store import Store

    store = Store(db_path)
    try:
        if store.fresh:
            from posterm import paths

            store.provision_defaults(paths.menu_file())
        need = 100 * (purchases + 1) * 10
        with store.unit():
            for i, tid in enumerate(tids(n)):
                if store.get_terminal(tid) is None:
                    store.add_terminal(tid, MID, TMK.hex().upper())
                store.add_card(card_of(i), "123456", need, "3012", "ok", "STORM", None)
            store.add_card(CARD, "123456", need, "3012", "ok", "STORM", None)
    finally:
        store.close()


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def summary(name, lat, codes, errors, elapsed=None):
    ok = codes.get("00", 0)
    out = {"phase": name, "ok": ok, "other": {k: v for k, v in sorted(codes.items())
                                              if k != "00"},
           "errors": errors, "p50_ms": _ms(pct(lat, 50)), "p99_ms": _ms(pct(lat, 99)),
           "max_ms": _ms(max(lat) if lat else None)}
    if elapsed is not None:
        out["seconds"] = round(elapsed, 3)
        out["per_second"] = round(ok / elapsed, 1) if elapsed else None
    return out


def _ms(s):
    return None if s is None else round(s * 1000, 1)


def _cpu_of(pids):
    """CPU seconds (user + system) the processes `pids` used so far (Linux /proc), or None."""
    total = 0
    try:
        tick = os.sysconf("SC_CLK_TCK")
        for pid in pids:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return None
    return total / tick


def _tree_cpu(root):
    """CPU seconds (user + system) of process `root` and all its descendants alive now (a
    database server's backends: its part of each message), or None (no /proc)."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        stats = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open(f"/proc/{name}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue  # gone meanwhile
                stats[int(name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    except (OSError, ValueError, IndexError):
        return None
    if root not in stats:
        return None
    keep, total, grew = {root}, 0, True
    while grew:
        grew = False
        for pid, (ppid, _ticks) in stats.items():
            if ppid in keep and pid not in keep:
                keep.add(pid)
                grew = True
    for pid in keep:
        total += stats[pid][1]
    return total / tick


def _load():
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


class _Link(asyncio.Protocol):
    """A terminal's TCP connection: write a frame, wait for the reply frame's body."""

    def __init__(self):
        self.transport = None
        self.buf = bytearray()
        self.waiter = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buf += data
        if len(self.buf) >= 2:
            n = iso8583.frame_length(bytes(self.buf[:2]))
            if len(self.buf) >= 2 + n and self.waiter is not None and not self.waiter.done():
                frame = bytes(self.buf[: 2 + n])
                del self.buf[: 2 + n]
                self.waiter.set_result(iso8583.unpack_frame(frame)[2])

    def connection_lost(self, exc):
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("closed by the center"))


class Term:
    """One simulated terminal.  Its frames are built before a phase's clock starts (the
    storm measures the center, not its own encoding)."""

    def __init__(self, tid, index, card=CARD):
        self.tid = tid
        self.card = card
        self.source = f"127.0.0.{2 + index // PER_SOURCE}"
        self.trace = 0
        self.batch = "000001"
        self.mak = None
        self.link = None

    def next_trace(self):
        self.trace = self.trace % 999999 + 1
        return f"{self.trace:06d}"

    async def connect(self, host, port):
        self.link = _Link()
        await asyncio.get_running_loop().create_connection(
            lambda: self.link, host, port, local_addr=(self.source, 0))

    async def send(self, frame):
        """The reply body to one request frame."""
        link = self.link
        link.waiter = asyncio.get_running_loop().create_future()
        link.transport.write(frame)
        return await link.waiter

    def close(self):
        if self.link is not None and self.link.transport is not None:
            self.link.transport.close()

    @staticmethod
    def frame(msg):
        return iso8583.pack_frame(TPDU, HEADER, iso8583.encode(msg))

    def sign_in_frame(self):
        return self.frame({"mti": "0800", 11: self.next_trace(), 41: self.tid, 42: MID,
                           60: "00" + self.batch + "003", 63: "01 "})

    def signed_in(self, body):
        rep = iso8583.decode(body)
        if rep.get(39) == "00":
            self.mak = hostcrypto.decrypt(TMK, rep[62][20:28])
            self.batch = rep[60][2:8]
        return rep

    def heartbeat_frame(self):
        return self.frame({
            "mti": "0820", 11: self.next_trace(), 41: self.tid, 42: MID,
            60: "00" + self.batch + "362", 62: b"ver=storm;paper=ok;n=0;amt=0;op=01"})

    def purchase_frame(self, amount=100):
        msg = {"mti": "0200", 2: self.card, 3: "000000", 4: f"{amount:012d}",
               11: self.next_trace(), 22: "022", 25: "00", 41: self.tid, 42: MID, 49: "156",
               60: "22" + self.batch + "000", 64: bytes(8)}
        msg[64] = hostcrypto.compute("ecb", self.mak, iso8583.mab(msg))
        return self.frame(msg)


    # one exchange each, decoded (for scripts and tests; the phases send pre-built frames)
    async def sign_in(self):
        return self.signed_in(await self.send(self.sign_in_frame()))

    async def heartbeat(self):
        return iso8583.decode(await self.send(self.heartbeat_frame()))

    async def purchase(self, amount=100):
        return iso8583.decode(await self.send(self.purchase_frame(amount)))


async def _timed(coro):
    """[seconds, code, error, reply body] of one exchange; the code is read from the body
    after the phase (_decoded): the storm's own decoding is not in the way of the replies
    still to come."""
    started = time.perf_counter()
    try:
        body = await coro
        return [time.perf_counter() - started, None, None, body]
    except (OSError, asyncio.IncompleteReadError, iso8583.Iso8583Error) as e:
        return [time.perf_counter() - started, None, f"{type(e).__name__}: {e}", None]


def _decoded(results):
    for r in results:
        if r[2] is None and r[1] is None:
            try:
                r[1] = iso8583.decode(r[3]).get(39, "-")
            except iso8583.Iso8583Error as e:
                r[2] = f"{type(e).__name__}: {e}"
    return results


def _tally(results):
    lat, codes, errors = [], {}, []
    for seconds, code, err, _body in _decoded(results):
        lat.append(seconds)
        if err is not None:
            errors.append(err)
        else:
            codes[code] = codes.get(code, 0) + 1
    return lat, codes, errors


class _Clock:
    """A phase's wall time, the CPU seconds the storm itself, the center and the database
    server (`db_pid`: its root process, whose descendants are its backends) used in it, and
    the load average (1 minute) before and after."""

    def __init__(self, center_pids, db_pid=None):
        self.pids = center_pids
        self.db_pid = db_pid
        self.load = _load()
        self.db = _tree_cpu(db_pid) if db_pid else None  # before the storm's own clock
        self.wall = time.perf_counter()
        self.mine = time.process_time()
        self.theirs = _cpu_of(center_pids) if center_pids else None

    def row(self, name, results):
        elapsed = time.perf_counter() - self.wall
        lat, codes, errors = _tally(results)  # its decoding in the storm's CPU below
        mine = time.process_time() - self.mine
        out = summary(name, lat, codes, len(errors), elapsed)
        n = max(1, len(results))
        out["client_cpu_ms_per_msg"] = round(mine * 1000 / n, 3)
        if self.theirs is not None:
            theirs = _cpu_of(self.pids)
            if theirs is not None:
                out["center_cpu_ms_per_msg"] = round((theirs - self.theirs) * 1000 / n, 3)
        if self.db is not None:
            db = _tree_cpu(self.db_pid)
            if db is not None:
                out["db_cpu_ms_per_msg"] = round((db - self.db) * 1000 / n, 3)
        out["load_before"], out["load_after"] = self.load, _load()
        if errors:
            out["first_errors"] = sorted(set(errors))[:3]
        return out


async def _faulty(host, port, k, term, stop, tally):
    """One faulty connection after another until `stop` is set (kinds in turn)."""
    import random

    rng = random.Random(k)
    i = k
    while not stop.is_set():
        kind = i % len(FAULT_KINDS)
        i += 1
        frame = term.purchase_frame(100) if term.mak is not None else term.sign_in_frame()
        if kind == 0:
            data, wait = frame[: rng.randrange(1, len(frame) - 1)], False
        elif kind == 1:
            data, wait = frame[:2], False
        elif kind == 2:
            data, wait = b"\xff\xff" + bytes(rng.randrange(256) for _ in range(40)), True
        elif kind == 3:
            body = bytearray(frame)
            for _ in range(rng.randrange(1, 6)):
                pos = rng.randrange(2, len(body))
                body[pos] = rng.randrange(256)
            data, wait = bytes(body), True
            try:  # changed into an answer (0210 ...): the center answers no answer
                mti = iso8583.decode(iso8583.unpack_frame(data)[2]).get("mti", "")
                wait = not (len(mti) == 4 and mti.isdigit() and int(mti[2]) % 2 == 1)
            except (iso8583.Iso8583Error, ValueError, KeyError, IndexError):
                pass
        else:
            data, wait = frame, False
        try:
            reader, writer = await asyncio.open_connection(
                host, port, local_addr=(f"127.0.1.{2 + k % 250}", 0))
        except OSError:
            tally["connect_errors"] += 1
            continue
        tally["sent"] += 1
        try:
            writer.write(data)
            await writer.drain()
            if wait:  # the center answers (a decline) or closes: it must not sit on it
                try:
                    await asyncio.wait_for(reader.read(4096), FAULT_WAIT)
                except asyncio.TimeoutError:
                    tally["stalls"] += 1
                    tally.setdefault("stalled", []).append(data.hex())
        except OSError:
            pass
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass
        await asyncio.sleep(FAULT_PAUSE)


async def run_storm(host, port, n, purchases, concurrency, heartbeat=True, center_pids=(),
                    faults=0, db_pid=None):
    terms = [Term(tid, i, card_of(i)) for i, tid in enumerate(tids(n))]
    out = []
    frames = [t.sign_in_frame() for t in terms]
    from posterm.host.server import tune_gc, untune_gc

    gc_before = tune_gc()  # the storm's own collections are not the center's latency
    try:
        return await _phases(host, port, n, purchases, concurrency, heartbeat, center_pids,
                             faults, db_pid, terms, out, frames)
    finally:
        untune_gc(gc_before)


def _bound_sockets(terms):
    """Each terminal's socket, made and bound to its source address before the sign-in's
    clock (no port chosen yet: IP_BIND_ADDRESS_NO_PORT lets connect() pick it, where a
    bind to port 0 searched past every TIME_WAIT port of the address, slower the more
    storms had run in the last minute)."""
    socks = []
    try:
        for t in terms:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(s)
            s.setblocking(False)
            try:
                s.setsockopt(socket.IPPROTO_IP, _BIND_NO_PORT, 1)
            except OSError:
                pass  # not Linux: bind chooses the port
            s.bind((t.source, 0))
    except BaseException:
        for s in socks:
            s.close()
        raise
    return socks


def _burst(host, port, socks, frames, wait=SIGNIN_WAIT):
    """Every terminal connects and sends its frame at once; -> [seconds, None, error, reply
    body] each (as _timed), from the terminal's connect() to the arrival of its whole reply.
    Plain non-blocking sockets and epoll, no coroutine, future or transport a terminal: the
    storm measures the center, and its own CPU per terminal is what the center does not get
    of the two cores.  An arrival is stamped when epoll reports it, before anything is read;
    the replies are checked after the phase (_decoded).  A terminal not answered within
    `wait` seconds of the last event is an error."""
    n = len(socks)
    results = [None] * n
    ep = _Poller()
    clock = time.perf_counter
    started = [0.0] * n
    rest = {}  # fd -> frame bytes still to send
    index = {}
    bufs = {}
    errno_pending = (0, errno.EINPROGRESS, errno.EAGAIN, errno.EALREADY)
    try:
        left = n
        for i, s in enumerate(socks):
            started[i] = clock()
            err = s.connect_ex((host, port))
            fd = s.fileno()
            index[fd] = i
            if err not in errno_pending:
                results[i] = [clock() - started[i], None, f"connect: {os.strerror(err)}", None]
                left -= 1
                continue
            try:
                sent = s.send(frames[i])
            except BlockingIOError:  # still connecting: sent once writable
                sent = 0
            except OSError as e:
                results[i] = [clock() - started[i], None, f"{type(e).__name__}: {e}", None]
                left -= 1
                continue
            if sent < len(frames[i]):
                rest[fd] = frames[i][sent:]
                ep.register(fd, select.POLLOUT)
            else:
                ep.register(fd, select.POLLIN)
        while left:
            events = ep.wait(wait)
            now = clock()
            if not events:
                break
            for fd, ev in events:
                i = index[fd]
                s = socks[i]
                if fd in rest and ev & select.POLLOUT and not ev & select.POLLERR:
                    try:
                        sent = s.send(rest[fd])
                    except BlockingIOError:
                        continue
                    except OSError as e:
                        ep.unregister(fd)
                        results[i] = [now - started[i], None, f"{type(e).__name__}: {e}",
                                      None]
                        left -= 1
                        continue
                    rest[fd] = rest[fd][sent:]
                    if not rest[fd]:
                        del rest[fd]
                        ep.modify(fd, select.POLLIN)
                    continue
                try:
                    data = s.recv(4096)
                except BlockingIOError:
                    continue
                except OSError as e:
                    data, why = None, f"{type(e).__name__}: {e}"
                else:
                    why = "ConnectionError: closed by the center"
                if not data:
                    if ev & select.POLLERR:
                        code = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                        why = f"OSError: {os.strerror(code)}" if code else why
                    ep.unregister(fd)
                    results[i] = [now - started[i], None, why, None]
                    left -= 1
                    continue
                buf = bufs[fd] = bufs.get(fd, b"") + data
                if len(buf) >= 2 and len(buf) >= 2 + int.from_bytes(buf[:2], "big"):
                    ep.unregister(fd)
                    del bufs[fd]
                    results[i] = [now - started[i], None, None, buf]
                    left -= 1
    finally:
        ep.close()
    now = clock()
    for i, r in enumerate(results):
        if r is None:
            results[i] = [now - started[i], None, f"TimeoutError: no answer within {wait:g} s",
                          None]
        elif r[3] is not None:
            frame = r[3]
            size = iso8583.frame_length(frame[:2])
            try:
                r[3] = iso8583.unpack_frame(frame[: 2 + size])[2]
            except iso8583.Iso8583Error as e:
                r[2], r[3] = f"{type(e).__name__}: {e}", None
    return results


class _Poller:
    """epoll where there is one (Linux), else poll(): register / modify / unregister / wait
    (seconds) / close."""

    def __init__(self):
        self.p = select.epoll() if hasattr(select, "epoll") else select.poll()
        self.register, self.modify, self.unregister = (self.p.register, self.p.modify,
                                                       self.p.unregister)
        self.ms = not hasattr(select, "epoll")

    def wait(self, seconds):
        return self.p.poll(seconds * 1000 if self.ms else seconds)

    def close(self):
        if not self.ms:
            self.p.close()


async def _phases(host, port, n, purchases, concurrency, heartbeat, center_pids, faults,
                  db_pid, terms, out, frames):
    socks = _bound_sockets(terms)
    try:
        addr = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)[0][4]
        clock = _Clock(center_pids, db_pid)
        results = _burst(addr[0], addr[1], socks, frames)
        out.append(clock.row("sign-in", results))
        loop = asyncio.get_running_loop()
        for t, s, r in zip(terms, socks, results, strict=True):
            if r[1] == "00":  # its connection, for the phases after (asyncio's)
                t.link = _Link()
                link = t.link
                await loop.create_connection(lambda link=link: link, sock=s)
            else:
                s.close()
    except BaseException:
        for s in socks:
            s.close()
        raise
    ready = [t for t, r in zip(terms, results, strict=True) if r[1] == "00"]
    for t, r in zip(terms, results, strict=True):
        if r[1] == "00":
            t.signed_in(r[3])  # its keys and batch (after the clock: the storm's own work)
    if heartbeat and ready:
        frames = [t.heartbeat_frame() for t in ready]
        clock = _Clock(center_pids, db_pid)
        results = await asyncio.gather(*(_timed(t.send(f))
                                         for t, f in zip(ready, frames, strict=True)))
        out.append(clock.row("heartbeat", results))
    if purchases and ready:
        workers = ready[: max(1, min(concurrency, len(ready)))]
        share = [purchases // len(workers) + (i < purchases % len(workers))
                 for i in range(len(workers))]
        queues = [[t.purchase_frame() for _ in range(k)] for t, k in zip(workers, share,
                                                                       strict=True)]
        results = []

        async def loop(t, queue):
            for frame in queue:
                r = await _timed(t.send(frame))
                results.append(r)
                sent.append((t.tid, frame))

        sent = []

        stop = asyncio.Event()
        tally = {"sent": 0, "stalls": 0, "connect_errors": 0}
        # the faulty connections use a signed-in terminal that buys nothing, else none
        spare = ready[len(workers)] if len(ready) > len(workers) else Term("V0000001", 0)
        vandals = [asyncio.ensure_future(_faulty(host, port, k, spare, stop, tally))
                   for k in range(faults)]
        clock = _Clock(center_pids, db_pid)
        await asyncio.gather(*(loop(t, q) for t, q in zip(workers, queues, strict=True)))
        row = clock.row("purchase", results)
        others = [{"tid": tid, "code": r[1], "trace": iso8583.decode(frame[13:])[11]}
                  for r, (tid, frame) in zip(results, sent, strict=True)
                  if r[1] not in ("00", None)][:5]
        stop.set()
        await asyncio.gather(*vandals)
        row["concurrency"] = len(workers)
        if faults:
            row["faulty_connections"] = tally["sent"]
            row["fault_stalls"] = tally["stalls"]
            if tally.get("stalled"):
                row["first_stalled"] = tally["stalled"][:3]
            # the center still signs a terminal in after all that
            probe = Term(spare.tid, 0)
            try:
                await probe.connect(host, port)
                row["signin_after_faults"] = iso8583.decode(
                    await asyncio.wait_for(probe.send(probe.sign_in_frame()), FAULT_WAIT)
                ).get(39)
            except (OSError, asyncio.TimeoutError, ConnectionError) as e:
                row["signin_after_faults"] = f"{type(e).__name__}: {e}"
            finally:
                probe.close()
        if others:
            row["first_others"] = others  # which terminal and trace, to look up in the log
        out.append(row)
    for t in terms:
        t.close()
    return out


def start_center(db_path, extra=(), port=0, log_path=None):
    """`posterm host` in a process of its own on loopback (a free port unless `port`) ->
    (proc, (host, port)).  Its log goes to `log_path` (default: nowhere)."""
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "posterm.cli", "host", "--db", db_path, "--listen",
             f"127.0.0.1:{port}", *extra],
            stdout=subprocess.PIPE, stderr=log, text=True)
    finally:
        if log_path:
            log.close()
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise RuntimeError(f"the center did not start: {line.strip() or 'no output'}")
    addr = line.split("listening on", 1)[1].split(",", 1)[0].strip()
    host, _, port = addr.rpartition(":")
    return proc, (host, int(port))


def start_centers(db_path, workers=1, log_path=None):
    """`workers` center processes on one loopback address (SO_REUSEPORT when more than one)
    -> ([procs], (host, port))."""
    extra = ("--reuse-port",) if workers > 1 else ()
    if not log_path:
        extra += ("--quiet",)  # no log to keep: no line per message to format
    procs = []
    try:
        proc, addr = start_center(db_path, extra, 0, log_path)
        procs.append(proc)
        for _ in range(workers - 1):
            procs.append(start_center(db_path, extra, addr[1], log_path)[0])
    except BaseException:
        _stop(procs)
        raise
    return procs, addr


def _stop(procs):
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def storm(n, purchases=2000, concurrency=32, db_path=None, connect=None, heartbeat=True,
          workers=1, log_path=None, faults=0, db_pid=None):
    """Provision, start `workers` centers unless `connect` (HOST, PORT) names one, run the
    phases.  Rows per phase; the CPU figures of the center only when the storm started it,
    of the database server when `db_pid` names its root process (a private server's)."""
    tmp = None
    if db_path is None:
        tmp = tempfile.TemporaryDirectory(prefix="posterm-storm-")
        db_path = os.path.join(tmp.name, "host.db")
    provision(db_path, n, purchases)
    procs = []
    try:
        if connect is None:
            procs, connect = start_centers(db_path, workers, log_path)
        from posterm.host.server import loop_factory

        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            rows = runner.run(run_storm(connect[0], connect[1], n, purchases, concurrency,
                                        heartbeat, [p.pid for p in procs], faults,
                                        db_pid))
        for proc in procs:  # a center that died in the storm is an error of the storm
            if proc.poll() is not None:
                raise RuntimeError(f"a center process exited during the storm "
                                   f"(code {proc.returncode})")
        return rows
    finally:
        _stop(procs)
        if tmp is not None:
            tmp.cleanup()


# -- `posterm host storm` ---------------------------------------------------------------------
def configure(p):
    """The storm's options on the `posterm host storm` parser."""
    p.add_argument("--terminals", type=int, default=100, metavar="N",
                   help="terminals signing in at once (default 100)")
    p.add_argument("--purchases", type=int, default=2000, metavar="N",
                   help="purchases in all after the sign-ins (default 2000; 0: none)")
    p.add_argument("--concurrency", type=int, default=32, metavar="N",
                   help="terminals sending purchases back to back (default 32)")
    p.add_argument("--connect", metavar="HOST:PORT", default=None,
                   help="a center already running on this database (default: start one; "
                   "without --db/--data on a scratch database)")
    p.add_argument("--no-heartbeat", dest="heartbeat", action="store_false",
                   help="skip the status-upload phase")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="center processes to start on one address (SO_REUSEPORT; default 1)")
    p.add_argument("--faults", type=int, default=0, metavar="N",
                   help="N faulty connections at a time during the purchases: frames cut "
                   "off mid-frame, bad lengths, bytes changed, closed before the answer "
                   "(default 0)")
    p.add_argument("--center-log", metavar="FILE", default=None,
                   help="append the started centers' log (a line per message) to FILE")
    p.add_argument("--format", choices=("table", "json"), default="table")


def run_cli(args, out):
    from posterm.host.errors import ValidationError

    for what, v, lo in (("--terminals", args.terminals, 1), ("--purchases", args.purchases, 0),
                        ("--concurrency", args.concurrency, 1), ("--workers", args.workers, 1),
                        ("--faults", args.faults, 0)):
        if v < lo:
            raise ValidationError(what, f"must be at least {lo}")
    if args.terminals > PER_SOURCE * 250:
        raise ValidationError("--terminals", f"at most {PER_SOURCE * 250}")
    connect = None
    if args.connect:
        host, sep, port = args.connect.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValidationError("--connect", f"expected HOST:PORT, got {args.connect!r}")
        connect = (host, int(port))
    db = None
    if getattr(args, "db", None) or getattr(args, "data", None):
        from posterm.host.cli import db_path

        db = db_path(args)
    elif connect is not None:
        raise ValidationError("--connect", "give the center's --db or --data too (the storm "
                              "provisions its terminals there)")
    try:
        rows = storm(args.terminals, args.purchases, args.concurrency, db, connect,
                     args.heartbeat, args.workers, args.center_log, args.faults)
    except (OSError, RuntimeError) as e:
        from posterm.host.errors import HostError

        raise HostError(f"storm: {e}") from None
    if args.format == "json":
        import json

        print(json.dumps(rows, indent=1), file=out)
        return 0 if _clean(rows) else 1
    from posterm.center import export

    for r in rows:
        r["other"] = ",".join(f"{k}:{v}" for k, v in r["other"].items()) or "-"
    for r in rows:
        r.setdefault("center_cpu_ms_per_msg", "-")
        r["load"] = f"{r['load_before']} -> {r['load_after']}"
    cols = ["phase", "ok", "other", "errors", "p50_ms", "p99_ms", "max_ms", "seconds",
            "per_second", "client_cpu_ms_per_msg", "center_cpu_ms_per_msg"]
    if any("db_cpu_ms_per_msg" in r for r in rows):
        cols.append("db_cpu_ms_per_msg")
    print(export.table(rows, cols + ["load"]), file=out)
    for r in rows:
        for key in ("first_errors", "first_others"):
            if r.get(key):
                print(f"{r['phase']} {key.replace('_', ' ')}: {r[key]}", file=out)
        if "faulty_connections" in r:
            print(f"{r['phase']}: {r['faulty_connections']} faulty connection(s) meanwhile, "
                  f"{r['fault_stalls']} left hanging by the center; a sign-in after them: "
                  f"{r['signin_after_faults']}", file=out)
    return 0 if _clean(rows) else 1


def _clean(rows):
    """No errors, and the faulty connections (if any) neither hung nor stopped the center."""
    return all(r["errors"] == 0 and not r.get("fault_stalls")
               and r.get("signin_after_faults", "00") == "00" for r in rows)
