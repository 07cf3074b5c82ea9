# Sign-in (签到), the seed's two paths:
#   菜单 → 1.金融服务 → 1.签到           auto: menu update, then key download
#   菜单 → 4.终端更新 → 2.终端手动签到   manual: key download
# The prompts are the seed's, verbatim (strings signin_*).
from pos import comm, ui, keyload, clock
from pos.flows import menuupdate


def auto(t):
    title = t.s("signin_title")
    go = yield from ui.confirm(t, title, t.s("signin_auto_prompt"), t.s("signin_auto_footer"))
    if not go:
        return
    ok = yield from menuupdate.update(t, title, quiet=True)
    if not ok:
        return
    yield from key_download(t, title, t.s("signin_ok_auto"))


def manual(t):
    title = t.s("signin_manual_title")
    go = yield from ui.confirm(t, title, t.s("signin_manual_prompt"))
    if not go:
        return
    yield from key_download(t, title, t.s("signin_ok_manual"))


def key_download(t, title, ok_text):
    # 0800 / 60.3 = 003: the center sends a new PIK and MAK under the TMK.
    st = t.state
    msg = {"mti": "0800"}
    comm.base_fields(t, msg, st.take_trace())
    msg[60] = "00" + comm.batch_str(t) + "003"
    msg[63] = st.operator + " "
    res = yield from comm.exchange(t, msg, title, with_mac=False)
    if not res.approved():
        yield from comm.show_failure(t, title, res)
        return False
    reply = res.reply
    try:
        tmk = bytes.fromhex(st.params["tmk"])
        pik, mak = keyload.unpack_signin_keys(reply.get(62) or b"", tmk)
    except (keyload.KeyCheckError, ValueError) as e:
        # the old keys stay; the terminal is not signed in with bad keys
        t.emit(("log", "warn", "sign-in key check failed: %s" % e))
        t.emit(("beep", "error"))
        yield from ui.notice(t, title, [t.s("key_check_failed"), t.s("signin_failed")])
        return False
    st.pik = pik.hex()
    st.mak = mak.hex()
    f60 = reply.get(60) or ""
    if len(f60) >= 8 and f60[2:8].isdigit() and int(f60[2:8]) > 0:
        st.batch = int(f60[2:8])
    host_now = None
    if reply.get(12) and reply.get(13):
        host_now = _host_time(t.now, reply[13], reply[12])
    if host_now is not None and t.now[0] < clock.MIN_YEAR:
        # a board whose clock was never set (no battery): take the center's time now, so
        # that the sign-in counts for the center's day (12/13 carry no year)
        host_now = (clock.MIN_YEAR,) + tuple(host_now[1:])
        t.now = host_now
    st.signin_date = t.today()
    st.extra["signin_time"] = clock.hhmmss(t.now)
    st.save()
    if host_now is not None:
        t.emit(("clock", host_now))
    t.emit(("beep", "ok"))
    yield from ui.notice(t, title, [t.s("resp_code", "00"), ok_text])
    return True


def _host_time(now, mmdd, hhmmss):
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
