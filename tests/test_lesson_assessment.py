"""Assessment a trainer can trust (issue 15 items 1-4): every attempt is on file from its
start (started / abandoned / completed, with times), no restart or step back erases a
mistake, the trainee sees the task in the merchant's words and never the keys (text front
and emulator panel), a pass mark decides passed / not passed, every mistake is kept with
what was expected, CLEAR fixes a typed digit without counting as a mistake, and a wrong
card is told as a wrong card."""

import io
import json

import pytest

from posterm.lessons import guided, model, results, textfront
from posterm.lessons.session import ASSESS, GUIDED, Session

PURCHASE = ["MENU 1 2", "10000 ENTER", "CARD=6212142000000000012", "123456 ENTER", "ENTER"]


def attempts(data, trainee="张三"):
    with open(results.path_for(data, trainee), encoding="utf-8") as f:
        return json.load(f)["attempts"]


class Lines:
    """stdin for the text front that runs a check before handing out each line; a line
    may be a callable of the output so far (to type what a printed slip says)."""

    def __init__(self, lines, before_each=None, out=None):
        self.lines = list(lines)
        self.before_each = before_each
        self.out = out

    def __iter__(self):
        for line in self.lines:
            if self.before_each:
                self.before_each()
            if callable(line):
                line = line(self.out.getvalue())
            yield line + "\n"


def run_text(data, lines, name="04_purchase", mode=ASSESS, trainee="张三", before_each=None):
    out = io.StringIO()
    status = textfront.run(
        model.load(name), data, mode, trainee, stdin=Lines(lines, before_each, out), stdout=out
    )
    return status, out.getvalue()


def from_slip(tokens):
    """A line that types {auth} / {date} / {rrn} / {trace} as read off the last slip the text
    front printed."""
    import re

    def line(out):
        slip = out.rsplit("# receipt", 1)[-1]
        values = {
            "{auth}": re.search(r"授权号:(\d{6})", slip).group(1),
            "{date}": "".join(re.search(r"日期/时间:\d{4}/(\d\d)/(\d\d)", slip).groups()),
            "{rrn}": re.search(r"参考号:(\d{12})", slip).group(1),
            "{trace}": re.search(r"凭证号:(\d{6})", slip).group(1),
        }
        return " ".join(values.get(t, t) for t in tokens)

    return line if any(t.startswith("{") for t in tokens) else " ".join(tokens)


# -- 1. every attempt on file from its start ------------------------------------------------
def test_an_attempt_is_on_file_as_started_before_the_first_key(tmp_path):
    data = str(tmp_path)
    seen = []
    run_text(data, PURCHASE[:1], before_each=lambda: seen.append(attempts(data)[-1]["status"]))
    assert seen == ["started"]


@pytest.mark.parametrize(
    "lines, reason",
    [(["MENU 1 2", "1 :quit"], "quit"), (["MENU 1 2", "100"], "input ended")],
)
def test_an_assessment_left_early_is_recorded_as_abandoned_with_how_far_it_got(
    tmp_path, lines, reason
):
    data = str(tmp_path)
    status, out = run_text(data, lines)
    assert status == 1
    [a] = attempts(data)
    assert a["status"] == "abandoned" and a["reason"] == reason
    assert a["passed"] is False and a["completed"] == 1 and a["steps"] == 5
    assert a["started"] <= a["ended"]
    assert "放弃" in out


def test_a_completed_attempt_has_its_start_and_end_and_result(tmp_path):
    data = str(tmp_path)
    status, out = run_text(data, PURCHASE)
    assert status == 0, out
    [a] = attempts(data)
    assert a["status"] == "completed" and a["passed"] is True
    assert a["started"] <= a["ended"] and a["first_time"] == 5 and a["errors"] == []
    assert "考核结果:通过" in out


def test_a_crash_mid_attempt_leaves_it_on_file_as_started(tmp_path):
    data = str(tmp_path)
    lesson = model.load("04_purchase")

    class Boom(Exception):
        pass

    def explode():
        raise Boom()

    with pytest.raises(Boom):
        textfront.run(
            lesson, data, ASSESS, "张三", stdin=Lines(["MENU"], explode), stdout=io.StringIO()
        )
    # the front failed in the middle: the attempt is there, abandoned (not lost)
    [a] = attempts(data)
    assert a["status"] == "abandoned" and a["reason"] == "error"


