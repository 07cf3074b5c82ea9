# 3.3 柜员签到, 3.4 柜员管理 and 3.5 锁定终端 through the menu, as a cashier would key them.
from mptest import eq, true, contains
from rig import Rig
from pos import operators as ops


def test_operator_sign_in_changes_the_current_operator_and_field_63():
    r = Rig()
    eq(r.t.state.operator, "01", "a new terminal has operator 01")
    m = r.mark()
    r.press("MENU", "3", "3")
    contains(r.screen_flat(), "请输入操作员号")
    r.press("02", "ENTER")
    contains(r.screen_flat(), "请输入操作员密码")
    r.press("0000", "ENTER")
    true(r.seen("柜员签到成功", m))
    eq(r.t.state.operator, "02")
    r.press("ENTER")
    r.sign_in()  # 菜单 4 2, unchanged
    eq(r.center.requests[-1].get(63), "02 ")


def test_the_supervisor_and_the_manager_cannot_become_the_transacting_operator():
    r = Rig()
    r.press("MENU", "3", "3", "00", "ENTER")
    contains(r.screen_flat(), "主管操作员不能签到交易")
    r.press("ENTER", "99", "ENTER")
    contains(r.screen_flat(), "系统管理员不能签到交易")
    r.press("ENTER", "42", "ENTER")
    contains(r.screen_flat(), "无此操作员:42")
    eq(r.t.state.operator, "01")


def test_operator_sign_in_with_a_wrong_password_keeps_the_operator():
    r = Rig()
    r.press("MENU", "3", "3", "03", "ENTER", "1234", "ENTER")
    contains(r.screen_flat(), "密码错误")
    r.press("ENTER", "CANCEL")
    eq(r.t.state.operator, "01")


def test_adding_an_operator_needs_the_supervisor_password_and_the_new_one_twice():
    r = Rig()
    r.press("MENU", "3", "4", "1")
    contains(r.screen_flat(), "请输入主管密码")
    r.press("123456", "ENTER", "07", "ENTER")
    contains(r.screen_flat(), "输入新密码(4位)")
    r.press("4321", "ENTER", "4322", "ENTER")
    contains(r.screen_flat(), "两次密码不一致")
    r.press("ENTER", "4321", "ENTER", "4321", "ENTER")
    contains(r.screen_flat(), "增加柜员07成功")
    true(ops.check(r.t.state, "07", "4321"))
    r.press("ENTER", "CANCEL", "CANCEL", "CANCEL")
    r.press("MENU", "3", "3", "07", "ENTER", "4321", "ENTER")
    eq(r.t.state.operator, "07", "the new operator can sign in")


def test_an_operator_password_cannot_manage_operators():
    r = Rig()
    r.press("MENU", "3", "4", "1", "0000", "ENTER")  # 4 digits: not a supervisor password
    contains(r.screen_flat(), "密码为6位数字")
    r.press("ENTER")
    contains(r.screen_flat(), "请输入主管密码")
    r.press("000000", "ENTER")
    contains(r.screen_flat(), "主管密码错")
    r.press("ENTER", "CANCEL")
    eq(ops.cashiers(r.t.state), ["01", "02", "03", "04", "05"])


def test_add_refuses_00_99_and_existing_numbers_on_the_spot():
    r = Rig()
    r.press("MENU", "3", "4", "1", "123456", "ENTER", "00", "ENTER")
    contains(r.screen_flat(), "00和99不能作柜员号")
    r.press("ENTER", "99", "ENTER")
    contains(r.screen_flat(), "00和99不能作柜员号")
    r.press("ENTER", "03", "ENTER")
    contains(r.screen_flat(), "操作员03已存在")


def test_deleting_an_operator_and_not_the_current_one():
    r = Rig()
    r.press("MENU", "3", "4", "2", "123456", "ENTER", "01", "ENTER")
    contains(r.screen_flat(), "01是当前操作员")
    r.press("ENTER", "04", "ENTER")
    contains(r.screen_flat(), "确认删除操作员04")
    r.press("ENTER")
    contains(r.screen_flat(), "操作员04已删除")
    true(not ops.exists(r.t.state, "04"))


def test_an_operator_changes_their_own_password_with_the_old_one():
    r = Rig()
    r.press("MENU", "3", "4", "3")
    contains(r.screen_flat(), "01", "the current operator is offered")
    r.press("ENTER")
    contains(r.screen_flat(), "请输入原密码")
    r.press("0000", "ENTER", "2468", "ENTER", "2468", "ENTER")
    contains(r.screen_flat(), "密码修改成功")
    true(ops.check(r.t.state, "01", "2468"))
    true(not ops.check(r.t.state, "01", "0000"))


def test_supervisor_password_change():
    r = Rig()
    r.press("MENU", "3", "4", "5", "123456", "ENTER", "654321", "ENTER", "654321", "ENTER")
    contains(r.screen_flat(), "密码修改成功")
    true(ops.check(r.t.state, "00", "654321"))


def test_operator_list_marks_the_current_operator():
    r = Rig()
    r.press("MENU", "3", "4", "4", "123456", "ENTER")
    s = r.screen()
    contains(s, "柜员5人")
    contains(s, "01*")
    contains(s, "05")


