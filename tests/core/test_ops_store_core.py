# The operator store (pos.operators) and the password prompts (pos.flows.auth):
# factory passwords, hashing with a per-terminal salt, add/remove rules, the
# three-wrong-tries lockout, and require_supervisor / require_admin driven by keys.
import binascii
import hashlib
from mptest import eq, true, contains, raises, on_micropython
from rig import Rig
from pos import operators as ops
from pos.flows import auth
from pos.state import State
from pos.memstorage import MemoryStorage


def _state():
    return State(MemoryStorage(), {})


def test_factory_operators_and_passwords():
    st = _state()
    true(ops.check(st, "99", "12345678"), "system manager")
    true(ops.check(st, "00", "123456"), "supervisor")
    for c in ("01", "02", "03", "04", "05"):
        true(ops.check(st, c, "0000"), c)
    eq(ops.cashiers(st), ["01", "02", "03", "04", "05"])
    true(not ops.check(st, "06", "0000"), "no operator 06 at first")
    true(not ops.check(st, "00", "12345678"), "wrong length")


def test_passwords_are_stored_hashed_with_a_per_terminal_salt():
    a = _state()
    b = _state()
    for st in (a, b):
        ops.ensure(st)
        eq(st.extra["ops"]["00"], "f", "a factory password is marked, not hashed")
        ops.set_password(st, "00", "654321")
        st.save()
    raw = a.storage.read("state.json")
    true(b"654321" not in raw, "no clear password")
    true(a.extra["op_salt"] != b.extra["op_salt"], "salts differ between terminals")
    true(a.extra["ops"]["00"] != b.extra["ops"]["00"], "same password, different hashes")
    scheme, rounds, digest = a.extra["ops"]["00"].split("$")
    if on_micropython():
        eq((scheme, int(rounds)), ("s1", ops.SHA_ROUNDS), "a board: counted SHA-256 rounds")
    else:
        eq((scheme, int(rounds)), ("p1", ops.PBKDF2_ROUNDS), "CPython: PBKDF2-HMAC-SHA256")
    eq(len(digest), 64)
    true(ops.check(a, "00", "654321") and not ops.check(a, "00", "123456"))


def test_hashes_either_interpreter_wrote_check_on_both():
    # fixed vectors (salt "00"*16, operator 00, password 123456): a state file made on
    # a desktop works on a board and the other way round
    st = _state()
    ops.ensure(st)
    st.extra["op_salt"] = "00" * 16
    s1 = "s1$3$5206904968fa00ffe305dfda93aacedbbee975301f1d85bb9b1751b5b742e9b2"
    p1 = "p1$2$f2933330b3798184a64108b1674e6d5ec1aae691f388ee449bf651743974b918"
    for stored in (s1, p1):
        st.extra["ops"]["00"] = stored
        true(ops.check(st, "00", "123456"), stored[:2])
        true(not ops.check(st, "00", "123457"), stored[:2])


def test_an_old_single_round_hash_still_checks_and_is_upgraded_at_login():
    st = _state()
    ops.ensure(st)
    salt = st.extra["op_salt"]
    old = binascii.hexlify(hashlib.sha256((salt + "01:4321").encode()).digest()).decode()
    st.extra["ops"]["01"] = old  # as an older version stored it
    true(not ops.check(st, "01", "0000"))
    eq(ops.attempt(st, "01", "4321", 10), (True, 3, 0), "a cashier in the field can log in")
    true("$" in st.extra["ops"]["01"], "upgraded to the slow hash")
    true(ops.check(st, "01", "4321"))
    eq(ops.attempt(st, "01", "1111", 11)[0], False)
    true("$" in st.extra["ops"]["01"], "a wrong password changes nothing")


def test_the_store_survives_a_restart():
    st = _state()
    ops.add(st, "07", "4321")
    st.save()
    again = State(st.storage, {})
    true(ops.check(again, "07", "4321"))
    true(not ops.check(again, "07", "0000"))


def test_add_refuses_reserved_bad_and_duplicate_numbers_and_bad_passwords():
    st = _state()
    cases = (
        ("00", "1111", "reserved"),
        ("99", "1111", "reserved"),
        ("7", "1111", "bad_number"),
        ("a1", "1111", "bad_number"),
        ("01", "1111", "exists"),
        ("08", "123", "bad_password"),
        ("08", "12a4", "bad_password"),
    )
    for code, pw, reason in cases:
        with raises(ops.OperatorError) as caught:
            ops.add(st, code, pw)
        eq(caught.value.reason, reason, code + "/" + pw)
    true(not ops.exists(st, "08"))


def test_at_least_twenty_operators_can_be_added():
    st = _state()
    n = 6
    while n < 26:
        c = ("0" + str(n)) if n < 10 else str(n)
        ops.add(st, c, "1234")
        n += 1
    eq(len(ops.cashiers(st)), 25)
    true(ops.check(st, "25", "1234"))


def test_remove_refuses_the_supervisor_the_manager_and_the_current_operator():
    st = _state()
    st.operator = "02"
    for code, reason in (
        ("00", "reserved"),
        ("99", "reserved"),
        ("02", "current"),
        ("42", "not_found"),
    ):
        with raises(ops.OperatorError) as caught:
            ops.remove(st, code)
        eq(caught.value.reason, reason, code)
    ops.remove(st, "03")
    true(not ops.exists(st, "03"))
    eq(ops.cashiers(st), ["01", "02", "04", "05"])


def _ticks(st, start, stop):
    for now in range(start, stop + 1):
        ops.tick(st, now)