# -- 2. no way around the rules -------------------------------------------------------------
def test_restart_and_back_cannot_erase_mistakes_in_an_assessment(tmp_path):
    data = str(tmp_path)
    status, out = run_text(data, ["5", ":restart", ":back"] + PURCHASE)
    assert status == 0, out
    assert out.count("考核中不能退回或重来") == 2
    [a] = attempts(data)
    assert a["mistakes"] == 1 and a["first_time"] == 4
    assert a["errors"][0]["step"] == 1 and a["errors"][0]["expected"] == "菜单"
    assert a["errors"][0]["got"] == "5"


def test_the_session_itself_refuses_restart_and_back_in_an_assessment(tmp_path):
    s = Session(model.load("04_purchase"), str(tmp_path), mode=ASSESS).start()
    try:
        s.feed(("key", "5"))
        assert s.restart().kind == "locked" and s.back().kind == "locked"
        assert s.misses == 1 and s.index == 0
    finally:
        s.close()


@pytest.mark.parametrize("name", model.names())
def test_the_text_assessment_shows_the_task_and_never_the_keys(tmp_path, name):
    lesson = model.load(name)
    lines = [from_slip(step.tokens) for step in lesson.steps]
    status, out = run_text(str(tmp_path), lines, name=name)
    assert status == 0, out
    assert lesson.task is not None, f"{name} has no assessment task"
    assert lesson.task.zh in out
    for step in lesson.steps:
        assert step.do.zh not in out
    for key in ("「菜单」", "「确认」", "「取消」", "「退格」", "按「"):
        assert key not in out


async def test_the_emulator_assessment_panel_shows_the_task_not_the_keys(tmp_path):
    lesson = model.load("04_purchase")
    session = guided.make_session(lesson, str(tmp_path), ASSESS)
    session.start()
    app = guided.LessonApp(
        session, trainee="张三", data_dir=str(tmp_path), flash=False, tick_seconds=None
    )
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            text = app.panel.text()
            assert "顾客买了 100.00 元的东西" in text
            assert "按「" not in text and lesson.steps[0].do.zh not in text
            assert attempts(str(tmp_path))[-1]["status"] == "started"
            await pilot.press("m", "1", "2")
            await pilot.pause()
            assert "按「" not in app.panel.text()
            await pilot.press("q")
            await pilot.pause()
    finally:
        session.close()
    [a] = attempts(str(tmp_path))
    assert a["status"] == "abandoned" and a["reason"] == "quit" and a["completed"] == 1


def test_a_task_that_names_keys_is_refused_by_lesson_check():
    data = {
        "title": "t",
        "goal": "g",
        "task": "顾客消费,按「菜单」「1」「2」",
        "steps": [{"do": "x", "keys": ["MENU"]}],
    }
    with pytest.raises(model.LessonError, match="never which keys"):
        model.parse(data, "t")


# -- 3. pass mark, mistakes with what was expected, time per step ---------------------------
class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def strict(accuracy=100, seconds=None):
    lesson = model.load("04_purchase")
    lesson.pass_mark = model.PassMark(accuracy, seconds)
    return lesson


def feed_tokens(session, clock, per_step):
    from pos.keys import parse_token

    for step, secs in zip(session.lesson.steps, per_step, strict=True):
        clock.now += secs
        for tok in step.tokens:
            for ev in parse_token(tok):
                session.feed(ev)


def test_the_pass_mark_decides_and_the_result_has_time_per_step(tmp_path):
    clock = FakeClock()
    s = Session(strict(100, 60), str(tmp_path), mode=ASSESS, clock=clock).start()
    try:
        feed_tokens(s, clock, [3, 10, 4, 20, 2])
        score = s.score()
    finally:
        s.close()
    # steps are timed from their start to their end: the first key of a step comes after
    # the seconds spent reading it
    assert [p["seconds"] for p in score["per_step"]] == [3, 10, 4, 20, 2]
    assert score["seconds"] == 39 and score["passed"] is True and score["accuracy"] == 100

    clock = FakeClock()
    s = Session(strict(100, 30), str(tmp_path), mode=ASSESS, clock=clock).start()
    try:
        feed_tokens(s, clock, [3, 10, 4, 20, 2])
        assert s.score()["passed"] is False  # 39 s > 30 s
    finally:
        s.close()


def test_a_mistake_under_a_strict_pass_mark_is_not_passed_and_names_what_was_expected(tmp_path):
    clock = FakeClock()
    s = Session(strict(100), str(tmp_path), mode=ASSESS, clock=clock).start()
    try:
        s.feed(("key", "ENTER"))
        feed_tokens(s, clock, [1, 1, 1, 1, 1])
        score = s.score()
    finally:
        s.close()
    assert score["passed"] is False and score["accuracy"] == 80
    assert score["errors"] == [
        {"step": 1, "expected": "菜单", "got": "确认", "kind": "wrong_key", "at": 0.0}
    ]
    assert score["per_step"][0]["first_time"] is False


