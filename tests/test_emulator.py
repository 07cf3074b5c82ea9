"""Helpers for the emulator tests: building an app on a temp data dir, waiting for host
exchanges, and hosts that are down or never answer."""

import asyncio
import socket
import threading

from posterm.emulator import keymap
from posterm.emulator.app import EmulatorApp
from posterm.emulator.frontdriver import EmulatorDriver

DATE = (2026, 11, 23, 9, 0, 0)
PAN = "6212142000000000012"
LABELS = {"host": "127.0.0.1:PORT", "data": "DATA"}


def make_app(data_dir, host=None, flash=False, tick_seconds=None, clock_running=False, **kw):
    driver = EmulatorDriver(str(data_dir), host=host, date=DATE, clock_running=clock_running)
    app = EmulatorApp(driver, flash=flash, tick_seconds=tick_seconds, labels=LABELS, **kw)
    app.seen = []  # every frame shown, flattened
    driver.frame_listeners.append(lambda f: app.seen.append("".join(r.strip() for r in f.lines)))
    return app, driver


def lcd_text(app):
    """The LCD grid as drawn, trailing blanks removed."""
    return [row.rstrip() for row in app.lcd.grid_text()]


def lcd_flat(app):
    return "".join(row.strip() for row in app.lcd.grid_text())


async def settle(pilot, limit=10.0):
    """Wait until no host exchange is outstanding and every message is handled."""
    app = pilot.app
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while True:
        await pilot.pause()
        if app.driver.pending is None:
            break
        if loop.time() > end:
            raise AssertionError("the host exchange did not finish")
        await asyncio.sleep(0.02)
    await app.workers.wait_for_complete()
    await pilot.pause()


async def sign_in(pilot):
    await pilot.press("m", "1", "1", "enter")
    await settle(pilot)
    assert "签到成功" in lcd_flat(pilot.app), lcd_text(pilot.app)
    await pilot.press("enter")  # dismiss the notice: back to idle
    await pilot.pause()


def closed_port():
    """An address where nothing listens."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"127.0.0.1:{port}"


class SilentHost:
    """Accepts connections and reads, never answers (a center that hangs)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.address = self.sock.getsockname()
        self.conns = []
        self.received = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            try:
                conn.recv(4096)
            except OSError:
                pass
            self.received.set()

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


# -- sign-in ------------------------------------------------------------------------------


