"""The class (issue 15 items 5-8): a roster whose names merge spellings, progress per trainee
and lesson (table, CSV, a printable HTML report with a chart, looked at in headless
Chromium), the certificate, and the results as xAPI statements checked with `tincan`."""

import csv
import datetime
import io
import json
import os

import pytest

import chromium_pages
from pos.keys import parse_token
from posterm.classroom import certificate, progress, roster, xapi
from posterm.cli import main
from posterm.lessons import model, results
from posterm.lessons.session import ASSESS, Session


# -- 5. the roster --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "typed", ["张三", "张 三", " 张三 ", "Zhang San", "zhangsan", "zhang", "Zhang", "ＺＨＡＮＧ"]
)
def test_every_spelling_of_a_name_finds_the_one_trainee(tmp_path, typed):
    r = roster.load(str(tmp_path))
    r.add("张三")
    r.add("李四")
    assert r.find(typed)["name"] == "张三"


def test_adding_spellings_never_makes_a_second_trainee(tmp_path, capsys):
    data = str(tmp_path)
    assert main(["class", "add", "张三", "--data", data]) == 0
    for typed in ("张 三", "Zhang San", "ZHANG SAN"):
        assert main(["class", "add", typed, "--data", data]) == 0
    assert main(["class", "add", "zhang", "--data", data]) == 2  # only the start of 张三
    err = capsys.readouterr().err
    assert "zhang matches 张三" in err and "--new" in err
    assert [t["name"] for t in roster.load(data).trainees] == ["张三"]
    assert roster.load(data).trainees[0]["aliases"] == ["Zhang San"]
    assert main(["class", "add", "zhang", "--new", "--data", data]) == 0
    assert [t["name"] for t in roster.load(data).trainees] == ["张三", "zhang"]


def test_one_bad_name_among_several_adds_nobody_and_says_so(tmp_path, capsys):
    # `class add 张三 李四 ""`: it must not say 张三 and 李四 were added when nobody was
    data = str(tmp_path)
    assert main(["class", "add", "张三", "李四", "", "--data", data]) == 2
    out, err = capsys.readouterr()
    assert "added" not in out
    assert "cannot be empty" in err and "nobody was added" in err
    assert roster.load(data).trainees == []
    assert main(["class", "add", "张三", "李四", "--data", data]) == 0
    assert "added 张三" in capsys.readouterr().out
    assert [t["name"] for t in roster.load(data).trainees] == ["张三", "李四"]


def test_an_xapi_home_page_that_is_no_address_is_refused(tmp_path, capsys):
    out = tmp_path / "x.json"
    for bad in ("notaurl", "lms.example.com", "ftp://lms.example.com"):
        assert main(["class", "export", "--format", "xapi", "--home-page", bad, "-o",
                     str(out), "--data", str(tmp_path)]) == 2
        assert "give the LMS's address" in capsys.readouterr().err
    assert not out.exists()


def test_two_chinese_names_that_sound_alike_are_two_people(tmp_path):
    r = roster.load(str(tmp_path))
    r.add("张三")
    t, note = r.add("章三")
    assert t["name"] == "章三" and "sounds like 张三" in note
    with pytest.raises(roster.RosterError, match="could be any of 张三, 章三"):
        r.find("zhangsan")
    assert r.find("章 三")["name"] == "章三"


