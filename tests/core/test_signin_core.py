# The seed's two sign-in paths, end to end against a scripted center.
from mptest import eq, true, contains, raises
from rig import Rig
import fakecenter
from pos import des, keyload, pinblock

PAN = "6212142000000000012"
CLEAR_TRACK = PAN + "=301212000000000"


def test_auto_sign_in_shows_the_seed_prompts_in_order():
    r = Rig()
    m = r.mark()
    r.press("MENU", "1", "1")
    true(r.seen("签到用时可能会长,请耐心等待", m), "first prompt")
    true(r.seen("确认键继续", m))
    r.press("ENTER")
    true(r.seen("正在连接中心...", m))
    contains(r.screen_flat(), "应答码:00")
    contains(r.screen_flat(), "签到成功!")
    true(r.t.signed_in_today())


def test_auto_sign_in_does_menu_update_then_key_download():
    r = Rig()
    r.press("MENU", "1", "1", "ENTER")
    nets = [q.get(60, "")[8:11] for q in r.center.requests]
    eq(nets, ["360", "930", "003"], "parameters (not served here), menu update, then keys")


def test_manual_sign_in_shows_the_seed_prompts_and_downloads_keys_only():
    r = Rig()
    m = r.mark()
    r.press("MENU", "4", "2")
    true(r.seen("按确认键将为您签到!", m))
    true(r.seen("确认继续,取消退出", m))
    r.press("ENTER")
    true(r.seen("正在连接中心...", m))
    contains(r.screen_flat(), "应答码:00")
    contains(r.screen_flat(), "签到成功")
    nets = [q.get(60, "")[8:11] for q in r.center.requests]
    eq(nets, ["003"])
    eq(r.t.state.mak, fakecenter.MAK.hex())
    eq(r.t.state.pik, fakecenter.PIK.hex())


def test_cancel_on_the_manual_prompt_sends_nothing():
    r = Rig()
    r.press("MENU", "4", "2", "CANCEL")
    eq(len(r.center.requests), 0)
    true(not r.t.signed_in_today())


def test_sign_in_request_carries_operator_trace_tid_mid_and_003():
    r = Rig()
    r.press("MENU", "4", "2", "ENTER")
    q = r.center.last("0800")
    eq(q[41], "12345678")
    eq(q[42], "898310048990001")
    eq(q[60], "00000001003")
    eq(q[63], "01 ")
    eq(len(q[11]), 6)
    true(64 not in q, "no MAC on 0800")


def test_wrong_check_value_fails_sign_in_and_keeps_old_keys():
    r = Rig()
    r.sign_in()
    old = r.t.state.mak
    r.center.mak = bytes.fromhex("0011223344556677")
    r.center.then("badkcv")
    r.press("MENU", "4", "2", "ENTER")
    contains(r.screen_flat(), "签到失败")
    eq(r.t.state.mak, old, "old MAK kept")


def test_host_decline_shows_the_code_and_its_text():
    r = Rig(center=fakecenter.Center().then("code:97"))
    r.press("MENU", "4", "2", "ENTER")
    contains(r.screen_flat(), "应答码:97")
    contains(r.screen_flat(), "终端未登记")
    true(not r.t.signed_in_today())


def test_sign_in_is_required_again_on_a_new_day():
    r = Rig(now=(2026, 11, 23, 9, 0, 0))
    r.sign_in()
    true(r.t.signed_in_today())
    r.tick((2026, 11, 24, 0, 0, 1))
    true(not r.t.signed_in_today())
    m = r.mark()
    r.press("CARD=6212142000000000012")
    true(r.seen("请做终端签到", m))
    eq(len([q for q in r.center.requests if q["mti"] == "0200"]), 0)


def test_sign_in_survives_a_restart():
    r = Rig()
    r.sign_in()
    r2 = Rig(storage=r.storage, center=r.center)
    true(r2.t.signed_in_today())
    contains(r2.screen_flat(), "今日已签到")


def test_trace_numbers_increase_with_every_message():
    r = Rig()
    r.sign_in()
    r.press("MENU", "4", "2", "ENTER")
    traces = [int(q[11]) for q in r.center.requests]
    eq(traces, [1, 2])


def test_a_board_with_an_unset_clock_takes_the_centers_date_at_sign_in():
    r = Rig(now=(2021, 1, 1, 0, 0, 5))  # a Pico without a clock battery
    r.press("MENU", "4", "2", "ENTER")
    eq(r.t.state.signin_date, "20261123", "the center's day (fakecenter: 1123 09:30:00)")
    eq(r.t.now[:3], (2026, 11, 23))
    true(r.t.signed_in_today())


