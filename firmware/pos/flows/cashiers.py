# Cashiers (柜员), reference §6.5: 3.3 柜员签到 and 3.4 柜员管理.
#   柜员签到      operator number, then that operator's password -> the current operator
#                 (field 63 of 0800/0500 and the receipts). 00 and 99 cannot transact.
#   增加/删除/查询 the supervisor's password first.
#   修改密码      an operator's own password: old, then the new one twice.
#   主管改密      the supervisor's password, then the new one twice.
from pos import ui
from pos import operators as ops
from pos.flows import auth


def _ask_number(t, title, initial="", typed=None):
    # typed: the key that ended the refusal before (ui.notice_key), the number's first
    return (yield from ui.enter_digits(t, title, t.s("op_enter_number"), 2, 2, initial=initial,
                                       typed=typed))  # fmt: skip


def _done(t, title, text):
    t.emit(("beep", "ok"))
    yield from ui.notice(t, title, text, timeout=5)


def _refuse(t, title, text):
    # -> the key that ended the notice when it is one to type (ui.notice_key)
    t.emit(("beep", "error"))
    return (yield from ui.notice_key(t, title, text))


def sign_in(t):
    # 3.3 柜员签到
    title = t.s("op_signin_title")
    st = t.state
    typed = None
    while True:
        code = yield from _ask_number(t, title, typed=typed)
        if code is None:
            return
        if code == ops.SUPERVISOR:
            typed = yield from _refuse(t, title, t.s("op_supervisor_no_tx"))
        elif code == ops.ADMIN:
            typed = yield from _refuse(t, title, t.s("op_admin_no_tx"))
        elif not ops.exists(st, code):
            typed = yield from _refuse(t, title, t.s("op_not_found", code))
        else:
            break
    ok = yield from auth.require_operator(t, title, code)
    if not ok:
        return
    st.operator = code
    st.save()
    yield from _done(t, title, [t.s("op_signin_ok"), t.s("op_current", code)])


def add(t):
    # 3.4.1 增加柜员
    title = t.s("op_add_title")
    if not (yield from auth.require_supervisor(t, title)):
        return
    st = t.state
    typed = None
    while True:
        code = yield from _ask_number(t, title, typed=typed)
        if code is None:
            return
        problem = _add_problem(t, code)
        if problem is None:
            break
        typed = yield from _refuse(t, title, problem)
    pw = yield from auth.new_password(t, title, code)
    if pw is None:
        return
    ops.add(st, code, pw)  # checked above; a password of the right length is valid
    st.save()
    yield from _done(t, title, t.s("op_added", code))


def _add_problem(t, code):
    st = t.state
    if code in (ops.SUPERVISOR, ops.ADMIN):
        return t.s("op_reserved")
    if ops.exists(st, code):
        return t.s("op_exists", code)
    if len(ops.cashiers(st)) >= ops.MAX_OPERATORS:
        return t.s("op_full", ops.MAX_OPERATORS)
    return None


def delete(t):
    # 3.4.2 删除柜员
    title = t.s("op_delete_title")
    if not (yield from auth.require_supervisor(t, title)):
        return
    st = t.state
    typed = None
    while True:
        code = yield from _ask_number(t, title, typed=typed)
        if code is None:
            return
        if code in (ops.SUPERVISOR, ops.ADMIN):
            typed = yield from _refuse(t, title, t.s("op_reserved"))
        elif not ops.exists(st, code):
            typed = yield from _refuse(t, title, t.s("op_not_found", code))
        elif code == st.operator:
            typed = yield from _refuse(t, title, t.s("op_is_current", code))
        else:
            break
    if not (yield from ui.confirm(t, title, t.s("op_delete_confirm", code))):
        return
    ops.remove(st, code)
    st.save()
    yield from _done(t, title, t.s("op_deleted", code))


def change_password(t):
    # 3.4.3 修改密码: an operator's own (the current operator's number is offered)
    title = t.s("op_password_title")
    st = t.state
    typed = None
    while True:
        # the current operator offered; a digit typed on a refusal starts the number anew
        initial = "" if typed is not None and typed.isdigit() else st.operator
        code = yield from _ask_number(t, title, initial, typed)
        if code is None:
            return
        if code in (ops.SUPERVISOR, ops.ADMIN):
            typed = yield from _refuse(t, title, t.s("op_use_own_menu"))
        elif not ops.exists(st, code):
            typed = yield from _refuse(t, title, t.s("op_not_found", code))
        else:
            break
    ok = yield from auth.ask_password(t, title, code, t.s("auth_old_pw"), "auth_wrong")
    if not ok:
        return
    yield from _set_new(t, title, code)


def supervisor_password(t):
    # 3.4.5 主管改密
    title = t.s("op_supervisor_pw_title")
    ok = yield from auth.ask_password(
        t, title, ops.SUPERVISOR, t.s("auth_old_supervisor_pw"), "auth_supervisor_wrong"
    )
    if not ok:
        return
    yield from _set_new(t, title, ops.SUPERVISOR)


def _set_new(t, title, code):
    pw = yield from auth.new_password(t, title, code)
    if pw is None:
        return
    ops.set_password(t.state, code, pw)
    t.state.save()
    yield from _done(t, title, t.s("op_password_changed"))


def show_list(t):
    # 3.4.4 柜员查询: the cashiers, the current one marked with *; UP/DOWN page

    title = t.s("op_list_title")
    if not (yield from auth.require_supervisor(t, title)):
        return
    codes = ops.cashiers(t.state)
    per_row = max(1, (t.cols + 1) // 4)  # "01* " takes 4 cells
    rows = []
    i = 0
    while i < len(codes):
        parts = []
        for c in codes[i : i + per_row]:
            parts.append(c + ("*" if c == t.state.operator else " "))
        rows.append(" ".join(parts).rstrip())
        i += per_row
    blocks = [[(row, "left")] for row in rows]
    yield from ui.pager(t, t.s("op_list_head", len(codes)), blocks, numbered=False)
