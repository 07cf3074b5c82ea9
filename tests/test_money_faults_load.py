"""Money under faults under load (issue 14 item 6's area, at scale): several terminals (the
CPython core, one thread each) transact against the bundled center at once through a proxy
that breaks the line as real lines break (tests/faultproxy.py, frames by hand with
tests/realhost.py's codec): the answer lost after the center booked the sale, the request
lost before it, an answer after the terminal's timeout, twice, with a bad MAC, another MTI,
trace or amount, cut short; then the center restarted in the middle of the settlements and
batch uploads. After the day, for every terminal: no approved sale lost or reversed, a
reversal exactly for each sale whose answer was not believed (98 / A0 / 96 first, 06 on a
retry), nothing sent twice beyond the reversal's retries, the terminal's and the center's
books agree (对账平), or the terminal says 对账不平 and uploads its batch; no traceback, no
half-written file."""

import datetime
import os
import threading

import pytest

from pos.keys import parse_token
from posterm import paths
from posterm.driver import Driver
from posterm.host.server import start_in_thread
from posterm.host.store import DEFAULT_MID, DEFAULT_TMK, Store

import faultproxy
import realhost

pytestmark = pytest.mark.filterwarnings(
    "ignore::cryptography.utils.CryptographyDeprecationWarning"
)

DATE = (2026, 11, 23, 9, 0, 0)
CARD = "6212142000000000012"


class Center:
    """The bundled center on a database of its own; restart() stops it and starts it again
    on the same database (a process that died and came back)."""

    def __init__(self, db):
        self.db = db
        now = datetime.datetime(*DATE)
        self._now = lambda: now
        self.thread = start_in_thread(db, paths.menu_file(), now=self._now)
        self.restarts = 0

    @property
    def address(self):
        return tuple(self.thread.address)

    def restart(self):
        self.thread.stop()
        self.thread = start_in_thread(self.db, paths.menu_file(), now=self._now)
        self.restarts += 1
        return self.address

    def store(self):
        return Store(self.db)

    def stop(self):
        self.thread.stop()


class Term:
    def __init__(self, data_dir, tid, proxy):
        self.tid = tid
        self.d = Driver(str(data_dir), host=proxy.hostport, date=DATE)
        self.frames = []
        self.d.frame_listeners.append(lambda f: self.frames.append(f.text()))
        self.t = self.d.terminal
        self.t.state.params["tid"] = tid
        self.t.state.params["timeout"] = 1  # a late answer costs a second, not 30
        self.d.start()

    def press(self, *tokens):
        for tok in tokens:
            for ev in parse_token(tok):
                self.d.feed(ev)
        return self

    def screen(self):
        return "".join(r.strip() for r in self.frames[-1]) if self.frames else ""

    def seen(self, text, since=0):
        return any(text in "".join(r.strip() for r in f) for f in self.frames[since:])

    def idle(self):
        for _ in range(8):
            if "欢迎使用" in self.screen():
                return self
            self.press("CANCEL")
        raise AssertionError("not back at idle: " + self.screen())

    def sign_in(self):
        return self.press("MENU", "1", "1", "ENTER").idle()

    def buy(self, amount):
        self.press("MENU", "1", "2", amount, "ENTER", "CARD=" + CARD, "123456", "ENTER")
        return self.idle()

    def purchases(self):
        return sorted(e["amount"] for e in self.t.journal.entries() if e["type"] == "purchase")

    def close(self):
        self.d.close()


# the faults of each terminal's sales (its nth 0200 through the proxy) and what the first
# reversal of each must say (reference §6.2): 98 nothing came back in time, A0 the MAC
# failed, 96 an answer came that the terminal could not use
PLANS = {
    "30000001": {2: "lost", 4: "late"},
    "30000002": {2: "twice", 3: "badmac", 4: "restart", 5: "amount"},
    "30000003": {2: "mti", 3: "trace", 4: "truncated"},
    "30000004": {2: "lost", 4: "down"},  # its first reversal lost too, and given up
}
REASON = {"lost": "98", "down": "98", "late": "98", "truncated": "98", "restart": "98",
          "twice": "98",  # (a "twice" answer not believed: it came too late, or never)
          "badmac": "A0",
          "mti": "96", "trace": "96", "amount": "96"}  # fmt: skip