def test_sign_in_asks_for_the_configured_key_layout_and_takes_every_real_one():
    P3 = fakecenter.PIK3
    for layout, mode, n, tdk, pik, mak in (
        ("001", "ok", 24, None, fakecenter.PIK[:8], fakecenter.MAK),
        ("003", "ok", 40, None, fakecenter.PIK, fakecenter.MAK),
        ("003", "layout:44", 44, None, fakecenter.PIK, fakecenter.MAK),
        ("004", "layout:56", 56, fakecenter.TDK, fakecenter.PIK, fakecenter.MAK),
        ("004", "ok", 60, fakecenter.TDK, fakecenter.PIK, fakecenter.MAK),
        # triple length (3-key 3DES): 56 = 2 x (24 + 4), 84 = 3 x (24 + 4); the MAK 8 bytes
        # zero-filled to its 24-byte slot, or 24 bytes
        ("003", "layout:56x3", 56, None, P3, fakecenter.MAK),
        ("003", "layout:56x3+mak24", 56, None, P3, fakecenter.MAK3),
        ("004", "layout:84", 84, fakecenter.TDK3, P3, fakecenter.MAK),
        ("004", "layout:84+mak24", 84, fakecenter.TDK3, P3, fakecenter.MAK3),
    ):
        c = fakecenter.Center()
        r = Rig(center=c)
        r.t.state.params["key_layout"] = layout
        c.then(mode)
        r.press("MENU", "4", "2", "ENTER")
        eq(c.last("0800")[60][8:11], layout)
        eq(len(c.replies[-1][62]), n)
        contains(r.screen_flat(), "签到成功", mode)
        eq(r.t.state.pik, pik.hex(), mode)
        eq(r.t.state.mak, mak.hex(), mode)
        eq(r.t.state.extra.get("tdk"), tdk.hex() if tdk else None, "TDK of " + mode)
        r.press("CANCEL")
        r.press("MENU", "1", "2", "100", "ENTER", "CARD=" + PAN, "123456", "ENTER")
        q = c.last("0200")
        eq(q[53][0:3], ("26" if n > 24 else "20") + ("1" if tdk else "0"), "53 of " + mode)
        # the PIN block under the PIK the center sent (3-key 3DES for a 24-byte one)
        eq(des.DesKey(pik).decrypt(q[52]), pinblock.clear_block("123456", PAN), mode)
        eq(c.replies[-1][39], "00")
        contains(r.screen_flat(), "请撕下商户存根", mode)
        true(r.t.state.reversal() is None, "the approval's MAC verified: " + mode)
        if tdk:
            true(q[35] != CLEAR_TRACK, "track encrypted")
            eq(keyload.decrypt_track(tdk, q[35]), CLEAR_TRACK)
        else:
            eq(q[35], CLEAR_TRACK)


def test_a_field_62_no_layout_verifies_is_refused_with_its_reason_and_the_old_keys_kept():
    # a length no host sends, a 56 that verifies as neither of its layouts, a triple-length
    # field whose MAK check value is wrong: 密钥校验错 and why, never a guess
    for mode, why in (
        ("layout:72", "62域72字节无效"),
        ("badkcv+layout:56", "62域56字节无效"),
        ("badkcv+layout:56x3", "62域56字节无效"),
        ("badkcv+layout:84", "MAK校验值不符"),
        ("badkcv", "MAK校验值不符"),
    ):
        c = fakecenter.Center()
        r = Rig(center=c).sign_in()
        mak = r.t.state.mak
        pik = r.t.state.pik
        c.then(mode)
        r.press("MENU", "4", "2", "ENTER")
        for text in ("密钥校验错", why, "签到失败"):
            contains(r.screen_flat(), text, mode)
        eq(r.t.frame.cut, None, "nothing cut: " + mode)
        eq((r.t.state.mak, r.t.state.pik), (mak, pik), "old keys kept: " + mode)


def test_field_62_of_56_bytes_takes_the_layout_whose_check_values_verify():
    # both readings of one field: double + TDK (no TDK check value) and triple length
    tmk = fakecenter.TMK
    t = des.DesKey(tmk)
    p16, m8, d16 = fakecenter.PIK, fakecenter.MAK, fakecenter.TDK
    double = keyload.pack_signin_keys(tmk, p16, m8) + t.encrypt(d16)
    eq(keyload.unpack_signin_keys_all(double, tmk), (p16, m8, d16))
    p24 = fakecenter.PIK3
    triple = t.encrypt(p24) + des.kcv(p24) + t.encrypt(m8) + bytes(16) + des.kcv(m8)
    eq(len(triple), 56)
    eq(keyload.unpack_signin_keys_all(triple, tmk), (p24, m8, None))
    m24 = fakecenter.MAK3
    triple = t.encrypt(p24) + des.kcv(p24) + t.encrypt(m24) + des.kcv(m24)
    eq(keyload.unpack_signin_keys_all(triple, tmk), (p24, m24, None))
    with raises(keyload.KeyCheckError, match="no layout verifies"):
        keyload.unpack_signin_keys_all(triple[:24] + bytes(4) + triple[28:], tmk)
    d24 = fakecenter.TDK3
    f84 = t.encrypt(p24) + des.kcv(p24) + t.encrypt(m8) + bytes(16) + des.kcv(m8)
    f84 += t.encrypt(d24) + des.kcv(d24)
    eq(keyload.unpack_signin_keys_all(f84, tmk), (p24, m8, d24))
    for at, name in ((24, "PIK"), (52, "MAK"), (80, "TDK")):
        bad = bytearray(f84)
        bad[at] ^= 1
        with raises(keyload.KeyCheckError, match=name):
            keyload.unpack_signin_keys_all(bytes(bad), tmk)


