# Key download (0800 / 60.3 = 001, 003, 004, or 005 / 006 for SM (国密) keys: parameter
# key_layout, reference §2.1, §11), the second half of both sign-in paths: the center sends
# a new PIK and MAK (and with 004 / 006 a TDK, which then encrypts the track data) under the
# TMK; their check values are verified before they replace the old ones. Field 62 is parsed
# by its length (pos.keyload); SM keys (SM4 under the TMK) make the terminal use the SM MAC,
# the SM4 PIN block and SM4 track encryption until the next sign-in (state extra "keys"). Run
# as an overlay by pos.flows.signin (and by settlement when it signs in again): it
# returns what the screen says, and the screen is shown after the codec and the keys'
# code are dropped.
from pos import center, clock


def run(t, title):
    # Generator -> (signed in?, the lines for the screen).
    st = t.state
    msg = {"mti": "0800"}
    center.base_fields(t, msg, st.take_trace())
    net = layout(t)
    msg[60] = "00" + center.batch_str(t) + net
    msg[63] = st.operator + " "
    res = yield from center.exchange(t, msg, title, with_mac=False)
    if not res.approved():
        return False, center.failure_lines(t, res)
    reply = res.reply
    res = None
    from pos import keyload  # (and DES): only once the answer is in

    sm = net in keyload.SM_LAYOUTS
    f62 = reply.get(62) or b""
    try:
        tmk = bytes.fromhex(st.params["tmk"])
    except (KeyError, ValueError):
        tmk = b""  # refused below as a TMK of 0 bytes
    try:
        pik, mak, tdk = keyload.unpack_signin_keys_all(f62, tmk, sm)
    except keyload.KeyCheckError as e:
        # the old keys stay; the terminal is not signed in with bad keys. The screen says
        # why: a key whose check value is wrong, the TMK, or a field 62 of no layout
        t.emit(("log", "warn", "sign-in key check failed: %s" % e))
        if e.key:
            why = t.s("key_check_key", e.key)
        elif "TMK" in e.reason:
            why = t.s("key_check_tmk")
        else:
            why = t.s("key_check_f62", str(len(f62)))
        return False, [t.s("key_check_failed"), why, t.s("signin_failed")]
    st.pik = pik.hex()
    st.mak = mak.hex()
    if tdk is not None:
        st.extra["tdk"] = tdk.hex()
    else:
        st.extra.pop("tdk", None)
    if sm:
        st.extra["keys"] = "sm"
    else:
        st.extra.pop("keys", None)
    f60 = reply.get(60) or ""
    if len(f60) >= 8 and f60[2:8].isdigit() and int(f60[2:8]) > 0:
        st.batch = int(f60[2:8])
    host_now = None
    if reply.get(12) and reply.get(13):
        host_now = host_time(t.now, reply[13], reply[12])
    if host_now is not None and t.now[0] < clock.MIN_YEAR:
        # a board whose clock was never set (no battery): take the center's time now, so
        # that the sign-in counts for the center's day (12/13 carry no year)
        host_now = (clock.MIN_YEAR,) + tuple(host_now[1:])
        t.now = host_now
    st.signin_date = t.today()
    st.extra["signin_time"] = clock.hhmmss(t.now)
    st.save()
    if host_now is not None:
        t.clock_set = clock.to_seconds(host_now) - clock.to_seconds(t.now)
        t.emit(("clock", host_now))
    return True, [t.s("resp_code", "00")]


# single DES keys / double length / double + TDK / SM keys / SM keys + TDK
LAYOUTS = ("001", "003", "004", "005", "006")


def layout(t):
    # 60.3 of the sign-in: the key layout the terminal is configured for
    want = str(t.state.params.get("key_layout", "003"))
    return want if want in LAYOUTS else "003"


def host_time(now, mmdd, hhmmss):
    try:
        m, d = int(mmdd[:2]), int(mmdd[2:4])
        h, mi, s = int(hhmmss[:2]), int(hhmmss[2:4]), int(hhmmss[4:6])
    except ValueError:
        return None
    y = now[0]
    if now[1] == 12 and m == 1:
        y += 1
    elif now[1] == 1 and m == 12:
        y -= 1
    return (y, m, d, h, mi, s)
