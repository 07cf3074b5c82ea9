from mptest import eq, true, contains
from rig import Rig
import fakecenter


def _menu_v2():
    return (
        '{"version": 2, "root": {"label": {"zh": "菜单"}, "items": ['
        '{"label": {"zh": "金融服务"}, "items": ['
        '{"label": {"zh": "签到"}, "action": "sign_in_auto"},'
        '{"label": {"zh": "消费"}, "action": "purchase"}]},'
        '{"label": {"zh": "新功能区"}, "items": ['
        '{"label": {"zh": "终端参数"}, "action": "show_params"}]}'
        "]}}"
    ).encode()


def test_menu_update_downloads_in_chunks_and_uses_the_new_menu_next():
    big = _menu_v2()
    c = fakecenter.Center(menu_json=big, menu_version=2)
    r = Rig(center=c)
    r.press("MENU", "4", "1")
    contains(r.screen_flat(), "菜单更新成功")
    eq(r.t.state.menu_version, 2)
    eq(r.storage.read("menu.json"), big)
    eq(r.storage.size("menu.json.bin"), -1, "(the old menu's compiled copy is gone)")
    r.press("CANCEL", "MENU")
    contains(r.screen_flat(), "新功能区")
    # the first move compiled the downloaded menu into storage; the next moves read their
    # node there: the file is not parsed at every move (~24 KB of heap for the shipped menu's
    # 47 nodes on a board)
    true(r.storage.size("menu.json.bin") > 0, "compiled by the first move")
    r.t.reload_menu()
    r.press("2")
    contains(r.screen_flat(), "终端参数")
    eq(r.t._menu, None, "nothing parsed")
    r.press("CANCEL", "1")
    contains(r.screen_flat(), "签到")
    eq(r.t._menu, None, "nothing parsed")


def test_menu_update_with_a_bad_crc_keeps_the_old_menu():
    c = fakecenter.Center(menu_json=_menu_v2(), menu_version=2)
    orig = c._menu_chunk

    def corrupt(f62):
        out = orig(f62)
        return out[:-1] + b"X" if len(out) > 24 else out

    c._menu_chunk = corrupt
    r = Rig(center=c)
    r.press("MENU", "4", "1")
    contains(r.screen_flat(), "菜单更新失败")
    eq(r.t.state.menu_version, 0)
    eq(r.storage.read("menu.json"), None)


def test_menu_update_rejects_a_file_that_is_not_a_menu():
    c = fakecenter.Center(menu_json=b'{"version": 3, "nope": 1}', menu_version=3)
    r = Rig(center=c)
    r.press("MENU", "1", "1", "ENTER")
    contains(r.screen_flat(), "菜单更新失败")
    true(not r.t.signed_in_today(), "auto sign-in stops when the menu update fails")


def test_up_to_date_menu_says_so():
    r = Rig()
    r.press("MENU", "4", "1")
    contains(r.screen_flat(), "菜单已是最新")


class _Watched:
    # the terminal's storage, recording what the menu download writes (and failing it on
    # request: a full disk while the chunks come in)
    def __init__(self, port):
        self.port = port
        self.parts = []  # the size of each append of the download
        self.fail_part = 0  # the append number (1-based) of the download that fails

    def append(self, name, data):
        if name == "menu.json.dl":
            self.parts.append(len(data))
            if len(self.parts) == self.fail_part:
                raise OSError(28, "No space left on device")
        return self.port.append(name, data)

    def __getattr__(self, name):
        return getattr(self.port, name)


def test_the_downloaded_menu_goes_to_storage_chunk_by_chunk_never_whole_in_the_heap():
    big = _menu_v2() + b" " * 900  # three chunks of at most 400 B
    c = fakecenter.Center(menu_json=big, menu_version=2)
    r = Rig(center=c)
    w = _Watched(r.t.storage)
    r.t.storage = w
    r.press("MENU", "4", "1")
    contains(r.screen_flat(), "菜单更新成功")
    true(len(w.parts) >= 3 and max(w.parts) <= 400, "appended chunk by chunk: %r" % (w.parts,))
    eq(w.port.read("menu.json"), big)
    eq(w.port.size("menu.json.dl"), -1, "the partial file is gone")


def test_a_menu_download_that_cannot_be_stored_keeps_the_old_menu():
    c = fakecenter.Center(menu_json=_menu_v2() + b" " * 900, menu_version=2)
    r = Rig(center=c)
    w = _Watched(r.t.storage)
    w.fail_part = 2
    r.t.storage = w
    r.press("MENU", "4", "1")
    contains(r.screen_flat(), "菜单更新失败")
    eq(r.t.state.menu_version, 0)
    eq(w.port.read("menu.json"), None)
    eq(w.port.size("menu.json.dl"), -1, "the partial file is gone")
    r.press("CANCEL", "MENU")
    contains(r.screen_flat(), "金融服务")  # the shipped menu


def test_the_menu_module_is_not_held_through_the_download_s_exchanges():
    # pos.menu (~2.4 KB of objects on a board) is imported for the check once the file is
    # in: the sign-in's menu update ran out of heap on a board (ESP32, ROMFS) loading the
    # codec for a chunk's request with it held
    from pos import menu, overlay
    from pos.flows import menuupdate

    eq(menuupdate.MENU_FILE, menu.MENU_FILE)
    eq(menuupdate.STORED_BIN, menu.STORED_BIN)

    class Watching(fakecenter.Center):
        def __init__(self, **kw):
            fakecenter.Center.__init__(self, **kw)
            self.loaded_at = []

        def answer(self, frame, timeout):
            self.loaded_at.append(overlay.loaded())
            return fakecenter.Center.answer(self, frame, timeout)

    old = overlay.ENABLED
    overlay.ENABLED = True
    try:
        c = Watching(menu_json=_menu_v2(), menu_version=2)
        r = Rig(center=c)
        # what a board holds at idle (CPython has imported more): no flow but the main loop,
        # no menu (tests/core/test_overlay_core.py's _resident_only)
        keep = [n for n in overlay.loaded() if n != "pos.menu" and
                (not n.startswith("pos.flows.") or n == "pos.flows.main")]  # fmt: skip
        overlay.unload(keep)
        r.press("MENU", "4", "1")
        contains(r.screen_flat(), "菜单更新成功")
    finally:
        overlay.ENABLED = old
    during = [m for m in c.loaded_at if "pos.flows.menuupdate" in m]
    true(during, "the menu update's requests")
    for m in during:
        true("pos.menu" not in m, "pos.menu not loaded while a chunk is asked for")
