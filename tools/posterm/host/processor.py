"""What the host answers: a decoded request dict in, a reply dict out.  No sockets here.

Each request is one unit of work (Store.unit): everything the center changes for it commits
together with the reply or not at all; a database failure (full disk, lock, I/O error)
answers 96 and has moved no money.

Checks for every request, first: terminal known (97), not frozen (its freeze code), merchant
id of the terminal (03).  A financial request then: transaction allowed on this terminal
(58), MAC over the bytes received (A0), duplicate trace (94), card known (14), lost (41) /
stolen (43), expired or an expiry that is not the card's (54), PIN (55, 38 on the third
wrong try in a row), per-transaction limit (61), balance (51); then the type's own rules and
approval.

Settlement, batch upload and sign-out carry no MAC on CUP terminals; the center takes them
only from a terminal that holds the current keys: a valid MAC when one is present, or the
TCP connection that received the keys, or the terminal's trace sequence (the trace follows,
within TRACE_WINDOW, the last one the center trusts: a MAC-checked request, a management
message accepted so, or a sign-in that itself followed the sequence), and the batch the
center gave the terminal (77 otherwise).  Anything else gets 22 (sign in again).
"""

import logging
import os
import sqlite3
from datetime import datetime
from functools import lru_cache

from pos import field48, iso8583, keyload, pinblock

from posterm.host import emv, qr
from posterm.host import hostcrypto as crypto
from posterm.host.catalog import KINDS, MANAGEMENT, classify
from posterm.host.store import FaultsArmed as _FaultsArmed
from posterm.host.store import card_bin

from posterm.center.pg import CommitUnknown as _CommitUnknown

CommitUnknown = _CommitUnknown  # the server says what it is (not an internal error)

log = logging.getLogger("posterm.host")

ACQUIRER_ID = "48020000"
ISSUER_ID = "01020000"
MENU_CHUNK = 400
PIN_TRIES = 3
TRACE_WINDOW = 200  # traces a terminal may use between two messages the center sees

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
_SIGN_IN_LAYOUTS = ("001", "003", "004") + keyload.SM_LAYOUTS


def _mac_algo(term):
    """A terminal signed in with SM (国密) keys (60.3 = 005 / 006) MACs with the SM MAC."""
    return "sm4" if term["key_layout"] in keyload.SM_LAYOUTS else term["mac_algo"]