SALES = 5


def _day(term, amounts, ready, done, errors):
    try:
        term.sign_in()
        for amount in amounts:
            term.buy(amount)
            if not term.t.signed_in_today():  # a MAC that failed: new working keys first
                term.sign_in()
        entries = term.t.journal.entries()
        done.append((term.tid, term.purchases(),
                     [(e["amount"], e["trace"]) for e in entries if e["type"] != "purchase"],
                     [e["trace"] for e in entries if e["type"] == "purchase"]))  # fmt: skip
        ready.wait(60)
        for _ in range(5):  # the cashier tries again while the center is not back
            term.press("MENU", "1", "7")
            if term.seen("确认结算", len(term.frames) - 1):
                term.press("ENTER")
            term.idle()
            if not term.t.state.extra.get("settle"):
                break
    except BaseException as e:  # noqa: BLE001 - re-raised in the test's thread
        errors.append((term.tid, e))
        ready.abort()


def _approved(store, tid):
    return sorted(
        r["amount_fen"] for r in store.list_transactions(tid)
        if r["type"] == "purchase" and r["status"] == "approved"
    )  # fmt: skip


def _check_terminal(tid, plan, term, kept, proxy, store, strict=True):
    # what the wire saw against what both ends kept. A sale's answer may also be lost by
    # chance (the center restarted while it was in flight, a terminal timed out on a loaded
    # machine): then it is reversed like a lost one (98)
    amounts, given_up, traces = kept
    seen = [e for e in proxy.seen if e[0] == tid]
    fields = [realhost.parse(e[2][13:])[1] for e in seen]
    sales = [(e, f) for e, f in zip(seen, fields, strict=True) if e[1] == "0200"]
    revs = [f for e, f in zip(seen, fields, strict=True) if e[1] == "0400"]
    for n, (e, f) in enumerate(sales, 1):
        fault = plan.get(n)
        assert e[3] == fault
        if f[11] in traces:
            assert fault in (None, "twice"), (tid, n, fault, "a faulted answer believed")
            assert not [r for r in revs if r[11] == f[11]], (tid, n, "a kept sale reversed")
            continue
        mine = [r[39].decode() for r in revs if r[11] == f[11]]
        # the fault's reason when its answer reached the terminal in time; 98 when none
        # did (a restart took it, or the terminal's 1 s ran out on a loaded machine)
        took = e[6]
        allowed = {REASON[fault or "lost"]}
        if took is None or took > 1.2:
            allowed = {"98"}
        elif took > 0.8:
            allowed.add("98")
        assert mine and mine[0] in allowed, (tid, n, fault, took, mine)
        assert set(mine[1:]) <= {"06"}, (tid, n, mine)
    assert {r[11] for r in revs} <= {f[11] for _, f in sales}
    # (strict: every sale keyed was sent; a soak's lost reversals may hold one back)
    assert not strict or len(sales) >= max(plan, default=0), (tid, "every planned sale went")
    planned = [n for n, fault in plan.items() if fault != "twice" and n <= len(sales)]
    assert all(sales[n - 1][1][11] not in traces for n in planned)
    frames = [e[2] for e in seen]
    retries = [e[2] for e, f in zip(seen, fields, strict=True)
               if e[1] == "0400" and f[39] == b"06"]  # fmt: skip
    twice = [x for x in set(frames) if frames.count(x) > 1 and x not in retries]
    assert not twice, (tid, "a message sent twice")
    assert term.t.state.reversal() is None
    assert not term.t.state.extra.get("settle"), (tid, "settlement ended")
    # the money: what the center holds approved is what the terminal kept, plus each sale
    # whose reversal was given up (kept as unconfirmed: settled by hand) that reached the
    # center while none of its reversals did: surely when the center answered the sale and
    # saw no 0400 of it, maybe when the center died with one of them in hand
    center_has = _approved(store, tid)
    by_trace = {f[11]: e for e, f in sales}

    def reached(entries):  # True / None (maybe) / False
        if any(e[4] for e in entries):
            return True
        return None if any(e[3] != "down" for e in entries) else False

    sure, maybe = [], []
    for a, tr in given_up:
        got = reached([by_trace[tr]])
        undone = reached([e for e, f in zip(seen, fields, strict=True)
                          if e[1] == "0400" and f[11] == tr])  # fmt: skip
        if got and undone is False:
            sure.append(a)
        elif got is not False and undone is not True:
            maybe.append(a)
    extra = list(center_has)
    for a in amounts + sure:
        assert a in extra, (tid, "a sale the center lacks", a, center_has)
        extra.remove(a)
    assert all(extra.count(a) <= maybe.count(a) for a in extra), (tid, center_has, kept)
    extra += sure
    row = store.db.execute(
        "SELECT balanced FROM settlements WHERE tid = ? ORDER BY id DESC", (tid,)
    ).fetchone()
    if extra:
        assert term.seen("对账不平") and row["balanced"] == 0, tid
        ups = store.list_uploads(tid, "000001")
        assert sorted(u["amount_fen"] for u in ups if u["code"] == "201") == amounts
    else:
        assert term.seen("对账平") and row["balanced"] == 1, tid
    if tid == "30000004":
        assert [a for a, _ in given_up] == [int(sales[1][1][4])], "its 2nd sale's reversal lost"
        assert extra, "the center has it"


