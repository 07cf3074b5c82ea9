# IC key and parameter downloads (IC公钥下载 / IC参数下载, reference §2.1, §3.2, §12) and the
# script result advice (脚本通知), run as an overlay. A download runs from the menu (终端更新),
# and before the next transaction when a reply's header asked for it (processing
# requirement 4 = CA public keys, 5 = AIDs: pos.comm.after_reply records it as "ic_due").
#   0820 372 status query -> 62 "1" + 9F06 RID 9F22 index DF05 expiry of every key
#   0800 370, 62 = 9F06 + 9F22 -> 62 "1" + the key's TLV; then 0800 371 (the end)
#   0820 382 -> 62 "1" + 9F06 of every AID; 0800 380, 62 = 9F06 -> "1" + the AID's TLV;
#   then 0800 381
#   0800 394 contactless parameters -> 62 "1" + TLV (DF21 the 双免 no-CVM limit n12, DF20
#   the contactless limit, DF19 the offline floor limit); then 0800 395
# The CA keys go to their own file (capk.tlv: the TLV of each, one after the other: they are
# read only when needed, never held in RAM; a download whose every key is refused keeps the
# keys stored before, as it keeps them when the center does not serve it); the AIDs and the
# contactless limits go to the state (the kernel's AID list for selection; params qps_limit).
# A center without these messages answers 12, 30 or 40: nothing is changed then.
from pos import center, ui
from pos.emv import tlv

NOT_SERVED = ("12", "30", "40")
CAPK_FILE = "capk.tlv"


def _msg(t, mti, code, f62=None):
    msg = {"mti": mti}
    center.base_fields(t, msg, t.state.take_trace())
    msg[60] = "00" + center.batch_str(t) + code
    if f62 is not None:
        msg[62] = f62
    return msg


def _ask(t, title, mti, code, f62=None):
    # -> the reply's field 62 (b"" when none), "not_served", or a Result that failed
    res = yield from center.exchange(t, _msg(t, mti, code, f62), title, with_mac=False)
    if res.status == center.OK and res.code() in NOT_SERVED:
        return "not_served"
    if not res.approved():
        return res
    return bytes(res.reply.get(62) or b"")


def _list(f62):
    # a status query's answer -> one [(9F06, value), (tag, value) ...] per key or AID
    if not f62 or f62[0:1] != b"1":
        return []
    out = []
    cur = None
    for t, v in tlv.decode(f62[1:]):
        if t == 0x9F06:
            cur = [(t, v)]
            out.append(cur)
        elif cur is not None:
            cur.append((t, v))
    return out


def run(t, title=None):
    # Generator -> "done", "not_served" or the failure screen's lines (a list). A field 62
    # that is not the TLV it should be stops the download with 应答报文错误 (nothing of it
    # is stored; what was stored before stays).
    title = title or t.s("ic_download")
    ui.show_progress(t, title, t.s("ic_downloading"))
    try:
        got = yield from _all(t, title)
    except tlv.TlvError as e:
        t.emit(("log", "warn", "IC download: bad field 62: %s" % e))
        t.emit(("beep", "error"))
        return [t.s("bad_reply")]
    if got in ("done", "not_served"):
        t.state.extra.pop("ic_due", None)
        t.state.save()
    return got


def _all(t, title):
    got = yield from _capks(t, title)
    if got == "done":
        got = yield from _aids(t, title)
    if got == "done":
        got = yield from _contactless(t, title)
    return got


def _fail(t, res):
    if isinstance(res, str):
        return res
    return center.failure_lines(t, res)


def _capks(t, title):
    f62 = yield from _ask(t, title, "0820", "372")
    if not isinstance(f62, bytes):
        return _fail(t, f62)
    global _capk_refusals
    out = bytearray()
    _capk_refusals = 0
    for key in _list(f62):
        name = tlv.build(key[:2])
        got = yield from _ask(t, title, "0800", "370", name)
        if not isinstance(got, bytes):
            return _fail(t, got)
        if got[0:1] == b"1":
            body = got[1:]
            tlv.decode(body)  # a malformed key is refused before it is stored
            if _checksum_ok(tlv.flatten(body)):
                out.extend(tlv.encode(0xFF01, body))
            else:
                _capk_refusals += 1
                t.emit(
                    (
                        "log",
                        "warn",
                        "IC public key %s refused: its check sum (DF03) "
                        "does not match, or cannot be checked here" % name.hex().upper(),
                    )
                )
    end = yield from _ask(t, title, "0800", "371")
    if not isinstance(end, bytes):
        return _fail(t, end)
    if out or not _capk_refusals:  # every key refused: the keys stored before stay
        t.storage.write(CAPK_FILE, bytes(out))
    t.emit(
        (
            "log",
            "info",
            "IC public keys: %d stored, %d refused (check sum)"
            % (len(tlv.decode(bytes(out))), _capk_refusals),
        )
    )
    return "done"


_capk_refusals = 0  # the CA keys the last download refused (their check sum did not match)