def test_auto_sign_in_goes_on_to_the_keys_when_the_center_has_no_menu_update():
    for code in ("12", "30", "40"):
        c = fakecenter.Center()
        c.no_menu = code
        r = Rig(center=c)
        m = r.mark()
        r.press("MENU", "1", "1", "ENTER")
        true(r.seen("本中心无菜单更新", m), code)
        eq([q.get(60, "")[8:11] for q in c.requests], ["360", "930", "003"])
        contains(r.screen_flat(), "应答码:00")
        contains(r.screen_flat(), "签到成功!")
        true(r.t.signed_in_today())
    r.press("CANCEL", "MENU", "4", "1")
    true(r.seen("本中心无菜单更新"), "the menu update alone says so too")


def test_cup_parameter_download_applies_what_the_terminal_has_a_setting_for():
    c = fakecenter.Center()
    name = b"\xd6\xd0\xb9\xfa\xb9\xa4\xc9\xcc\xd2\xf8\xd0\xd0" + b" " * 28  # 中国工商银行
    c.params_f62 = b"1160" + b"1245" + b"133" + b"210" + b"22" + name + b"232"
    c.params_f62 += b"26" + b"\xff\xff"
    r = Rig(center=c)
    r.press("MENU", "1", "1", "ENTER")
    p = r.t.state.params
    eq(p["timeout"], 45)
    eq(p["auto_signout"], 0)
    eq(p["merchant_name"], "中国工商银行")
    eq(p["retries"], 2)
    contains(r.screen_flat(), "签到成功!")


def test_header_asking_for_parameters_downloads_them_when_no_batch_is_open():
    c = fakecenter.Center()
    c.params_f62 = b"1250"
    r = Rig(center=c).sign_in()
    c.then("need:1")
    r.press("MENU", "1", "5", "CARD=" + PAN, "123456", "ENTER")  # a balance inquiry
    eq(r.t.state.extra.get("param_due"), 1)
    r.press("CANCEL", "MENU", "1", "2", "100", "ENTER", "CARD=" + PAN, "123456", "ENTER")
    nets = [q.get(60, "")[8:11] for q in c.requests[-2:]]
    eq(nets, ["360", "000"], "parameters first, then the purchase")
    eq(r.t.state.params["timeout"], 50)
    eq(r.t.state.extra.get("param_due"), None)


def test_header_asking_for_parameters_waits_for_settlement_when_a_batch_is_open():
    c = fakecenter.Center()
    c.params_f62 = b"1250"
    r = Rig(center=c).sign_in()
    r.press("MENU", "1", "2", "100", "ENTER", "CARD=" + PAN, "123456", "ENTER", "ENTER")
    c.then("need:6")
    r.press("CANCEL", "MENU", "1", "2", "200", "ENTER", "CARD=" + PAN, "123456", "ENTER", "ENTER")
    r.press("CANCEL", "MENU", "1", "2", "300", "ENTER", "CARD=" + PAN, "123456", "ENTER", "ENTER")
    true("360" not in [q.get(60, "")[8:11] for q in c.requests], "not while the batch is open")
    r.press("CANCEL", "MENU", "1", "7", "ENTER")
    nets = [q["mti"] + "/" + q.get(60, "")[8:11] for q in c.requests[-3:]]
    eq(nets, ["0320/207", "0800/360", "0820/002"], "after settlement, before signing out")
    eq(r.t.state.params["timeout"], 50)


