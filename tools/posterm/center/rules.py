"""What each role looks at, computed from the host's books: per-terminal usage, inactive
terminals, abnormal volume, the weekly tracking sheet and the 跳码 (region-jumping) hits.

Counted as 开单 (a sale): an approved purchase or completion that was not voided or reversed.
Every function takes `today` (a date) so a report can be made for any day.
"""

from collections import defaultdict
from datetime import date, datetime, timedelta

from posterm.center.db import area_code, region_key

SALE_TYPES = ("purchase", "completion")


def parse_day(text):
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except (TypeError, ValueError):
        return None


def week_of(day):
    y, w, _ = day.isocalendar()
    return f"{y}-W{w:02d}"


def week_days(week):
    """'2026-W48' -> (monday, sunday); None if it is not a week."""
    try:
        monday = datetime.strptime(week + "-1", "%G-W%V-%u").date()
    except ValueError:
        return None
    return monday, monday + timedelta(days=6)


def _sales(center, tids, first, last):
    """Sales of `tids` between the two days (inclusive): rows of tid, date, time, pan,
    amount_fen, id."""
    if not tids:
        return []
    out = []
    tids = list(tids)
    for i in range(0, len(tids), 500):
        part = tids[i : i + 500]
        out.extend(center.db.execute(
            "SELECT id, tid, date, time, pan, amount_fen FROM transactions"
            " WHERE result = '00' AND status NOT IN ('voided', 'reversed')"
            " AND type IN ('purchase', 'completion') AND date BETWEEN ? AND ?"
            " AND tid IN ({}) ORDER BY id".format(", ".join("?" * len(part))),
            (first.isoformat(), last.isoformat(), *part),
        ).fetchall())
    return out


def usage(center, terminals, today):
    """Per terminal: today's, this week's (from Monday) and this month's sale count and
    amount.  -> list of dicts in terminal order."""
    monday = today - timedelta(days=today.weekday())
    first = min(monday, today.replace(day=1))
    per = defaultdict(lambda: [0, 0, 0, 0, 0, 0])
    for tx in _sales(center, [t["tid"] for t in terminals], first, today):
        d = parse_day(tx["date"])
        acc = per[tx["tid"]]
        if d == today:
            acc[0] += 1
            acc[1] += tx["amount_fen"]
        if d >= monday:
            acc[2] += 1
            acc[3] += tx["amount_fen"]
        if d.month == today.month and d.year == today.year:
            acc[4] += 1
            acc[5] += tx["amount_fen"]
    out = []
    for t in terminals:
        a = per[t["tid"]]
        out.append({
            "tid": t["tid"], "mid": t["mid"], "state": center.state_of(t),
            "today_count": a[0], "today_fen": a[1], "week_count": a[2], "week_fen": a[3],
            "month_count": a[4], "month_fen": a[5],
        })
    return out


def daily_counts(center, tid, today, days=28):
    """[(day, sale count)] for the `days` days ending today, oldest first."""
    first = today - timedelta(days=days - 1)
    counts = defaultdict(int)
    for tx in _sales(center, [tid], first, today):
        counts[tx["date"]] += 1
    return [(first + timedelta(days=i), counts[(first + timedelta(days=i)).isoformat()])
            for i in range(days)]


def _last_tx_days(center, tids):
    """tid -> the newest date it made any transaction (approved or not)."""
    out = {}
    tids = list(tids)
    for i in range(0, len(tids), 500):
        part = tids[i : i + 500]
        for r in center.db.execute(
            "SELECT tid, MAX(date) AS d FROM transactions WHERE tid IN ({}) GROUP BY tid"
            .format(", ".join("?" * len(part))), part,
        ):
            out[r["tid"]] = parse_day(r["d"])
    return out


def _day_of(text):
    return parse_day(text[:10]) if text else None


