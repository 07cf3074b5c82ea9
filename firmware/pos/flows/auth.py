# Password prompts: the supervisor (主管, 00) authorises voids, refunds and
# operator management; the system manager (99) guards 5.设置; an operator's own
# password for 柜员签到 and the terminal lock. Wrong tries count towards the
# lockout in pos.operators (three in a row lock that password for a while).
#
#   ok = yield from auth.require_supervisor(t, title)   # True: go on
from pos import clock, ui
from pos import operators as ops


# (the three below give ask_password's generator itself, not one of their own around it:
# each generator made is a block of the heap found at the key that opens the prompt)
def require_supervisor(t, title):
    # Generator: 请输入主管密码 (6 digits) -> True, or False (CANCEL, timeout, locked)
    return ask_password(t, title, ops.SUPERVISOR, t.s("auth_supervisor_pw"),
                        "auth_supervisor_wrong")  # fmt: skip


def require_admin(t, title):
    # Generator: 请输入管理员密码 (8 digits, system manager 99) -> True / False
    return ask_password(t, title, ops.ADMIN, t.s("auth_admin_pw"), "auth_admin_wrong")


def require_operator(t, title, code):
    # Generator: 请输入操作员密码 for operator `code` (4 digits) -> True / False
    return ask_password(t, title, code, t.s("auth_operator_pw"), "auth_wrong")


def minutes(seconds):
    return (seconds + 59) // 60


def show_locked(t, title, seconds, first=None):
    t.emit(("beep", "error"))
    body = [first] if first else []
    body.append(t.s("auth_locked", minutes(seconds)))
    yield from ui.notice(t, title, body, timeout=10)


def ask_password(t, title, code, prompt, wrong_key):
    # Ask for `code`'s password until it is right, CANCEL, a timeout or the lockout.
    # wrong_key: the strings key of what a wrong one shows, looked up only then (a string
    # looked up is ~50,000 instructions of the unix port: in the key that opens the prompt)
    st = t.state
    # the factory table (ops.ensure: its salt drawn) is made on first use by the first
    # attempt (ops.check) and saved with it, not at the key that opens the prompt: a prompt
    # left unanswered loses nothing (the table is made the same way later), and the state's
    # JSON written at that key was ~200,000 instructions of it
    n = ops.password_length(code)
    typed = None  # the key that ended the wrong-password notice: the retype's first digit
    while True:
        left = ops.locked_for(st, code, clock.to_seconds(t.now))
        if left > 0:
            yield from show_locked(t, title, left)
            return False
        pw = yield from ui.enter_digits(t, title, prompt, n, n, secret=True, typed=typed)
        if pw is None:
            return False
        ok, tries, locked = ops.attempt(st, code, pw, clock.to_seconds(t.now))
        st.save()
        if ok:
            return True
        if locked > 0:
            yield from show_locked(t, title, locked, t.s(wrong_key))
            return False
        t.emit(("beep", "error"))
        typed = yield from ui.notice_key(t, title, [t.s(wrong_key), t.s("auth_tries_left", tries)])


def new_password(t, title, code):
    # A new password for `code`, typed twice. -> the password, or None (CANCEL / timeout).
    n = ops.password_length(code)
    typed = None  # the key that ended 两次密码不一致 (ui.notice_key): the new one's first
    while True:
        first = yield from ui.enter_digits(t, title, t.s("auth_new_pw", n), n, n, secret=True,
                                           typed=typed)  # fmt: skip
        if first is None:
            return None
        again = yield from ui.enter_digits(t, title, t.s("auth_new_pw_again"), n, n, secret=True)
        if again is None:
            return None
        if again == first:
            return first
        t.emit(("beep", "error"))
        typed = yield from ui.notice_key(t, title, t.s("auth_pw_mismatch"))
