# 5.设置 2-9, each behind the system manager's (99) password:
#   5.2 商户参数  merchant name (letters/digits by multi-tap), MID (15 digits), TID (8)
#   5.3 通讯参数  host IP (digits and "."), port 1-65535, TPDU (10 hex), timeout, retries,
#                 key layout (60.3 of the sign-in: 001 single, 003 double, 004 double + TDK)
#   5.4 交易参数  max transactions, auto sign-out after settlement, MAC algorithm
#   5.5 语言      zh / en, at once
#   5.6 主密钥    TMK: two halves of 16 hex, the check value shown before it is kept;
#                 a new TMK drops the working keys (sign in again)
#   5.7 清除流水  only when the batch is settled (else 请先结算)
#   5.8 管理员改密
#   5.9 状态上送  the location reported in the status upload (digits: an area code, a base
#                 station; empty = none) and the minutes between uploads when idle (0 = off)
# Each value is checked as it is typed (a wrong one is refused on the spot and asked
# again); nothing is written until every value of the screen is good, then one save.
import binascii
from pos import ui, des
from pos import operators as ops
from pos.flows import auth
from pos.flows import keyentry as ke

MAC_ALGOS = ("ecb", "x9.9", "x9.19")
MAC_LABELS = ("ECB", "X9.9", "X9.19")
LANGS = ("zh", "en")
LANG_LABELS = ("中文", "English")
NAME_CELLS = 40


# -- checks: None when good, else the string key of the complaint ---------------
def _digits(s):
    if not s:
        return False
    for ch in s:
        if ch < "0" or ch > "9":
            return False
    return True


def check_mid(s):
    return None if len(s) == 15 and _digits(s) else "set_bad_mid"


def check_tid(s):
    return None if len(s) == 8 and _digits(s) else "set_bad_tid"


def check_ip(s):
    parts = s.split(".")
    if len(parts) != 4:
        return "set_bad_ip"
    for p in parts:
        if not _digits(p) or len(p) > 3 or int(p) > 255:
            return "set_bad_ip"
    return None


def check_port(s):
    return None if _digits(s) and len(s) <= 5 and 1 <= int(s) <= 65535 else "set_bad_port"


def check_tpdu(s):
    return None if len(s) == 10 and ke.is_hex(s) else "set_bad_tpdu"


def check_key_half(s):
    return None if len(s) == 16 and ke.is_hex(s) else "set_bad_key_half"


def check_name(s):
    if not s.strip():
        return "set_bad_name"
    from pos import cells

    return None if cells.width(s) <= NAME_CELLS else "set_bad_name"


def _range(lo, hi, key):
    def check(s):
        return None if _digits(s) and lo <= int(s) <= hi else key

    return check


check_timeout = _range(5, 120, "set_bad_timeout")
check_retries = _range(0, 9, "set_bad_retries")
check_max_tx = _range(1, 999, "set_bad_max_tx")
check_heartbeat = _range(0, 1440, "set_bad_heartbeat")
KEY_LAYOUTS = ("001", "003", "004", "005", "006")  # 005 / 006: SM (国密) keys
LOCATION_DIGITS = 15


def check_key_layout(s):
    return None if s in KEY_LAYOUTS else "set_bad_key_layout"


def check_location(s):
    # empty = no location reported; else digits (heartbeat.py sends it as loc=...)
    return None if s == "" or (_digits(s) and len(s) <= LOCATION_DIGITS) else "set_bad_location"


# -- helpers ----------------------------------------------------------------------
def _field(t, title, ask, check, initial):
    # ask(text, typed) -> a generator giving the typed text or None; asked again (with the
    # refused text, to correct it) until check passes; the key that ends the refusal's
    # notice (a digit, CLEAR, CANCEL: ui.notice_key) is the correction's first
    v = initial
    typed = None
    while True:
        v = yield from ask(v, typed)
        if v is None:
            return None
        problem = check(v)
        if problem is None:
            return v
        t.emit(("beep", "error"))
        typed = yield from ui.notice_key(t, title, t.s(problem))


def _digits_field(t, title, prompt_key, max_len, current, check, allow_empty=False):
    def ask(text, typed):
        return ui.enter_digits(
            t,
            title,
            t.s(prompt_key),
            1,
            max_len,
            allow_empty=allow_empty,
            initial=text,
            typed=typed,
        )

    return (yield from _field(t, title, ask, check, str(current)))


