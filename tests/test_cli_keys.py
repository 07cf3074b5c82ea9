"""`posterm keys` end to end: real ISO 8583 over TCP to the embedded host on loopback."""

import os
import subprocess
import sys
import time

import pytest

from posterm.host.server import start_in_thread
from posterm import paths
import refframes  # tests/core/refframes.py: the reference's frames, one copy

POSTERM = [sys.executable, "-m", "posterm.cli"]


def keys(data, date, *tokens, host=None, stdin=None, lang=None):
    cmd = POSTERM + ["keys", "--data", str(data), "--date", date]
    if host:
        cmd += ["--host", host]
    if lang:
        cmd += ["--lang", lang]
    cmd += list(tokens)
    return subprocess.run(cmd, capture_output=True, text=True, input=stdin, timeout=60)


def frames(out):
    return [f.strip("\n") for f in out.split("\n" + "-" * 16 + "\n")]


def flat(frame):
    return "".join(line.strip() for line in frame.splitlines())


def test_issue_walkthrough_auto_sign_in_manual_sign_in_new_day_and_purchase(tmp_path):
    demo = tmp_path / "demo"
    r = keys(demo, "2026-11-23T09:00", "MENU", "1", "1", "ENTER")
    assert r.returncode == 0, r.stderr
    fs = [flat(f) for f in frames(r.stdout)]
    i = next(i for i, f in enumerate(fs) if "签到用时可能会长,请耐心等待" in f)
    assert "确认键继续" in fs[i]
    assert "正在连接中心..." in fs[i + 1]
    assert "应答码:00" in fs[-1] and "签到成功!" in fs[-1]

    r = keys(demo, "2026-11-23T09:05", "MENU", "4", "2", "ENTER")
    assert r.returncode == 0, r.stderr
    fs = [flat(f) for f in frames(r.stdout)]
    i = next(i for i, f in enumerate(fs) if "按确认键将为您签到!" in f)
    assert "确认继续,取消退出" in fs[i]
    assert "正在连接中心..." in fs[i + 1]
    assert "应答码:00" in fs[-1] and fs[-1].endswith("签到成功")

    r = keys(demo, "2026-11-24T09:00", "CARD=6212142000000000012")
    assert r.returncode == 0, r.stderr
    assert "请做终端签到" in flat(frames(r.stdout)[-1])

    r = keys(
        demo,
        "2026-11-24T09:01",
        "MENU",
        "1",
        "1",
        "ENTER",
        "MENU",
        "1",
        "2",
        "10000",
        "ENTER",
        "CARD=6212142000000000012",
        "123456",
        "ENTER",
    )
    assert r.returncode == 0, r.stderr
    assert "# receipt" in r.stdout
    slip = r.stdout.split("# receipt\n", 1)[1]
    assert "621214*********0012" in slip and "RMB 100.00" in slip
    assert "6212142000000000012" not in r.stdout
    assert any("应答码:00" in flat(f) and "交易成功" in flat(f) for f in frames(r.stdout))
    journal = (demo / "terminal" / "journal.log").read_bytes()
    assert b'"amount": 10000' in journal or b'"amount":10000' in journal


def test_unknown_key_token_is_refused_with_a_clear_message(tmp_path):
    r = keys(tmp_path, "2026-11-23T09:00", "MENU", "ENTRE")
    assert r.returncode == 2
    assert "unknown key 'ENTRE'" in r.stderr
    assert "Traceback" not in r.stderr
    assert r.stdout == ""


def test_bad_date_is_refused(tmp_path):
    r = keys(tmp_path, "2026-13-01", "MENU")
    assert r.returncode == 2 and "--date" in r.stderr and "Traceback" not in r.stderr


