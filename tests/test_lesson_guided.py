"""Guided and assessment mode in the emulator (Pilot): the lesson panel, hints that get
more specific on each wrong key, the expected key highlighted, back and restart, the
assessment result file, and a step that waits for the host's answer."""

import json
import os

from posterm.lessons import guided, model, results
from posterm.lessons.session import ASSESS, GUIDED

SIZE = (120, 40)


def make_app(tmp_path, name, mode=GUIDED, trainee=None):
    session = guided.make_session(model.load(name), str(tmp_path), mode)
    session.start()
    app = guided.LessonApp(
        session, trainee=trainee, data_dir=str(tmp_path), flash=False, tick_seconds=None
    )
    return session, app


def highlighted(app):
    return [b.key.name for b in app.query("PadButton.-lesson-next")]


async def until(pilot, cond, seconds=10.0):
    for _ in range(int(seconds / 0.05)):
        if cond():
            return True
        await pilot.pause(0.05)
    return cond()


async def test_a_wrong_key_gives_a_hint_that_gets_more_specific_and_shows_the_key(tmp_path):
    session, app = make_app(tmp_path, "01_daily_signin")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert "第 1 步 / 共 5 步" in app.panel.text()
            assert "按「菜单」键" in app.panel.text()
            assert highlighted(app) == ["MENU"]
            screen = app.lcd.grid_text()
            hints = []
            for _ in range(3):
                await pilot.press("5")
                await pilot.pause()
                hints.append(str(app.panel.query_one("#lesson-hint").render()))
            assert app.lcd.grid_text() == screen  # the wrong keys never reached the terminal
            assert hints[0] == "不是这个键。再读一遍本步的提示。"
            assert "功能键" in hints[1]
            assert hints[2] == "请按「菜单」键。"
            await pilot.press("m")
            await pilot.pause()
            assert "第 2 步 / 共 5 步" in app.panel.text()
            assert "请按" not in app.panel.text()
            assert highlighted(app) == ["1"]
            assert "1.金融服务" in app.lcd.grid_text()[1]
    finally:
        session.close()


async def test_back_a_step_and_restart_from_the_keyboard(tmp_path):
    session, app = make_app(tmp_path, "01_daily_signin")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("m", "1")
            await pilot.pause()
            assert "第 3 步" in app.panel.text()
            await pilot.press("b")
            await pilot.pause()
            assert "第 2 步" in app.panel.text()
            assert "菜单 1/2" in app.lcd.grid_text()[0]
            await pilot.press("r")
            await pilot.pause()
            assert "第 1 步" in app.panel.text()
            assert "今日未签到" in app.lcd.grid_text()[2]
            assert highlighted(app) == ["MENU"]
    finally:
        session.close()


async def test_an_assessment_shows_no_hints_and_saves_the_result(tmp_path):
    session, app = make_app(tmp_path, "01_daily_signin", ASSESS, trainee="李四")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert highlighted(app) == []
            await pilot.press("5")
            await pilot.pause()
            assert "不是这个键" not in app.panel.text()
            await pilot.press("b")  # no going back in an assessment
            await pilot.pause()
            assert "第 1 步" in app.panel.text()
            await pilot.press("m", "1", "1", "enter")
            assert await until(pilot, lambda: session.index == 4)
            await pilot.press("enter")
            assert await until(pilot, lambda: app.result_path is not None)
            await pilot.pause()
            assert "本课完成" in app.panel.text()
    finally:
        session.close()
    path = results.path_for(str(tmp_path), "李四")
    assert app.result_path == path and os.path.exists(path)
    with open(path, encoding="utf-8") as f:
        attempt = json.load(f)["attempts"][0]
    assert attempt["lesson"] == "01_daily_signin"
    assert (attempt["steps"], attempt["first_time"], attempt["mistakes"]) == (5, 4, 1)


async def test_a_step_that_waits_for_the_host_is_judged_when_the_answer_is_in(tmp_path):
    # lesson 11: the center never answers the purchase; the step ends on 交易超时
    session, app = make_app(tmp_path, "11_timeout_reversal")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("m", "1", "2", "2", "0", "0", "0", "enter")
            await pilot.pause()
            assert "第 2 步" in app.panel.text()
            app.feed(("card", "6212142000000000012", ""))
            await pilot.press(*"123456", "enter")
            await pilot.pause()
            assert "等待中心应答" in app.panel.text()
            assert await until(pilot, lambda: session.index == 2)
            await pilot.pause()
            assert "交易超时" in "".join(app.lcd.grid_text())
            assert "第 3 步" in app.panel.text()
            assert session.results[-1].problems == []
    finally:
        session.close()


