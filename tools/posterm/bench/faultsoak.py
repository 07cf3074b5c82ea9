"""A longer soak of the money path under line faults (the cheap version is a test:
tests/test_money_faults_load.py): N CPython terminals at once against the bundled center
through tests/faultproxy.py, each sale's answer faulted at random (lost after booking, lost
before, late, twice, a bad MAC, another MTI / trace / amount, cut short), some reversals
lost too, the center restarted now and then; then every terminal settles. Each terminal's
day is checked as the test checks it (what the wire saw against what both ends kept) and
the figures printed:

    python -m posterm.bench.faultsoak [--terminals 8] [--sales 20] [--rate 0.3] [--seed 1]

Exit status 1 when any terminal's day breaks a rule (each one printed), 2 when the repo's
tests/ (the proxy and the real-host double's codec) cannot be found.
"""

import argparse
import os
import pathlib
import random
import sys
import tempfile
import threading
import time

LINE = ("lost", "down", "late", "twice", "badmac", "mti", "trace", "amount", "truncated")


def _harness():
    tests = pathlib.Path(__file__).resolve().parents[3] / "tests"
    if not (tests / "faultproxy.py").exists():
        return None
    sys.path.insert(0, str(tests))
    import test_money_faults_load as harness

    return harness


def soak(terminals=8, sales=20, rate=0.3, seed=1, out=sys.stdout):
    h = _harness()
    if h is None:
        print("faultsoak: needs the repository's tests/ (faultproxy.py, realhost.py)", file=out)
        return 2
    import faultproxy
    import realhost
    from posterm.host.store import DEFAULT_MID, DEFAULT_TMK

    rnd = random.Random(seed)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="faultsoak-"))
    center = h.Center(str(tmp / "host.db"))
    tids = ["%08d" % (50000001 + i) for i in range(terminals)]
    store = center.store()
    for tid in tids:
        store.add_terminal(tid, DEFAULT_MID, DEFAULT_TMK)
    store.close()
    proxy = faultproxy.FaultProxy(center.address)
    proxy.restart = center.restart
    plans = {}
    for tid in tids:
        plans[tid] = {n: rnd.choice(LINE) for n in range(2, sales + 1) if rnd.random() < rate}
        for n, fault in plans[tid].items():
            proxy.plan[(tid, "0200", n)] = fault
        for n in range(1, sales):
            if rnd.random() < rate / 3:
                proxy.plan[(tid, "0400", n)] = rnd.choice(("lost", "down"))
    for _ in range(sales * terminals // 40):
        proxy.restart_on.append(("0200", rnd.randrange(1, sales * terminals), center.restart))
    proxy.restart_on.append(("0500", rnd.randrange(1, terminals + 1), center.restart))
    terms, threads, done, errors = [], [], [], []
    ready = threading.Barrier(terminals)
    started = time.monotonic()
    try:
        for i, tid in enumerate(tids):
            term = h.Term(tmp / tid, tid, proxy)
            terms.append(term)
            amounts = [str(100 + i * sales + j) for j in range(sales)]
            threads.append(threading.Thread(target=h._day, daemon=True,
                                            args=(term, amounts, ready, done, errors)))
        for th in threads:
            th.start()
        for th in threads:
            th.join(600)
        took = time.monotonic() - started
        broken = [f"{tid}: {e!r}" for tid, e in errors]
        broken += [f"{terms[i].tid}: hung" for i, th in enumerate(threads) if th.is_alive()]
        broken += proxy.problems
        kept = {d[0]: d[1:] for d in done}
        store = center.store()
        try:
            for i, tid in enumerate(tids):
                if tid not in kept:
                    continue
                try:
                    h._check_terminal(tid, plans[tid], terms[i], kept[tid], proxy, store, False)
                except AssertionError as e:
                    broken.append(f"{tid}: {e}")
        finally:
            store.close()
        fields = [(e, realhost.parse(e[2][13:])[1]) for e in proxy.seen]
        revs = [f for e, f in fields if e[1] == "0400"]
        reasons = {}
        for f in revs:
            r = f[39].decode()
            reasons[r] = reasons.get(r, 0) + 1
        sent = sum(1 for e, _ in fields if e[1] == "0200")
        faults = sum(len(p) for p in plans.values())
        print(f"terminals {terminals}, sales keyed {terminals * sales}, 0200 sent {sent}, "
              f"answers faulted {faults}, center restarts {center.restarts}", file=out)
        print("kept by the terminals %d, reversals sent %d (%s), given up %d" % (
            sum(len(k[0]) for k in kept.values()), len(revs),
            ", ".join(f"{r} x{n}" for r, n in sorted(reasons.items())),
            sum(len(k[1]) for k in kept.values())), file=out)  # fmt: skip
        unbalanced = sum(1 for t in terms if t.seen("对账不平"))
        print(f"settlements: {terminals - unbalanced} 对账平, {unbalanced} 对账不平", file=out)
        print(f"wall time {took:.1f} s at load {os.getloadavg()[0]:.1f}", file=out)
        print(f"rules broken: {len(broken)}", file=out)
        for b in broken:
            print("  " + b, file=out)
        return 1 if broken else 0
    finally:
        for term in terms:
            term.close()
        proxy.close()
        center.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m posterm.bench.faultsoak", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--terminals", type=int, default=8)
    ap.add_argument("--sales", type=int, default=20)
    ap.add_argument("--rate", type=float, default=0.3, help="share of sales faulted (0.3)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    return soak(a.terminals, a.sales, a.rate, a.seed)


if __name__ == "__main__":
    sys.exit(main())
