"""The test deck (deck.json): the cards a cashier presents and the payment codes she scans.

It is the one source of test card data: the center's card table is seeded from it
(posterm.host.store), scripts' and lessons' CARD= tokens swipe its tracks (parse_token), the
emulator's card reader lists it and `posterm host cards` prints it. A chip card's entry is also
what its virtual chip is built from (pos.emv.card.Card takes the card dict as it is)."""

import json
import os
import re

from pos import keys, paycode

_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "deck.json")

STRIPE = "stripe"
CHIP = "chip"
CONTACTLESS = "contactless"
INTERFACES = (STRIPE, CHIP, CONTACTLESS)


def _load():
    with open(_PATH, encoding="utf-8") as f:
        data = json.load(f)
    return tuple(data["cards"]), tuple(data.get("codes", ()))


CARDS, CODES = _load()
BY_PAN = {c["pan"]: c for c in CARDS}
BY_CODE = {c["code"]: c for c in CODES}


_GROUPED = re.compile(r"\d+(?:[ -]\d+)+")


def card_number(text):
    """A card number or payment code typed as it is printed, in groups ("6212 1420 0000 0000
    012", "6212-1420-..."): its digits; any other text as it was (said wrong where it is
    read)."""
    t = text.strip()
    return re.sub(r"[ -]", "", t) if _GROUPED.fullmatch(t) else t


def card_token(text):
    """A typed token or card with its number in groups (CHIP=6212 1420 ..., 6212 1420 ...
    =3012): the number's digits, the rest as typed."""
    head, eq, rest = text.strip().partition("=")
    if eq and head.upper() in ("CARD", "CHIP", "TAP", "SCAN"):
        number, eq2, tail = rest.partition("=")
        return head + "=" + card_number(number) + eq2 + tail
    return card_number(head) + eq + rest


def card(pan):
    """The deck's card of `pan` (a dict), or None."""
    return BY_PAN.get(pan)


def code(value):
    """The deck's payment code `value` (a dict), or None."""
    return BY_CODE.get(value)


def interfaces(c):
    """How the card can be presented: a tuple of STRIPE, CHIP, CONTACTLESS. A card has a
    stripe (its tracks); one with a chip object has a contact chip, contactless too when the
    chip says so; a phone (device "phone") only taps."""
    chip = c.get("chip")
    if c.get("device") == "phone":
        return (CONTACTLESS,) if chip else ()
    out = (STRIPE,)
    if isinstance(chip, dict):
        out += (CHIP,)
        if chip.get("contactless"):
            out += (CONTACTLESS,)
    return out


def kind(c):
    """A short word for how the card reads: 'stripe', 'chip', 'chip+tap', 'phone',
    'chip (broken)': what the card reader and `cards list` show."""
    ifs = interfaces(c)
    if c.get("device") == "phone":
        return "phone"
    if CHIP in ifs:
        word = "chip+tap" if CONTACTLESS in ifs else "chip"
        return word + " (broken)" if c["chip"].get("broken") else word
    return "stripe"


def code_kind(c):
    """'QR UnionPay' / 'QR WeChat' / 'QR Alipay' for a payment code."""
    name = {paycode.UNIONPAY: "UnionPay", paycode.WECHAT: "WeChat", paycode.ALIPAY: "Alipay"}
    return "QR " + name.get(paycode.scheme(c["code"]), "?")


# what a virtual chip counts (pos.emv.card keeps them in its card dict)
COUNTERS = ("atc", "pin_tries", "last_online_atc")
STATE_FILE = "chipcards.json"
# a chip whose count a damaged chipcards.json lost goes on this far past the deck's, so that
# its ATC (the card's transaction counter, in every cryptogram) is not used twice
ATC_JUMP = 1000