def test_stdin_mode_prints_each_frame_as_soon_as_it_is_shown(tmp_path):
    cmd = POSTERM + ["keys", "--data", str(tmp_path), "--date", "2026-11-23T09:00", "-"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
    try:
        first = p.stdout.readline()
        assert first.strip() == "2026-11-23 09:00"
        p.stdin.write("MENU\n")
        p.stdin.flush()
        seen = ""
        deadline = time.monotonic() + 20
        while "金融服务" not in seen and time.monotonic() < deadline:
            seen += p.stdout.readline()
        assert "1.金融服务" in seen
        p.stdin.write("4 2\nENTER\n")
        p.stdin.close()
        rest = p.stdout.read()
        assert "应答码:00" in rest
    finally:
        p.wait(timeout=30)
    assert p.returncode == 0


def test_stdin_mode_reports_an_unknown_token_and_goes_on(tmp_path):
    r = keys(tmp_path, "2026-11-23T09:00", "-", stdin="MENU BOGUS\n4\n")
    assert r.returncode == 2
    assert "unknown key 'BOGUS'" in r.stderr
    assert "2.终端手动签到" in r.stdout


def test_host_option_uses_a_host_started_on_its_own(tmp_path):
    host = start_in_thread(str(tmp_path / "center.db"), paths.menu_file())
    try:
        addr = "%s:%d" % tuple(host.address)
        r = keys(tmp_path / "t", "2026-11-23T09:00", "MENU", "4", "2", "ENTER", host=addr)
        assert r.returncode == 0, r.stderr
        assert "应答码:00" in r.stdout
        assert not (tmp_path / "t" / "host.db").exists(), "no embedded host was started"
    finally:
        host.stop()


def test_host_down_gives_the_failure_screen_not_a_traceback(tmp_path):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = keys(tmp_path, "2026-11-23T09:00", "MENU", "4", "2", "ENTER", host=f"127.0.0.1:{port}")
    assert r.returncode == 0
    assert "连接中心失败" in flat(frames(r.stdout)[-1])
    assert "Traceback" not in r.stderr


def test_unregistered_terminal_gets_97(tmp_path):
    data = tmp_path / "d"
    r = keys(data, "2026-11-23T09:00", "MENU")
    assert r.returncode == 0
    subprocess.run(
        POSTERM + ["host", "--data", str(data), "terminals", "remove", "12345678"],
        check=True,
        capture_output=True,
        timeout=30,
    )
    r = keys(data, "2026-11-23T09:00", "MENU", "4", "2", "ENTER")
    last = flat(frames(r.stdout)[-1])
    assert "应答码:97" in last and "终端未登记" in last


def test_english_screens(tmp_path):
    r = keys(tmp_path, "2026-11-23T09:00", "MENU", lang="en")
    assert "1.Financial" in r.stdout


def test_a_second_terminal_on_the_same_data_dir_is_refused(tmp_path):
    from posterm.driver import Driver, DataDirLocked

    d = Driver(str(tmp_path), date=(2026, 11, 23, 9, 0, 0))
    try:
        with pytest.raises(DataDirLocked):
            Driver(str(tmp_path), date=(2026, 11, 23, 9, 0, 0))
        r = keys(tmp_path, "2026-11-23T09:00", "MENU")
        assert r.returncode == 2 and "in use" in r.stderr
    finally:
        d.close()


def test_iso_decode_prints_fields_and_checks_the_mac():
    frame = refframes.F_0200
    r = subprocess.run(
        POSTERM + ["iso", "decode", frame, "--mak", "89ABCDEF01234567"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0, r.stderr
    assert "0200" in r.stdout and "MAC: OK" in r.stdout
    assert "6212142000000000012" not in r.stdout
    r = subprocess.run(
        POSTERM + ["iso", "decode", "00ff60"], capture_output=True, text=True, timeout=30
    )
    assert r.returncode == 2 and "cannot decode" in r.stderr and "Traceback" not in r.stderr


def test_menu_map_gives_key_paths():
    r = subprocess.run(POSTERM + ["menu", "map"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0
    assert "签到: 菜单 1 1" in r.stdout
    assert "终端手动签到: 菜单 4 2" in r.stdout
    r = subprocess.run(POSTERM + ["menu", "validate"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "ok" in r.stdout


def test_posterm_help_lists_the_commands():
    r = subprocess.run(POSTERM + ["--help"], capture_output=True, text=True, timeout=30)
    for cmd in ("keys", "host", "iso", "menu"):
        assert cmd in r.stdout
    assert os.path.exists(paths.menu_file())


def test_stdin_mode_answers_every_line_a_refused_key_shows_the_screen_again_and_why(tmp_path):
    # a program that reads the screen after each line it sends must always get a screen: a
    # key the terminal refuses (a beep, nothing changes) and an unknown token print the
    # screen again, with the reason on stderr; from # on a line is a comment
    import queue
    import threading

    cmd = POSTERM + ["keys", "--data", str(tmp_path), "--date", "2026-11-23T09:00", "-"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, bufsize=1)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in p.stdout], daemon=True).start()
    rule = "-" * 16 + "\n"

    def screen_after(line):
        p.stdin.write(line + "\n")
        p.stdin.flush()
        got = ""
        while True:  # a rule, then the 4 rows of a frame
            try:
                got += lines.get(timeout=15)
            except queue.Empty:
                raise AssertionError(f"no screen after {line!r} (got {got!r})") from None
            rows = got.split(rule)[-1]
            if got.count(rule) and len(rows.splitlines()) == 4:
                return rows

    try:
        for _ in range(4):
            lines.get(timeout=30)  # the idle screen
        menu = screen_after("MENU")
        assert "1.金融服务" in menu
        assert screen_after("9") == menu  # 9: no such item (the menu has five)
        assert screen_after("BOGUS") == menu
        assert "4.终端更新" in screen_after("# a comment line, then a key, a comment\nDOWN # p2")
        assert "1.金融服务" in screen_after("UP")
    finally:
        p.stdin.close()
        p.wait(timeout=30)
    err = p.stderr.read()
    assert "key 9 refused on this screen" in err, err
    assert "unknown key 'BOGUS'" in err
    assert p.returncode == 2


def test_a_file_of_key_tokens_is_run_as_the_keys_written_in_it(tmp_path):
    walk = tmp_path / "walk.txt"
    walk.write_text("# sign in\nMENU 1 1  # 签到\nENTER\n\nENTER\n", encoding="utf-8")
    data = tmp_path / "d"
    r = subprocess.run(POSTERM + ["keys", str(walk), "--data", str(data), "--date",
                                  "2026-11-23T09:00", "MENU"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "签到成功" in r.stdout and r.stdout.rstrip().endswith("3.管理")
    walk.write_text("MENU\nENTRE\n", encoding="utf-8")
    r = subprocess.run(POSTERM + ["keys", str(walk), "--data", str(data)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and f"{walk}:2: unknown key 'ENTRE'" in r.stderr, r.stderr


def test_a_refused_key_in_the_arguments_is_said_on_stderr_by_name_and_file_line(tmp_path):
    # the screen does not change on a refused key (the terminal only beeps, as a CUP
    # terminal does): a program reading the frames is told which key was not taken
    r = keys(tmp_path, "2026-11-23T09:00", "MENU", "90", "ENTER", "1")
    assert r.returncode == 0, r.stderr
    err = r.stderr.splitlines()
    assert err == ["posterm: key 9 refused on this screen", "posterm: key 0 refused on this "
                   "screen", "posterm: key ENTER refused on this screen"], err
    assert "1.签到" in r.stdout
    walk = tmp_path / "walk.txt"
    walk.write_text("MENU\n1 0\n", encoding="utf-8")  # 0: no item has it
    r = subprocess.run(POSTERM + ["keys", str(walk), "--data", str(tmp_path / "d"), "--date",
                                  "2026-11-23T09:00"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stderr == f"posterm: {walk}:2: key 0 refused on this screen\n", r.stderr
    # an error beep with a new screen (金额不能为0) is not a refused key: the screen says why
    r = keys(tmp_path / "d", "2026-11-23T09:00", "MENU", "1", "1", "ENTER", "ENTER", "MENU",
             "1", "2", "ENTER")  # fmt: skip
    assert "金额不能为0" in r.stdout
    assert "refused" not in r.stderr, r.stderr


def test_a_bot_reads_each_screen_up_to_the_ready_marker_and_answers_what_it_asks(tmp_path):
    # `posterm keys --ready -`: a program that knows no key path in advance, only what a
    # cashier answers (amount, PIN, supervisor password, the original's trace, confirm),
    # drives a sign-in, a sale and its void by reading each screen up to `# ready`
    import queue
    import threading

    cmd = POSTERM + ["keys", "--data", str(tmp_path), "--date", "2026-11-23T09:00",
                     "--ready", "-"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, bufsize=1)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in p.stdout], daemon=True).start()

    def until_ready():
        got = []
        while True:
            try:
                line = lines.get(timeout=20)
            except queue.Empty:
                raise AssertionError(f"no '# ready' (got {got!r})") from None
            if line == "# ready\n":
                return "".join(got)
            got.append(line)

    def screen(out):  # the rows of the last frame before the marker
        return flat(out.split("-" * 16 + "\n")[-1])

    goals = ["MENU 1 1", "MENU 1 2", "MENU 1 3"]  # 签到, 消费, 消费撤销
    trace, done, log = None, [], []
    try:
        out = until_ready()
        for _ in range(40):
            s = screen(out)
            log.append(s)
            if "凭证号:" in out and trace is None:
                trace = out.split("凭证号:", 1)[1][:6]  # read off the slip
            if "今日已签到" in s or "今日未签到" in s:  # idle
                if not goals:
                    break
                done.append(goals[0])
                reply = goals.pop(0)
            elif "请输入金额" in s:
                reply = "1234 ENTER"
            elif "主管密码" in s or "请输入密码" in s:
                reply = "123456 ENTER"
            elif "原凭证号" in s or "凭证号" in s and "请输入" in s:
                reply = trace + " ENTER"
            elif "请刷卡" in s or "请插卡" in s:
                reply = "CARD=6212142000000000012"
            elif "成功" in s and "请撕下" not in s:
                reply = "CANCEL"  # the outcome read: back to idle
            elif "确认" in s:
                reply = "ENTER"
            else:
                raise AssertionError(f"the bot cannot answer {s!r} (so far: {log})")
            p.stdin.write(reply + "\n")
            p.stdin.flush()
            out = until_ready()
    finally:
        p.stdin.close()
        p.wait(timeout=30)
    assert done == ["MENU 1 1", "MENU 1 2", "MENU 1 3"] and not goals, log
    assert p.returncode == 0, p.stderr.read()
    # the void approved: its slip printed (a bot reads the screen it waits on, not the
    # approval shown while printing)
    assert "消费撤销请撕下商户存根按确认键打印持卡人存根" in log, "\n".join(log)


def test_ready_is_for_the_interactive_mode_only(tmp_path, capsys):
    from posterm.cli import main

    assert main(["keys", "--data", str(tmp_path), "--ready", "MENU"]) == 2
    err = capsys.readouterr().err
    assert "posterm keys --ready -" in err and "Traceback" not in err, err


def test_a_file_of_tokens_that_is_not_text_or_a_directory_is_one_clear_line(tmp_path, capsys):
    # no traceback (it was a UnicodeDecodeError): the file and the line, exit status 2, for
    # posterm keys and posterm record alike; a lesson file likewise
    from posterm.cli import main

    bad = tmp_path / "walk.txt"
    bad.write_bytes(b"MENU\n1\n\xff\xfe ENTER\n")
    for cmd in (["keys", "--data", str(tmp_path / "d"), str(bad)],
                ["record", str(tmp_path / "x.jsonl"), str(bad)],
                ["keys", "--data", str(tmp_path / "d"), str(tmp_path)]):
        assert main(cmd) == 2, cmd
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert f"{bad}:3: not UTF-8 text" in err or "is a directory" in err, err
    lesson = tmp_path / "x.toml"
    lesson.write_bytes(b"\xff\xfeorder = 1\n")
    assert main(["lesson", "check", str(lesson)]) != 0
    out = capsys.readouterr()
    assert "not UTF-8 text" in out.out + out.err and "Traceback" not in out.out + out.err


def test_an_embedded_center_database_it_cannot_use_is_named(tmp_path, capsys):
    # a damaged host.db in the data dir (a full disk gives SQLite's "disk I/O error"): which
    # database, and the way round it, in one line (was "posterm: error: database: file is
    # not a database")
    from posterm.cli import main

    (tmp_path / "host.db").write_bytes(b"garbage, not SQLite" * 100)
    assert main(["keys", "--data", str(tmp_path), "MENU"]) == 2
    err = capsys.readouterr().err
    assert f"embedded center's database {tmp_path / 'host.db'}: file is not a database" in err
    assert "--host HOST:PORT" in err and err.count("\n") == 1, err
