"""What the training center answers, set by the lesson author in plain words (issue 15
item 9): `center = "approve" | "51" | "timeout" | "badmac" | "drop"` on a step or in the
setup, armed through the host store's public fault API; and the lesson-only inputs the new
lessons need (item 10): the paper running out, loading paper, values read off a slip, and
a batch the center is missing a transaction of."""

import pytest

from posterm.lessons import model, runner

SALE = ["MENU", "1", "2", "3000", "ENTER", "CARD=6212142000000000012", "123456", "ENTER"]


def lesson(step_center=None, setup_center=None, screen=(), times=None):
    step = {"do": "sale", "keys": SALE, "screen": list(screen)}
    if step_center is not None:
        step["center"] = step_center if times is None else {"answer": step_center, "times": times}
    setup = {"date": "2026-11-23T12:00", "signed_in": True}
    if setup_center is not None:
        setup["center"] = setup_center
    return model.parse({"title": "t", "goal": "g", "setup": setup, "steps": [step]}, "t")


@pytest.mark.parametrize(
    "answer, screen",
    [
        ("51", ["应答码:51", "余额不足"]),
        (55, ["应答码:55", "密码错"]),  # a number is a response code too
        ("timeout", ["交易超时"]),
        ("badmac", ["MAC校验错"]),
        ("drop", ["连接中心失败"]),
        ("approve", ["请撕下商户存根"]),
    ],
)
def test_a_step_sets_what_the_center_answers(tmp_path, answer, screen):
    report = runner.run(lesson(answer, screen=screen), str(tmp_path))
    assert report.ok, report.problems


def test_without_a_center_answer_the_sale_is_approved_and_with_one_it_is_not(tmp_path):
    assert runner.run(lesson(screen=["请撕下商户存根"]), str(tmp_path)).ok
    assert not runner.run(lesson("51", screen=["请撕下商户存根"]), str(tmp_path)).ok


def test_a_step_approve_overrides_the_setups_decline(tmp_path):
    assert runner.run(lesson("approve", "51", ["请撕下商户存根"]), str(tmp_path)).ok
    assert runner.run(lesson(None, "51", ["应答码:51"]), str(tmp_path)).ok


def test_an_answer_is_for_the_next_request_unless_times_says_more(tmp_path):
    two = model.parse(
        {
            "title": "t",
            "goal": "g",
            "setup": {"date": "2026-11-23T12:00", "signed_in": True},
            "steps": [
                {
                    "do": "a",
                    "keys": SALE + ["ENTER"],
                    "center": "51",
                    "screen": ["今日已签到"],
                    "seen": ["应答码:51"],
                },
                {"do": "b", "keys": SALE, "screen": ["请撕下商户存根"]},
            ],
        },
        "t",
    )
    assert runner.run(two, str(tmp_path)).ok
    two.steps[0].center = model.CenterAnswer("51", 2)
    report = runner.run(two, str(tmp_path))
    assert not report.ok and "应答码:51" in report.problems[0]


@pytest.mark.parametrize("bad", ["maybe", "5", "123", {"answer": "51", "times": 0}, True])
def test_an_unknown_center_answer_is_a_clear_lesson_error(bad):
    with pytest.raises(model.LessonError, match="center"):
        model.parse(
            {"title": "t", "goal": "g", "steps": [{"do": "x", "keys": ["MENU"], "center": bad}]},
            "t",
        )


def test_slip_values_and_paper_tokens_are_checked_when_the_file_is_read():
    with pytest.raises(model.LessonError, match=r"\{auth\}"):
        model.parse({"title": "t", "goal": "g", "steps": [{"do": "x", "keys": ["{pin}"]}]}, "t")
    with pytest.raises(model.LessonError, match="printer"):
        model.parse(
            {
                "title": "t",
                "goal": "g",
                "steps": [{"do": "x", "keys": ["MENU"], "printer": "jammed"}],
            },
            "t",
        )


def test_a_missing_trace_that_the_center_never_had_is_a_lesson_error(tmp_path):
    bad = model.parse(
        {
            "title": "t",
            "goal": "g",
            "setup": {"signed_in": True, "host": {"missing": ["000009"]}},
            "steps": [{"do": "x", "keys": ["MENU"], "screen": ["1.金融服务"]}],
        },
        "t",
    )
    with pytest.raises(model.LessonError, match="no transaction 000009"):
        runner.run(bad, str(tmp_path))


@pytest.mark.parametrize(
    "name",
    [
        "13_preauth_completion",
        "14_lock_unlock",
        "15_paper_out",
        "16_unbalanced_settlement",
        "17_declines_51_55",
    ],
)
def test_the_new_lessons_run_in_every_language_they_check(tmp_path, name):
    lesson_ = model.load(name)
    for lang in runner.languages(lesson_):
        report = runner.run(lesson_, str(tmp_path), lang=lang)
        assert report.ok, (lang, report.problems)


def test_a_need_fault_takes_the_hosts_processing_requirement():
    ok = model.parse(
        {
            "title": "t",
            "goal": "g",
            "setup": {"fault": {"kind": "need", "arg": 4}},
            "steps": [{"do": "x", "keys": ["MENU"]}],
        },
        "t",
    )
    assert (ok.setup.fault.kind, ok.setup.fault.arg) == ("need", "4")
    for bad, why in ((None, "needs an arg"), (9, "processing requirement 1..6")):
        fault = {"kind": "need"} if bad is None else {"kind": "need", "arg": bad}
        with pytest.raises(model.LessonError, match=why):
            model.parse(
                {
                    "title": "t",
                    "goal": "g",
                    "setup": {"fault": fault},
                    "steps": [{"do": "x", "keys": ["MENU"]}],
                },
                "t",
            )
    with pytest.raises(model.LessonError, match="seconds"):
        model.parse(
            {
                "title": "t",
                "goal": "g",
                "setup": {"fault": {"kind": "delay", "arg": "soon"}},
                "steps": [{"do": "x", "keys": ["MENU"]}],
            },
            "t",
        )