def _saved(t, title):
    t.state.save()
    t.emit(("beep", "ok"))
    yield from ui.notice(t, title, t.s("set_saved"), timeout=5)


def _admin(t, title):
    return (yield from auth.require_admin(t, title))


# -- 5.2 -------------------------------------------------------------------------
def merchant(t):
    title = t.s("set_merchant_title")
    if not (yield from _admin(t, title)):
        return
    p = t.state.params

    def ask_name(text, typed):
        return ke.enter_name(
            t, title, t.s("set_name_prompt"), NAME_CELLS, text, t.s("set_name_hint"), typed
        )

    name = yield from _field(t, title, ask_name, check_name, p.get("merchant_name", ""))
    if name is None:
        return
    mid = yield from _digits_field(t, title, "set_mid_prompt", 15, p.get("mid", ""), check_mid)
    if mid is None:
        return
    tid = yield from _digits_field(t, title, "set_tid_prompt", 8, p.get("tid", ""), check_tid)
    if tid is None:
        return
    p["merchant_name"] = name
    p["mid"] = mid
    p["tid"] = tid
    yield from _saved(t, title)


# -- 5.3 -------------------------------------------------------------------------
LINK_NOTES = {
    "embedded": "set_link_embedded",
    "host_option": "set_link_host_option",
    "uart": "set_link_uart",
}


def comms(t):
    title = t.s("set_comms_title")
    if not (yield from _admin(t, title)):
        return
    note = LINK_NOTES.get(t.link_kind)
    if note:
        # the screen says which of these settings the terminal's link does not use (the
        # TPDU, the timeout and the retries always apply)
        yield from ui.notice(t, title, t.s(note), timeout=10)
    p = t.state.params
    host = p.get("host", "")
    ip, port = host, ""
    if ":" in host:
        ip, port = host.rsplit(":", 1)

    def ask_ip(text, typed):
        return ke.enter_chars(t, title, t.s("set_ip_prompt"), ke.IP_KEYS, 15, text, None, typed)

    ip = yield from _field(t, title, ask_ip, check_ip, ip)
    if ip is None:
        return
    port = yield from _digits_field(t, title, "set_port_prompt", 5, port, check_port)
    if port is None:
        return

    def ask_tpdu(text, typed):
        return ke.enter_chars(
            t, title, t.s("set_tpdu_prompt"), ke.HEX_KEYS, 10, text, t.s("set_hex_hint"), typed
        )

    tpdu = yield from _field(t, title, ask_tpdu, check_tpdu, p.get("tpdu", ""))
    if tpdu is None:
        return
    timeout = yield from _digits_field(
        t, title, "set_timeout_prompt", 3, p.get("timeout", 30), check_timeout
    )
    if timeout is None:
        return
    retries = yield from _digits_field(
        t, title, "set_retries_prompt", 1, p.get("retries", 3), check_retries
    )
    if retries is None:
        return
    layout = yield from _digits_field(
        t, title, "set_key_layout_prompt", 3, p.get("key_layout", "003"), check_key_layout
    )
    if layout is None:
        return
    p["host"] = _ip_clean(ip) + ":" + str(int(port))
    p["tpdu"] = tpdu.upper()
    p["timeout"] = int(timeout)
    p["retries"] = int(retries)
    p["key_layout"] = layout  # the next sign-in asks for keys of this layout
    yield from _saved(t, title)


def _ip_clean(ip):
    # 010.001.002.003 -> 10.1.2.3
    return ".".join([str(int(x)) for x in ip.split(".")])


# -- 5.4 -------------------------------------------------------------------------
def trade(t):
    title = t.s("set_trade_title")
    if not (yield from _admin(t, title)):
        return
    p = t.state.params
    max_tx = yield from _digits_field(
        t, title, "set_max_tx_prompt", 3, p.get("max_tx", 300), check_max_tx
    )
    if max_tx is None:
        return
    current = 0 if int(p.get("auto_signout", 1)) else 1
    auto = yield from ke.choose(
        t, t.s("set_auto_signout_prompt"), (t.s("set_yes"), t.s("set_no")), current
    )
    if auto is None:
        return
    algo = p.get("mac_algo", "ecb")
    current = MAC_ALGOS.index(algo) if algo in MAC_ALGOS else None
    which = yield from ke.choose(t, t.s("set_mac_prompt"), MAC_LABELS, current)
    if which is None:
        return
    p["max_tx"] = int(max_tx)
    p["auto_signout"] = 1 if auto == 0 else 0
    p["mac_algo"] = MAC_ALGOS[which]
    yield from _saved(t, title)


