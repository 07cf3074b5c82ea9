"""A scripted month of traffic written straight into the center's database (demo data and
the tests' ground truth): a few hundred terminals of merchants in several regions, with
planted problems the views must find, and nothing else they could mistake for one.

Planted (all of it listed in the returned Plan):
- idle terminals: some with no sign-in and no sale for 10+ days, some that sign in every
  day but sell nothing for 10+ days;
- abnormal days in the last week: one far above the terminal's baseline ('volume'), one of
  round amounts ('round'), one card used many times on one terminal ('card'), trading at
  2 am ('night');
- 跳码: a few cards each used in one region and then, minutes later, in another; decoys that
  must NOT be hits (a card in two regions hours apart, a card at two merchants of one region
  minutes apart);
- one terminal sending a merchant number other than the one it is bound to.

Normal traffic stays within bounds that none of the rules fire on: 08:00-21:59, amounts that
are never round, daily counts within 1.5x the terminal's own rate, each card in one region,
at most two sales a day.
"""

import random
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from posterm.center import db as cdb

PASSWORD = "posterm16"
AREAS = ("1000", "2900", "5810", "5840", "3310", "6510", "7910", "4910")


@dataclass
class Plan:
    month: str
    first: date
    last: date
    terminals: int = 0
    transactions: int = 0
    tids: list = field(default_factory=list)
    mid_of: dict = field(default_factory=dict)
    idle: set = field(default_factory=set)  # no sign-in, no sale
    idle_tx: set = field(default_factory=set)  # signs in, no sale
    abnormal: set = field(default_factory=set)  # (tid, day iso, pattern)
    jumps: set = field(default_factory=set)  # (pan, (id a, id b))
    foreign_tid: str = ""
    foreign_mid: str = ""
    managers: dict = field(default_factory=dict)  # user -> [mids]


def _month(text):
    if text is None:
        t = date.today().replace(day=1) - timedelta(days=1)
        return t.year, t.month
    try:
        d = datetime.strptime(text, "%Y-%m")
    except ValueError:
        from posterm.host.errors import ValidationError

        raise ValidationError("--month", f"expected YYYY-MM, got {text!r}") from None
    return d.year, d.month


def _amount(rng, lo=500, hi=300000):
    while True:
        fen = rng.randint(lo, hi)
        if fen % 100:
            return fen  # never a whole yuan, so never round