def inactive(center, terminals, today):
    """Terminals with no sign-in or no transaction for N days (the merchant's thresholds,
    else the settings).  -> list of dicts: tid, mid, last_signin, last_tx, days_signin,
    days_tx, why (list of 'signin' / 'tx')."""
    settings = center.settings()
    merchants = center.merchants()
    last_tx = _last_tx_days(center, [t["tid"] for t in terminals])
    out = []
    for t in terminals:
        m = merchants.get(t["mid"])
        max_signin = (m["inactive_signin_days"] if m and m["inactive_signin_days"]
                      else settings["inactive_signin_days"])
        max_tx = (m["inactive_tx_days"] if m and m["inactive_tx_days"]
                  else settings["inactive_tx_days"])
        since = _day_of(t["created"]) or today
        signin = max(filter(None, (_day_of(t["signed_in"]), _day_of(t["last_signin"]))),
                     default=None)
        tx = last_tx.get(t["tid"])
        days_signin = (today - (signin or since)).days
        days_tx = (today - (tx or since)).days
        why = []
        if days_signin >= max_signin:
            why.append("signin")
        if days_tx >= max_tx:
            why.append("tx")
        if why:
            out.append({
                "tid": t["tid"], "mid": t["mid"], "state": center.state_of(t),
                "last_signin": signin.isoformat() if signin else "",
                "last_tx": tx.isoformat() if tx else "",
                "days_signin": days_signin, "days_tx": days_tx, "why": why,
            })
    return out


def abnormal(center, terminals, today, days=None):
    """Abnormal days of the last `days` days (setting abnormal_window_days): one dict per
    terminal, day and pattern: 'volume' (far above the terminal's own baseline), 'round'
    (many round amounts), 'card' (one card many times), 'night' (trading 1-5 am)."""
    s = center.settings()
    days = days or s["abnormal_window_days"]
    first = today - timedelta(days=days - 1)
    base_first = first - timedelta(days=s["baseline_days"])
    by_day = defaultdict(list)  # (tid, day) -> sales
    for tx in _sales(center, [t["tid"] for t in terminals], base_first, today):
        by_day[(tx["tid"], parse_day(tx["date"]))].append(tx)
    out = []
    for t in terminals:
        tid = t["tid"]
        opened = _day_of(t["created"]) or base_first
        for i in range(days):
            day = first + timedelta(days=i)
            txs = by_day.get((tid, day), [])
            if not txs:
                continue
            hits = []
            # volume: the day against the mean of the baseline days the terminal existed
            start = max(day - timedelta(days=s["baseline_days"]), opened)
            n_base = (day - start).days
            if n_base >= 7:
                total = sum(len(by_day.get((tid, start + timedelta(days=k)), []))
                            for k in range(n_base))
                mean = total / n_base
                if len(txs) >= s["baseline_min_count"] and len(txs) > s["baseline_factor"] * mean:
                    hits.append(("volume", len(txs), f"{len(txs)} vs baseline {mean:.1f}/day",
                                 txs))
            unit = s["round_unit_fen"]
            rounds = [x for x in txs if x["amount_fen"] >= unit and x["amount_fen"] % unit == 0]
            if len(rounds) >= s["round_min_count"]:
                hits.append(("round", len(rounds), f"{len(rounds)} round amounts", rounds))
            per_card = defaultdict(list)
            for x in txs:
                if x["pan"]:
                    per_card[x["pan"]].append(x)
            for pan, cx in sorted(per_card.items()):
                if len(cx) >= s["card_day_max"]:
                    hits.append(("card", len(cx), f"card {mask(pan)} {len(cx)} times", cx))
            night = [x for x in txs
                     if s["night_start_hour"] <= int(x["time"][:2]) < s["night_end_hour"]]
            if night:
                hits.append(("night", len(night), f"{len(night)} between "
                             f"{s['night_start_hour']:02d}:00 and {s['night_end_hour']:02d}:00",
                             night))
            for kind, n, what, rows in hits:
                out.append({"tid": tid, "mid": t["mid"], "day": day.isoformat(),
                            "pattern": kind, "count": n, "day_count": len(txs), "what": what,
                            "tx_ids": [r["id"] for r in rows]})
    return out


def mask(pan):
    if not pan or len(pan) < 10:
        return pan or ""
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def _risk_rows(center, first, today):
    return center.db.execute(
        "SELECT t.id, t.tid, t.date, t.time, t.pan, t.amount_fen, t.type, t.result,"
        " m.mid AS mid_sent, m.location, term.mid AS bound_mid"
        " FROM transactions t JOIN terminals term ON term.tid = t.tid"
        " LEFT JOIN center_tx_meta m ON m.tid = t.tid AND m.batch = t.batch"
        " AND m.trace = t.trace"
        " WHERE t.result = '00' AND t.date BETWEEN ? AND ? ORDER BY t.date, t.time, t.id",
        (first.isoformat(), today.isoformat()),
    ).fetchall()