async def test_auto_sign_in_by_pressing_pc_keys(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            assert "今日未签到" in lcd_flat(app)
            await pilot.press("m", "1")
            assert lcd_text(app)[1].startswith("1.签到")
            await pilot.press("1")
            assert "签到用时可能会" in lcd_flat(app)
            await pilot.press("enter")
            await settle(pilot)
            assert lcd_text(app)[1:3] == ["应答码:00", "签到成功!"]
            assert "Signed in today: yes" in str(app.status.render())
            assert "Host up" in str(app.status.render())
    finally:
        driver.close()
    assert driver.terminal.signed_in_today()


async def test_manual_sign_in_by_clicking_keypad_buttons(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            for key in ("MENU", "4", "2"):
                assert await pilot.click("#key-" + key)
            assert "按确认键将为您签到" in lcd_flat(app)
            assert await pilot.click("#key-ENTER")
            await settle(pilot)
            assert "应答码:00" in lcd_flat(app)
            assert "签到成功" in lcd_flat(app)
    finally:
        driver.close()
    assert driver.terminal.signed_in_today()


# -- transactions -------------------------------------------------------------------------


async def test_purchase_with_a_card_presented_from_the_deck_prints_the_slip(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await sign_in(pilot)
            await pilot.press("c")
            await pilot.pause()
            picker = app.screen
            assert picker.__class__.__name__ == "CardPicker"
            assert picker.rows[0][0] == PAN
            await pilot.press("enter")  # the highlighted (first) card
            await pilot.pause()
            assert "621214******0012" in lcd_flat(app)
            await pilot.press("1", "2", "3", "4", "enter")
            assert "请输入密码" in lcd_flat(app)
            await pilot.press(*"123456", "enter")
            await settle(pilot)
            assert any("交易成功" in f for f in app.seen)
            assert "请撕下商户存根" in lcd_flat(app)
            merchant = "\n".join(app.paper.receipts[0])
            assert "金额:RMB 12.34" in merchant
            assert "621214*********0012" in merchant
            trace = driver.terminal.state.trace
            assert f"Trace {trace:06d}" in str(app.status.render())
    finally:
        driver.close()


async def test_a_deck_card_swipes_with_enter_and_is_keyed_in_with_k(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await sign_in(pilot)
            for key, entry in (("enter", "021"), ("k", "011")):
                await pilot.press("m", "1", "2", "1", "0", "0", "enter", "c")
                await pilot.pause()
                await pilot.press(key)
                await pilot.pause()
                await pilot.press(*"123456", "enter")
                await settle(pilot)
                assert "请撕下商户存根" in lcd_flat(app), lcd_text(app)
                e = driver.terminal.journal.entries()[-1]
                assert e["entry"] == entry[:2] and driver.terminal.journal.pan(e) == PAN
                await pilot.press("enter")  # the cardholder copy
                await settle(pilot)
                await pilot.press("escape")
                await pilot.pause()
    finally:
        driver.close()


async def test_typed_pan_is_presented_as_a_swipe(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await sign_in(pilot)
            await pilot.press("c")
            await pilot.pause()
            app.screen.query_one("#card-pan").focus()
            await pilot.press(*"12345", "enter")
            assert app.screen.__class__.__name__ == "CardPicker"  # too short: stays open
            assert "12-19 digit PAN" in str(app.screen.query_one("#card-help").render())
            app.screen.query_one("#card-pan").value = ""
            await pilot.press(*"6212142000000000020", "enter")
            await pilot.pause()
            assert app.screen.__class__.__name__ != "CardPicker"
            assert "621214******0020" in lcd_flat(app).replace("\n", "")
    finally:
        driver.close()


async def test_keys_typed_in_the_card_reader_do_not_reach_the_terminal(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("c")
            await pilot.pause()
            await pilot.press("m", "1", "q")  # list focused: not the keypad, not quit
            assert app.screen.__class__.__name__ == "CardPicker"
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen.__class__.__name__ != "CardPicker"
            assert "今日未签到" in lcd_flat(app)
    finally:
        driver.close()


async def test_host_down_gives_the_failure_screen_and_the_ui_keeps_going(tmp_path):
    app, driver = make_app(tmp_path, host=closed_port())
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("m", "4", "2", "enter")
            await settle(pilot)
            assert "连接中心失败" in lcd_flat(app)
            assert "Host DOWN" in str(app.status.render())
            await pilot.press("enter")
            await pilot.pause()
            assert "今日未签到" in lcd_flat(app)
            await pilot.press("l")
            assert app.log_pane.display
            assert any("link error" in line.text for line in app.log_pane.lines)
    finally:
        driver.close()


async def test_paper_out_holds_the_slip_until_paper_is_back(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await sign_in(pilot)
            await pilot.press("p")
            assert driver.terminal.printer_ok is False
            assert "PAPER OUT" in str(app.paper.border_title)
            await pilot.press("c", "enter")
            await pilot.press("5", "0", "0", "enter", *"123456", "enter")
            await settle(pilot)
            assert "缺纸" in lcd_flat(app)
            assert app.paper.receipts == []
            await pilot.press("p")
            await pilot.pause()
            assert driver.terminal.printer_ok is True
            assert app.paper.receipts == [], "paper back alone prints nothing"
            assert "按确认打印" in lcd_flat(app)
            await pilot.press("enter")
            await pilot.pause()
            assert len(app.paper.receipts) == 1
            assert "金额:RMB 5.00" in "\n".join(app.paper.receipts[0])
            await pilot.press("t")
            await pilot.pause()
            assert app.paper.receipts == []
            assert not app.paper.query(".receipt")
    finally:
        driver.close()


# -- waiting on the host --------------------------------------------------------------------


async def test_countdown_moves_and_keys_work_while_the_host_is_silent(tmp_path):
    silent = SilentHost()
    app, driver = make_app(
        tmp_path, host="%s:%s" % silent.address, tick_seconds=0.25, clock_running=True
    )
    frames = []
    driver.frame_listeners.append(lambda f: frames.append(f.text()))
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("m", "4", "2", "enter")
            assert driver.pending is not None
            await pilot.pause(2.3)
            assert driver.pending is not None  # still waiting: 30 s timeout
            shown = [f[-1].strip() for f in frames if "正在连接中心..." in "".join(f)]
            assert {"29", "28"} & set(shown), shown
            assert "Host waiting" in str(app.status.render())
            await pilot.press("l")  # the UI still answers
            assert app.log_pane.display
    finally:
        driver.close()
        silent.close()


async def test_quitting_mid_transaction_leaves_the_reversal_for_the_next_start(tmp_path):
    from pos.state import State
    from pos.storage import FileStorage

    from posterm import paths
    from posterm.link import TcpLink

    silent = SilentHost()
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await sign_in(pilot)
            driver.link = TcpLink(silent.address)  # the center stops answering
            await pilot.press("c", "enter", "8", "8", "enter", *"123456", "enter")
            await pilot.pause()
            assert driver.pending is not None
            assert silent.received.wait(5)
            await app.action_quit()
    finally:
        driver.close()
        silent.close()
    state = State(FileStorage(paths.terminal_dir(str(tmp_path))), {})
    assert state.reversal() is not None


# -- keys -----------------------------------------------------------------------------------


async def test_a_refused_key_beeps_and_the_status_line_says_so_until_the_next_key(tmp_path):
    # the terminal's screen does not change on a key it refuses (9 in a menu of five): the
    # emulator rings the bell and says it in text, which a screen reader reads
    app, driver = make_app(tmp_path)
    bells = []
    app.bell = lambda: bells.append(1)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("m")
            menu = lcd_text(app)
            assert "Beep" not in str(app.status.render())
            await pilot.press("9")
            await pilot.pause()
            assert lcd_text(app) == menu
            assert "Beep: key 9 refused" in str(app.status.render())
            assert "Beep: key 9 refused" in app.screen_text()  # shown whole at 80x24
            assert bells == [1]
            await pilot.press("1")
            await pilot.pause()
            assert "Beep" not in str(app.status.render())
            assert bells == [1]
            # an error beep with a new screen (密码为6位数字): "Beep", the screen says why
            await pilot.press("escape", "3", "4", "1", "enter")
            await pilot.pause()
            assert "密码为6位数字" in lcd_flat(app)
            assert "Beep" in str(app.status.render())
            assert "refused" not in str(app.status.render())
    finally:
        driver.close()


async def test_a_disk_that_refuses_the_chip_counts_is_said_on_the_status_line(tmp_path):
    # the counts' file cannot be written (its temporary name is taken by a directory, as a
    # full disk refuses it): the status line says so at each key, the emulator runs on
    (tmp_path / "chipcards.json.tmp").mkdir()
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            app.deck.icc("6212142000000001010")["atc"] = 9  # what a chip counted
            await pilot.press("m")
            await pilot.pause()
            assert "Chip counts not saved" in str(app.status.render())
            assert "1.金融服务" in lcd_flat(app)
            await pilot.press("1")
            await pilot.pause()
            assert "1.签到" in lcd_flat(app)
            (tmp_path / "chipcards.json.tmp").rmdir()
            await pilot.press("escape")
            await pilot.pause()
            assert "Chip counts" not in str(app.status.render())
    finally:
        driver.close()
    assert '"atc": 9' in (tmp_path / "chipcards.json").read_text()


async def test_a_damaged_chip_counts_file_is_said_on_the_status_line_at_start(tmp_path):
    # chipcards.json cut short: kept aside, the ATCs moved on (posterm.host.deck), and the
    # status line says it until the first key, the start-up notice's beep (a damaged
    # downloaded menu) notwithstanding
    (tmp_path / "chipcards.json").write_text('{"6212142000000001010": {"atc": 5')
    (tmp_path / "terminal").mkdir()
    (tmp_path / "terminal" / "menu.json").write_text("{broken")
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert "菜单损坏" in lcd_flat(app)
            assert "Chip counts file damaged" in str(app.status.render())
            assert app.deck.icc("6212142000000001010")["atc"] == 5
    finally:
        driver.close()
    assert (tmp_path / "chipcards.json.damaged-1").exists()
    assert "chipcards.json" in (tmp_path / "posterm.log").read_text()


async def test_a_fast_burst_of_pc_keys_reaches_the_terminal_in_order(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            # typed in one go, as tmux or a fast typist does: MENU 4 2 -> 终端手动签到
            await pilot.press("m", "4", "2")
            assert "按确认键将为您" in lcd_flat(app)
            await pilot.press("escape", "m", "2", "4", "escape", "escape", "m", "1", "1")
            assert "签到用时可能会" in lcd_flat(app)
    finally:
        driver.close()


async def test_pc_keys_flash_their_keypad_button(tmp_path):
    app, driver = make_app(tmp_path, flash=True)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            button = app.query_one("#key-MENU")
            assert button.active_effect_duration > 0
            button.active_effect_duration = 30  # long enough to see under any load
            assert not button.has_class("-active")
            await pilot.press("m")
            assert button.has_class("-active")
            assert lcd_text(app)[1].startswith("1.")  # and the key reached the terminal
    finally:
        driver.close()


async def test_flash_can_be_switched_off_for_snapshots(tmp_path):
    app, driver = make_app(tmp_path, flash=False)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("m")
            assert not app.query_one("#key-MENU").has_class("-active")
    finally:
        driver.close()


async def test_keymap_remaps_a_key_by_binding_id(tmp_path):
    app, driver = make_app(tmp_path, keymap={"key.menu": "f5", "key.1": "a"})
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("m")
            assert "今日未签到" in lcd_flat(app)
            await pilot.press("f5", "a")
            assert lcd_text(app)[1].startswith("1.签到")
    finally:
        driver.close()


def test_keymap_file_is_read_and_checked(tmp_path):
    import pytest

    from posterm.emulator.keymap import KeymapError, load_keymap

    good = tmp_path / "keymap.toml"
    good.write_text('[keymap]\n"key.enter" = "enter, space"\ncard = ["s", "f9"]\n')
    assert load_keymap(str(good)) == {"key.enter": "enter,space", "card": "s,f9"}
    assert load_keymap(str(tmp_path / "none.toml")) == {}
    with pytest.raises(KeymapError, match="no such file"):
        load_keymap(str(tmp_path / "none.toml"), required=True)
    bad = tmp_path / "bad.toml"
    bad.write_text('[keymap]\n"key.enterr" = "x"\n')
    with pytest.raises(KeymapError, match="unknown binding id 'key.enterr'"):
        load_keymap(str(bad))
    broken = tmp_path / "broken.toml"
    broken.write_text("[keymap\n")
    with pytest.raises(KeymapError, match="not valid TOML"):
        load_keymap(str(broken))
    # one PC key for two bindings: one of them could never be pressed
    clash = tmp_path / "clash.toml"
    clash.write_text('[keymap]\n"key.enter" = "m"\n')
    with pytest.raises(KeymapError, match="'m' is bound to both key.menu and key.enter"):
        load_keymap(str(clash))
    clash.write_text('[keymap]\n"key.enter" = "m"\n"key.menu" = "f5"\n')
    assert load_keymap(str(clash)) == {"key.enter": "m", "key.menu": "f5"}


def test_every_terminal_key_has_a_button_and_a_binding():
    from pos import keys as K

    from posterm.emulator.keymap import BY_NAME, PAD_KEYS

    assert set(BY_NAME) == set(K.NAMED) | set(K.DIGITS) | {"."}
    assert len({k.binding_id for k in PAD_KEYS}) == len(PAD_KEYS)
    assert BY_NAME["ENTER"].label() == "确认 Enter"
    assert BY_NAME["CANCEL"].label() == "取消 Esc"
    assert BY_NAME["CLEAR"].label() == "退格 Bksp"
    assert BY_NAME["MENU"].label() == "菜单 m"


# -- the log pane -----------------------------------------------------------------------------


async def test_log_pane_is_hidden_until_toggled_one_readable_line_a_message(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            assert not app.log_pane.display
            await sign_in(pilot)
            await pilot.press("l")
            assert app.log_pane.display
            # one line a message, never wrapped, and each fits the 80x24 pane whole
            width = app.log_pane.scrollable_content_region.width
            assert width >= 30, width
            lines = [line.text for line in app.log_pane.lines]
            assert len(lines) >= 4 and len(lines) % 2 == 0, lines  # each 0800 and its 0810
            assert all(len(line) <= width for line in lines), (width, lines)
            assert lines[0].split()[1:3] == [">", "0800"], lines
            assert lines[1].split()[1:3] == ["<", "0810"] and "rc=" in lines[1], lines
            assert lines[-1].split()[1:3] == ["<", "0810"] and "rc=00" in lines[-1], lines
            assert lines[1].endswith("ms")
    finally:
        driver.close()


def _screen_rows(app):
    return app.screen_text().splitlines()


async def test_l_again_opens_the_full_screen_log_with_every_field(tmp_path):
    from posterm.emulator.widgets import LogScreen

    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await sign_in(pilot)
            await pilot.press("l", "l")
            await pilot.pause()
            assert isinstance(app.screen, LogScreen)
            view = app.screen.view
            assert view.scrollable_content_region.width >= 74  # the whole 80 columns
            text = [line.text for line in view.lines]
            assert any("MTI ...................... 0800" in t for t in text), text[:20]
            assert any(t.strip().startswith("F039 ") for t in text)
            assert any(t.startswith("    to 127.0.0.1:PORT") for t in text)
            # one field a line: nothing wrapped; a long value runs on to the right
            assert view.virtual_size.width > view.scrollable_content_region.width
            await pilot.press("right")
            await pilot.pause()
            assert view.scroll_x > 0
            await pilot.press("d")  # the summaries alone
            await pilot.pause()
            assert len(view.lines) == len(app.log_entries) >= 4
            await pilot.press("l")
            await pilot.pause()
            assert not isinstance(app.screen, LogScreen)
            assert not app.log_pane.display
            assert "今日已签到" in lcd_flat(app)
    finally:
        driver.close()


async def test_the_log_uses_the_width_at_120x40(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await sign_in(pilot)
            await pilot.press("l")
            await pilot.pause()
            assert app.screen.has_class("-large")
            # under the paper, the whole right column: twice the 80x24 pane
            assert app.log_pane.region.width >= 60, app.log_pane.region
    finally:
        driver.close()


# -- layout -------------------------------------------------------------------------------------


async def test_lcd_is_a_fixed_grid_of_the_profile_with_cjk_two_cells_wide(tmp_path):
    from rich.cells import cell_len

    app, driver = make_app(tmp_path / "big")
    try:
        async with app.run_test(size=(80, 24)):
            assert app.lcd.size == (16, 4)
            assert all(cell_len(row) == 16 for row in app.lcd.grid_text())
            assert app.lcd.grid_text()[2] == "   今日未签到   "
            assert app.lcd.row_strip(0).text == "2026-11-23 09:00"
    finally:
        driver.close()
    driver = EmulatorDriver(str(tmp_path / "wide"), date=DATE, profile="lcd320x240")
    app = EmulatorApp(driver, flash=False, tick_seconds=None, labels=LABELS)
    try:
        async with app.run_test(size=(120, 40)):
            assert app.lcd.size == (40, 15)
    finally:
        driver.close()


def _inside(app, width, height):
    for widget in [app.lcd, app.paper, app.status, *app.query(".pad")]:
        if not widget.display or not widget.parent.display:
            continue
        region = widget.region
        assert region.width > 0 and region.height > 0, widget
        assert region.right <= width and region.bottom <= height - 1, (widget, region)


async def test_the_big_profile_at_120x40_shows_every_key_whole(tmp_path):
    driver = EmulatorDriver(str(tmp_path), date=DATE, profile="lcd320x240")
    app = EmulatorApp(driver, flash=False, tick_seconds=None, labels=LABELS)
    try:
        async with app.run_test(size=(120, 40)):
            left = app.query_one("#left")
            assert left.virtual_size.height <= left.region.height, "no scrolling, nothing cut"
            f4 = app.query_one("#key-F4")
            assert f4.region.right <= left.region.right - 1, (f4.region, left.region)
            assert len(app.query(".pad")) == len(keymap.PAD_KEYS)
            _inside(app, 120, 40)
    finally:
        driver.close()


async def test_the_big_profile_fits_80x24_with_the_keypad_hidden(tmp_path):
    driver = EmulatorDriver(str(tmp_path), date=DATE, profile="lcd320x240")
    app = EmulatorApp(driver, flash=False, tick_seconds=None, labels=LABELS)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            assert app.screen.has_class("-nopad")
            assert not app.query_one("#keypad").display
            _inside(app, 80, 24)
            assert app.lcd.region.width == 40 and app.lcd.region.height == 15
            await pilot.press("m")  # the PC keys still work
            await pilot.pause()
            assert "1.金融服务" in lcd_flat(app)
    finally:
        driver.close()


async def test_a_terminal_too_small_for_the_profile_says_what_it_needs(tmp_path):
    driver = EmulatorDriver(str(tmp_path), date=DATE, profile="lcd320x240")
    app = EmulatorApp(driver, flash=False, tick_seconds=None, labels=LABELS)
    try:
        async with app.run_test(size=(70, 20)) as pilot:
            await pilot.pause()
            text = app.screen_text()
            assert "needs a terminal of at least 79x23" in " ".join(text.split()), text
            assert "this one is 70x20" in text
            await pilot.resize_terminal(80, 24)
            await pilot.pause()
            assert not app.screen.has_class("-small")
            assert "needs a terminal" not in app.screen_text()
    finally:
        driver.close()


async def test_compact_layout_fits_80x24(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)):
            assert not app.screen.has_class("-large")
            for widget in [app.lcd, app.paper, app.status, *app.query(".pad")]:
                region = widget.region
                assert region.width > 0 and region.height > 0, widget
                assert region.right <= 80 and region.bottom <= 23, (widget, region)
    finally:
        driver.close()


# -- starting -----------------------------------------------------------------------------------


async def test_fresh_data_dir_is_created_and_the_idle_screen_shows(tmp_path):
    import time

    data = tmp_path / "new" / "posterm"
    started = time.monotonic()
    app, driver = make_app(data)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            elapsed = time.monotonic() - started
            assert "今日未签到" in lcd_flat(app)
    finally:
        driver.close()
    assert data.is_dir()
    print(f"fresh data dir to idle screen: {elapsed * 1000:.0f} ms")


def test_second_instance_on_the_same_data_dir_is_refused(tmp_path, capsys):
    from posterm.cli import main

    first = EmulatorDriver(str(tmp_path), date=DATE)
    try:
        status = main(["emulator", "--data", str(tmp_path)])
    finally:
        first.close()
    assert status == 2
    err = capsys.readouterr().err
    assert "is in use by another posterm" in err
    assert "Traceback" not in err
