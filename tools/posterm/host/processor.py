"""What the host answers: a decoded request dict in, a reply dict out.  No sockets here.

Checks for a financial request, in order (host brief): terminal known (97), not frozen (its
freeze code), transaction allowed on this terminal (58), MAC (A0), duplicate trace (94),
card known (14), lost (41) / stolen (43), expired (54), PIN (55, 38 on the third wrong try in a
row), per-transaction limit (61), balance (51); then the type's own rules and approval.
"""

import logging
import os
from datetime import datetime

from pos import iso8583, keyload, mac, pinblock

from posterm.host.catalog import FINANCIAL, KINDS, MANAGEMENT

MAC_ALGO = "ecb"
ACQUIRER_ID = "48020000"
ISSUER_ID = "01020000"
MENU_CHUNK = 400
PIN_TRIES = 3

# Fields copied from the request into the reply, per request MTI (reference §3.1, §3.2).
_ECHO_FINANCIAL = (2, 3, 4, 11, 14, 25, 41, 42, 49, 53, 60)
_ECHO = {
    "0100": _ECHO_FINANCIAL,
    "0200": _ECHO_FINANCIAL,
    "0220": _ECHO_FINANCIAL,
    "0400": (2, 3, 4, 11, 14, 22, 25, 41, 42, 49, 60),
    "0800": (11, 41, 42, 60),
    "0820": (11, 41, 42, 60),
    "0500": (11, 41, 42, 49, 60, 63),
    "0320": (11, 41, 42, 60),
}
_MACED = ("0100", "0200", "0220", "0400")


