# The card model and the card reader port.
#
# THE CARD READER PORT: how a card or a code reaches the terminal. A driver (posterm keys'
# tokens, the emulator's reader, a board's bridge or scanner) feeds one of these events:
#   ("card", pan, expiry[, track2[, track3]])  a swipe (magnetic stripe): the tracks as read
#                  (digits, "=" the separator); an older front sends no track (track_for)
#   ("chip", icc)  a chip card inserted in the contact reader (接触式 IC)
#   ("tap", icc)   a card or a phone held to the contactless reader (非接/闪付 QuickPass)
#   ("scan", code) a payment code (付款码) the scanner read: a str of digits
#   ("removed",)   the inserted card was pulled out: 请拔卡 waits for it (pos.flows.main.
#                  card_out); where a front sends none (a script without REMOVE), the next
#                  key is taken for it (Terminal.implicit_removal)
# A keyed card is no event: the cashier types the PAN on the keypad (pos.ui.read_card).
# icc answers APDUs as a card does:
#   icc.reset() -> the ATR (bytes): power on, the card forgets any selection
#   icc.apdu(command bytes) -> response bytes: the data, then SW1 SW2 (90 00 = done)
# A dict instead of an object is a virtual card's spec (pos.emv.card.Card, as the deck holds
# it): the terminal builds the card only when the transaction starts (pos.emv.apdu.icc_of,
# with the chip's code: not this module, not loaded through a chip's stages), so the emv
# code is loaded only then. The virtual card keeps its counters (ATC, PIN tries) in that
# dict: a driver that wants them to persist writes the dict back to its deck after the
# transaction. A board has no virtual card (not deployed): its chip card is in the bridge's
# reader (`posterm bridge --cards`, the board sim), which answers the APDUs the board's
# reader object sends over the link (boards.cardlink); a spec reaching a board is unreadable.
# Helpers below build the events (swipe, insert, tap, scan) and read them (presented,
# scan_code).
#
# THE CARD MODEL: what the reader (or the keypad) gives a transaction, as a plain tuple
#   (pan, expiry YYMM or "", entry, track2, track3[, seq, icc_data, ic_cond])
# entry "02" swiped (track 2, and 3 when the card has one; reference §11: the request
# then carries 35/36 and no field 2, 14 from the track, 22 = 021/022) or "01" keyed
# (2 and 14, 22 = 011/012); "05" chip, "07" contactless (reference §12: 2, 14, 23 = the
# PAN sequence number seq, 35 = the chip's track 2 equivalent, 55 = icc_data, the EMV
# objects as bytes; 60.4 = 5 / 6). ic_cond is 60.5: "2" a swipe after the chip failed
# (fallback), else "0". Track data is digits with "=" as the separator (nibble D on the
# wire): PAN "=" YYMM service code (3) discretionary data.

from pos.clock import expiry_problem  # noqa: F401 (resident: a chip's read needs no pos.card)

SWIPED = "02"
KEYED = "01"
QR = "03"
CHIP = "05"
CONTACTLESS = "07"
# reader events (the first item of the event tuple)
SWIPE_EVENT = "card"
INSERT_EVENT = "chip"
TAP_EVENT = "tap"
SCAN_EVENT = "scan"
REMOVED_EVENT = "removed"
READER_EVENTS = (SWIPE_EVENT, INSERT_EVENT, TAP_EVENT, SCAN_EVENT)
# what a swipe of a script's CARD=<PAN>[=YYMM] reads when the token gives no track:
# the test deck's expiry, service code 120 (international, online authorisation, PIN)
DEFAULT_EXPIRY = "3012"
SERVICE_CODE = "120"


def track_for(pan, expiry=""):
    # A track 2 of a test card: PAN=YYMM + service code + discretionary data (one str made:
    # on MicroPython each str made, each + too, is first looked for among the interned names)
    return "%s=%s%s00000000" % (pan, expiry or DEFAULT_EXPIRY, SERVICE_CODE)


def split_track2(track2):
    # -> (pan, expiry) of a track 2 ("" when it carries none), or None when unreadable. The
    # digits are checked on the track's bytes: only the PAN and the expiry are made as strs
    if not track2 or track2.count("=") != 1:
        return None
    i = track2.find("=")
    b = track2.encode()
    if len(b) != len(track2):
        return None  # (not digits: a track is ASCII)
    if not (12 <= i <= 19) or not b[:i].isdigit() or (len(b) > i + 1 and not b[i + 1 :].isdigit()):
        return None
    return track2[:i], track2[i + 1 : i + 5] if len(track2) - i > 4 else ""


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