# -- 5.5 -------------------------------------------------------------------------
def language(t):
    title = t.s("set_language_title")
    if not (yield from _admin(t, title)):
        return
    lang = t.state.params.get("lang", "zh")
    current = LANGS.index(lang) if lang in LANGS else None
    which = yield from ke.choose(t, title, LANG_LABELS, current)
    if which is None:
        return
    t.state.params["lang"] = LANGS[which]
    t.strings.set_lang(LANGS[which])
    yield from _saved(t, t.s("set_language_title"))


# -- 5.6 -------------------------------------------------------------------------
def key_check_value(key):
    # KCV as a key-injection screen shows it: the first 4 bytes, hex
    return binascii.hexlify(des.kcv(key)).decode().upper()


def tmk(t):
    title = t.s("set_tmk_title")
    if not (yield from _admin(t, title)):
        return
    halves = []
    for prompt in ("set_tmk_first", "set_tmk_second"):

        def ask(text, typed, prompt=prompt):
            return ke.enter_chars(
                t, title, t.s(prompt), ke.HEX_KEYS, 16, text, t.s("set_hex_hint"), typed
            )

        half = yield from _field(t, title, ask, check_key_half, "")
        if half is None:
            return
        halves.append(half.upper())
    key = halves[0] + halves[1]
    kcv = key_check_value(binascii.unhexlify(key))
    ok = yield from ui.confirm(t, title, [t.s("set_kcv", kcv), t.s("set_kcv_confirm")])
    if not ok:
        return
    st = t.state
    st.params["tmk"] = key
    st.pik = ""  # the working keys came under the old TMK: sign in again
    st.mak = ""
    st.signin_date = ""
    st.save()
    t.emit(("beep", "ok"))
    yield from ui.notice(t, title, [t.s("set_tmk_saved"), t.s("please_sign_in")], timeout=10)


# -- 5.7 -------------------------------------------------------------------------
def unsettled(t):
    # the batch still holds transactions, or a settlement is under way
    from pos import catalog
    from pos.flows import settle

    if settle.pending(t):
        return True
    kinds = catalog.journal_kinds()
    for e in t.journal.each():
        if e.get("type") in kinds:
            return True
    return False


def clear_journal(t):
    title = t.s("set_clear_title")
    if not (yield from _admin(t, title)):
        return
    if unsettled(t):
        t.emit(("beep", "error"))
        yield from ui.notice(t, title, t.s("set_settle_first"), timeout=10)
        return
    if not (yield from ui.confirm(t, title, t.s("set_clear_confirm"))):
        return
    t.journal.clear()
    t.emit(("beep", "ok"))
    yield from ui.notice(t, title, t.s("set_cleared"), timeout=5)


# -- 5.8 -------------------------------------------------------------------------
def admin_password(t):
    title = t.s("set_admin_pw_title")
    if not (yield from _admin(t, title)):
        return
    pw = yield from auth.new_password(t, title, ops.ADMIN)
    if pw is None:
        return
    ops.set_password(t.state, ops.ADMIN, pw)
    t.state.save()
    t.emit(("beep", "ok"))
    yield from ui.notice(t, title, t.s("op_password_changed"), timeout=5)


# -- 5.9 -------------------------------------------------------------------------
def status_upload(t):
    title = t.s("set_status_title")
    if not (yield from _admin(t, title)):
        return
    p = t.state.params
    loc = str(p.get("location", "") or "")
    if check_location(loc) is not None:
        loc = ""  # a place name put in params.json: the keypad sets digits only
    loc = yield from _digits_field(
        t, title, "set_location_prompt", LOCATION_DIGITS, loc, check_location, allow_empty=True
    )
    if loc is None:
        return
    minutes = yield from _digits_field(
        t, title, "set_heartbeat_prompt", 4, t.heartbeat_min(), check_heartbeat
    )
    if minutes is None:
        return
    p["location"] = loc
    p["heartbeat_min"] = int(minutes)
    yield from _saved(t, title)
