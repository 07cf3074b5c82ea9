# Calendar arithmetic on (Y, M, D, h, m, s) tuples. The core never reads a
# clock: drivers feed ("tick", now) events.

# No clock this firmware meets can be earlier than its release year: a year before it
# means a board's RTC was never set (boards start at their port's epoch).
MIN_YEAR = 2026


def days_from_civil(y, m, d):
    # days since 1970-01-01 (Howard Hinnant's algorithm), small ints only
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    mp = m + 9 if m <= 2 else m - 3
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return y, m, d


def to_seconds(now):
    return days_from_civil(now[0], now[1], now[2]) * 86400 + now[3] * 3600 + now[4] * 60 + now[5]


def from_seconds(secs):
    days = secs // 86400
    rem = secs - days * 86400
    y, m, d = civil_from_days(days)
    return (y, m, d, rem // 3600, (rem // 60) % 60, rem % 60)


def _2(n):
    return ("0" + str(n)) if n < 10 else str(n)


def date8(now):
    # "YYYYMMDD": the natural day sign-in is due on
    return str(now[0]) + _2(now[1]) + _2(now[2])


def mmdd(now):
    return _2(now[1]) + _2(now[2])


def hhmmss(now):
    return _2(now[3]) + _2(now[4]) + _2(now[5])


def show_date(now):
    return str(now[0]) + "-" + _2(now[1]) + "-" + _2(now[2])


def show_time(now, seconds=False):
    t = _2(now[3]) + ":" + _2(now[4])
    return t + ":" + _2(now[5]) if seconds else t


def parse(text):
    # "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM[:SS]" -> tuple; ValueError on bad input
    t = text.strip().replace(" ", "T")
    date = t
    tm = ""
    if "T" in t:
        date, tm = t.split("T", 1)
    parts = date.split("-")
    if len(parts) != 3:
        raise ValueError("date must be YYYY-MM-DD[THH:MM]")
    y, m, d = int(parts[0]), int(parts[1]), int(parts[2])
    hh = mi = ss = 0
    if tm:
        tp = tm.split(":")
        if len(tp) not in (2, 3):
            raise ValueError("time must be HH:MM or HH:MM:SS")
        hh, mi = int(tp[0]), int(tp[1])
        ss = int(tp[2]) if len(tp) == 3 else 0
    if not (1 <= m <= 12 and 1 <= d <= 31 and 0 <= hh < 24 and 0 <= mi < 60 and 0 <= ss < 60):
        raise ValueError("date or time out of range")
    if civil_from_days(days_from_civil(y, m, d)) != (y, m, d):
        raise ValueError("no such day: %s" % date)
    return (y, m, d, hh, mi, ss)


def expiry_problem(expiry, now):
    # -> None when a card's YYMM expiry may be used on `now` (Y, M, ...); else the string
    # key of why not: an impossible month, or a card that has expired. "" (none) is allowed.
    # (pos.card's; here, resident, so that a chip card's read checks it without pos.card)
    if not expiry:
        return None
    if len(expiry) != 4 or not expiry.isdigit():
        return "card_bad_expiry"
    yymm = int(expiry)  # (as one int: no slice or padded str made)
    month = yymm % 100
    if month < 1 or month > 12:
        return "card_bad_expiry"
    # a card is valid to the end of its month; YY is 20YY
    if 200000 + yymm < now[0] * 100 + now[1]:
        return "card_expired"
    return None