def _checksum_ok(k):
    # EMV Book 2 §11.2.2: a CA key is stored only when its check sum (DF03) is the SHA-1 (DF06
    # = 01) of RID || index || modulus || exponent; a key without one, or with another hash
    # algorithm, is refused. A runtime whose hashlib has no SHA-1 (MicroPython's WebAssembly
    # build, a Pico without networking) checks it with pos.sha1.
    if k.get(0xDF06, b"\x01") != b"\x01" or 0xDF03 not in k:
        return False
    data = k.get(0x9F06, b"") + k.get(0x9F22, b"") + k.get(0xDF02, b"") + k.get(0xDF04, b"")
    try:
        import hashlib

        return hashlib.sha1(data).digest() == k[0xDF03]
    except (ImportError, AttributeError):
        from pos import sha1

        return sha1.digest(data) == k[0xDF03]


def _aids(t, title):
    f62 = yield from _ask(t, title, "0820", "382")
    if not isinstance(f62, bytes):
        return _fail(t, f62)
    aids = []
    limit = None
    for entry in _list(f62):
        got = yield from _ask(t, title, "0800", "380", tlv.build(entry[:1]))
        if not isinstance(got, bytes):
            return _fail(t, got)
        if got[0:1] != b"1":
            continue
        params = tlv.flatten(got[1:])
        aid = params.get(0x9F06)
        if aid:
            aids.append(aid.hex().upper())
        if params.get(0xDF21):
            limit = _fen(params[0xDF21])
    end = yield from _ask(t, title, "0800", "381")
    if not isinstance(end, bytes):
        return _fail(t, end)
    if aids:
        t.state.extra["ic_aids"] = aids
    if limit is not None:
        t.state.params["qps_limit"] = limit
    t.state.save()
    return "done"


def _fen(v):
    digits = v.hex()
    return int(digits) if digits.isdigit() else None


def _contactless(t, title):
    got = yield from _ask(t, title, "0800", "394")
    if got == "not_served":
        return "done"  # the AIDs' DF21 stands
    if not isinstance(got, bytes):
        return _fail(t, got)
    if got[0:1] == b"1":
        params = tlv.flatten(got[1:])
        v = params.get(0xDF21)
        if v is not None and _fen(v) is not None:
            t.state.params["qps_limit"] = _fen(v)
            t.state.save()
    end = yield from _ask(t, title, "0800", "395")
    if not isinstance(end, bytes):
        return _fail(t, end)
    return "done"


def menu(t):
    # 终端更新 -> IC参数下载
    title = t.s("ic_download")
    ok = yield from ui.confirm(t, title, [t.s("ic_download_confirm")], t.s("confirm_keys_short"))
    if not ok:
        return
    got = yield from run(t, title)
    if got == "done":
        n = len(t.state.extra.get("ic_aids") or [])
        body = [t.s("ic_download_done", n)]
        if _capk_refusals:
            t.emit(("beep", "error"))
            body.append(t.s("ic_capk_refused", _capk_refusals))
        yield from ui.notice(t, title, body, timeout=10)
    elif got == "not_served":
        yield from ui.notice(t, title, [t.s("ic_download_not_served")], timeout=10)
    else:
        t.emit(("beep", "error"))
        yield from ui.notice(t, title, got)


def due(t, title):
    # Generator: the download a reply's header asked for (processing requirement 4 / 5)
    if not t.state.extra.get("ic_due"):
        return False
    got = yield from run(t, title)
    if isinstance(got, list):
        # failed: the cashier sees why under the download's own title (the transaction's
        # would read as the sale refused), until a key or 5 s; it is asked again before the
        # next transaction
        t.emit(("beep", "error"))
        yield from ui.notice(t, t.s("ic_download"), got, timeout=5)
        return False
    return True


def pending(t, title):
    # Generator: before a transaction, what is owed: the download asked for, the advice
    yield from due(t, title)
    if t.state.extra.get("script_advice"):
        yield from script_advice(t, title)


def script_advice(t, title):
    # The result of the issuer's script in a 0620 (60.3 = 951), after the transaction: 2,
    # 3, 4, 11, 22, 23, 41, 42, 55 (the script tag set: 9F26 9F36 95 9F10 9F37 82 9F1A 9A
    # DF31), 61 the transaction's batch and trace. Any answer delivers it; no answer keeps
    # it for the next transaction (pos.flows.gates).
    adv = t.state.extra.get("script_advice")
    if not adv:
        return True
    msg = {"mti": "0620", 2: adv["pan"], 3: "000000"}
    msg[4] = ("000000000000" + str(adv["amount"]))[-12:]
    center.base_fields(t, msg, t.state.take_trace())
    msg[61] = center.batch_str(t) + adv["trace"]
    msg[22] = adv["entry"] + "0"
    if adv.get("seq"):
        msg[23] = "0" + adv["seq"]
    msg[55] = bytes.fromhex(adv["55"])
    msg[60] = "00" + center.batch_str(t) + "951"
    res = yield from center.exchange(t, msg, title, with_mac=False)
    if res.status != center.OK:
        return False
    t.state.extra.pop("script_advice", None)
    t.state.save()
    return True