def test_header_asking_for_ic_public_keys_or_parameters_downloads_them_first():
    # processing requirement 4 (IC public keys) and 5 (IC parameters): the IC downloads go
    # out before the next transaction, then the transaction itself
    for need in ("need:4", "need:5"):
        c = fakecenter.Center()
        r = Rig(center=c).sign_in()
        c.then(need)
        r.press("MENU", "1", "5", "CARD=" + PAN, "123456", "ENTER")  # a balance inquiry
        eq(r.t.state.extra.get("ic_due"), int(need[5:]), need)
        n = len(c.requests)
        r.press("CANCEL", "MENU", "1", "2", "100", "ENTER", "CARD=" + PAN, "123456", "ENTER")
        nets = [q["mti"] + "/" + q.get(60, "")[8:11] for q in c.requests[n:]]
        for code in ("0820/372", "0800/371", "0820/382", "0800/381"):  # status, download
            contains(nets, code, need)
        eq(nets[-1], "0200/000", need + ": the purchase after the downloads")
        eq(r.t.state.extra.get("ic_due"), None, need)
        contains(r.screen_flat(), "请撕下商户存根", need)


def test_a_download_asked_for_that_fails_says_why_and_the_sale_goes_on():
    # the IC download (processing requirement 4) or the parameter download (1) the header
    # asked for is refused: a notice under the download's own title (not the sale's: it was
    # not the sale that failed), then the sale; the download is owed still
    for need, title, owed in (
        ("need:4", "IC参数下载", "ic_due"),
        ("need:1", "终端参数", "param_due"),
    ):
        c = fakecenter.Center()
        c.params_f62 = b"1250"
        r = Rig(center=c).sign_in()
        c.then(need)
        r.press("MENU", "1", "5", "CARD=" + PAN, "123456", "ENTER")  # a balance inquiry
        c.then("code:96")  # the download's first request refused
        r.press("CANCEL", "MENU", "1", "2")
        contains(r.screen_flat(), title, need)
        contains(r.screen_flat(), "96", need)
        true(r.t.state.extra.get(owed), need + ": asked again before the next transaction")
        r.press("ENTER")
        contains(r.screen_flat(), "金额", need)
        r.press("100", "ENTER", "CARD=" + PAN, "123456", "ENTER")
        eq(c.requests[-1]["mti"], "0200", need)
        contains(r.screen_flat(), "请撕下商户存根", need)


def test_header_asking_for_a_status_upload_sends_it_before_the_next_transaction():
    # processing requirement 2 (reference §1, §11): the terminal status upload (0820 / 362)
    # after the transaction, here before the next one; one try, whatever the answer
    for answer in ("00", "12"):
        c = fakecenter.Center()
        r = Rig(center=c).sign_in()
        c.then("need:2")
        r.press("MENU", "1", "5", "CARD=" + PAN, "123456", "ENTER")  # a balance inquiry
        eq(r.t.state.extra.get("status_due"), 1)
        n = len(c.requests)
        if answer != "00":
            c.then("code:" + answer)
        r.press("CANCEL", "MENU", "1", "2", "100", "ENTER", "CARD=" + PAN, "123456", "ENTER")
        nets = [q["mti"] + "/" + q.get(60, "")[8:11] for q in c.requests[n:]]
        eq(nets, ["0820/362", "0200/000"], answer)
        eq(r.t.state.extra.get("status_due"), None, answer)
        contains(r.screen_flat(), "请撕下商户存根", answer)


def _at(start, seconds):
    # start (h, m) + seconds, on the test's day
    t = start[0] * 3600 + start[1] * 60 + seconds
    return (2026, 11, 23, t // 3600, t // 60 % 60, t % 60)


def test_the_clock_the_sign_in_sets_does_not_time_out_the_prompt_on_screen():
    # a board sets its RTC from the sign-in reply's 12/13 (the scripted center's 09:30:00;
    # the "clock" effect); its next tick then jumps 30 minutes on (from 09:00) or back (from
    # 10:00): a prompt opened before that tick keeps the time it had left, it is not timed
    # out at once (a sale's amount entry was: found with the board sim against a real
    # host's 0810), nor left open 30 minutes more; a front whose clock does not follow the
    # center's (the desktop's --date) is not shifted
    for start, follows in (((9, 0), True), ((10, 0), True), ((9, 0), False)):
        what = "%r %r" % (start, follows)
        jump = (9 * 60 + 30 - start[0] * 60 - start[1]) * 60 if follows else 0
        r = Rig(now=_at(start, 0))
        r.press("MENU", "1", "1", "ENTER")  # the sign-in: its 0810 says 09:30:00
        r.press("CANCEL", "MENU", "1", "2", "1", "2")
        contains(r.screen_flat(), "请输入金额", what)
        r.tick(_at(start, jump + 1))
        contains(r.screen_flat(), "请输入金额", what)
        r.press("3")
        contains(r.screen_flat(), "1.23", what)
        r.tick(_at(start, jump + 30))
        contains(r.screen_flat(), "请输入金额", what)
        r.tick(_at(start, jump + 600))
        true("请输入金额" not in r.screen_flat(), what + ": the prompt's own timeout still runs")