def fields(msg, card, pin):
    # The card's fields of a request (reference §2, §11).
    pan, expiry, entry = card[0], card[1], card[2]
    if swiped(card):
        msg[35] = card[3]
        if len(card) > 4 and card[4]:
            msg[36] = card[4]
    if not swiped(card) or chip(card):
        msg[2] = pan
    if expiry:
        msg[14] = expiry
    msg[22] = entry + ("1" if pin else "2")
    if chip(card):
        if card[5]:
            msg[23] = "0" + card[5]
        if card[6]:
            msg[55] = card[6]
    return msg


def usable(t, title, card, chip_ok=False):
    # Generator -> True when the card read can be used today; else says why (an unreadable
    # track, an impossible or a past expiry, a chip card swiped: 请插卡 unless chip_ok, the
    # fallback after the chip failed) and -> False.
    from pos import ui

    why = "card_unreadable" if card is None else expiry_problem(card[1], t.now)
    if why is None and not chip_ok and needs_chip(card):
        why = "chip_insert_card"
    if why is None:
        return True
    t.emit(("beep", "error"))
    yield from ui.notice(t, title, t.s(why), timeout=10)
    return False


# --- the reader port's events -------------------------------------------------------------
def swipe(pan, expiry="", track2="", track3=""):
    return (SWIPE_EVENT, pan, expiry, track2 or track_for(pan, expiry), track3)


def insert(icc):
    # icc: an object answering APDUs, or a virtual card's spec (dict)
    return (INSERT_EVENT, icc)


def tap(icc):
    return (TAP_EVENT, icc)


def scan(code):
    return (SCAN_EVENT, code)


def presented(ev):
    # -> "swipe", "insert", "tap" or "scan" for a reader event, else None
    kind = ev[0] if ev else None
    if kind == SWIPE_EVENT:
        return "swipe"
    if kind == INSERT_EVENT:
        return "insert"
    if kind == TAP_EVENT:
        return "tap"
    if kind == SCAN_EVENT:
        return "scan"
    return None


def scan_code(ev):
    # The payment code of a scan event (digits, 16 to 24 of them, as UnionPay QR and the
    # wallets' codes are), or None when what was scanned is not a payment code.
    if not ev or ev[0] != SCAN_EVENT or len(ev) < 2 or not isinstance(ev[1], str):
        return None
    code = ev[1].strip()
    if not 16 <= len(code) <= 24 or not code.isdigit():
        return None
    return code


def service_code(track2):
    # The 3-digit service code of a track 2 ("" when it has none).
    parts = track2.split("=") if track2 else ()
    if len(parts) != 2 or len(parts[1]) < 7:
        return ""
    return parts[1][4:7]


def needs_chip(card):
    # A swiped card whose service code says it has a chip (2xx or 6xx): the terminal asks
    # for the chip (请插卡) unless the swipe is a fallback after the chip failed. (service_code
    # read in place: its split and slices were four strs made, each looked for among the
    # interned names on MicroPython; a card swiped at idle asks twice)
    if not swiped(card) or chip(card) or fallback(card):
        return False
    t2 = card[3]
    i = t2.find("=")
    if i < 0 or t2.find("=", i + 1) >= 0 or len(t2) - i - 1 < 7:
        return False
    return t2.startswith("2", i + 5) or t2.startswith("6", i + 5)


def chip(card):
    return bool(card) and card[2] in (CHIP, CONTACTLESS)


def fallback(card):
    return len(card) > 7 and card[7] == "2"


def as_fallback(card):
    # the swiped card after the chip failed: 60.5 = 2
    return (card[0], card[1], card[2], card[3], card[4], "", b"", "2")


def chip_card(entry, pan, expiry, track2, seq, icc_data):
    return (pan, expiry, entry, track2, "", seq, icc_data, "0")


def f60_read(card):
    # 60.4 (what the terminal read with) and 60.5 (IC condition), reference §2.1
    if card and card[2] == CHIP:
        return "50"
    if card and card[2] == CONTACTLESS:
        return "60"
    if card and fallback(card):
        return "52"
    return "20"
