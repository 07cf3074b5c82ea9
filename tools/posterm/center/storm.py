"""`posterm host storm`: N simulated terminals against a running center over loopback.

1. sign-in: all N terminals connect and send their 0800 at once (one connection each, kept);
2. heartbeat: each sends one status upload 0820 / 362;
3. purchases: `concurrency` of them send purchases back to back (closed loop, MAC'd, no PIN)
   until `purchases` have been answered.
Each phase reports how many got 00, any other answer or error, and the latency p50 / p99 /
max; the purchase phase also its rate.  The terminals are provisioned into the center's
database first (TIDs S0000001.., the test TMK, one card with room for every purchase).
Connections come from several loopback addresses (127.0.0.2, .3, ...), at most 200 a
source, as terminals behind different networks do (the center caps connections per peer).
"""

import asyncio
import os
import subprocess
import sys
import tempfile
import time

from pos import des, iso8583, mac

TPDU = bytes.fromhex("6000030000")
HEADER = bytes.fromhex("603100000000")
TMK = bytes.fromhex("11111111111111112222222222222222")
MID = "898310048990001"
CARD = "6212140000000000014"
PER_SOURCE = 200


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


def provision(db_path, n, purchases):
    """Terminals S0000001.. and the storm card, into the center's database."""
    from posterm.host.store import Store

    store = Store(db_path)
    try:
        if store.fresh:
            from posterm import paths

            store.provision_defaults(paths.menu_file())
        for tid in tids(n):
            if store.get_terminal(tid) is None:
                store.add_terminal(tid, MID, TMK.hex().upper())
        need = 100 * (purchases + 1) * 10
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


class Term:
    def __init__(self, tid, index):
        self.tid = tid
        self.source = f"127.0.0.{2 + index // PER_SOURCE}"
        self.trace = 0
        self.batch = "000001"
        self.mak = None
        self.reader = self.writer = None

    def next_trace(self):
        self.trace = self.trace % 999999 + 1
        return f"{self.trace:06d}"

    async def connect(self, host, port):
        self.reader, self.writer = await asyncio.open_connection(
            host, port, local_addr=(self.source, 0))

    async def exchange(self, msg):
        self.writer.write(iso8583.pack_frame(TPDU, HEADER, iso8583.encode(msg)))
        prefix = await self.reader.readexactly(2)
        rest = await self.reader.readexactly(iso8583.frame_length(prefix))
        _, _, body = iso8583.unpack_frame(prefix + rest)
        return iso8583.decode(body)

    def close(self):
        if self.writer is not None:
            self.writer.close()

    async def sign_in(self):
        rep = await self.exchange({"mti": "0800", 11: self.next_trace(), 41: self.tid,
                                   42: MID, 60: "00" + self.batch + "003", 63: "01 "})
        if rep.get(39) == "00":
            f62 = rep[62]
            self.mak = des.decrypt(TMK, f62[20:28])
            self.batch = rep[60][2:8]
        return rep

    async def heartbeat(self):
        return await self.exchange({
            "mti": "0820", 11: self.next_trace(), 41: self.tid, 42: MID,
            60: "00" + self.batch + "362", 62: b"ver=storm;paper=ok;n=0;amt=0;op=01"})

    async def purchase(self, amount=100):
        msg = {"mti": "0200", 2: CARD, 3: "000000", 4: f"{amount:012d}",
               11: self.next_trace(), 22: "022", 25: "00", 41: self.tid, 42: MID, 49: "156",
               60: "22" + self.batch + "000", 64: bytes(8)}
        msg[64] = mac.compute("ecb", self.mak, iso8583.mab(msg))
        return await self.exchange(msg)


async def _timed(coro):
    started = time.perf_counter()
    try:
        rep = await coro
        return time.perf_counter() - started, rep.get(39, "-"), None
    except (OSError, asyncio.IncompleteReadError, iso8583.Iso8583Error) as e:
        return time.perf_counter() - started, None, f"{type(e).__name__}: {e}"