class Decline(Exception):
    """A check failed: `code` goes into field 39."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def reply_mti(mti):
    return f"{int(mti) + 10:04d}"


def _odd_parity(key):
    out = bytearray(key)
    for i, b in enumerate(out):
        if (b).bit_count() % 2 == 0:
            out[i] = b ^ 1
    return bytes(out)


def _pan_of(req):
    if 2 in req:
        return req[2]
    track2 = req.get(35)
    if track2:
        return track2.split("=")[0]
    return None


def _sub60(req):
    """(60.1, 60.2, 60.3) of the request; missing parts are ''."""
    f60 = req.get(60, "")
    return f60[0:2], f60[2:8], f60[8:11]


class Processor:
    def __init__(self, store, now=None, hooks=None):
        self.store = store
        self.now = now or datetime.now
        # called (store, req, reply, now) after every request; default: the back office's
        # record of what each terminal did (posterm.center.hook)
        if hooks is None:
            from posterm.center import hook

            hooks = [hook.note]
        self.hooks = list(hooks)

    # -- entry points ---------------------------------------------------------------------
    def handle(self, req):
        """The reply dict for request `req` (never None)."""
        now = self.now()
        rep = self._reply(req, now)
        for hook in self.hooks:
            try:
                hook(self.store, req, rep, now)
            except Exception as e:  # noqa: BLE001 - a note must never cost the terminal its reply
                logging.getLogger("posterm.host").error("hook %s failed: %s", hook.__name__, e)
        return rep

    def _reply(self, req, now):
        mti = req["mti"]
        try:
            if mti in ("0100", "0200", "0220"):
                return self._financial(req, now)
            if mti == "0400":
                return self._reversal(req, now)
            name = MANAGEMENT.get((mti, _sub60(req)[2]))
            if name is None:
                raise Decline("12" if mti in _ECHO else "30")
            return getattr(self, "_" + name)(req, now)
        except Decline as d:
            return self.answer(req, d.code, now)

    def answer(self, req, code, now=None, extra=None):
        """A reply carrying the echo fields, 39 = code, and a MAC where one belongs."""
        now = now or self.now()
        rep = {"mti": reply_mti(req["mti"])}
        for f in _ECHO.get(req["mti"], (11, 41, 42)):
            if f in req:
                rep[f] = req[f]
        if req["mti"] in _MACED:
            rep[12] = now.strftime("%H%M%S")
            rep[13] = now.strftime("%m%d")
            rep[32] = ACQUIRER_ID
        if extra:
            rep.update(extra)
        rep[39] = code
        if req["mti"] in _MACED and code != "A0":
            term = self.store.get_terminal(req.get(41, ""))
            if term is not None and term["mak"]:
                self.sign(rep, bytes.fromhex(term["mak"]))
        return rep

    @staticmethod
    def sign(rep, mak):
        rep[64] = b"\x00" * 8
        rep[64] = mac.compute(MAC_ALGO, mak, iso8583.mab(rep))

    # -- gates ----------------------------------------------------------------------------
    def _terminal(self, req):
        tid = req.get(41)
        if not tid:
            raise Decline("30")
        term = self.store.get_terminal(tid)
        if term is None:
            raise Decline("97")
        if term["status"] == "frozen":
            raise Decline(term["freeze_code"] or "97")
        return term

    @staticmethod
    def _check_mac(req, term):
        if not term["mak"] or 64 not in req:
            raise Decline("A0")
        try:
            ok = mac.verify(MAC_ALGO, bytes.fromhex(term["mak"]), iso8583.mab(req), req[64])
        except iso8583.Iso8583Error:
            ok = False
        if not ok:
            raise Decline("A0")

    def _check_card(self, req, term, now):
        pan = _pan_of(req)
        card = self.store.get_card(pan) if pan else None
        if card is None:
            raise Decline("14")
        if card["status"] == "lost":
            raise Decline("41")
        if card["status"] == "stolen":
            raise Decline("43")
        if card["expiry"] < now.strftime("%y%m"):
            raise Decline("54")
        if 52 in req:
            self._check_pin(req[52], card, term, now)
        return card

    def _check_pin(self, block, card, term, now):
        day = now.strftime("%Y%m%d")
        tries = self.store.pin_tries(card["pan"], day)
        if tries >= PIN_TRIES:
            raise Decline("38")
        try:
            pin = pinblock.decrypt_pin(bytes.fromhex(term["pik"]), block, card["pan"])
        except pinblock.PinBlockError:
            raise Decline("99") from None
        if pin != card["pin"]:
            tries += 1
            self.store.set_pin_tries(card["pan"], tries, day)
            raise Decline("38" if tries >= PIN_TRIES else "55")
        if tries:
            self.store.set_pin_tries(card["pan"], 0, day)

    # -- financial ------------------------------------------------------------------------
    def _financial(self, req, now):
        tx_type = FINANCIAL.get((req["mti"], req.get(3, ""), _sub60(req)[0]))
        term = self._terminal(req)
        if tx_type is None:
            raise Decline("12")
        if term["allowed"] and tx_type not in term["allowed"].split(","):
            raise Decline("58")
        self._check_mac(req, term)
        trace = req.get(11)
        batch = _sub60(req)[1]
        if not trace or len(batch) != 6:
            raise Decline("30")
        if self.store.find_transaction(term["tid"], batch, trace) is not None:
            raise Decline("94")
        record = {
            "tid": term["tid"],
            "batch": batch,
            "trace": trace,
            "mti": req["mti"],
            "type": tx_type,
            "pan": _pan_of(req),
            "amount_fen": int(req.get(4, "0") or 0),
            "date": now.strftime("%Y-%m-%d"),
            "time": now.strftime("%H:%M:%S"),
        }
        extra = {}
        try:
            card = self._check_card(req, term, now)
            handler = getattr(self, "_tx_" + tx_type)
            orig_id = handler(req, term, card, record["amount_fen"], extra)
        except Decline as d:
            record.update(result=d.code, status="declined")
            self.store.record_transaction(**record)
            return self.answer(req, d.code, now, {15: now.strftime("%m%d")})
        rrn = self.store.new_rrn(now)
        auth = self.store.new_auth_code()
        record.update(rrn=rrn, auth=auth, result="00", status="approved", orig_id=orig_id)
        self.store.record_transaction(**record)
        extra.update(
            {
                2: card["pan"],
                15: now.strftime("%m%d"),
                37: rrn,
                38: auth,
                44: f"{ISSUER_ID:<11}{ACQUIRER_ID:<11}",
            }
        )
        return self.answer(req, "00", now, extra)

    @staticmethod
    def _check_funds(card, amount, available=None):
        if card["limit_fen"] is not None and amount > card["limit_fen"]:
            raise Decline("61")
        if amount > (card["balance_fen"] if available is None else available):
            raise Decline("51")

    def _tx_balance(self, req, term, card, amount, extra):
        extra[54] = f"1001156C{card['balance_fen']:012d}"

    def _tx_purchase(self, req, term, card, amount, extra):
        self._check_funds(card, amount)
        self.store.adjust_balance(card["pan"], -amount)

    _tx_preauth = _tx_purchase  # the hold is taken from the balance

    def _original_on_terminal(self, req, term, tx_type, card, amount):
        f61 = req.get(61, "")
        orig = self.store.find_transaction(term["tid"], f61[0:6], f61[6:12])
        if (
            orig is None
            or orig["type"] != tx_type
            or orig["result"] != "00"
            or orig["status"] != "approved"
            or orig["pan"] != card["pan"]
            or orig["amount_fen"] != amount
        ):
            raise Decline("25")
        return orig

    def _tx_void(self, req, term, card, amount, extra):
        orig = self._original_on_terminal(req, term, "purchase", card, amount)
        if orig["refunded_fen"]:
            raise Decline("64")
        self.store.adjust_balance(card["pan"], amount)
        self.store.set_status(orig["id"], "voided")
        return orig["id"]

    def _tx_completion_void(self, req, term, card, amount, extra):
        orig = self._original_on_terminal(req, term, "completion", card, amount)
        self.store.adjust_balance(card["pan"], amount)
        self.store.set_status(orig["id"], "voided")
        return orig["id"]

    def _tx_refund(self, req, term, card, amount, extra):
        rrn = req.get(37, "")
        orig = self.store.find_by_rrn(rrn, "purchase") or self.store.find_by_rrn(rrn, "completion")
        if orig is None or orig["status"] != "approved" or orig["pan"] != card["pan"]:
            raise Decline("25")
        mmdd = req.get(61, "")[12:16]
        if mmdd and mmdd != orig["date"][5:7] + orig["date"][8:10]:
            raise Decline("25")  # the original is named by its reference number and date
        if amount <= 0 or amount > orig["amount_fen"] - orig["refunded_fen"]:
            raise Decline("64")
        self.store.adjust_balance(card["pan"], amount)
        self.store.add_refunded(orig["id"], amount)
        return orig["id"]

    def _preauth(self, req, card):
        orig = self.store.find_preauth(card["pan"], req.get(38, ""))
        if orig is None or orig["status"] != "approved":
            raise Decline("25")
        return orig

    def _tx_preauth_void(self, req, term, card, amount, extra):
        orig = self._preauth(req, card)
        if amount != orig["amount_fen"]:
            raise Decline("64")
        self.store.adjust_balance(card["pan"], amount)
        self.store.set_status(orig["id"], "voided")
        return orig["id"]

    def _tx_completion(self, req, term, card, amount, extra):
        orig = self._preauth(req, card)
        hold = orig["amount_fen"]
        if amount * 100 > hold * 115:
            raise Decline("64")
        self._check_funds(card, amount, card["balance_fen"] + hold)
        self.store.adjust_balance(card["pan"], hold - amount)
        self.store.set_status(orig["id"], "completed")
        return orig["id"]

    # -- reversal -------------------------------------------------------------------------
    def _reversal(self, req, now):
        term = self._terminal(req)
        self._check_mac(req, term)
        orig = self.store.find_transaction(term["tid"], _sub60(req)[1], req.get(11, ""))
        if orig is None or orig["result"] != "00" or not KINDS[orig["type"]][1]:
            raise Decline("25")
        if orig["status"] == "reversed":
            return self.answer(req, "00", now)
        pan = _pan_of(req)
        if orig["status"] != "approved" or (pan and pan != orig["pan"]):
            raise Decline("25")
        self._undo(orig)
        self.store.set_status(orig["id"], "reversed")
        return self.answer(req, "00", now)

    def _undo(self, tx):
        pan, amount, kind = tx["pan"], tx["amount_fen"], tx["type"]
        parent = self.store.get_transaction(tx["orig_id"]) if tx["orig_id"] else None
        if kind in ("purchase", "preauth"):
            self.store.adjust_balance(pan, amount)
        elif kind in ("void", "preauth_void", "completion_void"):
            self.store.adjust_balance(pan, -amount)
            self.store.set_status(parent["id"], "approved")
        elif kind == "completion":
            self.store.adjust_balance(pan, amount - parent["amount_fen"])
            self.store.set_status(parent["id"], "approved")

    # -- management -----------------------------------------------------------------------
    def _sign_in(self, req, now):
        term = self._terminal(req)
        pik = _odd_parity(os.urandom(16))
        mak = _odd_parity(os.urandom(8))
        f62 = keyload.pack_signin_keys(bytes.fromhex(term["tmk"]), pik, mak)
        self.store.set_working_keys(term["tid"], pik, mak, now)
        return self.answer(
            req,
            "00",
            now,
            {
                12: now.strftime("%H%M%S"),
                13: now.strftime("%m%d"),
                32: ACQUIRER_ID,
                37: self.store.new_rrn(now),
                60: "00" + term["host_batch"] + "003",
                62: f62,
            },
        )

    def _sign_out(self, req, now):
        self._terminal(req)
        return self.answer(req, "00", now)

    def _echo_test(self, req, now):
        self._terminal(req)
        return self.answer(req, "00", now)

    def _menu_download(self, req, now):
        self._terminal(req)
        ask = req.get(62, b"")
        if len(ask) != 10 or not ask.isdigit():
            raise Decline("30")
        have, offset = int(ask[:4]), int(ask[4:])
        current = self.store.current_menu()
        version, data, crc = current if current else (0, b"", "00000000")
        if have == version:
            data, offset = b"", 0
        elif offset > len(data):
            raise Decline("30")
        chunk = data[offset : offset + MENU_CHUNK]
        head = f"{version:04d}{crc}{len(data):06d}{offset:06d}"
        return self.answer(req, "00", now, {62: head.encode("ascii") + chunk})

    def _settlement(self, req, now):
        term = self._terminal(req)
        f48 = req.get(48, "")
        if len(f48) < 62 or not f48.isdigit():
            raise Decline("30")
        batch = _sub60(req)[1]
        d_amt, d_cnt, c_amt, c_cnt = self.store.batch_totals(term["tid"], batch)
        host = f"{d_amt:012d}{d_cnt % 1000:03d}{c_amt:012d}{c_cnt % 1000:03d}"
        domestic_ok = f48[0:30] == host
        foreign_ok = int(f48[31:61]) == 0
        reply48 = (
            f48[0:30]
            + ("1" if domestic_ok else "2")
            + f48[31:61]
            + ("1" if foreign_ok else "2")
            + f48[62:]
        )
        self.store.record_settlement(term["tid"], batch, f48, host, domestic_ok and foreign_ok)
        return self.answer(
            req,
            "00",
            now,
            {
                12: now.strftime("%H%M%S"),
                13: now.strftime("%m%d"),
                15: now.strftime("%m%d"),
                37: self.store.new_rrn(now),
                48: reply48,
            },
        )

    def _batch_upload(self, req, now):
        term = self._terminal(req)
        f48 = req.get(48, "")
        if len(f48) < 2 or not f48.isdigit():
            raise Decline("30")
        count = int(f48[:2])
        if len(f48) != 2 + 40 * count:
            raise Decline("30")
        batch = _sub60(req)[1]
        for i in range(count):
            rec = f48[2 + 40 * i : 42 + 40 * i]
            self.store.record_upload(
                term["tid"],
                batch,
                "201",
                int(rec[0:2] == "01"),
                rec[2:8],
                rec[8:28].lstrip("0"),
                int(rec[28:40]),
            )
        return self.answer(req, "00", now)

    def _batch_upload_ic(self, req, now):
        term = self._terminal(req)
        self.store.record_upload(
            term["tid"],
            _sub60(req)[1],
            _sub60(req)[2],
            0,
            req.get(11),
            _pan_of(req),
            int(req.get(4, "0") or 0),
        )
        return self.answer(req, "00", now)

    def _batch_end(self, req, now):
        term = self._terminal(req)
        batch = _sub60(req)[1]
        if len(batch) != 6:
            raise Decline("30")
        self.store.close_batch(term["tid"], batch)
        return self.answer(req, "00", now)
