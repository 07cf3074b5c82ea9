"""Lessons for trainee cashiers: the shipped lessons run headless (CI fails when a menu or
flow change breaks one), `lesson check` names what is wrong, guided hints, assessment
results, handouts, and training isolation from the live terminal's data."""

import csv
import io
import os
import re

import pytest

from posterm.cli import main
from posterm.lessons import export, model, results, runner, textfront
from posterm.lessons.session import ASSESS, GUIDED, Session, flat

SIGNIN = """
order = 1
title = { zh = "签到", en = "Sign-in" }
goal = { zh = "签到", en = "Sign in" }
[setup]
date = "2026-11-23T09:00"
[[steps]]
do = { zh = "按菜单键", en = "Press MENU" }
keys = ["MENU"]
screen = ["1.金融服务"]
[[steps]]
do = { zh = "按1", en = "Press 1" }
keys = ["1"]
screen = ["1.签到"]
[[steps]]
do = { zh = "按1", en = "Press 1" }
keys = "1"
screen = ["请耐心等待"]
[[steps]]
do = { zh = "按确认", en = "Press ENTER" }
keys = ["ENTER"]
screen = ["签到成功"]
"""


def write(tmp_path, text, name="t_lesson.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def check_lines(tmp_path, text):
    return runner.check(write(tmp_path, text), str(tmp_path / "data"))


# -- the shipped lessons --------------------------------------------------------------------
def test_every_shipped_lesson_runs_headless_through_the_cli(tmp_path, capsys):
    status = main(["lesson", "run", "--all", "--data", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    names = model.names()
    assert len(names) >= 12
    for name in names:
        assert f"{name} [zh]: ok" in out


def test_the_twelve_issue_lessons_ship_with_titles_in_both_languages():
    lessons = model.load_all()
    assert [lesson.order for lesson in lessons] == sorted(lesson.order for lesson in lessons)
    for lesson in lessons:
        assert lesson.title.zh and lesson.title.en != lesson.title.zh
        assert lesson.goal.zh and lesson.goal.en != lesson.goal.zh
        for step in lesson.steps:
            assert step.do.zh and step.do.en != step.do.zh, (lesson.name, step.number)
            assert step.screen or step.seen or step.receipt, (lesson.name, step.number)


def test_lesson_list_prints_every_lesson_with_its_title(capsys):
    assert main(["lesson", "list", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "01_daily_signin" in out and "daily sign-in" in out


# -- check ----------------------------------------------------------------------------------
def test_check_passes_a_good_lesson(tmp_path):
    assert check_lines(tmp_path, SIGNIN) == []


def test_check_names_an_unknown_key_and_its_step(tmp_path):
    bad = SIGNIN.replace('keys = ["ENTER"]', 'keys = ["OK"]')
    lines = check_lines(tmp_path, bad)
    assert len(lines) == 1
    assert "step 4.keys" in lines[0] and "unknown key 'OK'" in lines[0]


def test_check_names_a_screen_text_that_never_appears(tmp_path):
    bad = SIGNIN.replace('screen = ["签到成功"]', 'screen = ["登录成功"]')
    lines = check_lines(tmp_path, bad)
    assert any("step 4: the screen never shows '登录成功'" in x for x in lines), lines
    assert any("签到成功" in x for x in lines)  # says what the screen shows instead


def test_check_names_a_step_that_cannot_be_reached(tmp_path):
    # F1 at the idle screen does nothing (a card there or at a menu starts a sale): the step
    # can never be done
    bad = SIGNIN.replace(
        'keys = ["MENU"]\nscreen = ["1.金融服务"]',
        'keys = ["F1"]\nscreen = ["1.金融服务"]',
    )
    lines = check_lines(tmp_path, bad)
    assert any("step 1 cannot be reached" in x for x in lines), lines
    assert any("steps 2-4 not reached" in x for x in lines), lines


def test_check_reports_a_missing_field_clearly(tmp_path):
    bad = SIGNIN.replace('do = { zh = "按1", en = "Press 1" }\nkeys = "1"', 'keys = "1"')
    lines = check_lines(tmp_path, bad)
    assert lines and "step 3.do" in lines[0] and "required" in lines[0]


def test_check_cli_exit_status(tmp_path, capsys):
    good = write(tmp_path, SIGNIN, "good.toml")
    bad = write(tmp_path, SIGNIN.replace('"MENU"', '"MENUE"'), "bad.toml")
    assert main(["lesson", "check", good, "--data", str(tmp_path / "d")]) == 0
    assert main(["lesson", "check", good, bad, "--data", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert "bad.toml" in err and "MENUE" in err


def test_an_unknown_lesson_name_is_a_one_line_error(capsys):
    assert main(["lesson", "export", "no_such_lesson"]) == 2
    assert "no such lesson" in capsys.readouterr().err


# -- guided mode (the engine) ---------------------------------------------------------------
def test_a_wrong_key_is_not_fed_and_the_hint_gets_more_specific(tmp_path):
    lesson = model.parse(__import__("tomllib").loads(SIGNIN), "t")
    with Session(lesson, str(tmp_path), mode=GUIDED) as s:
        assert s.expected_key() == "MENU"
        before = s.screen_rows()
        hints = [s.feed(("key", "5")).hint for _ in range(3)]
        assert s.screen_rows() == before  # the terminal never saw the wrong key
        assert hints[0] != hints[1] != hints[2]
        assert "功能键" in hints[1]
        assert "菜单" in hints[2]
        assert s.feed(("key", "MENU")).kind == "step"
        assert s.progress() == (2, 4)
        assert s.feed(("key", "2")).hint and s.feed(("key", "1")).kind == "step"
        assert [r.first_time for r in s.results] == [False, False]


def test_back_a_step_and_restart(tmp_path):
    lesson = model.parse(__import__("tomllib").loads(SIGNIN), "t")
    with Session(lesson, str(tmp_path)) as s:
        s.feed(("key", "MENU"))
        s.feed(("key", "1"))
        assert "1.签到" in flat("".join(s.screen_rows()))
        s.back()
        assert s.progress() == (2, 4) and s.expected_key() == "1"
        assert "1.金融服务" in flat("".join(s.screen_rows()))
        s.restart()
        assert s.progress() == (1, 4) and "今日未签到" in flat("".join(s.screen_rows()))


def test_assessment_gives_no_hints(tmp_path):
    lesson = model.parse(__import__("tomllib").loads(SIGNIN), "t")
    with Session(lesson, str(tmp_path), mode=ASSESS) as s:
        for _ in range(4):
            assert s.feed(("key", "ENTER")).hint is None
        assert s.score()["mistakes"] == 4


# -- isolation ------------------------------------------------------------------------------
def test_a_lesson_never_touches_the_live_terminal_or_host(tmp_path):
    data = tmp_path / "data"
    report = runner.run(model.load("04_purchase"), str(data))
    assert report.ok, report.problems
    assert not (data / "terminal").exists()
    assert not (data / "host.db").exists()
    assert (data / "training" / "lessons" / "04_purchase" / "host.db").exists()
    receipts = [r for snap in report.snapshots for r in snap.receipts]
    assert receipts and all(any("TRAINING" in t for _s, t in r) for r in receipts)


def test_a_lesson_starts_from_a_fresh_training_store_each_time(tmp_path):
    lesson = model.load("04_purchase")
    first = runner.run(lesson, str(tmp_path))
    second = runner.run(lesson, str(tmp_path))
    assert first.ok and second.ok
    assert [s.rows for s in first.snapshots] == [s.rows for s in second.snapshots]


# -- assessment results ---------------------------------------------------------------------
def test_an_assessment_run_saves_the_trainees_result_and_exports_csv(tmp_path, capsys):
    data = str(tmp_path)
    keys = io.StringIO("MENU 2 1 1\nENTER ENTER\n")
    out = io.StringIO()
    lesson = model.load("01_daily_signin")
    status = textfront.run(lesson, data, ASSESS, "张三", stdin=keys, stdout=out)
    assert status == 0, out.getvalue()
    path = results.path_for(data, "张三")
    assert os.path.exists(path) and path.startswith(os.path.join(data, "training", "results"))
    assert "张三" in out.getvalue() or path in out.getvalue()
    assert main(["lesson", "results", "--data", data, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 1
    row = rows[0]
    assert row["started"] and row["ended"] >= row["started"]
    assert {k: row[k] for k in ("trainee", "lesson", "status", "steps", "completed")} == {
        "trainee": "张三",
        "lesson": "01_daily_signin",
        "status": "completed",
        "steps": "5",
        "completed": "5",
    }
    assert (row["first_time"], row["mistakes"], row["accuracy"], row["passed"]) == (
        "4",
        "1",
        "80",
        "no",  # lesson 01's pass mark is 90 % right first time
    )
    assert main(["lesson", "results", "--data", data, "--format", "html"]) == 0
    sheet = capsys.readouterr().out
    assert "<table>" in sheet and "张三" in sheet and "4/5 (80%)" in sheet


def test_assessment_needs_a_trainee_name(capsys):
    assert main(["lesson", "01", "--assess", "--text"]) == 2
    assert "--trainee" in capsys.readouterr().err


def test_results_file_names_are_safe():
    with pytest.raises(results.ResultsError):
        results.path_for("/tmp/x", "  ")
    assert os.path.basename(results.path_for("/tmp/x", "../a/b")) == ".._a_b.json"


# -- handouts -------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["md", "html"])
def test_an_export_shows_every_steps_instruction_and_screen(tmp_path, fmt):
    lesson = model.load("04_purchase")
    text = export.build(lesson, str(tmp_path), fmt)
    report = runner.run(lesson, str(tmp_path))
    plain = re.sub(r"<[^>]+>", "", text).replace("&quot;", '"').replace("&#x27;", "'")
    plain = plain.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    for snap in report.snapshots:
        assert snap.step.do.zh in plain
        for row in snap.rows:
            if row.strip():
                assert row.rstrip() in plain, (snap.step.number, row)
    assert text.count("TRAINING") >= 1


def test_export_cli_writes_a_file(tmp_path):
    out = tmp_path / "h.html"
    assert (
        main(
            ["lesson", "export", "01", "--format", "html", "-o", str(out), "--data", str(tmp_path)]
        )
        == 0
    )
    assert out.read_text(encoding="utf-8").startswith("<!doctype html>")


# -- no tracebacks (issue 11 item 17, the lesson commands) -----------------------------------
BAD_DATA_COMMANDS = [
    ["lesson", "04", "--text"],
    ["lesson", "04", "--text", "--assess", "--trainee", "张三"],
    ["lesson", "04"],
    ["lesson", "run", "04"],
    ["lesson", "run", "--all"],
    ["lesson", "export", "04", "--format", "html"],
    ["lesson", "check", os.path.join(model.lesson_dir(), "04_purchase.toml")],
]


def _unusable_data_dirs(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a directory")
    yield "/dev/null/x"  # below a device
    yield str(a_file)  # a file where the data dir should be
    training_file = tmp_path / "d1"
    training_file.mkdir()
    (training_file / "training").write_text("in the way")
    yield str(training_file)  # DATA/training cannot be made
    if os.geteuid() != 0:  # root writes anywhere: a read-only dir only stops others
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        yield str(ro)


@pytest.mark.parametrize("argv", BAD_DATA_COMMANDS, ids=lambda a: " ".join(a[:3]))
def test_an_unusable_data_dir_is_one_clear_line_not_a_traceback(tmp_path, capsys, argv):
    for data in _unusable_data_dirs(tmp_path):
        status = main(argv + ["--data", data])
        err = capsys.readouterr().err
        assert status == 2, (data, err)
        assert err.startswith("posterm: error: cannot use the data dir " + data), err
        assert "Traceback" not in err and err.count("\n") == 1


def test_an_unwritable_output_file_is_one_clear_line(tmp_path, capsys):
    assert main(["lesson", "export", "04", "--data", str(tmp_path), "-o", "/dev/null/x"]) == 2
    assert capsys.readouterr().err == "posterm: error: cannot write /dev/null/x: Not a directory\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["lesson", "list"],
        ["lesson", "run", "01"],
        ["lesson", "results"],
        ["lesson", "export", "04"],
    ],
)
def test_output_closed_early_is_quiet_and_exit_1_not_a_traceback(tmp_path, argv):
    import subprocess
    import sys

    data = tmp_path / "data"
    if argv[1] == "results":  # something to print
        textfront.run(
            model.load("01"),
            str(data),
            ASSESS,
            "张三",
            stdin=io.StringIO("MENU 1 1 ENTER ENTER\n"),
            stdout=io.StringIO(),
        )
    cmd = [sys.executable, "-c", "import sys; from posterm.cli import main; sys.exit(main())"]
    # the reader takes nothing and goes away: the writer's pipe is closed at once
    p = subprocess.Popen(
        cmd + argv + ["--data", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    p.stdout.close()
    err = p.stderr.read().decode()
    status = p.wait(timeout=120)
    assert status == 1, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert err == "", err  # quiet, as every command whose output is closed early


def test_the_training_texts_have_every_key_in_both_languages():
    from posterm.lessons import strings

    import tomllib

    with open(strings.path(), "rb") as f:
        data = tomllib.load(f)
    sections = {k: v for k, v in data.items() if not k.startswith("_")}
    assert {"session", "textfront", "guided", "results", "progress", "classroom"} <= set(
        sections
    )
    for name, by_lang in sections.items():
        assert set(by_lang) == {"zh", "en"}, name
        zh, en = by_lang["zh"], by_lang["en"]
        if isinstance(zh, list):  # a row of labels
            assert len(zh) == len(en) and all(zh) and all(en), name
            continue
        assert set(zh) == set(en), name
        for lang in ("zh", "en"):
            for key, text in by_lang[lang].items():
                assert text, (name, lang, key)


def test_the_text_front_says_an_unknown_token_in_the_lessons_language(tmp_path):
    lesson = model.load("01_daily_signin")
    for lang, words in (("zh", "没有「foo」这个键"), ("en", "There is no key 'foo'")):
        out = io.StringIO()
        textfront.run(lesson, str(tmp_path / lang), GUIDED, None, lang=lang,
                      stdin=io.StringIO("foo\n"), stdout=out)
        assert words in out.getvalue(), out.getvalue()
        assert "unknown key" not in out.getvalue()