class Deck:
    """The deck as one front presents it. Each card is a copy of the deck's dict, so that what
    its virtual chip counts (ATC, PIN tries left) goes on from one insert to the next, as on a
    real card; with a data dir the counts also go on from one run to the next (kept in
    chipcards.json there, written by save())."""

    def __init__(self, data_dir=None):
        from posterm.host import emv

        self.path = os.path.join(data_dir, STATE_FILE) if data_dir else None
        # what pos.keys.parse_token presents: PAN -> how it reads, its tracks, its chip
        self.cards = {}
        for c in CARDS:
            entry = {"interfaces": interfaces(c), "track2": c.get("track2", ""),
                     "track3": c.get("track3", "")}
            if CHIP in entry["interfaces"] or CONTACTLESS in entry["interfaces"]:
                entry["icc"] = emv.card_spec(c)  # the virtual chip: counts in this dict
            self.cards[c["pan"]] = entry
        # what a front says of a damaged chipcards.json (None: nothing to say); it also goes
        # to the data dir's log
        self.notice = None
        self._unsaved = False
        self._saved = self._read()
        for pan, counts in self._saved.items():
            icc = self.cards.get(pan, {}).get("icc")
            if icc is not None and isinstance(counts, dict):
                for k in COUNTERS:
                    if isinstance(counts.get(k), int) and counts[k] >= 0:
                        icc[k] = counts[k]
        if self._unsaved:
            self._saved = {}  # save() writes them

    def _read(self):
        if not self.path:
            return {}
        try:
            with open(self.path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return {}  # none yet: the cards start from the deck's counts
        except OSError as e:  # there but unreadable: its counts are not known
            return self._damaged(b"", f"cannot be read ({e.strerror or e})")
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError as e:
            return self._damaged(raw, f"is not JSON ({e})")
        if not isinstance(data, dict) or not all(
            isinstance(v, dict) and all(isinstance(v.get(k, 0), int) for k in COUNTERS)
            for v in data.values()
        ):
            return self._damaged(raw, "is not a table of chip counts")
        return data

    def _damaged(self, raw, why):
        """A chipcards.json that cannot be used: kept as chipcards.json.damaged-N, the counts
        its text still holds read back, every other chip's ATC moved on by ATC_JUMP (never
        back to one it may have used), the new counts written at once (a crash before the
        run's end must not start them from the deck's again) and said (self.notice)."""
        import re

        n = 1
        while os.path.lexists(f"{self.path}.damaged-{n}"):
            n += 1
        copy = f"{self.path}.damaged-{n}"
        try:
            os.rename(self.path, copy)
        except OSError:
            copy = ""
        found = {}
        text = raw.decode("utf-8", "replace")
        for m in re.finditer(r'"(\d{12,19})"\s*:\s*\{([^{}]*)', text):
            got = {k: int(v) for k, v in
                   re.findall(r'"(' + "|".join(COUNTERS) + r')"\s*:\s*(\d+)', m.group(2))}
            if got:
                found[m.group(1)] = got
        out, moved = {}, 0
        for pan, entry in self.cards.items():
            icc = entry.get("icc")
            if icc is None:
                continue
            counts = dict(found.get(pan, {}))
            if "atc" not in counts:
                counts["atc"] = icc.get("atc", 0) + ATC_JUMP
                moved += 1
            out[pan] = counts
        name = os.path.basename(self.path)
        self.notice = (
            f"{name} in {os.path.dirname(self.path)} {why}: "
            + (f"kept as {os.path.basename(copy)}; " if copy else "")
            + f"the counts of {len(out) - moved} chip(s) read back from it, the ATC of "
            f"{moved} other(s) moved on by {ATC_JUMP} so that none is used twice"
        )
        try:
            self._write(out)
        except OSError as e:  # written by save() once the disk takes it
            self.notice += f"; the new counts could not be written yet ({e.strerror or e})"
            self._unsaved = True
        return out

    def counts(self):
        """{PAN: {counter: value}} of the cards whose chip has counted anything."""
        out = {}
        for pan, entry in self.cards.items():
            icc = entry.get("icc") or {}
            got = {k: icc[k] for k in COUNTERS if k in icc}
            if got:
                out[pan] = got
        return out

    def save(self):
        """Write the chips' counts to the data dir (write, then rename); no-op without one or
        when nothing changed. Raises OSError (nothing left behind) when the disk refuses."""
        counts = self.counts()
        if not self.path or counts == self._saved:
            return
        self._write(counts)
        self._saved = counts

    def _write(self, counts):
        tmp = self.path + ".tmp"
        try:
            # the data dir's files are its owner's only (0600, as the terminal's)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with open(fd, "w", encoding="utf-8") as f:
                json.dump(counts, f, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        except OSError:
            # a full disk: nothing left behind, the previous counts kept; the caller says
            # it (and a later save tries again: _saved is unchanged)
            try:
                os.remove(tmp)
            except OSError:
                pass
            raise

    def icc(self, pan):
        """The virtual chip (pos.emv.card spec) of a deck card with a chip, or None."""
        return self.cards.get(pan, {}).get("icc")

    def parse_token(self, token):
        """A script token -> the terminal's events (pos.keys.parse_token with this deck:
        CARD= swipes a deck card's tracks, CHIP= and TAP= present its chip). Raises
        pos.keys.KeyTokenError with what is wrong."""
        return keys.parse_token(token, self.cards)


_SHARED = []


def parse_token(token):
    """parse_token of one deck shared by the process (no data dir)."""
    if not _SHARED:
        _SHARED.append(Deck())
    return _SHARED[0].parse_token(token)


def _kcv(key):
    from pos.des import DesKey

    return DesKey(key).encrypt(bytes(8))[:3].hex().upper()


def card_keys(c):
    """The test keys of a chip card as its virtual chip (pos.emv.card) and the center use them:
    [(name, hex)]: the issuer master key (AC), the card's master key derived from it by PAN and
    PAN sequence number (EMV option A), and the session key of its next ATC."""
    from pos.emv import crypto

    imk = bytes.fromhex(c["imk_ac"])
    mk = crypto.icc_master_key(imk, c["pan"], c.get("seq", "00"))
    atc = c.get("atc", 0) + 1
    sk = crypto.session_key(mk, bytes(((atc >> 8) & 0xFF, atc & 0xFF)))
    return [
        ("IMK-AC (issuer master key, TEST)", imk.hex().upper() + "  KCV " + _kcv(imk)),
        (
            "MK-AC (card key: PAN + seq %s, option A)" % c.get("seq", "00"),
            mk.hex().upper() + "  KCV " + _kcv(mk),
        ),
        ("SK-AC (session key, ATC %04X)" % atc, sk.hex().upper() + "  KCV " + _kcv(sk)),
    ]


def describe(value, row=None):
    """The lines `posterm host cards show` prints for a deck card or payment code, or None
    when the deck has neither. `row`: the center's card row (balance, status, PIN tries)."""
    c = card(value)
    if c is None:
        q = code(value)
        if q is None:
            return None
        return [
            ("payment code", q["code"]),
            ("scheme", code_kind(q)),
            ("holder", q.get("holder", "")),
            ("phone", _CONFIRM_WORDS.get(q.get("confirm", False), "paid at once")),
            ("script", "SCAN=" + q["code"]),
        ]
    row = dict(row) if row is not None else {}
    ifs = interfaces(c)
    out = [
        ("PAN", c["pan"]),
        ("reads", kind(c) + ("" if STRIPE in ifs else ", no magnetic stripe")),
        ("holder", c.get("holder", "")),
        ("expiry", c["expiry"]),
        ("PIN", c["pin"]),
        ("status", row.get("status", c["status"])),
        ("balance", _yuan(row.get("balance_fen", c["balance_fen"]))),
    ]
    if STRIPE in ifs:
        out.append(("track 2", c["track2"]))
        if c.get("track3"):
            out.append(("track 3", c["track3"]))
    if CHIP in ifs or CONTACTLESS in ifs:
        from posterm.host import emv

        spec = emv.card_spec(c)
        apps = spec.get("apps") or [{"aid": spec.get("aid", emv.emvcard.DEBIT),
                                     "label": spec.get("label", "UnionPay")}]
        for a in apps:
            out.append(("AID", "%s  %s" % (a["aid"], a.get("label", spec.get("label", "")))))
        out.append(("PAN sequence", spec.get("seq", "00")))
        out.append(("service code", spec.get("service_code", "220")))
        out.append(("track 2 equivalent (57)", spec.get("track2", "")))
        if spec.get("broken"):
            out.append(("chip", "broken: answers 6F00 to every command (fall back to the swipe)"))
        if CONTACTLESS in ifs:
            if spec.get("qpboc", True):
                ctq = spec.get("ctq", "8000")
                cvm = "a signature" if ctq == "4000" else "online PIN"
                out.append(("tap", "qPBOC: the ARQC in the GPO answer (CTQ %s: %s over the "
                                   "双免 limit)" % (ctq, cvm)))  # fmt: skip
            else:
                out.append(("tap", "full flow: records and GENERATE AC, as inserted"))
        script = (emv.CHIPS.get(c["pan"]) or {})
        for key, tag in (("script71", "71"), ("script", "72")):
            if script.get(key):
                out.append(("issuer script " + tag, script[key]))
        out.extend(card_keys(spec))
    scripts = []
    if STRIPE in ifs:
        scripts.append("CARD=" + c["pan"])
    if CHIP in ifs:
        scripts.append("CHIP=" + c["pan"])
    if CONTACTLESS in ifs:
        scripts.append("TAP=" + c["pan"])
    out.append(("script", " ".join(scripts)))
    return out


_CONFIRM_WORDS = {
    True: "the customer confirms on the phone",
    "never": "the customer never confirms: the terminal times out and cancels",
    False: "paid at once",
}


def confirm_word(q):
    """'yes', 'no' or 'never': whether the customer of a payment code confirms on the phone."""
    c = q.get("confirm", False)
    return "never" if c == "never" else ("yes" if c else "no")


def _yuan(fen):
    return f"{fen // 100}.{fen % 100:02d}"