def test_the_pilot_tests_leave_no_host_thread_behind():
    # every session closes its embedded training host
    import threading

    assert not [t for t in threading.enumerate() if t.name == "posterm-host" and t.is_alive()]


async def test_the_lesson_screen_fits_80x24_with_keypad_status_and_footer(tmp_path):
    session, app = make_app(tmp_path, "04_purchase")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("m", "1", "2", *"10000", "enter")
            await pilot.pause()
            text = app.screen_text()
            rows = text.splitlines()
            assert len(rows) <= 24
            # the whole keypad, the status and the footer with the card key are on screen
            for want in (
                "菜单 m",
                "取消 Esc",
                "退格",
                "确认",
                "7         8         9",
                "Signed in today: yes",
                "Batch 000001",
                "c Card",
                "p Paper",
            ):
                assert want in text, want
            assert "c Card" in rows[-1]
            # the panel: step N of M in full, the instruction, how to swipe in the emulator
            assert "第 3 步 / 共 5 步" in text
            assert "刷顾客的卡" in text and "按 c" in text and "6212142000000000012" in text
            lcd = app.lcd.grid_text()
            assert "请插卡/刷卡/挥卡" in "".join(lcd)
            # and c then Enter swipes the card the lesson wants (the first in the deck)
            await pilot.press("c")
            await pilot.pause()
            await pilot.press("enter")
            assert await until(pilot, lambda: session.index == 3)
    finally:
        session.close()


async def test_paper_out_in_a_lesson_is_shown_and_p_loads_paper(tmp_path):
    session, app = make_app(tmp_path, "15_paper_out")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("m", "1", "2", *"3000", "enter")
            await pilot.pause()
            app.feed(("card", "6212142000000000012", ""))
            await pilot.press(*"123456", "enter")
            assert await until(pilot, lambda: session.index == 2)
            await pilot.pause()
            assert app.paper_out and "PAPER OUT" in app.paper.border_title
            assert "按 p" in app.panel.text()
            await pilot.press("p")
            assert await until(pilot, lambda: session.index == 3)
            await pilot.pause()
            assert not app.paper_out and "已装纸" in "".join(app.lcd.grid_text())
            await pilot.press("enter")
            assert await until(pilot, lambda: session.index == 4)
            await pilot.pause()
            assert "请撕下商户存根" in "".join(app.lcd.grid_text())
            assert "商户存根" in app.screen_text()  # on the paper strip
    finally:
        session.close()


async def test_the_panel_wraps_chinese_as_chinese_no_line_starts_with_a_stop(tmp_path):
    # at 80x24 the panel is 35 columns: Rich broke at the spaces and left 。 and ) at the
    # start of a line (请顾客输入密码( / 测试卡是 / 123456)并按…); every line now fits and no
    # line starts with closing punctuation
    from textual.geometry import Region

    from pos import cells

    session, app = make_app(tmp_path, "04_purchase")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("m", "1", "2", *"10000", "enter")
            await pilot.pause()
            await pilot.press("c")
            await pilot.pause()
            await pilot.press(*"6212142000000000012", "enter")
            await until(pilot, lambda: "第 4 步" in app.panel.text())
            await pilot.pause()
            def shown(wid):
                w = app.panel.query_one(wid)
                lines = [s.text.rstrip() for s in w.render_lines(Region(0, 0, *w.size))]
                lines = [x for x in lines if x]
                assert len(lines) >= 2, lines
                for line in lines:
                    assert line[0] not in "。，、）」,.)", lines
                    assert cells.width(line) <= w.size.width, lines
                return lines

            assert any("测试卡是 123456" in x for x in shown("#lesson-do"))
            await pilot.press(*"123456", "enter")
            await until(pilot, lambda: "第 5 步" in app.panel.text())
            await pilot.press("enter")
            await until(pilot, lambda: "本课完成" in app.panel.text())
            await pilot.pause()
            shown("#lesson-do")
    finally:
        app.driver.close()