def test_lock_and_unlock_with_the_operator_password():
    r = Rig()
    r.press("MENU", "3", "5")
    contains(r.screen_flat(), "是否锁屏?")
    r.press("ENTER", "0000", "ENTER")
    contains(r.screen_flat(), "键盘已锁定")
    r.press("ENTER")
    contains(r.screen_flat(), "键盘锁定请解锁")
    contains(r.screen_flat(), "请输入操作员号")
    for key in ("MENU", "CANCEL", "1", "ENTER", "UP"):
        r.press(key)
        contains(r.screen_flat(), "键盘锁定请解锁", key)
    r.press("CLEAR", "01", "ENTER")
    contains(r.screen_flat(), "请输入操作员密码")
    r.press("1111", "ENTER")
    contains(r.screen_flat(), "密码错误")
    r.press("ENTER", "01", "ENTER", "0000", "ENTER")
    contains(r.screen_flat(), "锁定解除!")
    r.press("ENTER")
    contains(r.screen_flat(), "请插卡/刷卡/挥卡")


def test_the_lock_survives_a_restart_and_the_supervisor_unlocks_it():
    r = Rig()
    r.press("MENU", "3", "5", "ENTER", "123456", "ENTER")
    contains(r.screen_flat(), "键盘已锁定")
    r2 = Rig(storage=r.storage)
    contains(r2.screen_flat(), "键盘锁定请解锁")
    r2.press("CARD=6222021234567890128")
    contains(r2.screen_flat(), "键盘锁定请解锁")
    r2.press("03", "ENTER")
    contains(r2.screen_flat(), "只有操作员01或主管可以解锁")
    r2.press("ENTER", "00", "ENTER", "123456", "ENTER")
    contains(r2.screen_flat(), "锁定解除!")
    r2.press("ENTER", "MENU")
    contains(r2.screen_flat(), "金融服务")


def test_the_signed_in_operator_is_on_the_purchase_slip():
    r = Rig().sign_in()
    r.press("MENU", "3", "3", "04", "ENTER", "0000", "ENTER", "ENTER")
    r.press("MENU", "1", "2", "10000", "ENTER", "CARD=6212142000000000012", "123456", "ENTER")
    true(r.seen("应答码:00"))
    contains(r.receipt_text(), "操作员:04")


def test_keys_typed_on_the_lock_and_unlock_notices_are_not_lost():
    # 密码错误 / 只有操作员01或主管可以解锁 read, the cashier types on at once: the key
    # that ends the notice is the next entry's first
    r = Rig()
    r.press("MENU", "3", "5", "ENTER", "1111", "ENTER")
    contains(r.screen_flat(), "密码错误")
    r.press("0000", "ENTER")
    contains(r.screen_flat(), "键盘已锁定")
    r.press("ENTER", "03", "ENTER")
    contains(r.screen_flat(), "只有操作员01或主管可以解锁")
    r.press("01", "ENTER")
    contains(r.screen_flat(), "请输入操作员密码")
    r.press("1111", "ENTER")
    contains(r.screen_flat(), "密码错误")
    r.press("01", "ENTER", "0000", "ENTER")
    contains(r.screen_flat(), "锁定解除!")


def test_a_number_retyped_at_once_after_a_cashier_refusal_keeps_its_first_digit():
    # 无此操作员 / 操作员已存在 read, the supervisor types the right number at once
    r = Rig()
    r.press("MENU", "3", "3", "07", "ENTER")
    contains(r.screen_flat(), "无此操作员:07")
    r.press("02", "ENTER")
    contains(r.screen_flat(), "请输入操作员密码")
    r = Rig()
    r.press("MENU", "3", "4", "1", "123456", "ENTER", "02", "ENTER")
    contains(r.screen_flat(), "操作员02已存在")
    r.press("07", "ENTER")
    contains(r.screen_flat(), "输入新密码")
    r = Rig()
    r.press("MENU", "3", "4", "2", "123456", "ENTER", "07", "ENTER")
    contains(r.screen_flat(), "无此操作员:07")
    r.press("03", "ENTER")
    contains(r.screen_flat(), "03")
    true("无此操作员" not in r.screen_flat(), r.screen())
    # 修改密码 offers the current operator; after a refusal dismissed with ENTER it is
    # offered again, a digit typed on it starts the number anew
    r = Rig()
    r.press("MENU", "3", "4", "3")
    contains(r.screen_flat(), "01")
    r.press("CLEAR", "CLEAR", "07", "ENTER")
    contains(r.screen_flat(), "无此操作员:07")
    r.press("ENTER")
    contains(r.screen_flat(), "01")
    r.press("CLEAR", "CLEAR", "07", "ENTER", "02", "ENTER")
    contains(r.screen_flat(), "请输入原密码")


def test_a_new_password_retyped_at_once_after_a_mismatch_keeps_its_first_digit():
    r = Rig()
    r.press("MENU", "3", "4", "1", "123456", "ENTER", "07", "ENTER", "1111", "ENTER", "2222",
            "ENTER")  # fmt: skip
    contains(r.screen_flat(), "两次密码不一致")
    r.press("3333", "ENTER", "3333", "ENTER")
    contains(r.screen_flat(), "07")
    true(ops.check(r.t.state, "07", "3333"), "the password typed at once after the notice")


def test_cancel_on_a_wrong_password_notice_only_ends_it_and_the_retype_counts():
    # a bot that dismisses 密码错误 with CANCEL and types the password loses no key
    r = Rig()
    r.press("MENU", "3", "5", "ENTER", "1111", "ENTER")
    contains(r.screen_flat(), "密码错误")
    r.press("CANCEL", "0000", "ENTER")
    contains(r.screen_flat(), "键盘已锁定")
    r.press("ENTER", "01", "ENTER", "1111", "ENTER", "CANCEL", "01", "ENTER", "0000", "ENTER")
    contains(r.screen_flat(), "锁定解除!")
