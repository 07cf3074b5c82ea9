"""The host on the wire: an asyncio TCP server speaking LEN + TPDU + header + ISO 8583 body.

One connection may carry several request/reply pairs; malformed input closes only that
connection (one log line with peer, field, offset, reason).  Faults armed in the store
(timeout, respond CODE, badmac, drop, delay SECONDS) are applied per terminal here.
"""

import asyncio
import logging
import re
import threading
import time
from datetime import datetime

from pos import iso8583

from posterm.host.processor import Processor
from posterm.host.store import Store

log = logging.getLogger("posterm.host")

REPLY_HEADER = bytes.fromhex("603100000000")
MAX_BODY = 2048  # the largest CUP POS message is far below this
READ_TIMEOUT = 30.0  # seconds to wait for a frame (or the rest of one)
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


class Host:
    """Host(db_path, now=None): `now` returns the host clock's datetime (default now)."""

    def __init__(self, db_path, now=None, read_timeout=READ_TIMEOUT):
        self.db_path = db_path
        self.now = now or datetime.now
        self.read_timeout = read_timeout
        self.store = None
        self.processor = None
        self._server = None
        self._tasks = set()

    async def start(self, host="127.0.0.1", port=0):
        self.store = Store(self.db_path)
        self.processor = Processor(self.store, self.now)
        self._server = await asyncio.start_server(self._client, host, port)
        self.address = self._server.sockets[0].getsockname()[:2]
        return self.address

    async def stop(self):
        if self._server is not None:
            self._server.close()
            await asyncio.sleep(0)  # let just-accepted connections register their task
            while self._tasks:
                for task in list(self._tasks):
                    task.cancel()
                await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None
        if self.store is not None:
            self.store.close()
            self.store = None

    async def _client(self, reader, writer):
        peer = "{}:{}".format(*writer.get_extra_info("peername")[:2])
        task = asyncio.current_task()
        self._tasks.add(task)
        try:
            while await self._exchange(reader, writer, peer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # the host is stopping; ending normally keeps asyncio's stream callback quiet
        except TimeoutError:
            log.info("%s closed: no request within %gs", peer, self.read_timeout)
        except iso8583.Iso8583Error as e:
            log.warning(
                "%s malformed: field=%s offset=%s reason=%s", peer, e.field, e.offset, e.reason
            )
        except Exception as e:  # noqa: BLE001 - one bad message must never take the host down
            log.error("%s internal error, connection closed: %s: %s", peer, type(e).__name__, e)
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _exchange(self, reader, writer, peer):
        """Serve one request; False when the connection should close."""
        try:
            prefix = await asyncio.wait_for(reader.readexactly(2), self.read_timeout)
        except asyncio.IncompleteReadError as e:
            if e.partial:
                raise iso8583.Iso8583Error("len", 0, "connection closed inside the length")
            return False
        n = iso8583.frame_length(prefix)
        if n < 11 or n > MAX_BODY:
            raise iso8583.Iso8583Error("len", 0, f"frame length {n} out of range 11..{MAX_BODY}")
        try:
            rest = await asyncio.wait_for(reader.readexactly(n), self.read_timeout)
        except asyncio.IncompleteReadError as e:
            raise iso8583.Iso8583Error(
                "len",
                2 + len(e.partial),
                f"truncated: length says {n}, got {len(e.partial)}",
            ) from None
        started = time.monotonic()
        tpdu, _header, body = iso8583.unpack_frame(prefix + rest)
        req = iso8583.decode(body)
        rep, keep = await self._answer(req)
        log.info("%s %s", peer, _summary(req, rep, started))
        if rep is not None:
            frame = iso8583.pack_frame(iso8583.swap_tpdu(tpdu), REPLY_HEADER, iso8583.encode(rep))
            writer.write(frame)
            await writer.drain()
        return keep

    async def _answer(self, req):
        """(reply or None, keep the connection) after applying any armed fault."""
        tid = req.get(41)
        fault = self.store.get_fault(tid) if tid else None
        kind = fault["kind"] if fault else None
        if kind == "respond":
            self.store.use_fault(tid)
            return self.processor.answer(req, fault["arg"]), True
        if kind in ("timeout", "drop"):
            self.store.use_fault(tid)
            if req["mti"] in _FINANCIAL_MTIS:  # processed, the reply lost on the way back
                self.processor.handle(req)
            log.info("fault %s for %s: no reply to %s", kind, tid, req["mti"])
            return None, kind == "timeout"
        if kind == "delay":
            self.store.use_fault(tid)
            await asyncio.sleep(float(fault["arg"]))
        rep = self.processor.handle(req)
        if kind == "badmac" and 64 in rep:
            self.store.use_fault(tid)
            rep[64] = _corrupt(rep[64])
        return rep, True


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

    def stop(self):
        if self._thread is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
        self._thread = None


def start_in_thread(db_path, menu_path=None, host="127.0.0.1", port=0, now=None):
    """Start the embedded host: provisions the default terminal, cards and menu on a fresh
    database, serves in a daemon thread, returns a HostThread (.address, .stop()).
    The embedded center follows the shipped menu: when menus/menu.json changed since it was
    last published, it becomes the center's next version (terminals get it at sign-in)."""
    store = Store(db_path)
    try:
        if store.fresh:
            store.provision_defaults(menu_path)
        elif menu_path is not None:
            store.sync_menu(menu_path)
    finally:
        store.close()
    return HostThread(Host(db_path, now=now)).start(host, port)


__all__ = ["Host", "HostThread", "mask_pans", "start_in_thread"]