def _tally(results):
    lat, codes, errors = [], {}, []
    for seconds, code, err in results:
        lat.append(seconds)
        if err is not None:
            errors.append(err)
        else:
            codes[code] = codes.get(code, 0) + 1
    return lat, codes, errors


async def run_storm(host, port, n, purchases, concurrency, heartbeat=True):
    terms = [Term(tid, i) for i, tid in enumerate(tids(n))]
    out = []

    async def connect_and_sign_in(t):
        await t.connect(host, port)
        return await t.sign_in()

    started = time.perf_counter()
    results = await asyncio.gather(*(_timed(connect_and_sign_in(t)) for t in terms))
    lat, codes, errors = _tally(results)
    out.append(summary("sign-in", lat, codes, len(errors), time.perf_counter() - started))
    ready = [t for t, r in zip(terms, results, strict=True) if r[1] == "00"]
    if heartbeat and ready:
        started = time.perf_counter()
        lat, codes, errors = _tally(await asyncio.gather(*(_timed(t.heartbeat())
                                                           for t in ready)))
        out.append(summary("heartbeat", lat, codes, len(errors),
                           time.perf_counter() - started))
    if purchases and ready:
        workers = ready[: max(1, min(concurrency, len(ready)))]
        left = [purchases]
        results = []

        async def loop(t):
            while left[0] > 0:
                left[0] -= 1
                results.append(await _timed(t.purchase()))

        started = time.perf_counter()
        await asyncio.gather(*(loop(t) for t in workers))
        elapsed = time.perf_counter() - started
        lat, codes, errors = _tally(results)
        row = summary("purchase", lat, codes, len(errors), elapsed)
        row["concurrency"] = len(workers)
        out.append(row)
    for t in terms:
        t.close()
    return out


def start_center(db_path, extra=()):
    """`posterm host` in a process of its own on a free loopback port -> (proc, (host, port))."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "posterm.cli", "host", "--db", db_path, "--listen",
         "127.0.0.1:0", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise RuntimeError(f"the center did not start: {line.strip() or 'no output'}")
    addr = line.split("listening on", 1)[1].split(",", 1)[0].strip()
    host, _, port = addr.rpartition(":")
    return proc, (host, int(port))


def storm(n, purchases=2000, concurrency=32, db_path=None, connect=None, heartbeat=True):
    """Provision, start a center unless `connect` (HOST, PORT) names one, run the phases."""
    tmp = None
    if db_path is None:
        tmp = tempfile.TemporaryDirectory(prefix="posterm-storm-")
        db_path = os.path.join(tmp.name, "host.db")
    provision(db_path, n, purchases)
    proc = None
    try:
        if connect is None:
            proc, connect = start_center(db_path)
        return asyncio.run(run_storm(connect[0], connect[1], n, purchases, concurrency,
                                     heartbeat))
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
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
    p.add_argument("--format", choices=("table", "json"), default="table")


def run_cli(args, out):
    from posterm.host.errors import ValidationError

    for what, v, lo in (("--terminals", args.terminals, 1), ("--purchases", args.purchases, 0),
                        ("--concurrency", args.concurrency, 1)):
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
                     args.heartbeat)
    except (OSError, RuntimeError) as e:
        from posterm.host.errors import HostError

        raise HostError(f"storm: {e}") from None
    if args.format == "json":
        import json

        print(json.dumps(rows, indent=1), file=out)
        return 0 if all(r["errors"] == 0 for r in rows) else 1
    from posterm.center import export

    for r in rows:
        r["other"] = ",".join(f"{k}:{v}" for k, v in r["other"].items()) or "-"
    print(export.table(rows, ["phase", "ok", "other", "errors", "p50_ms", "p99_ms", "max_ms",
                              "seconds", "per_second"]), file=out)
    return 0 if all(r["errors"] == 0 for r in rows) else 1
