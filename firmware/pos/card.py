# The card model: what the reader (or the keypad) gives a transaction, as a plain tuple
#   (pan, expiry YYMM or "", entry, track2, track3)
# entry "02" swiped (track 2, and 3 when the card has one; reference §11: the request
# then carries 35/36 and no field 2, 14 from the track, 22 = 021/022) or "01" keyed
# (2 and 14, 22 = 011/012). Track data is digits with "=" as the separator (nibble D
# on the wire): PAN "=" YYMM service code (3) discretionary data.
from pos.request import z as _z

SWIPED = "02"
KEYED = "01"
# what a swipe of a script's CARD=<PAN>[=YYMM] reads when the token gives no track:
# the test deck's expiry, service code 120 (international, online authorisation, PIN)
DEFAULT_EXPIRY = "3012"
SERVICE_CODE = "120"


def track_for(pan, expiry=""):
    # A track 2 of a test card: PAN=YYMM + service code + discretionary data.
    return pan + "=" + (expiry or DEFAULT_EXPIRY) + SERVICE_CODE + "00000000"


def split_track2(track2):
    # -> (pan, expiry) of a track 2 ("" when it carries none), or None when unreadable
    if not track2 or track2.count("=") != 1:
        return None
    pan, rest = track2.split("=")
    if not (12 <= len(pan) <= 19) or not pan.isdigit() or (rest and not rest.isdigit()):
        return None
    return pan, rest[0:4] if len(rest) >= 4 else ""


def from_event(ev):
    # ("card", pan, expiry[, track2[, track3]]) -> a swiped card, or None when the track
    # cannot be read. A reader event without a track (an older front) reads as a swipe of
    # the test card's track.
    track2 = ev[3] if len(ev) > 3 and ev[3] else track_for(ev[1], ev[2])
    track3 = ev[4] if len(ev) > 4 and ev[4] else ""
    parts = split_track2(track2)
    if parts is None:
        return None
    return (parts[0], parts[1], SWIPED, track2, track3)


def keyed(pan, expiry):
    return (pan, expiry, KEYED, "", "")


def swiped(card):
    return len(card) > 3 and bool(card[3])


def expiry_problem(expiry, now):
    # -> None when a YYMM expiry may be used on `now` (Y, M, ...); else the string key of
    # why not: an impossible month, or a card that has expired. "" (none) is allowed.
    if not expiry:
        return None
    if len(expiry) != 4 or not expiry.isdigit():
        return "card_bad_expiry"
    month = int(expiry[2:4])
    if month < 1 or month > 12:
        return "card_bad_expiry"
    # a card is valid to the end of its month; YY is 20YY
    if _z(2000 + int(expiry[0:2]), 4) + expiry[2:4] < _z(now[0], 4) + _z(now[1], 2):
        return "card_expired"
    return None


def fields(msg, card, pin):
    # The card's fields of a request (reference §2, §11).
    pan, expiry, entry = card[0], card[1], card[2]
    if swiped(card):
        msg[35] = card[3]
        if len(card) > 4 and card[4]:
            msg[36] = card[4]
    else:
        msg[2] = pan
    if expiry:
        msg[14] = expiry
    msg[22] = entry + ("1" if pin else "2")
    return msg


def usable(t, title, card):
    # Generator -> True when the card read can be used today; else says why (an unreadable
    # track, an impossible or a past expiry) and -> False.
    from pos import ui

    why = "card_unreadable" if card is None else expiry_problem(card[1], t.now)
    if why is None:
        return True
    t.emit(("beep", "error"))
    yield from ui.notice(t, title, t.s(why), timeout=10)
    return False