def test_cohorts_have_a_date_and_a_trainer_and_the_list_shows_them(tmp_path, capsys):
    data = str(tmp_path)
    assert main(["class", "add", "张三", "--cohort", "一班", "--data", data]) == 2
    assert "posterm class cohort 一班" in capsys.readouterr().err
    assert (
        main(
            [
                "class",
                "cohort",
                "一班",
                "--date",
                "2026-12-01",
                "--trainer",
                "王老师",
                "--data",
                data,
            ]
        )
        == 0
    )
    assert main(["class", "add", "张三", "李四", "--cohort", "一班", "--data", data]) == 0
    assert main(["class", "add", "王五", "--data", data]) == 0
    capsys.readouterr()
    assert main(["class", "list", "--cohort", "一班", "--data", data]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["张三  class 一班, 2026-12-01, 王老师", "李四  class 一班, 2026-12-01, 王老师"]
    assert main(["class", "cohort", "二班", "--date", "1 Dec", "--data", data]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_remove_takes_the_trainee_off_and_keeps_the_results(tmp_path, capsys):
    data = str(tmp_path)
    main(["class", "add", "张三", "--data", data])
    scripted_attempt(data, "张三", "01_daily_signin", [1, 1, 1, 1, 1])
    assert main(["class", "remove", "zhang san", "--data", data]) == 0
    assert roster.load(data).trainees == []
    assert len(results.load(data, "张三")["attempts"]) == 1
    assert main(["class", "remove", "张三", "--data", data]) == 2
    err = capsys.readouterr().err
    assert "not on the class roster" in err
    assert "class add" not in err  # no advice to add someone to remove them


def test_an_assessment_takes_a_roster_name_in_any_spelling_and_files_it_once(tmp_path, capsys):
    data = str(tmp_path)
    main(["class", "add", "张三", "--data", data])
    assert main(["lesson", "01", "--text", "--assess", "--trainee", "赵六", "--data", data]) == 2
    assert "赵六 is not on the class roster" in capsys.readouterr().err
    import sys

    for typed in ("zhang san", "张 三"):
        sys_stdin = sys.stdin
        sys.stdin = io.StringIO("MENU 1 1 ENTER ENTER\n")
        try:
            assert (
                main(["lesson", "01", "--text", "--assess", "--trainee", typed, "--data", data])
                == 0
            )
        finally:
            sys.stdin = sys_stdin
    assert results.trainees(data) == ["张三"]
    assert len(results.load(data, "张三")["attempts"]) == 2


# -- 6. progress ----------------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def scripted_attempt(data, name, lesson_name, per_step, wrong_at=(), day=1, leave_at=None):
    """An assessment as a trainee does it: a wrong key before the steps in `wrong_at`,
    `per_step` seconds per step; `leave_at`: abandon before that step."""
    clock = Clock()
    lesson = model.load(lesson_name)
    s = Session(lesson, data, mode=ASSESS, clock=clock).start()
    a = results.Attempt(
        data, name, lesson.name, "text", now=lambda: datetime.datetime(2026, 12, day, 9, 0)
    )
    a.begin()
    try:
        for i, (step, secs) in enumerate(zip(lesson.steps, per_step, strict=True)):
            if i == leave_at:
                a.abandon(results.QUIT, s.score())
                return a
            clock.t += secs
            if i in wrong_at:
                s.feed(("key", "F4"))
            for tok in step.tokens:
                for ev in parse_token(tok):
                    s.feed(ev)
        a.complete(s.score())
        return a
    finally:
        s.close()


@pytest.fixture
def class_data(tmp_path):
    data = str(tmp_path)
    r = roster.load(data)
    r.set_cohort("十二月一班", "2026-12-01", "王老师")
    r.add("张三", cohort="十二月一班")
    r.add("李四", cohort="十二月一班")
    r.save()
    scripted_attempt(data, "张三", "04_purchase", [20, 30, 15, 40, 10], wrong_at=(0, 1, 3))
    scripted_attempt(data, "张三", "04_purchase", [10, 20, 10, 25, 5], wrong_at=(1,), day=2)
    scripted_attempt(data, "张三", "04_purchase", [6, 12, 6, 15, 4], day=3)
    scripted_attempt(data, "李四", "04_purchase", [8, 12, 6, 15, 4], leave_at=2)
    scripted_attempt(data, "李四", "01_daily_signin", [5, 3, 3, 6, 2], day=2)
    return data


def test_a_damaged_results_file_is_named_never_hidden_nor_overwritten(class_data, capsys):
    path = results.path_for(class_data, "张三")
    with open(path, "rb") as f:
        whole = f.read()
    with open(path, "wb") as f:
        f.write(whole[:200])  # cut short
    # the results list, the progress table: both say which file and what to do, exit 2
    for argv in (["lesson", "results"], ["class", "progress"]):
        assert main(argv + ["--data", class_data]) == 2, argv
        err = capsys.readouterr().err
        assert "cannot read the results of 张三" in err and path in err, err
        assert "move it aside" in err
    # a new attempt does not replace it
    with pytest.raises(results.ResultsError):
        results.Attempt(class_data, "张三", "04_purchase", "text").begin()
    with open(path, "rb") as f:
        assert f.read() == whole[:200]


def test_the_roster_and_results_are_their_owners_only(class_data):
    import stat

    for p in (results.path_for(class_data, "张三"), roster.load(class_data).path):
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p
        assert stat.S_IMODE(os.stat(os.path.dirname(p)).st_mode) == 0o700, p


def test_progress_per_trainee_and_lesson_with_best_last_and_time_trend(class_data):
    prog = progress.collect(class_data, ["张三", "李四"], ["01_daily_signin", "04_purchase"])
    z = prog["张三"]["04_purchase"]
    assert len(z.attempts) == 3 and z.passed
    assert [a["accuracy"] for a in z.attempts] == [40, 80, 100]
    assert z.best["accuracy"] == 100 and z.last["seconds"] == 43
    assert z.trend() == "115 -> 43"
    li = prog["李四"]["04_purchase"]
    assert not li.passed and li.last["status"] == "abandoned" and li.best is None
    assert progress.not_passed(prog) == [("张三", ["01_daily_signin"]), ("李四", ["04_purchase"])]


def test_progress_as_a_table_and_csv(class_data, capsys):
    argv = [
        "class",
        "progress",
        "--cohort",
        "十二月一班",
        "--lessons",
        "01,04",
        "--data",
        class_data,
    ]
    assert main(argv) == 0
    table = capsys.readouterr().out
    assert "张三  04_purchase      3" in table and "115 -> 43" in table
    assert "还没有通过的课程:\n  张三: 01_daily_signin\n  李四: 04_purchase" in table
    assert main(argv + ["--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    by = {(r["trainee"], r["lesson"]): r for r in rows}
    assert by[("张三", "04_purchase")]["attempts"] == "3"
    assert by[("张三", "04_purchase")]["first_seconds"] == "115.0"
    assert by[("李四", "04_purchase")]["last_status"] == "abandoned"
    assert by[("李四", "01_daily_signin")]["passed"] == "yes"


def test_the_html_report_renders_with_a_chart_per_trainee_in_chromium(class_data, tmp_path):
    page = tmp_path / "report.html"
    assert (
        main(
            [
                "class",
                "progress",
                "--cohort",
                "十二月一班",
                "--lessons",
                "01,04",
                "--format",
                "html",
                "-o",
                str(page),
                "--data",
                class_data,
            ]
        )
        == 0
    )
    text = page.read_text(encoding="utf-8")
    assert text.count("<svg") == 2 and "王老师" in text and "培训进度报告" in text
    png = chromium_pages.screenshot(page, tmp_path / "report.png", (900, 1200))
    # the charts were drawn: the accuracy line (green), a failed attempt's dot (red) and the
    # time bars (blue) are on the screenshot (looked at by eye too: docs/ has none of it)
    assert chromium_pages.count_color(png, (0x1A, 0x7F, 0x37)) > 200
    assert chromium_pages.count_color(png, (0xC6, 0x28, 0x28)) > 20
    assert chromium_pages.count_color(png, (0x9E, 0xCA, 0xE1)) > 5000


# -- 7. the certificate ---------------------------------------------------------------------
def test_a_certificate_only_for_lessons_passed_and_it_prints_on_one_page(
    class_data, tmp_path, capsys
):
    out = tmp_path / "cert.html"
    argv = [
        "class",
        "certificate",
        "张三",
        "--lessons",
        "04",
        "--date",
        "2026-12-05",
        "-o",
        str(out),
        "--data",
        class_data,
    ]
    assert main(argv) == 0
    text = out.read_text(encoding="utf-8")
    for want in (
        "POS 收银培训合格证书",
        "张三",
        "消费(输密码)并交给顾客签购单",
        "王老师",
        "2026-12-05",
        "十二月一班",
        "培训师签字",
    ):
        assert want in text
    assert main(["class", "certificate", "张三", "--lessons", "01,04", "--data", class_data]) == 2
    assert "张三 还没有通过:01_daily_signin" in capsys.readouterr().err
    pdf = chromium_pages.print_pdf(out, tmp_path / "cert.pdf")
    assert chromium_pages.pdf_pages(pdf) == 1


# -- 8. xAPI --------------------------------------------------------------------------------
def test_the_xapi_statements_match_what_happened_and_tincan_reads_them(class_data, capsys):
    from tincan import Statement

    assert (
        main(
            [
                "class",
                "export",
                "--format",
                "xapi",
                "--cohort",
                "十二月一班",
                "--home-page",
                "https://lms.example.com",
                "--data",
                class_data,
            ]
        )
        == 0
    )
    raw = json.loads(capsys.readouterr().out)
    parsed = [Statement.from_json(json.dumps(s)) for s in raw]
    verbs = [(s.actor.name, s.verb.id.rsplit("/", 1)[1]) for s in parsed]
    assert verbs == [
        ("张三", "attempted"),
        ("张三", "failed"),
        ("张三", "attempted"),
        ("张三", "passed"),
        ("张三", "attempted"),
        ("张三", "passed"),
        ("李四", "attempted"),
        ("李四", "terminated"),
        ("李四", "attempted"),
        ("李四", "passed"),
    ]
    first_fail = parsed[1]
    assert first_fail.object.id == xapi.ACTIVITY_BASE + "04_purchase"
    assert first_fail.actor.account.home_page == "https://lms.example.com"
    assert first_fail.result.success is False and first_fail.result.completion is True
    assert (first_fail.result.score.raw, first_fail.result.score.max) == (2, 5)
    assert first_fail.result.score.scaled == pytest.approx(0.4)
    assert first_fail.result.duration == datetime.timedelta(seconds=115)
    assert parsed[7].result.completion is False and parsed[7].result.success is None
    # one registration ties an attempt's statements; ids are stable across exports
    assert first_fail.context.registration == parsed[0].context.registration
    assert main(["class", "export", "--cohort", "十二月一班", "--data", class_data]) == 0
    again = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in again] == [s["id"] for s in raw]
    for s in parsed:
        assert str(s.id) and s.timestamp.tzinfo is not None


@pytest.mark.parametrize(
    "secs, text", [(0, "PT0S"), (12.5, "PT12.5S"), (75.5, "PT1M15.5S"), (3725, "PT1H2M5S")]
)
def test_durations_are_iso_8601(secs, text):
    assert xapi.duration(secs) == text


def test_certificate_module_refuses_unpassed(class_data):
    with pytest.raises(certificate.NotPassed):
        certificate.build(class_data, {"name": "李四"}, ["04_purchase"])


# -- no tracebacks: an unusable data dir, output closed early -------------------------------
@pytest.mark.parametrize(
    "argv",
    [["class", "list"], ["class", "progress"], ["class", "remove", "张三"],
     ["class", "export"], ["class", "certificate", "张三", "--lessons", "01"],
     ["classroom"]],
    ids=lambda a: " ".join(a[:2]),
)
def test_class_commands_with_an_unusable_data_dir_say_so_in_one_line(tmp_path, capsys, argv):
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    for data in ("/dev/null/x", str(a_file)):
        assert main(argv + ["--data", data]) == 2
        err = capsys.readouterr().err
        assert err.startswith("posterm: error: cannot use the data dir " + data), err
        assert err.count("\n") == 1


def test_class_add_into_an_unusable_data_dir_is_one_clear_line(tmp_path, capsys):
    assert main(["class", "add", "张三", "--data", "/dev/null/x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("posterm: error: cannot") and "Traceback" not in err


@pytest.mark.parametrize("argv", [["class", "list"], ["class", "progress"],
                                  ["class", "export"]])
def test_class_output_closed_early_is_quiet_and_exit_1(class_data, argv):
    import subprocess
    import sys

    cmd = [sys.executable, "-c", "import sys; from posterm.cli import main; sys.exit(main())"]
    p = subprocess.Popen(cmd + argv + ["--data", class_data], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 1, err
    assert err == "", err  # quiet, as every command whose output is closed early