def test_the_lesson_file_sets_the_pass_mark():
    lesson = model.parse(
        {
            "title": "t",
            "goal": "g",
            "pass": {"accuracy": 60, "seconds": 90},
            "steps": [{"do": "x", "keys": ["MENU"]}],
        },
        "t",
    )
    assert (lesson.pass_mark.accuracy, lesson.pass_mark.seconds) == (60, 90)
    with pytest.raises(model.LessonError, match="pass.accuracy"):
        model.parse(
            {
                "title": "t",
                "goal": "g",
                "pass": {"accuracy": 120},
                "steps": [{"do": "x", "keys": ["MENU"]}],
            },
            "t",
        )


# -- 4. CLEAR as on the terminal; a wrong card is a wrong card ------------------------------
def test_clear_fixes_a_typed_digit_and_is_not_a_mistake(tmp_path):
    s = Session(model.load("04_purchase"), str(tmp_path), mode=ASSESS).start()
    try:
        for k in ("MENU", "1", "2", "1", "0", "9"):
            s.feed(("key", k))
        assert "￥1.09" in "".join(s.terminal.frame.text())  # typed, as on the terminal
        assert s.feed(("key", "ENTER")).kind == "wrong"  # 1.09 is not the amount
        assert s.feed(("key", "CLEAR")).kind == "fixed"
        for k in ("0", "0", "0", "ENTER"):
            out = s.feed(("key", k))
        assert out.kind == "step" and out.problems == []  # the screen checks hold
        r = s.results[-1]
        assert (r.mistakes, r.corrections) == (1, 1)  # only the ENTER on 1.09 counted
    finally:
        s.close()


def test_a_typo_fixed_before_enter_leaves_the_step_right_first_time(tmp_path):
    s = Session(model.load("04_purchase"), str(tmp_path), mode=GUIDED).start()
    try:
        for k in ("MENU", "1", "2"):
            s.feed(("key", k))
        out = s.feed(("key", "7"))
        assert out.kind == "typo" and "退格" in out.hint
        s.feed(("key", "CLEAR"))
        for k in "10000":
            s.feed(("key", k))
        out = s.feed(("key", "ENTER"))
        assert out.kind == "step" and out.result.first_time and out.result.corrections == 1
    finally:
        s.close()


def test_clear_outside_a_typed_field_is_still_a_mistake(tmp_path):
    s = Session(model.load("04_purchase"), str(tmp_path), mode=GUIDED).start()
    try:
        assert s.feed(("key", "CLEAR")).kind == "wrong"
    finally:
        s.close()


def test_a_wrong_card_is_told_as_a_wrong_card(tmp_path):
    s = Session(model.load("04_purchase"), str(tmp_path), mode=GUIDED).start()
    try:
        for tok in ("MENU", "1", "2", "1", "0", "0", "0", "0", "ENTER"):
            s.feed(("key", tok))
        out = s.feed(("card", "6222021234567890128", ""))
        assert out.kind == "wrong" and "这张卡不对" in out.hint and "不是这个键" not in out.hint
        assert s.errors[-1]["kind"] == "wrong_card"
        assert s.errors[-1]["expected"] == "刷卡 6212142000000000012"
    finally:
        s.close()
    s = Session(model.load("04_purchase"), str(tmp_path), mode=GUIDED).start()
    try:
        out = s.feed(("card", "6212142000000000012", ""))
        assert out.kind == "wrong" and "不用刷卡" in out.hint
    finally:
        s.close()


def test_closing_the_terminal_window_files_the_attempt_as_abandoned(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    from posterm.classroom import roster

    data = str(tmp_path)
    r = roster.load(data)
    r.add("张三")
    r.save()
    cmd = [sys.executable, "-c", "import sys; from posterm.cli import main; sys.exit(main())",
           "lesson", "04", "--text", "--assess", "--trainee", "张三", "--data", data]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    p.stdin.write("MENU 1 2\n")
    p.stdin.flush()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if attempts(data)[-1].get("status") == "started":
                break
        except (OSError, ValueError, IndexError, KeyError):
            pass
        time.sleep(0.2)
    time.sleep(1.0)  # the keys are in
    p.send_signal(signal.SIGHUP)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 1, err
    assert "Traceback" not in err
    [a] = attempts(data)
    assert a["status"] == "abandoned" and a["reason"] == "window closed"
    assert a["completed"] == 1
