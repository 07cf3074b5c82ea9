"""Options anywhere on the command line, as users type them (`posterm keys MENU --data D 1 1`,
`posterm record bug.jsonl --date ... MENU ...`), and a wrong option said by the sub-command
that was given it, with its own usage, never a traceback."""

import subprocess
import sys

import pytest

from posterm import cli

POSTERM = [sys.executable, "-m", "posterm.cli"]


def parse(*argv):
    return cli.build_parser().parse_args(list(argv))


def test_keys_takes_its_options_among_the_key_tokens():
    a = parse("keys", "MENU", "--data", "D", "1", "--date", "2026-11-23T09:00", "1", "ENTER")
    assert a.tokens == ["MENU", "1", "1", "ENTER"]
    assert a.data == "D" and a.date == "2026-11-23T09:00"
    a = parse("keys", "-", "--lang", "en")
    assert a.tokens == ["-"] and a.lang == "en"


def test_record_takes_its_options_after_the_file_and_among_the_keys():
    a = parse("record", "bug.jsonl", "--date", "2026-11-23T09:00", "MENU", "4", "--seed", "7",
              "2", "ENTER", "--lose-reply", "1")
    assert a.file == "bug.jsonl" and a.tokens == ["MENU", "4", "2", "ENTER"]
    assert a.seed == 7 and a.lose_reply == [1] and a.date == "2026-11-23T09:00"


def test_replay_takes_its_options_between_the_files():
    a = parse("replay", "a.jsonl", "--runtime", "micropython", "b.jsonl")
    assert a.files == ["a.jsonl", "b.jsonl"] and a.runtime == "micropython"


@pytest.mark.parametrize("argv,sub", [
    (["keys", "MENU", "--bogus"], "posterm keys"),
    (["record", "x.jsonl", "MENU", "--no-such"], "posterm record"),
    (["menu", "tree", "--bogus"], "posterm menu tree"),
])
def test_a_wrong_option_is_said_by_its_sub_command(argv, sub, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    bad = argv[-1]
    assert f"{sub}: error: unknown option {bad}" in err, err
    assert f"{sub} --help" in err
    assert err.splitlines()[0].startswith("usage: " + sub)


def test_a_stray_argument_is_said_by_its_sub_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["menu", "tree", "extra"])
    err = capsys.readouterr().err
    assert "posterm menu tree: error: unexpected argument: extra" in err, err


def test_keys_with_options_after_the_tokens_runs_as_with_them_before(tmp_path):
    first = subprocess.run(
        POSTERM + ["keys", "--data", str(tmp_path / "a"), "--date", "2026-11-23T09:00",
                   "MENU", "1"], capture_output=True, text=True, timeout=60)
    mixed = subprocess.run(
        POSTERM + ["keys", "MENU", "--data", str(tmp_path / "b"), "1", "--date",
                   "2026-11-23T09:00"], capture_output=True, text=True, timeout=60)
    assert first.returncode == 0 and mixed.returncode == 0, mixed.stderr
    assert mixed.stdout == first.stdout and "金融服务" in mixed.stdout


def test_lesson_commands_take_options_anywhere_and_say_a_wrong_one(tmp_path, capsys):
    assert cli.main(["lesson", "list", "--lang", "en", "--data", str(tmp_path)]) == 0
    assert "The daily sign-in" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli.main(["lesson", "export", "04", "--bogus", "--data", str(tmp_path)])
    err = capsys.readouterr().err
    assert "posterm lesson export: error: unknown option --bogus" in err, err


def test_record_says_at_once_that_it_cannot_write_its_file(tmp_path, capsys):
    import time

    started = time.monotonic()
    assert cli.main(["record", str(tmp_path / "no" / "x.jsonl"), "MENU", "4", "2",
                     "ENTER"]) == 2
    err = capsys.readouterr().err
    assert "cannot write the recording" in err and ".tmp" not in err, err
    assert time.monotonic() - started < 1.0  # before any session is run


def test_record_takes_a_file_of_tokens_as_keys_does(tmp_path, capsys):
    walk = tmp_path / "walk.txt"
    walk.write_text("MENU 4 2  # manual sign-in\nENTER\n", encoding="utf-8")
    rec = tmp_path / "r.jsonl"
    assert cli.main(["record", str(rec), str(walk), "--date", "2026-11-23T09:00"]) == 0
    import json

    header = json.loads(rec.read_text(encoding="utf-8").splitlines()[0])
    assert header["keys"] == ["MENU", "4", "2", "ENTER"]


def _parsers(parser=None, path=("posterm",)):
    import argparse

    parser = parser or cli.build_parser()
    yield path, parser
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sub in a.choices.items():
                yield from _parsers(sub, path + (name,))


def test_every_option_of_the_front_commands_says_what_it_is_and_no_default_is_none():
    import argparse

    front = {"keys", "record", "replay", "emulator", "class", "classroom", "menu", "lesson"}
    for path, parser in _parsers():
        for a in parser._actions:
            if isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            text = (a.help or "") % {"default": a.default} if a.help else ""
            assert "default: None" not in text, (path, a.option_strings)
            if a.option_strings and len(path) > 1 and path[1] in front:
                assert a.help, f"{' '.join(path)} {a.option_strings[0]} has no help"


def test_the_emulator_without_a_terminal_says_so_at_once_instead_of_drawing_into_a_pipe(
        tmp_path):
    r = subprocess.run(POSTERM + ["--data", str(tmp_path)], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "the emulator needs a terminal" in r.stderr, r.stderr
    assert "posterm keys" in r.stderr and "\x1b[" not in r.stdout


def test_a_guided_lesson_without_a_terminal_points_to_text(tmp_path):
    r = subprocess.run(POSTERM + ["lesson", "04", "--data", str(tmp_path)],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "--text" in r.stderr and "needs a terminal" in r.stderr