def test_three_wrong_tries_lock_the_password_for_five_minutes():
    st = _state()
    eq(ops.attempt(st, "00", "000000", 1000), (False, 2, 0))
    eq(ops.attempt(st, "00", "000001", 1001), (False, 1, 0))
    eq(ops.attempt(st, "00", "000002", 1002), (False, 0, 300))
    _ticks(st, 1003, 1100)
    ok, _, left = ops.attempt(st, "00", "123456", 1100)
    true(not ok, "the right password is refused while locked")
    eq(left, 202)
    eq(ops.locked_for(st, "01", 1100), 0, "other passwords are not locked")
    _ticks(st, 1101, 1302)
    eq(ops.attempt(st, "00", "123456", 1302), (True, 3, 0))


def test_a_clock_moved_forward_or_a_restart_does_not_end_the_lock():
    st = _state()
    for i in range(3):
        ops.attempt(st, "00", "00000" + str(i), 1000 + i)
    st.save()
    again = State(st.storage, {})  # a restart, with the date a day later
    left = ops.locked_for(again, "00", 1002 + 86400)
    true(295 <= left < 300, "a jump counts as one step, got %d" % left)
    eq(ops.attempt(again, "00", "123456", 1002 + 86401)[0], False)


def test_a_right_password_clears_the_failure_count():
    st = _state()
    ops.attempt(st, "01", "1111", 10)
    ops.attempt(st, "01", "1111", 11)
    eq(ops.attempt(st, "01", "0000", 12)[0], True)
    eq(ops.attempt(st, "01", "1111", 13), (False, 2, 0))


def test_a_clock_set_back_never_locks_longer_than_the_lock_time():
    st = _state()
    for i in range(3):
        ops.attempt(st, "99", "00000000", 100000 + i)
    eq(ops.locked_for(st, "99", 50), 300)


# -- the prompts, driven through the terminal engine -------------------------
class _Box:
    value = None


def _run(r, flow):
    # run one flow generator in the rig's terminal instead of the main loop
    box = _Box()

    def wrap():
        box.value = yield from flow

    r.t._gen = wrap()
    r.t._resume(None)
    r.run(r.t._take())
    return box


def test_require_supervisor_accepts_123456():
    r = Rig()
    box = _run(r, auth.require_supervisor(r.t, "撤销"))
    contains(r.screen_flat(), "请输入主管密码")
    r.press("123456")
    contains(r.screen_flat(), "******")
    r.press("ENTER")
    eq(box.value, True)


def test_the_key_that_opens_a_password_prompt_looks_up_only_its_prompt_and_draws_no_salt():
    # (the wrong password's text is looked up when one is typed; the factory table and its
    # salt are made by the first attempt, and saved with it)
    from mptest import spy
    from pos import vault

    r = Rig()
    keys = []
    drawn = []
    real = spy(vault, "random_bytes", drawn)
    try:
        spy(r.t, "s", keys)
        box = _run(r, auth.require_supervisor(r.t, "撤销"))
        contains(r.screen_flat(), "请输入主管密码")
        eq([k[0] for k in keys], ["auth_supervisor_pw"])
        eq(drawn, [], "no salt drawn at the prompt")
        true("ops" not in r.t.state.extra and "op_salt" not in r.t.state.extra)
        r.press("111111", "ENTER")
        contains(r.screen_flat(), "主管密码错")
        eq(len(drawn), 1, "the salt drawn by the first attempt")
        r.press("ENTER", "123456", "ENTER")
        eq(box.value, True)
        eq(len(drawn), 1)
    finally:
        vault.random_bytes = real


def test_require_supervisor_says_wrong_then_locks_after_three_tries():
    r = Rig()
    box = _run(r, auth.require_supervisor(r.t, "撤销"))
    r.press("111111", "ENTER")
    contains(r.screen_flat(), "主管密码错")
    contains(r.screen_flat(), "还可输入2次")
    r.press("ENTER", "222222", "ENTER", "ENTER", "333333", "ENTER")
    contains(r.screen_flat(), "已锁定")
    contains(r.screen_flat(), "错误3次,已锁定5分钟")
    r.press("ENTER")
    eq(box.value, False)
    # locked even with the right password, after a restart, and with the date a day on
    r2 = Rig(storage=r.storage, now=(2026, 11, 24, 9, 2, 0))
    box = _run(r2, auth.require_supervisor(r2.t, "撤销"))
    contains(r2.screen_flat(), "已锁定")
    r2.press("ENTER")
    eq(box.value, False)
    # five minutes of the terminal's running time (ticks) end it
    for m in range(3, 9):
        for sec in range(60):
            r2.tick((2026, 11, 24, 9, m, sec))
    r3 = Rig(storage=r.storage, now=(2026, 11, 24, 9, 9, 0))
    box = _run(r3, auth.require_supervisor(r3.t, "撤销"))
    r3.press("123456", "ENTER")
    eq(box.value, True)


def test_require_admin_wants_eight_digits_and_cancel_gives_false():
    r = Rig()
    box = _run(r, auth.require_admin(r.t, "设置"))
    contains(r.screen_flat(), "请输入管理员密码")
    r.press("123456", "ENTER")  # too short: says how long, then asks again
    contains(r.screen_flat(), "密码为8位数字")
    r.press("ENTER")
    contains(r.screen_flat(), "请输入管理员密码")
    r.press("CANCEL")
    eq(box.value, False)
    box = _run(r, auth.require_admin(r.t, "设置"))
    r.press("12345678", "ENTER")
    eq(box.value, True)
