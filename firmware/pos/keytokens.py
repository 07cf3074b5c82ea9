# The parser of the tokens scripts, lessons and the fronts' command lines give
# (pos.keys.parse_token calls it): keys, runs of digits, CARD=<PAN>[=YYMM] (a swipe),
# CHIP= / TAP=<PAN> (a deck card inserted or tapped), SCAN=<code>, REMOVE.
from pos.keys import DIGITS, NAMED, REMOVE, KeyTokenError

_CARD = "bad card token"


def parse(token, deck=None):
    # One script token -> a list of events (the card reader port's, pos.card): ("key",
    # name), ("card", pan, expiry, track2, track3) a swipe, ("chip", spec) an insert,
    # ("tap", spec) a tap, ("scan", code) a scan, ("removed",) the card pulled out.
    # "123" is the keys 1, 2, 3. `deck` is the test deck (posterm.host.deck.Deck) as {PAN:
    # {"interfaces": ("stripe", "chip", "contactless"), "track2", "track3", "icc": the
    # virtual chip's spec (pos.emv.card)}}:
    #   CARD=<PAN>[=YYMM]  swipes a card: a deck card's own tracks, else PAN=YYMM + service
    #                      code 120 + discretionary data (pos.card.track_for);
    #                      CARD=<PAN>=<YYMM><more digits> swipes that track 2 as written
    #   CHIP=<PAN>         inserts a deck card with a chip (the event carries its "icc")
    #   TAP=<PAN>          taps a deck card or phone that has a contactless chip
    #   SCAN=<code>        scans a customer's payment code (pos.paycode)
    #   REMOVE             pulls the inserted card out
    # A keyed card is typed on the keypad, as on the terminal.
    t = token.strip()
    if not t:
        return []
    up = t.upper()
    if up.startswith("CARD="):
        return _swipe(token, t[5:], deck)
    if up.startswith("CHIP="):
        return [("chip", _chip_card(token, t[5:], deck, "chip", "insert"))]
    if up.startswith("TAP="):
        return [("tap", _chip_card(token, t[4:], deck, "contactless", "tap"))]
    if up.startswith("SCAN="):
        from pos import paycode

        code = t[5:]
        if paycode.scheme(code) is None:
            raise KeyTokenError(token, paycode.RULE, _CARD)
        return [("scan", code)]
    if up == REMOVE:
        return [("removed",)]
    if up in NAMED:
        return [("key", up)]
    out = []
    for ch in t:
        if ch in DIGITS or ch == ".":
            out.append(("key", ch))
        else:
            raise KeyTokenError(
                token,
                "keys are 0-9, ., " + ", ".join(NAMED) + "; cards and codes CARD=<PAN>, "
                "CHIP=<PAN>, TAP=<PAN>, SCAN=<code>, REMOVE",
            )
    return out


def _swipe(token, rest, deck):
    from pos import card

    parts = rest.split("=")
    pan = parts[0]
    data = parts[1] if len(parts) > 1 else ""
    if len(parts) > 2 or not (12 <= len(pan) <= 19) or not _all_digits(pan):
        raise KeyTokenError(token, "a card is CARD=<12-19 digit PAN>[=YYMM]", _CARD)
    if data and (len(data) < 4 or len(data) > 36 - len(pan) or not _all_digits(data)):
        raise KeyTokenError(token, "card expiry is 4 digits YYMM (then the track's rest)", _CARD)
    known = deck.get(pan) if deck else None
    if known is not None and not data:
        ifs = known.get("interfaces", ("stripe",))
        if "stripe" not in ifs:
            how = "insert it: CHIP=" if "chip" in ifs else "tap it: TAP="
            why = "card %s has no magnetic stripe (%s%s)" % (pan, how, pan)
            raise KeyTokenError(token, why, _CARD)
        return [("card", pan, "", known["track2"], known.get("track3", ""))]
    track2 = pan + "=" + data if len(data) > 4 else card.track_for(pan, data)
    # the event's expiry is what the token names ("" when none: the track has one)
    return [("card", pan, data[0:4], track2, "")]


def _chip_card(token, pan, deck, interface, verb):
    # the virtual chip of the deck's card `pan` for an insert or a tap
    if not (12 <= len(pan) <= 19) or not _all_digits(pan):
        raise KeyTokenError(token, "a card is %s=<12-19 digit PAN>" % token.split("=")[0], _CARD)
    if not deck:
        raise KeyTokenError(token, "%s needs the test deck (posterm.host.deck)" % verb, _CARD)
    known = deck.get(pan)
    if known is None:
        raise KeyTokenError(token, "no test card %s in the deck (posterm host cards list)"
                            % pan, _CARD)
    ifs = known.get("interfaces", ("stripe",))
    if interface not in ifs:
        how = "swipe it: CARD="
        if "chip" in ifs:
            how = "insert it: CHIP="
        elif "contactless" in ifs:
            how = "tap it: TAP="
        what = "contact chip" if interface == "chip" else "contactless chip"
        raise KeyTokenError(token, "card %s has no %s (%s%s)" % (pan, what, how, pan), _CARD)
    return known["icc"]


def _all_digits(s):
    for ch in s:
        if ch not in DIGITS:
            return False
    return len(s) > 0