def test_four_terminals_under_line_faults_and_a_center_restart_keep_every_sale(tmp_path):
    center = Center(str(tmp_path / "host.db"))
    store = center.store()
    for tid in PLANS:
        store.add_terminal(tid, DEFAULT_MID, DEFAULT_TMK)
    store.close()
    proxy = faultproxy.FaultProxy(center.address)
    for tid, plan in PLANS.items():
        for n, fault in plan.items():
            proxy.plan[(tid, "0200", n)] = fault
    proxy.plan[("30000004", "0400", 1)] = "down"
    # the center dies with an answer in hand: at a sale (30000002's 4th), at the first
    # settlement it gets (whoever's), and in the middle of the batch upload of the
    # terminal whose books differ; whatever else was in flight then is lost with it
    proxy.restart = center.restart
    proxy.restart_on.append(("0500", 1, center.restart))
    proxy.plan[("30000004", "0320", 1)] = "restart"
    terms = []
    threads = []
    ready = threading.Barrier(len(PLANS))
    done, errors = [], []
    try:
        for i, tid in enumerate(PLANS):
            term = Term(tmp_path / tid, tid, proxy)
            if tid == "30000004":
                term.t.state.params["retries"] = 1
            terms.append(term)
            amounts = ["%d%d00" % (i + 1, j + 1) for j in range(SALES)]
            threads.append(threading.Thread(
                target=_day, args=(term, amounts, ready, done, errors), daemon=True
            ))  # fmt: skip
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        assert not errors, errors
        assert not [th for th in threads if th.is_alive()], "a terminal hung"
        assert not proxy.problems, proxy.problems
        assert center.restarts == 3
        kept = {d[0]: d[1:] for d in done}
        store = center.store()
        try:
            for i, (tid, plan) in enumerate(PLANS.items()):
                _check_terminal(tid, plan, terms[i], kept[tid], proxy, store)
        finally:
            store.close()
        for term in terms:
            left = [n for n in os.listdir(term.t.storage.root) if n.endswith(".tmp")]
            assert not left, "a half-written file"
    finally:
        for term in terms:
            term.close()
        proxy.close()
        center.stop()
