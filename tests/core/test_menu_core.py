from mptest import eq, true, contains, raises
from rig import Rig
from pos import menu
from pos.actions import table as _table


def test_main_menu_has_the_five_sections():
    r = Rig()
    r.press("MENU")
    contains(r.screen_flat(), "1.金融服务")
    contains(r.screen_flat(), "2.打印")
    contains(r.screen_flat(), "3.管理")
    r.press("DOWN")
    contains(r.screen_flat(), "4.终端更新")
    contains(r.screen_flat(), "5.设置")
    r.press("UP")
    contains(r.screen_flat(), "1.金融服务")


def test_digit_picks_an_item_on_another_page_and_cancel_goes_back():
    r = Rig()
    r.press("MENU", "4")
    contains(r.screen_flat(), "2.终端手动签到")
    r.press("CANCEL")
    contains(r.screen_flat(), "1.金融服务")
    r.press("CANCEL")
    contains(r.screen_flat(), "请插卡/刷卡/挥卡")


def test_menu_key_returns_to_the_main_menu_from_a_prompt():
    r = Rig()
    r.press("MENU", "4", "2", "MENU")
    contains(r.screen_flat(), "1.金融服务")


def test_shipped_menu_is_valid_and_every_action_exists():
    tree = menu.load(Rig().storage, Rig().resources)
    menu.validate(tree, _table())
    eq(menu.find_action(tree, "sign_in_auto"), ("1", "1"))
    eq(menu.find_action(tree, "sign_in_manual"), ("4", "2"))


def test_menu_validation_names_the_problem():
    with raises(menu.MenuError) as e:
        menu.validate({"root": {"label": {"zh": "x"}, "items": [{"label": {"zh": "y"}}]}})
    contains(str(e.value), "root.1")


def test_params_screen_shows_mid_tid_and_center():
    r = Rig()
    r.press("MENU", "5", "1")
    contains(r.screen_flat(), "898310048990001")
    r.press("DOWN")
    contains(r.screen_flat(), "12345678")


def test_english_screens():
    r = Rig()
    r.t.strings.set_lang("en")
    r.press("MENU")
    contains(r.screen_flat(), "1.Financial")
    true(True)


def test_a_card_inserted_tapped_or_swiped_while_a_menu_is_open_starts_a_sale_as_at_idle():
    from pos import card as cardmod

    chip = {"pan": "6212142000000000012", "seq": "01", "expiry": "3012", "pin": "123456",
            "imk_ac": "0123456789ABCDEFFEDCBA9876543210", "label": "UnionPay Debit"}  # fmt: skip
    for ev in (("chip", chip), ("tap", chip)):
        r = Rig().sign_in()
        r.press("MENU", "1")
        r.event(ev)
        eq(getattr(r.t, "last_error", None), None, ev[0])
        contains(r.screen_flat(), "请输入金额", ev[0])
    # a chip card swiped at the menu is read with its track (service code 2xx): 请插卡, as
    # at idle, not taken as a stripe card without its track
    r = Rig().sign_in()
    r.press("MENU")
    r.event(cardmod.swipe("6222020000000000018", "", "6222020000000000018=30122010000000000"))
    contains(r.screen_flat(), "请插卡")


def test_a_damaged_downloaded_menu_is_said_set_aside_and_the_shipped_one_used():
    # a menu.json a menu update wrote, then damaged on the terminal's storage (cut in two;
    # JSON that is no menu): start-up says it (菜单损坏 / 下载菜单已损坏 / 已使用原装菜单) and
    # logs it, the file is kept as menu.json.damaged-N and never read again; a key ends the
    # notice and the shipped menu works
    from pos.memstorage import MemoryStorage

    shipped = Rig().resources.read("menu.json")
    for n, bad in ((1, shipped[: len(shipped) // 2]), (2, b'{"root": 5, "version": 3}')):
        st = MemoryStorage()
        if n == 2:  # a copy kept at an earlier start stays: the next number
            st.files["menu.json.damaged-1"] = b"kept from before"
        st.files["menu.json"] = bad
        r = Rig(storage=st)
        text = r.screen_flat()
        true("菜单损坏" in text and "下载菜单已损坏" in text and "已使用原装菜单" in text, text)
        logs = " ".join(e[2] for e in r.logs if e[1] == "error")
        contains(logs, "menu.json (downloaded) unusable")
        contains(logs, "menu.json.damaged-%d" % n)
        eq(st.files.get("menu.json.damaged-%d" % n), bad, "the damaged file kept as it was")
        true("menu.json" not in st.files, "set aside: not read again")
        r.press("ENTER")
        contains(r.screen_flat(), "欢迎使用")
        r.press("MENU")
        contains(r.screen_flat(), "1.金融服务")
        r2 = Rig(storage=st)  # the next start: nothing more to say
        contains(r2.screen_flat(), "欢迎使用")
