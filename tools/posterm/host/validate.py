"""Checks for everything a user or a caller hands the host's store; each returns the
normalised value or raises ValidationError naming the argument."""

import json
import re

from posterm.host.catalog import CARD_STATUSES, FAULT_KINDS, TX_TYPES
from posterm.host.errors import ValidationError

_HEX = re.compile(r"^[0-9A-Fa-f]*$")
_PRINTABLE = re.compile(r"^[\x20-\x7e]*$")
_AMOUNT = re.compile(r"^(\d{1,10})(?:\.(\d{1,2}))?$")


def tid(value):
    if not isinstance(value, str) or len(value) != 8 or not _PRINTABLE.match(value):
        raise ValidationError("TID", f"must be 8 printable ASCII characters, got {value!r}")
    return value


def mid(value):
    if not isinstance(value, str) or len(value) != 15 or not _PRINTABLE.match(value):
        raise ValidationError("MID", f"must be 15 printable ASCII characters, got {value!r}")
    return value


def tmk(value):
    if not isinstance(value, str) or len(value) != 32 or not _HEX.match(value):
        raise ValidationError("TMK", "must be 32 hex digits (a double-length key)")
    return value.upper()


def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def pan(value):
    if not isinstance(value, str) or not value.isdigit() or not 13 <= len(value) <= 19:
        raise ValidationError("PAN", f"must be 13 to 19 digits, got {value!r}")
    if not luhn_ok(value):
        raise ValidationError("PAN", f"{value} fails the Luhn check")
    return value


def pin(value):
    if not isinstance(value, str) or not value.isdigit() or not 4 <= len(value) <= 12:
        raise ValidationError("PIN", "must be 4 to 12 digits")
    return value


def amount_fen(value, what="BALANCE"):
    """'10000', '10000.5' or '10000.50' yuan -> fen (int)."""
    m = _AMOUNT.match(value) if isinstance(value, str) else None
    if not m:
        raise ValidationError(what, "must be an amount in yuan such as 100 or 100.50")
    frac = (m.group(2) or "").ljust(2, "0")
    return int(m.group(1)) * 100 + int(frac)


def expiry(value):
    if not isinstance(value, str) or len(value) != 4 or not value.isdigit():
        raise ValidationError("expiry", f"must be YYMM, got {value!r}")
    if not 1 <= int(value[2:]) <= 12:
        raise ValidationError("expiry", f"month must be 01..12, got {value!r}")
    return value


def card_status(value):
    if value not in CARD_STATUSES:
        raise ValidationError("status", "must be one of {}".format(", ".join(CARD_STATUSES)))
    return value


def response_code(value, what="code"):
    if not isinstance(value, str) or len(value) != 2 or not value.isalnum():
        raise ValidationError(what, "must be a 2-character response code such as 97")
    return value.upper()


def tx_types(value):
    """'all' -> None (everything allowed); 'purchase,balance' -> ['balance', 'purchase']."""
    if value is None or value.strip().lower() == "all":
        return None
    names = [n.strip().lower() for n in value.replace(" ", ",").split(",") if n.strip()]
    if not names:
        raise ValidationError("TYPES", "give 'all' or a comma list of " + ", ".join(TX_TYPES))
    for n in names:
        if n not in TX_TYPES:
            raise ValidationError(
                "TYPES", "unknown transaction type {!r} (known: {})".format(n, ", ".join(TX_TYPES))
            )
    return sorted(set(names))


def fault(kind, arg):
    """Returns (kind, arg) with arg normalised; respond needs a code, delay seconds, need a
    processing requirement (1-6: the answer's header asks for it)."""
    if kind not in FAULT_KINDS:
        raise ValidationError("KIND", "must be one of {}".format(", ".join(FAULT_KINDS)))
    if kind == "respond":
        return kind, response_code(arg, "ARG (response code)")
    if kind == "delay":
        try:
            seconds = float(arg)
        except (TypeError, ValueError):
            raise ValidationError("ARG", "delay needs a number of seconds") from None
        if not 0 <= seconds <= 600:
            raise ValidationError("ARG", "delay must be 0..600 seconds")
        return kind, f"{seconds:g}"
    if kind == "need":  # the reply header's processing requirement (reference §1)
        if arg not in ("1", "2", "3", "4", "5", "6"):
            raise ValidationError("ARG", "need takes a processing requirement 1..6")
        return kind, arg
    if arg not in (None, ""):
        raise ValidationError("ARG", f"{kind} takes no argument")
    return kind, None


def menu_json(text, what="menu"):
    """The menu file must be JSON with a "root"; returns the text unchanged."""
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ValidationError(what, f"not valid JSON ({e})") from None
    if not isinstance(data, dict) or "root" not in data:
        raise ValidationError(what, 'JSON has no "root"')
    return text


_MAC_NAMES = {
    "ecb": "ecb",
    "cup": "ecb",
    "x9.9": "x9.9",
    "x99": "x9.9",
    "x9.19": "x9.19",
    "x919": "x9.19",
}


def mac_algo(value):
    """'ecb' (CUP ECB), 'x9.9' or 'x9.19' (also written cup, x99, x919)."""
    name = _MAC_NAMES.get(value.strip().lower()) if isinstance(value, str) else None
    if name is None:
        raise ValidationError("--mac", "must be ecb (CUP), x9.9 (x99) or x9.19 (x919)")
    return name


def track(value, number, pan_value=None, expiry_value=None):
    """Track 2 (up to 37) or track 3 (up to 104): digits with '=' separators, starting with
    the PAN (track 3 after a 2-digit format code); track 2 carries the expiry after '='."""
    limit = 37 if number == 2 else 104
    what = f"track {number}"
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ValidationError(what, f"must be 1..{limit} digits and '='")
    if not value.replace("=", "").isdigit():
        raise ValidationError(what, "allows digits and '=' only")
    head = value.split("=")[0]
    if number == 3:
        head = head[2:]
    if pan_value is not None and head != pan_value:
        raise ValidationError(what, "does not start with the card's PAN")
    if number == 2:
        rest = value.split("=", 1)[1] if "=" in value else ""
        if len(rest) < 7 or (expiry_value is not None and rest[:4] != expiry_value):
            raise ValidationError(what, "needs PAN=YYMM and a 3-digit service code")
    return value