def risk(center, today, days=None, mids=None):
    """The 跳码 hits of the last `days` days (setting risk_window_days):
    kind 'region': one card's two consecutive transactions within jump_minutes at places
    whose regions differ (the reported location, else the area code of the merchant number
    sent, else of the one bound); kind 'mid': a terminal that sent a merchant number other
    than the one it is bound to.  `mids`: only hits touching these merchants (None: all)."""
    s = center.settings()
    days = days or s["risk_window_days"]
    first = today - timedelta(days=days - 1)
    merchants = center.merchants()
    window = timedelta(minutes=s["jump_minutes"])
    by_pan = defaultdict(list)
    foreign = defaultdict(list)
    for r in _risk_rows(center, first, today):
        mid = r["mid_sent"] or r["bound_mid"]
        region = region_key(r["location"]) if r["location"] else (
            center.merchant_region(mid, merchants) or area_code(mid))
        tx = {"id": r["id"], "tid": r["tid"], "at": f"{r['date']} {r['time']}",
              "pan": r["pan"], "amount_fen": r["amount_fen"], "type": r["type"],
              "mid": mid, "bound_mid": r["bound_mid"], "region": region,
              "when": datetime.fromisoformat(f"{r['date']}T{r['time']}")}
        if r["pan"]:
            by_pan[r["pan"]].append(tx)
        if r["mid_sent"] and r["mid_sent"] != r["bound_mid"]:
            foreign[r["tid"]].append(tx)
    hits = []
    for pan in sorted(by_pan):
        txs = by_pan[pan]
        for a, b in zip(txs, txs[1:], strict=False):
            if b["when"] - a["when"] <= window and a["region"] and b["region"] \
                    and a["region"] != b["region"]:
                hits.append({"id": f"J{a['id']}-{b['id']}", "kind": "region", "pan": pan,
                             "tids": sorted({a["tid"], b["tid"]}),
                             "regions": [a["region"], b["region"]],
                             "minutes": round((b["when"] - a["when"]).total_seconds() / 60, 1),
                             "txs": [a, b]})
    for tid in sorted(foreign):
        txs = foreign[tid]
        hits.append({"id": f"M{tid}", "kind": "mid", "pan": None, "tids": [tid],
                     "regions": sorted({t["region"] or "-" for t in txs}),
                     "minutes": None, "txs": txs,
                     "sent": sorted({t["mid"] for t in txs}), "bound": txs[0]["bound_mid"]})
    if mids is not None:
        mids = set(mids)
        hits = [h for h in hits if any(t["mid"] in mids or t["bound_mid"] in mids
                                       for t in h["txs"])]
    for h in hits:
        for t in h["txs"]:
            t.pop("when", None)
    return hits


def sheet(center, terminals, week, today=None):
    """The weekly tracking sheet (终端POS机使用问题跟踪表): one row per terminal of the
    week that is inactive or abnormal or already has an entry, with the week's sale count,
    what the checks found, and the manager's problem / action / follow-up date."""
    span = week_days(week)
    if span is None:
        return None
    monday, sunday = span
    end = min(sunday, today) if today else sunday
    entries = center.sheet_entries(week)
    counts = defaultdict(int)
    for tx in _sales(center, [t["tid"] for t in terminals], monday, sunday):
        counts[tx["tid"]] += 1
    idle = {r["tid"]: r for r in inactive(center, terminals, end)}
    odd = defaultdict(set)
    for r in abnormal(center, terminals, end, days=(end - monday).days + 1):
        odd[r["tid"]].add(r["pattern"])
    merchants = center.merchants()
    rows = []
    for t in terminals:
        tid = t["tid"]
        found = []
        if tid in idle:
            found.append("inactive " + "/".join(idle[tid]["why"]))
        if odd.get(tid):
            found.append("abnormal " + "/".join(sorted(odd[tid])))
        e = entries.get(tid)
        if not found and e is None:
            continue
        m = merchants.get(t["mid"])
        rows.append({
            "week": week, "tid": tid, "mid": t["mid"], "merchant": m["name"] if m else "",
            "week_count": counts[tid], "found": "; ".join(found),
            "problem": e["problem"] if e else "", "action": e["action"] if e else "",
            "follow_up": e["follow_up"] if e else "", "by": e["by_user"] if e else "",
        })
    return rows


def today_default():
    return date.today()