class Decline(Exception):
    """A check failed: `code` goes into field 39."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


class Reply(dict):
    """A reply: field number -> value like a decoded message.  A value of field 63 may be
    bytes (GBK text).  `mac_key` / `mac_algo`: field 64 is computed by encode() over the
    bytes that go on the wire."""

    mac_key = None
    mac_algo = "ecb"


def reply_mti(mti):
    return f"{int(mti) + 10:04d}"


def is_response(mti):
    """A response or acknowledgement MTI (third digit odd: 0210, 0830, 0410 ...)."""
    return len(mti) == 4 and mti.isdigit() and int(mti[2]) % 2 == 1


def encode(rep):
    """The reply's body bytes: field 63 may be GBK bytes (placed as they are), and field 64
    is the MAC over the bytes sent (MTI .. the last byte of field 63)."""
    msg = dict(rep)
    raw63 = msg.get(63)
    if isinstance(raw63, (bytes, bytearray)):
        msg[63] = "?" * len(raw63)  # same byte count; the real bytes are put in below
    key = getattr(rep, "mac_key", None)
    if key is not None:
        msg[64] = bytes(8)
    body = bytearray(iso8583.encode(msg))
    if isinstance(raw63, (bytes, bytearray)):
        end = len(body) - (8 if 64 in msg else 0)
        body[end - len(raw63) : end] = raw63
    if key is not None:
        body[-8:] = crypto.compute(rep.mac_algo, key, bytes(body[:-8]))
    return bytes(body)


_ODD = bytes(b ^ 1 if b.bit_count() % 2 == 0 else b for b in range(256))


def _odd_parity(key):
    """Each byte of `key` with odd parity (its lowest bit set as needed)."""
    return bytes(key).translate(_ODD)


# datetime.strftime costs ~8 us a call here, these ~2 (a purchase formats ten times)
def _hms(now):
    return f"{now.hour:02d}{now.minute:02d}{now.second:02d}"


def _mmdd(now):
    return f"{now.month:02d}{now.day:02d}"


def _kcv(key):
    return crypto.kcv(key)


@lru_cache(maxsize=8192)
def _key(hex_text):
    """Key bytes of the hex text the store keeps (cached: the same MAK serves many)."""
    return bytes.fromhex(hex_text)


def _clear_tracks(req, term):
    """Track data the terminal encrypted under the TDK of its sign-in (53 digit 3 = 1,
    reference §11), decrypted in place (after the MAC, which covers what was sent)."""
    if req.get(53, "")[2:3] == "1" and term["tdk"]:
        tdk = bytes.fromhex(term["tdk"])
        for f in (35, 36):
            if f in req:
                sm = term["key_layout"] in keyload.SM_LAYOUTS
                req[f] = keyload.decrypt_track(tdk, req[f], sm)


def _pan_of(req):
    if 2 in req:
        return req[2]
    track2 = req.get(35)
    if track2:
        return track2.split("=")[0]
    return None


def _expiry_of(req):
    """YYMM from field 14, else from track 2 (after the '='); '' when neither says."""
    if req.get(14):
        return req[14]
    track2 = req.get(35) or ""
    if "=" in track2:
        return track2.split("=", 1)[1][:4]
    return ""


def _sub60(req):
    """(60.1, 60.2, 60.3) of the request; missing parts are ''."""
    f60 = req.get(60, "")
    return f60[0:2], f60[2:8], f60[8:11]


def _follows(last, trace):
    """trace continues the sequence whose last trusted trace is `last` (wrap 999999 -> 1)."""
    if not (trace and trace.isdigit()):
        return False
    if last is None:
        return True
    return (int(trace) - int(last)) % 999999 <= TRACE_WINDOW


class Processor:
    def __init__(self, store, now=None, hooks=None):
        self.store = store
        self.now = now or datetime.now
        # called (store, req, reply, now) after every request, inside its unit of work (a
        # note commits with the message; a hook's `flush(store)`, when it has one, is called
        # once per group before the commit); default: the back office's record of what each
        # terminal did (posterm.center.hook)
        if hooks is None:
            from posterm.center import hook

            hooks = [hook.note]
        self.hooks = list(hooks)
        # keys_ahead: a group's sign-in keys are drawn before its unit of work begins (its
        # terminals' TMKs read outside it), so a fleet of centers on one SQLite file holds the
        # file's write lock for less (posterm.host.server sets it with --reuse-port); a TMK
        # or MAC algorithm changed meanwhile is seen inside, and those keys drawn again there
        self.keys_ahead = False
        # the sign-ins' new working keys' bytes and the approvals' codes: a board sim's bench
        # day sets a seeded stream (posterm.boardsim.sim), so that its runs repeat (the keys'
        # bits decide what the terminal's DES allocates)
        self.random_bytes = os.urandom
        self._ready_keys = None  # id(request) -> ((tmk, mac_algo, layout), keys), a group's
        self._served = 0  # requests of the current group begun (handle_many)
        self._conn = self._bind = self._term = None

    # -- entry points ---------------------------------------------------------------------
    def serve(self, body, conn=None):
        """Request body bytes in, reply body bytes out (None: nothing is answered), the
        store changed as the request asks.  Raises iso8583.Iso8583Error for a body that
        does not decode (the caller drops the connection)."""
        rep = self.handle(iso8583.decode(body), body, conn)
        if isinstance(rep, Exception):
            raise rep
        return None if rep is None else encode(rep)

    def handle(self, req, raw=None, conn=None):
        """The reply for request `req` (None for a response MTI sent by mistake: nothing is
        answered to an answer).  `raw`: the body bytes as received (the MAC is checked over
        them).  `conn`: a dict kept per TCP connection (which terminal got keys on it)."""
        rep = self.handle_many([(req, raw, conn)])[0]
        if isinstance(rep, Exception):
            raise rep
        return rep

    def handle_many(self, items, check_faults=False):
        """The replies to several requests [(req, raw, conn), ...], in order (group commit).

        Each request is served as if in a transaction of its own, one after the other, but
        all of them commit together: one commit (one fsync) for the group, and no reply
        exists before that commit.  When the database fails anywhere in the group (or a
        request raises), the whole group is rolled back and each request is served again in
        a unit of its own, so the failure costs only the request it belongs to (96, nothing
        moved) and every other request's answer matches what is committed.  An entry of the
        result is an Exception when serving that request raised one (a bug: the caller
        closes its connection).  `check_faults`: when faults are armed in the store (asked
        with the group's BEGIN: no round trip of its own), nothing is served and
        store.FaultsArmed is raised (the host then serves the group as the faults say)."""
        self._ready_keys = self._keys_ahead(items) if self.keys_ahead else None
        try:
            return self._handle_many(items, check_faults)
        finally:
            self._ready_keys = None  # what the group did not use is never sent: dropped

    def _keys_ahead(self, items):
        """The new keys of the group's sign-ins (layouts 001 / 003 / 004 / SM), drawn now under
        the TMKs its terminals have now (one read outside any unit of work, SQLite only)."""
        want = [(req, _sub60(req)[2]) for req, _raw, _conn in items
                if req.get("mti") == "0800" and req.get(41) and _sub60(req)[2] in _SIGN_IN_LAYOUTS]
        if not want or self.store.dialect != "sqlite":
            return None
        try:
            rows = self.store.key_rows([req[41] for req, _layout in want])
        except sqlite3.Error:  # drawn inside the unit then, as without keys_ahead
            return None
        out = {}
        for req, layout in want:
            row = rows.get(req[41])
            if row is not None and row[0]:
                keys = _new_keys(layout, row[0], row[1], self.random_bytes)
                out[id(req)] = ((row[0], row[1], layout), keys)
        return out

    def _handle_many(self, items, check_faults):
        if len(items) > 1:
            self._served = 0
            try:
                return self._group(items, check_faults)
            except _FaultsArmed:
                raise
            except _CommitUnknown as e:
                return self._unknown(items, e)
            except sqlite3.Error as e:
                if not self._served:  # the database refused the unit itself (locked ...)
                    log.error("database error, %d answered 96: %s: %s", len(items),
                              type(e).__name__, e)
                    return [self.unavailable(req) for req, _raw, _conn in items]
                log.info("group of %d rolled back (%s: %s); serving one by one",
                         len(items), type(e).__name__, e)
            except Exception as e:  # noqa: BLE001 - served again one by one below
                log.info("group of %d rolled back (%s: %s); serving one by one",
                         len(items), type(e).__name__, e)
        out = []
        for req, raw, conn in items:
            try:
                out.append(self._group([(req, raw, conn)], check_faults)[0])
            except _FaultsArmed:
                raise
            except _CommitUnknown as e:
                out.extend(self._unknown([(req, raw, conn)], e))
            except sqlite3.Error as e:
                log.error("database error, answered 96: %s: %s", type(e).__name__, e)
                out.append(self.unavailable(req))
            except Exception as e:  # noqa: BLE001 - this request only
                log.error("internal error serving %s: %s: %s", req.get("mti"),
                          type(e).__name__, e)
                out.append(e)
        return out

    @staticmethod
    def _unknown(items, e):
        """The database lost the connection during COMMIT: whether the group was stored is
        unknown, so nothing is answered (each connection is closed): the terminal reverses
        what it had asked, as after any lost reply, and the reversal finds what was stored."""
        log.error("database connection lost during COMMIT, %d request(s) not answered: %s",
                  len(items), e)
        return [e] * len(items)

    def _group(self, items, check_faults=False):
        """Serve `items` in one unit of work; raises (everything rolled back) on failure.
        `check_faults`: raise store.FaultsArmed, serving nothing, when faults are armed."""
        reps, binds = [], []
        try:
            self._unit(items, reps, binds, check_faults)
        except BaseException:
            for hook in self.hooks:  # what they queued was rolled back with the group
                discard = getattr(hook, "discard", None)
                if discard is not None:
                    discard(self.store)
            raise
        for conn, bind in binds:
            conn["keys"] = bind  # committed: this connection holds the current keys
        return reps

    def _unit(self, items, reps, binds, check_faults=False):
        with self.store.group(*_group_keys(items), check_faults=check_faults):
            for req, raw, conn in items:
                self._served += 1
                reps.append(self._serve_one(req, raw, conn))
                if conn is not None and self._bind is not None:
                    binds.append((conn, self._bind))
            for hook in self.hooks:  # what the hooks queued for the group, before the commit
                flush = getattr(hook, "flush", None)
                if flush is not None:
                    try:
                        flush(self.store)
                    except Exception as e:  # noqa: BLE001 - a note never costs the replies
                        log.error("hook %s failed: %s", getattr(hook, "__name__", hook), e)

    def _serve_one(self, req, raw, conn):
        mti = req.get("mti", "")
        if is_response(mti):
            return None
        now = self.now()
        self._conn = conn
        self._bind = None
        self._term = None
        try:
            rep = self._dispatch(req, raw, conn, now)
        except Decline as d:
            rep = self.answer(req, d.code, now)
        finally:
            self._term = None  # read for this message only (a sign-in changes its keys)
        for hook in self.hooks:
            try:
                hook(self.store, req, rep, now)
            except Exception as e:  # noqa: BLE001 - a note never costs the reply
                log.error("hook %s failed: %s", getattr(hook, "__name__", hook), e)
        return rep

    def unavailable(self, req, now=None):
        """96 (system malfunction) without touching anything; MAC'd when the terminal's key
        can still be read."""
        try:
            return self.answer(req, "96", now)
        except sqlite3.Error:
            rep = Reply({"mti": reply_mti(req["mti"])})
            for f in _ECHO.get(req["mti"], (11, 41, 42)):
                if f in req:
                    rep[f] = req[f]
            rep[39] = "96"
            return rep

    def answer(self, req, code, now=None, extra=None):
        """A reply carrying the echo fields, 39 = code, and a MAC where one belongs."""
        now = now or self.now()
        rep = Reply({"mti": reply_mti(req["mti"])})
        for f in _ECHO.get(req["mti"], (11, 41, 42)):
            if f in req:
                rep[f] = req[f]
        if len(rep.get(60, "")) > 17:
            rep[60] = rep[60][:17]  # a longer 60 (PAX: 20 digits) echoed as far as we send it
        if req["mti"] in _MACED:
            rep[12] = _hms(now)
            rep[13] = _mmdd(now)
            rep[32] = ACQUIRER_ID
        if extra:
            rep.update(extra)
        rep[39] = code
        if req["mti"] in _MACED and code != "A0":
            term = self._term
            if term is None or term["tid"] != req.get(41, ""):
                term = self.store.get_terminal(req.get(41, ""))
            if term is not None and term["mak"]:
                rep.mac_key = bytes.fromhex(term["mak"])
                rep.mac_algo = _mac_algo(term)
                rep[64] = bytes(8)  # computed by encode() over the bytes sent
        return rep

    def _dispatch(self, req, raw, conn, now):
        mti = req["mti"]
        if mti in ("0100", "0200", "0220"):
            return self._financial(req, raw, now)
        if mti == "0400":
            return self._reversal(req, raw, now)
        if emv.serves(mti, _sub60(req)[2]):  # IC downloads, script advice (host/emv.py)
            return emv.serve(self, req, raw, now)
        if mti not in _ECHO:
            raise Decline("40")  # a message type this center does not serve
        term = self._terminal(req)
        name = MANAGEMENT.get((mti, _sub60(req)[2]))
        if name is None:
            raise Decline("12")
        return getattr(self, "_" + name)(req, term, raw, now)

    # -- gates ----------------------------------------------------------------------------
    def _terminal(self, req):
        tid = req.get(41)
        if not tid:
            raise Decline("30")
        term = self.store.get_terminal(tid)
        if term is None:
            raise Decline("97")
        self._term = term  # the reply's MAC key, without reading the row again
        if term["status"] == "frozen":
            raise Decline(term["freeze_code"] or "97")
        if req.get(42) != term["mid"]:
            raise Decline("03")  # the merchant id is not this terminal's merchant
        return term

    @staticmethod
    def _check_mac(req, term, raw):
        if not term["mak"] or 64 not in req:
            raise Decline("A0")
        mab = bytes(raw[:-8]) if raw is not None else iso8583.mab(req)
        try:
            ok = crypto.verify(_mac_algo(term), _key(term["mak"]), mab, req[64])
        except (iso8583.Iso8583Error, ValueError):
            ok = False
        if not ok:
            raise Decline("A0")

    def _trust(self, term, trace):
        """`trace` of `term` is proven: the sequence continues from it."""
        if trace and trace.isdigit() and _follows(term["seq_trace"], trace):
            self.store.set_sequence(term["tid"], trace)

    def _bound(self, req, term, raw):
        """Management without a MAC: only from the terminal that holds the current keys."""
        if not term["mak"]:
            raise Decline("22")  # never signed in
        if _sub60(req)[1] != term["host_batch"]:
            raise Decline("77")  # not the batch the center gave this terminal
        trace = req.get(11, "")
        if 64 in req:
            self._check_mac(req, term, raw)
        elif self._conn is None or self._conn.get("keys") != (term["tid"], term["mak"]):
            if not _follows(term["seq_trace"], trace):
                raise Decline("22")
        self._trust(term, trace)

    def _check_card(self, req, term, now):
        pan = _pan_of(req)
        card = self.store.get_card(pan) if pan else None
        if card is None:
            raise Decline("14")
        if card["status"] == "lost":
            raise Decline("41")
        if card["status"] == "stolen":
            raise Decline("43")
        today = f"{now.year % 100:02d}{now.month:02d}"
        exp = _expiry_of(req)
        if card["expiry"] < today:
            raise Decline("54")
        if exp and (
            len(exp) != 4
            or not exp.isdigit()
            or not 1 <= int(exp[2:]) <= 12
            or exp < today
            or exp != card["expiry"]
        ):
            raise Decline("54")  # expired, impossible, or not the expiry of this card
        if 52 in req:
            self._check_pin(req[52], card, term, now)
        return card

    def _check_pin(self, block, card, term, now):
        day = f"{now.year:04d}{now.month:02d}{now.day:02d}"
        tries = self.store.pin_tries(card["pan"], day)
        if tries >= PIN_TRIES:
            raise Decline("38")
        try:
            pin = crypto.decrypt_pin(_key(term["pik"]), block, card["pan"])
        except pinblock.PinBlockError:
            raise Decline("99") from None
        if pin != card["pin"]:
            tries += 1
            self.store.set_pin_tries(card["pan"], tries, day)
            raise Decline("38" if tries >= PIN_TRIES else "55")
        if tries:
            self.store.set_pin_tries(card["pan"], 0, day)

    @staticmethod
    def _card_info(pan):
        """Reply fields 44 and 63 for the card (63.1 organisation, 63.2 issuer in GBK)."""
        b = card_bin(pan)
        issuer_id = (b or {}).get("issuer_id", ISSUER_ID)
        out = {44: f"{issuer_id:<11}{ACQUIRER_ID:<11}"}
        if b is not None:
            out[63] = b["org"].encode("ascii") + b["issuer"].encode("gbk")
        return out

    # -- financial ------------------------------------------------------------------------
    def _financial(self, req, raw, now):
        tx_type = classify(req["mti"], req.get(3, ""), _sub60(req)[0], req.get(22, ""))
        term = self._terminal(req)
        if tx_type is None:
            raise Decline("12")
        if term["allowed"] and tx_type not in term["allowed"].split(","):
            raise Decline("58")
        self._check_mac(req, term, raw)
        _clear_tracks(req, term)
        trace = req.get(11)
        batch = _sub60(req)[1]
        if not trace or len(batch) != 6:
            raise Decline("30")
        self._trust(term, trace)
        if self.store.find_transaction(term["tid"], batch, trace) is not None:
            raise Decline("94")
        pan = _pan_of(req)
        record = {
            "tid": term["tid"],
            "batch": batch,
            "trace": trace,
            "mti": req["mti"],
            "type": tx_type,
            "pan": pan,
            "amount_fen": int(req.get(4, "0") or 0),
            "date": f"{now.year:04d}-{now.month:02d}-{now.day:02d}",
            "time": f"{now.hour:02d}:{now.minute:02d}:{now.second:02d}",
        }
        if qr.serves(tx_type):  # a scanned payment code: the wallet's side (host/qr.py)
            return qr.serve(self, req, term, record, now)
        extra = {}
        chip = None
        try:
            card = self._check_card(req, term, now)
            chip = emv.check(req, card["pan"])  # a chip card's ARQC (None for a stripe)
            handler = getattr(self, "_tx_" + tx_type)
            orig_id = handler(req, term, card, record["amount_fen"], extra)
        except Decline as d:
            record.update(result=d.code, status="declined")
            self.store.record_transaction(**record)
            info = self._card_info(pan)
            info.pop(44, None)
            info.update(emv.reply_fields(chip, d.code, pan))
            return self.answer(req, d.code, now, {15: _mmdd(now), **info})
        rrn = self.store.new_rrn(now)
        auth = self.store.new_auth_code(self.random_bytes)
        record.update(rrn=rrn, auth=auth, result="00", status="approved", orig_id=orig_id)
        self.store.record_transaction(**record)
        extra.update({2: card["pan"], 15: _mmdd(now), 37: rrn, 38: auth})
        extra.update(self._card_info(card["pan"]))
        extra.update(emv.reply_fields(chip, "00", card["pan"]))
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
    def _reversal(self, req, raw, now):
        """Undo what the original moved, found by terminal + batch + original trace; no
        original (it was never committed) means nothing to undo: 25, no money moves."""
        term = self._terminal(req)
        self._check_mac(req, term, raw)
        orig = self.store.find_transaction(term["tid"], _sub60(req)[1], req.get(11, ""))
        if orig is not None and qr.serves(orig["type"]):  # a QR order: cancelled (host/qr.py)
            return qr.reverse(self, req, orig, now)
        if orig is None:
            self._unmatched_reversal(req, term, now)
            raise Decline("25")
        if orig["result"] != "00" or not KINDS[orig["type"]][1]:
            raise Decline("25")
        if orig["status"] == "reversed":
            return self.answer(req, "00", now)
        pan = _pan_of(req)
        if orig["status"] != "approved" or (pan and pan != orig["pan"]):
            raise Decline("25")
        self._undo(orig)
        self.store.set_status(orig["id"], "reversed")
        return self.answer(req, "00", now)

    def _unmatched_reversal(self, req, term, now):
        """A reversal whose original is not here: kept under the original's trace (result
        25, status reversed), as a switch keeps one, so that the original arriving after it
        (held on another route, or by another center process on these books) is refused as
        a duplicate (94): the terminal, answered 25, is done with it and would never know
        it was approved."""
        batch = _sub60(req)[1]
        trace = req.get(11)
        if not trace or len(batch) != 6:
            return
        f601 = _sub60(req)[0]
        tx_type = (classify("0200", req.get(3, ""), f601, req.get(22, ""))
                   or classify("0100", req.get(3, ""), f601, req.get(22, ""))
                   or "purchase")  # fmt: skip
        self.store.record_transaction(
            tid=term["tid"], batch=batch, trace=trace, mti="0400", type=tx_type,
            pan=_pan_of(req), amount_fen=int(req.get(4, "0") or 0),
            date=f"{now.year:04d}-{now.month:02d}-{now.day:02d}",
            time=f"{now.hour:02d}:{now.minute:02d}:{now.second:02d}",
            result="25", status="reversed",
        )  # fmt: skip

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
    def _sign_in(self, req, term, raw, now):
        """Working keys in the layout the request asks for (60.3, reference §4.2, §11):
        001 = 24 bytes (single PIK, single MAK), 003 = 40 (double PIK, MAK, padding),
        004 = 60 (003 + a double track key TDK and its check value).  A terminal whose MAC
        algorithm is X9.19 gets a double-length MAK in 003 / 004.  005 / 006 = SM (国密)
        keys, SM4 under the TMK: 40 bytes, or 60 with an SM4 TDK (pos.keyload); the terminal
        then MACs with the SM MAC, sends the SM4 PIN block and SM4-encrypted tracks."""
        layout = _sub60(req)[2]
        ready = self._ready_keys.pop(id(req), None) if self._ready_keys else None
        if ready is not None and ready[0] == (term["tmk"], term["mac_algo"], layout):
            pik, mak, tdk, f62 = ready[1]  # drawn before the group (keys_ahead), never sent
        else:
            pik, mak, tdk, f62 = _new_keys(layout, term["tmk"], term["mac_algo"],
                                           self.random_bytes)
        trace = req.get(11, "")  # a trace that continues the sequence is trusted with it
        seq = trace if trace and trace.isdigit() and _follows(term["seq_trace"], trace) else None
        self.store.set_working_keys(term["tid"], pik, mak, now, layout, tdk, seq)
        self._term = None  # its keys changed
        self._bind = (term["tid"], mak.hex().upper())
        return self.answer(
            req,
            "00",
            now,
            {
                12: _hms(now),
                13: _mmdd(now),
                32: ACQUIRER_ID,
                37: self.store.new_rrn(now),
                60: "00" + term["host_batch"] + layout,
                62: f62,
            },
        )

    def _sign_out(self, req, term, raw, now):
        self._bound(req, term, raw)
        return self.answer(req, "00", now)

    def _echo_test(self, req, term, raw, now):
        if 62 in req:  # it carries a report (posterm.center.hook records it): bound
            self._bound(req, term, raw)
        return self.answer(req, "00", now)

    def _status_upload(self, req, term, raw, now):
        """What the terminal says of itself (0820 / 362): taken, as the other management
        messages, only from the terminal holding the current keys (22 otherwise)."""
        self._bound(req, term, raw)
        return self.answer(req, "00", now)

    def _menu_download(self, req, term, raw, now):
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

    def _settlement(self, req, term, raw, now):
        f48 = req.get(48, "")
        try:
            field48.parse_totals(f48)
        except field48.Field48Error:
            raise Decline("30") from None
        self._bound(req, term, raw)
        batch = _sub60(req)[1]
        domestic, foreign = self.store.batch_totals_split(term["tid"], batch, _is_foreign)
        # the store's (debit fen, debit count, credit fen, credit count) -> pos.field48's order
        domestic = (domestic[1], domestic[0], domestic[3], domestic[2])
        foreign = (foreign[1], foreign[0], foreign[3], foreign[2])
        domestic_ok = field48.same_half(f48, 0, domestic)
        foreign_ok = field48.same_half(f48, 1, foreign)
        reply48 = field48.answer(f48, domestic_ok, foreign_ok)
        host = field48.totals(domestic, foreign)
        self.store.record_settlement(
            term["tid"], batch, f48, host[0:30], domestic_ok and foreign_ok
        )
        return self.answer(
            req,
            "00",
            now,
            {
                12: _hms(now),
                13: _mmdd(now),
                15: _mmdd(now),
                37: self.store.new_rrn(now),
                48: reply48,
            },
        )

    def _batch_upload(self, req, term, raw, now):
        try:
            records = field48.parse_records(req.get(48, ""))
        except field48.Field48Error:
            raise Decline("30") from None
        self._bound(req, term, raw)
        batch = _sub60(req)[1]
        for foreign_card, trace, pan, fen in records:
            self.store.record_upload(term["tid"], batch, "201", int(foreign_card), trace, pan, fen)
        return self.answer(req, "00", now)

    def _batch_upload_ic(self, req, term, raw, now):
        self._bound(req, term, raw)
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

    def _batch_end(self, req, term, raw, now):
        batch = _sub60(req)[1]
        if len(batch) != 6:
            raise Decline("30")
        self._bound(req, term, raw)
        self.store.close_batch(term["tid"], batch)
        return self.answer(req, "00", now)


def _new_keys(layout, tmk_hex, mac_algo, rand=os.urandom):
    """A sign-in's new working keys in `layout` under the TMK (hex) -> (pik, mak, tdk or
    None, field 62); a terminal whose MAC algorithm is X9.19 gets a double-length MAK in
    003 / 004 (see Processor._sign_in). rand(n): n random bytes (Processor.random_bytes)."""
    tmk = _key(tmk_hex)
    double_mak = mac_algo == "x9.19" and layout != "001"
    mak = _odd_parity(rand(16 if double_mak else 8))
    tdk = None
    if layout in keyload.SM_LAYOUTS:  # SM keys: 40 bytes (005) or 60 with a TDK (006)
        pik, mak = rand(16), rand(16)
        tdk = rand(16) if layout == "006" else None
        f62 = keyload.pack_signin_keys_sm(bytes.fromhex(tmk_hex), pik, mak, tdk)
    elif layout == "001":
        pik = _odd_parity(rand(8))
        f62 = (crypto.encrypt(tmk, pik) + crypto.kcv_once(pik) + crypto.encrypt(tmk, mak)
               + _kcv(mak))
    else:
        pik = _odd_parity(rand(16))
        if double_mak:
            f62 = (crypto.encrypt(tmk, pik) + crypto.kcv_once(pik)
                   + crypto.encrypt(tmk, mak) + _kcv(mak))
        else:
            f62 = crypto.signin_keys(tmk, pik, mak)
        if layout == "004":
            tdk = _odd_parity(rand(16))
            f62 += crypto.encrypt(tmk, tdk) + crypto.kcv_once(tdk)
    return pik, mak, tdk, f62


def _group_keys(items):
    """What a group of requests will lock and look up (Store.group): the terminals, the
    cards, the (tid, batch, trace) of the financial requests, how many reference numbers."""
    tids, pans, keys, rrns = set(), set(), [], 0
    for req, _raw, _conn in items:
        mti = req.get("mti", "")
        tid = req.get(41)
        if tid:
            tids.add(tid)
        if mti in ("0100", "0200", "0220", "0400"):
            pan = _pan_of(req)
            if pan and pan.isdigit():
                pans.add(pan)
            if mti != "0400" and tid and req.get(11):
                keys.append((tid, _sub60(req)[1], req[11]))
        if mti in ("0100", "0200", "0220", "0800", "0500"):
            rrns += 1
    return sorted(tids), sorted(pans), keys, rrns


def _is_foreign(pan):
    b = card_bin(pan)
    return bool(b and b["foreign"])