def generate(center, n_terminals, month=None, seed=16):
    from posterm.host.errors import ValidationError

    if n_terminals < 40:
        raise ValidationError("--terminals", "at least 40 (the planted cases need them)")
    rng = random.Random(seed)
    year, mon = _month(month)
    if center.db.execute("SELECT 1 FROM terminals WHERE tid = '80000000'").fetchone():
        raise ValidationError("generate", f"{center.path} already has a generated month: "
                              "generate into a new database")
    first = date(year, mon, 1)
    last = date(year, mon, monthrange(year, mon)[1])
    plan = Plan(month=f"{year}-{mon:02d}", first=first, last=last)
    db = center.db
    created = first - timedelta(days=35)
    history_start = created + timedelta(days=1)
    next_id = (db.execute("SELECT MAX(id) FROM transactions").fetchone()[0] or 0) + 1

    # merchants and terminals: 1-3 terminals a merchant, merchants spread over the areas
    terms = []
    serial = 0
    while len(terms) < n_terminals:
        area = AREAS[serial % len(AREAS)]
        mid = f"898{area}5411{serial:04d}"
        serial += 1
        for _ in range(rng.randint(1, 3)):
            if len(terms) == n_terminals:
                break
            terms.append((f"{80000000 + len(terms):08d}", mid, area))
    merchants = sorted({(m, a) for _, m, a in terms})
    rows_t, rows_tx, rows_meta = [], [], []
    for tid, mid, _area in terms:
        plan.tids.append(tid)
        plan.mid_of[tid] = mid
    # card pools: per area, never crossing areas
    pools = {a: [f"62284800{a}{i:07d}" for i in range(400)] for a in AREAS}

    # roles of the terminals
    order = list(plan.tids)
    rng.shuffle(order)
    k = max(1, n_terminals // 40)
    idle = order[:k]
    idle_tx = order[k : 2 * k]
    volume_tid, round_tid, card_tid, night_tid, foreign_tid = order[2 * k : 2 * k + 5]
    plan.idle, plan.idle_tx = set(idle), set(idle_tx)
    plan.foreign_tid = foreign_tid
    area_of = {tid: a for tid, _m, a in terms}
    other = next(m for m, a in merchants if a != area_of[foreign_tid])
    plan.foreign_mid = other
    foreign_pool = [f"6228480099{i:09d}" for i in range(50)]

    rate = {tid: rng.randint(4, 14) for tid in plan.tids}
    stop = {tid: last - timedelta(days=rng.randint(10, 20)) for tid in idle + idle_tx}
    window_first = last - timedelta(days=6)
    special_day = {t: window_first + timedelta(days=rng.randint(0, 6))
                   for t in (volume_tid, round_tid, card_tid, night_tid)}
    last_signin = {}

    def add(tid, day, hh, mm, ss, pan, amount, result="00", sent_mid=None):
        nonlocal next_id
        tx_id = next_id
        next_id += 1
        batch = f"{(day - history_start).days + 1:06d}"
        rows_tx.append([tx_id, tid, batch, None, "0200", "purchase", pan, amount,
                        f"{day:%m%d}{hh:02d}{mm:02d}{tx_id % 10000:04d}",
                        f"{tx_id % 999999 + 1:06d}" if result == "00" else None,
                        day.isoformat(), f"{hh:02d}:{mm:02d}:{ss:02d}", result,
                        "approved" if result == "00" else "declined"])
        if sent_mid:
            rows_meta.append((tid, batch, tx_id, sent_mid))
        return tx_id

    day = history_start
    while day <= last:
        for tid, _mid, area in terms:
            if tid in stop and day > stop[tid]:
                if tid in plan.idle_tx:
                    last_signin[tid] = day  # still signs in every morning
                continue
            r = rate[tid]
            n = r + rng.randint(-(r // 2), r // 2)
            if n <= 0:
                continue
            last_signin[tid] = day
            used = {}
            pool = foreign_pool if tid == foreign_tid else pools[area]
            # the foreign terminal sends the other merchant's number on alternate days of
            # the last week (a whole day at a time: its cards never meet both numbers)
            sent = other if tid == foreign_tid and day >= window_first and day.day % 2 else None
            for _ in range(n):
                pan = rng.choice(pool)
                while used.get(pan, 0) >= 2:
                    pan = rng.choice(pool)
                used[pan] = used.get(pan, 0) + 1
                add(tid, day, rng.randint(8, 21), rng.randint(0, 59), rng.randint(0, 59),
                    pan, _amount(rng), "00" if rng.random() > 0.03 else "51", sent)
            if day == special_day.get(tid):
                pattern = None
                if tid == volume_tid:
                    for _ in range(max(25, 8 * r)):
                        add(tid, day, rng.randint(8, 21), rng.randint(0, 59), rng.randint(0, 59),
                            f"62284800{area}9{rng.randint(0, 999999):06d}", _amount(rng))
                    pattern = "volume"
                elif tid == round_tid:
                    for _ in range(6):
                        add(tid, day, rng.randint(9, 20), rng.randint(0, 59), rng.randint(0, 59),
                            rng.choice(pool), rng.choice((10000, 50000, 100000, 200000)) * 5)
                    pattern = "round"
                elif tid == card_tid:
                    pan = f"62284800{area}8000001"
                    for i in range(7):
                        add(tid, day, 10 + i, 15, 0, pan, _amount(rng))
                    pattern = "card"
                elif tid == night_tid:
                    for i in range(3):
                        add(tid, day, 2, 10 + i * 7, 0, rng.choice(pool), _amount(rng))
                    pattern = "night"
                plan.abnormal.add((tid, day.isoformat(), pattern))
        day += timedelta(days=1)

    # 跳码: each card first in one area, then minutes later in another
    busy = set(idle + idle_tx + [volume_tid, round_tid, card_tid, night_tid, foreign_tid])
    by_area = {}
    for tid, _m, a in terms:
        if tid not in busy:
            by_area.setdefault(a, []).append(tid)
    areas = [a for a in AREAS if len(by_area.get(a, [])) >= 2]
    for j in range(4):
        a1 = areas[j % len(areas)]
        a2 = areas[(j + 3) % len(areas)]
        if a2 == a1:
            a2 = areas[(j + 1) % len(areas)]
        t1, t2 = rng.choice(by_area[a1]), rng.choice(by_area[a2])
        d = last - timedelta(days=2 + j * 5)
        pan = f"6228480077{j:09d}"
        ida = add(t1, d, 12, 0, 0, pan, _amount(rng))
        idb = add(t2, d, 12, 5 + j * 6, 30, pan, _amount(rng))
        plan.jumps.add((pan, (ida, idb)))
    # decoys: two regions hours apart; one region minutes apart
    a1, a2 = areas[0], areas[1]
    pan = "6228480066000000001"
    add(rng.choice(by_area[a1]), last - timedelta(days=1), 9, 0, 0, pan, _amount(rng))
    add(rng.choice(by_area[a2]), last - timedelta(days=1), 13, 0, 0, pan, _amount(rng))
    pan = "6228480066000000002"
    same = by_area[a1]
    add(same[0], last - timedelta(days=1), 15, 0, 0, pan, _amount(rng))
    add(same[1], last - timedelta(days=1), 15, 10, 0, pan, _amount(rng))

    # traces: per terminal and batch, in time order
    rows_tx.sort(key=lambda r: (r[1], r[2], r[11], r[0]))
    counter = {}
    trace_of = {}
    for r in rows_tx:
        key = (r[1], r[2])
        counter[key] = counter.get(key, 0) + 1
        r[3] = f"{counter[key]:06d}"
        trace_of[r[0]] = r[3]
    created_text = datetime.combine(created, datetime.min.time()).isoformat()
    for tid, mid, _a in terms:
        s = last_signin.get(tid)
        rows_t.append((tid, mid, "11111111111111112222222222222222",
                       f"{s.isoformat()}T08:00:00" if s else None, created_text))
    now = cdb.now_text()
    with db:
        db.execute("BEGIN IMMEDIATE")
        cdb.ensure_schema(db)
        db.executemany(
            "INSERT INTO terminals (tid, mid, tmk, signed_in, created) VALUES (?, ?, ?, ?, ?)",
            rows_t)
        db.executemany(
            "INSERT INTO transactions (id, tid, batch, trace, mti, type, pan, amount_fen, rrn,"
            " auth, date, time, result, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows_tx)
        db.executemany(
            "INSERT INTO center_tx_meta (tid, batch, trace, mid) VALUES (?, ?, ?, ?)",
            [(tid, b, trace_of[i], m) for tid, b, i, m in rows_meta])
        if getattr(db, "dialect", "sqlite") == "postgresql":  # ids given: move the sequence on
            db.execute("SELECT setval(pg_get_serial_sequence('transactions', 'id'),"
                       " (SELECT MAX(id) FROM transactions))")
        for i, (mid, area) in enumerate(merchants):
            db.execute(
                "INSERT OR REPLACE INTO center_merchants (mid, name, created) VALUES (?, ?, ?)",
                (mid, f"{cdb.region_name(area)}便民店{i + 1:03d}", now))
    mids = [m for m, _a in merchants]
    half = len(mids) // 2
    plan.managers = {"manager1": mids[:half], "manager2": mids[half:]}
    for name, role, scope in (("manager1", "manager", mids[:half]),
                              ("manager2", "manager", mids[half:]),
                              ("agent1", "agent", mids[:half]),
                              ("agent2", "agent", mids[half:]),
                              ("risk1", "risk", "all")):
        if center.get_user(name) is None:
            center.add_user(name, role, PASSWORD, scope, display=name, phone="021-5555-0100")
    plan.terminals = len(terms)
    plan.transactions = len(rows_tx)
    return plan
