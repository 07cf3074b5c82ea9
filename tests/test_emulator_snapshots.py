"""Snapshot tests of the emulator (pytest-textual-snapshot, Textual pinned in pyproject).

Key flash, ticks and cursor blink are off, the clock is fixed (--date), and the status line
shows fixed labels for the host address and data dir. SVG snapshots draw CJK at half width,
so each snapshot is backed by a plain-text assertion of the LCD grid and the screen."""

import pytest
from test_emulator import make_app

from pos import receipt


@pytest.fixture
def emulator(tmp_path):
    app, driver = make_app(tmp_path)
    yield app
    driver.close()


def _screen_rows(app):
    return app.screen_text().splitlines()


class TestEmulatorSnapshots:
    def test_idle_screen(self, emulator, snap_compare):
        """The idle screen: date, 欢迎使用, 今日未签到; keypad, empty printer, status."""

        async def check(pilot):
            await pilot.pause()
            app = pilot.app
            assert app.lcd.grid_text() == [
                "2026-11-23 09:00",
                "    欢迎使用    ",
                "   今日未签到   ",
                "请插卡/刷卡/挥卡",
            ]
            assert app.lcd.inverse == 1  # the date bar
            rows = _screen_rows(app)
            assert "│    欢迎使用    │" in rows[2]
            assert "Signed in today: NO" in "\n".join(rows)
            assert "Host idle 127.0.0.1:PORT" in "\n".join(rows)

        assert snap_compare(emulator, terminal_size=(80, 24), run_before=check)

    def test_main_menu(self, emulator, snap_compare):
        """菜单 pressed: the main menu's first page, title bar inverse."""

        async def press_menu(pilot):
            await pilot.press("m")
            await pilot.pause()
            app = pilot.app
            grid = app.lcd.grid_text()
            assert grid[0].strip().startswith("菜单")
            assert grid[1:] == ["1.金融服务      ", "2.打印          ", "3.管理          "]
            assert app.lcd.inverse == 1
            assert "│1.金融服务      │" in "\n".join(_screen_rows(app))

        assert snap_compare(emulator, terminal_size=(80, 24), run_before=press_menu)

    def test_receipt_on_the_paper_strip(self, emulator, snap_compare):
        """A merchant copy of a purchase slip on the 58 mm paper strip."""

        async def print_slip(pilot):
            app = pilot.app
            t = app.driver.terminal
            rec = {
                "type": "purchase",
                "pan": "6212142000000000012",
                "exp": "3012",
                "entry": "02",
                "amount": 1234,
                "op": "01",
                "batch": "000001",
                "trace": "000005",
                "date": "20261123",
                "time": "090000",
                "settle_date": "1123",
                "auth": "123456",
                "rrn": "112309000002",
            }
            app.driver.perform([("print", receipt.build(t, rec, "merchant"))])
            await pilot.pause()
            rows = app.paper.receipts[0]
            assert rows[0].strip() == "POS签购单"
            assert "卡号:" in rows and "621214*********0012 S" in rows
            assert "金额:RMB 12.34" in rows
            screen = "\n".join(_screen_rows(app))
            assert "POS签购单" in screen and "商户编号:898310048990001" in screen

        assert snap_compare(emulator, terminal_size=(80, 24), run_before=print_slip)

    def test_card_reader_and_scanner(self, emulator, snap_compare):
        """c: the card reader over the terminal: each card with how it reads (stripe, chip,
        chip+tap, phone) in aligned columns, the payment codes below, the action buttons."""

        async def open_reader(pilot):
            await pilot.press("c")
            await pilot.pause()
            rows = _screen_rows(pilot.app)
            text = "\n".join(rows)
            assert "Card reader and scanner" in text
            assert "PAN / code          reads         exp  holder     status   balance" in text
            assert "6212142000000000012 stripe        3012 ZHANG SAN  ok      10000.00" in text
            assert "4761340000000019    stripe        3012 JOHN SMITH ok      10000.00" in text
            assert "Swipe s" in text and "Insert i" in text and "Tap t" in text
            assert "Key in k" in text and "Scan" in text

        assert snap_compare(emulator, terminal_size=(80, 24), run_before=open_reader)

    def test_card_reader_scrolled_to_the_chip_cards_and_codes(self, emulator, snap_compare):
        """The reader scrolled down: the chip, contactless, broken-chip and phone cards, then
        the UnionPay QR, WeChat Pay and Alipay codes."""

        async def scroll(pilot):
            await pilot.press("c")
            await pilot.pause()
            await pilot.press("end")
            await pilot.pause()
            text = "\n".join(_screen_rows(pilot.app))
            assert "6212142000000001069 chip+tap      3112 CHU SI     ok      10000.00" in text
            assert "281234567890000029  QR Alipay     -    ZHOU BA    confirm" in text
            assert "281234567890000037  QR Alipay     -    WU JIU     never" in text

        assert snap_compare(emulator, terminal_size=(80, 24), run_before=scroll)
