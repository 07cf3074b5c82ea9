# Terminal lock (锁定终端), reference §6.6. 3.5 asks 是否锁屏?, then the current
# operator's password (4 digits) or the supervisor's (6), and shows 键盘已锁定.
# The flag is in state, so the lock survives a restart; while it is set, the main
# loop runs unlock() instead of the idle screen: every key lands on
# 键盘锁定请解锁 / 请输入操作员号 / 请输入操作员密码 until the current operator or
# the supervisor gives the right password (锁定解除!).
from pos import clock, ui
from pos import operators as ops
from pos.flows import auth

_FLAG = "locked"


def is_locked(t):
    return bool(t.state.extra.get(_FLAG))


def lock(t):
    title = t.s("lock_title")
    if not (yield from ui.confirm(t, title, t.s("lock_confirm"))):
        return
    st = t.state
    if ops.ensure(st):
        st.save()
    typed = None  # the key that ended a notice (ui.notice_key): the retype's first
    while True:
        pw = yield from ui.enter_digits(t, title, t.s("lock_enter_pw"), 4, 6, secret=True,
                                        typed=typed)  # fmt: skip
        typed = None
        if pw is None:
            return
        if len(pw) == 4:
            code = st.operator
        elif len(pw) == 6:
            code = ops.SUPERVISOR
        else:
            t.emit(("beep", "error"))
            typed = yield from ui.notice_key(t, title, t.s("lock_pw_length"))
            continue
        ok, typed = yield from _try(t, title, code, pw)
        if ok is None:
            return
        if ok:
            break
    st.extra[_FLAG] = 1
    st.save()
    t.emit(("beep", "ok"))
    yield from ui.notice(t, title, t.s("lock_done"), timeout=3)


def _try(t, title, code, pw):
    # one try with the lockout rule -> (True / False (try again) / None (locked out), the
    # key that ended the wrong-password notice when it is one to type: ui.notice_key)
    st = t.state
    ok, tries, locked = ops.attempt(st, code, pw, clock.to_seconds(t.now))
    st.save()
    if ok:
        return True, None
    if locked > 0:
        yield from auth.show_locked(t, title, locked, t.s("auth_wrong"))
        return None, None
    t.emit(("beep", "error"))
    typed = yield from ui.notice_key(t, title, [t.s("auth_wrong"), t.s("auth_tries_left", tries)])
    return False, typed


def unlock(t):
    # Runs until the terminal is unlocked; MENU and CANCEL only start it over.
    title = t.s("lock_locked_title")
    st = t.state
    typed = None  # the key that ended a notice (ui.notice_key): the operator number's first
    while True:
        code = yield from ui.enter_digits(t, title, t.s("op_enter_number"), 2, 2, typed=typed)
        typed = None
        if code is None:
            continue
        if code != st.operator and code != ops.SUPERVISOR:
            t.emit(("beep", "error"))
            typed = yield from ui.notice_key(t, title, t.s("lock_not_this_operator", st.operator))
            continue
        left = ops.locked_for(st, code, clock.to_seconds(t.now))
        if left > 0:
            yield from auth.show_locked(t, title, left)
            continue
        n = ops.password_length(code)
        pw = yield from ui.enter_digits(t, title, t.s("auth_operator_pw"), n, n, secret=True)
        if pw is None:
            continue
        ok, typed = yield from _try(t, title, code, pw)
        if ok:
            break
    if _FLAG in st.extra:
        del st.extra[_FLAG]
    st.save()
    t.emit(("beep", "ok"))
    yield from ui.notice(t, title, t.s("lock_released"), timeout=3)
