"""The recorded sessions (tests/recordings/*.jsonl) replay with the same bytes on every
target: CPython, MicroPython (WebAssembly), the MicroPython unix port and the board firmware
in the board sim. And `posterm record` / `posterm replay` themselves: the first difference in
words, bad files, determinism, the faults a recording can carry."""

import json
from pathlib import Path

import pytest

from posterm.cli import main
from posterm.replay import fmt, runtimes

HERE = Path(__file__).resolve().parent
RECORDINGS = sorted((HERE / "recordings").glob("*.jsonl"))
SESSIONS = ("signin", "purchase", "void", "refund", "settlement", "reversal", "chip")
# The board sim's heap for these replays: what they check is that the bytes are the same on
# the board; whether a day fits the Pico's cap is the board-sim day's test (test_board_sim).
BOARD_HEAP = 400 * 1024
C = "CARD=6212142000000000012"


def _rel(path):
    return path.relative_to(HERE.parent)


def _lines(path):
    return [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines() if x]


def _mti(hexframe):
    from pos import iso8583

    return iso8583.decode(iso8583.unpack_frame(bytes.fromhex(hexframe))[2])


def test_the_recorded_sessions_are_there():
    names = {p.stem for p in RECORDINGS}
    assert set(SESSIONS) <= names, f"missing: {set(SESSIONS) - names}"
    sent = {p.stem: [_mti(r["send"]) for r in _lines(p) if "send" in r] for p in RECORDINGS}
    assert "0400" in [m["mti"] for m in sent["reversal"]]
    uploads = [m for m in sent["settlement"] if m["mti"] == "0320"]
    assert any(m[60][8:11] == "201" for m in uploads), "the settlement uploads records"
    assert "0500" in [m["mti"] for m in sent["settlement"]]
    chip = [m for m in sent["chip"] if m["mti"] == "0200"]
    assert chip and 55 in chip[0], "the chip purchase carries field 55 (its ARQC)"


@pytest.mark.parametrize("runtime", runtimes.RUNTIMES)
@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.stem)
def test_recorded_session_replays_with_the_same_bytes(path, runtime):
    d = runtimes.replay(str(_rel(path)), runtime, heap=BOARD_HEAP)
    if d is not None:
        pytest.fail(f"{_rel(path)} on {runtime}: " + fmt.describe(d, str(_rel(path))))


def test_a_recording_made_before_the_terminal_waited_for_the_card_replays_as_then():
    # tests/recordings/before_removal/chip.jsonl: recorded when a chip sale went back to idle
    # with the card in, and 请拔卡 took any key (no card_removal in its header); the replay
    # runs it as it was then, and the board (which cannot) says why
    old = HERE / "recordings" / "before_removal" / "chip.jsonl"
    assert "card_removal" not in _lines(old)[0]
    assert runtimes.replay(str(_rel(old)), "cpython") is None
    new = _lines(HERE / "recordings" / "chip.jsonl")
    assert new[0]["card_removal"] == "key"
    assert {"show": ["      消费", "请拔卡", "", ""], "inv": 1} in new  # waited for the card
    d = runtimes.replay(str(_rel(old)), "board")
    assert d["what"] == "error" and "before the terminal waited for the card" in d["got"], d


def _mutate(src, dst, pred, change):
    out = []
    done = False
    for line in Path(src).read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if not done and pred(rec):
            change(rec)
            done = True
            line = json.dumps(rec, ensure_ascii=False)
        out.append(line)
    assert done
    Path(dst).write_text("\n".join(out) + "\n", encoding="utf-8")


def _purchase():
    return HERE / "recordings" / "purchase.jsonl"


@pytest.mark.parametrize("runtime", ("cpython", "micropython", "micropython-unix", "board"))
def test_a_changed_screen_is_the_first_difference(tmp_path, runtime):
    f = tmp_path / "s.jsonl"

    def change(rec):
        rec["show"][2] = "请输入金额:!"

    _mutate(_purchase(), f, lambda r: "show" in r and "请输入金额:" in r["show"], change)
    d = runtimes.replay(str(f), runtime, heap=BOARD_HEAP)
    assert d is not None and d["what"] == "show", d
    text = fmt.describe(d, str(f))
    if runtime != "board":  # the board shows the screen once the step is over
        assert "请输入金额:!" in text and "请输入金额:" in text.split("got:")[1]
    assert "after the card" in text or "after the key" in text
    assert f"posterm record --update {f}" in text


@pytest.mark.parametrize("runtime", ("cpython", "micropython-unix", "board"))
def test_a_changed_frame_on_the_wire_says_which_byte(tmp_path, runtime):
    f = tmp_path / "s.jsonl"

    def change(rec):
        h = rec["send"]
        rec["send"] = h[:-4] + ("0000" if h[-4:] != "0000" else "1111")

    # the purchase (0200): the second frame sent
    n = {"i": 0}

    def second_send(r):
        if "send" in r:
            n["i"] += 1
        return "send" in r and n["i"] == 2

    _mutate(_purchase(), f, second_send, change)
    d = runtimes.replay(str(f), runtime, heap=BOARD_HEAP)
    assert d is not None and d["what"] == "send", d
    text = fmt.describe(d, str(f))
    assert "the frame sent to the center differs from byte" in text
    assert "MTI 0200" in text and "field 64: expected" in text, text  # the MAC's bytes


def test_a_changed_slip_byte_is_found_on_the_board_too(tmp_path):
    f = tmp_path / "s.jsonl"

    def change(rec):
        rec["escpos"] = rec["escpos"].replace("1B6401", "1B6402", 1) + "00"

    _mutate(_purchase(), f, lambda r: "print" in r, change)
    for runtime in ("cpython", "board"):
        d = runtimes.replay(str(f), runtime, heap=BOARD_HEAP)
        assert d is not None and d["what"] == "escpos", (runtime, d)


def test_a_truncated_recording_is_reported_as_truncated(tmp_path, capsys):
    f = tmp_path / "cut.jsonl"
    lines = _purchase().read_text(encoding="utf-8").splitlines()
    f.write_text("\n".join(lines[:30]) + "\n" + lines[30][:17], encoding="utf-8")
    # exit status 2, a file that is not (whole) a recording, as README says: 1 would say
    # the firmware differs from what was recorded
    assert main(["replay", str(f)]) == 2
    err = capsys.readouterr().err
    # one line that says which line and what is wrong: cut off mid-JSON, the file cut there
    assert err.startswith("posterm: error:") and err.strip().count("\n") == 0, err
    assert "line 31 is cut off mid-JSON (" in err and "column 18" in err and "cut short" in err
    f.write_text("\n".join(lines[:30]) + "\n", encoding="utf-8")
    assert main(["replay", "--runtime", "micropython-unix", str(f)]) == 2
    assert "truncated (no end line)" in capsys.readouterr().err


def test_a_line_mangled_inside_a_recording_is_named_with_its_column(tmp_path, capsys):
    # a line in the middle that is not JSON (a cut, an editor's slip) is not a difference
    # nor a cut file: its line and column, one line, exit status 2; a JSON line that is no
    # object likewise
    f = tmp_path / "bad.jsonl"
    lines = _purchase().read_text(encoding="utf-8").splitlines()
    for n, bad, words in ((12, lines[11][:25], "line 12 is not JSON (Unterminated string"),
                          (9, "[1, 2]", "line 9 is JSON but not an object (list)")):
        f.write_text("\n".join(lines[: n - 1] + [bad] + lines[n:]) + "\n", encoding="utf-8")
        assert main(["replay", str(f)]) == 2
        err = capsys.readouterr().err
        assert words in err and "column" in err or "object" in err, err
        assert err.strip().count("\n") == 0 and "Traceback" not in err, err


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", "empty"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
        (b"hello\n", "line 1 is not JSON"),
        (b'{"posterm_recording": 2, "clock": [2026,1,1,0,0,0]}\n', "format version 2"),
        (b'{"foo": 1}\n', "not a posterm recording header"),
        (b'{"posterm_recording": 1}\n', "no clock"),
    ],
)
def test_a_file_that_is_not_a_recording_gets_a_clear_message(tmp_path, capsys, content, words):
    f = tmp_path / "x.jsonl"
    f.write_bytes(content)
    assert main(["replay", str(f)]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_replay_of_a_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["replay", str(tmp_path / "none.jsonl")]) == 2
    assert "No such file" in capsys.readouterr().err


def test_replay_cli_says_every_output_matched(capsys):
    assert main(["replay", str(_rel(_purchase()))]) == 0
    assert "cpython: every output matched" in capsys.readouterr().out


def test_recording_twice_gives_the_same_bytes(tmp_path):
    keys = ["MENU", "4", "2", "ENTER", "CANCEL", C, "990", "ENTER", "ENTER", "ENTER"]
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for f in (a, b):
        assert main(["record", "--date", "2026-11-23T09:00", str(f)] + keys) == 0
    la, lb = _lines(a), _lines(b)
    for h in (la[0], lb[0]):
        h.pop("recorded")
        h.pop("link_address")
    assert la == lb
    assert any("send" in r for r in la) and any("print" in r for r in la)


def test_update_rerecords_from_the_files_own_keys(tmp_path, capsys):
    f = tmp_path / "r.jsonl"
    f.write_bytes((HERE / "recordings" / "reversal.jsonl").read_bytes())
    _mutate(f, f, lambda r: "show" in r, lambda r: r.update(show=["stale"]))
    assert runtimes.replay(str(f), "cpython") is not None
    assert main(["record", "--update", str(f)]) == 0
    assert "re-recorded" in capsys.readouterr().out
    assert runtimes.replay(str(f), "cpython") is None
    h = _lines(f)[0]
    assert h["lose_reply"] == [2] and h["keys"][:3] == ["MENU", "4", "2"]


def test_a_lost_reply_is_recorded_as_a_timeout(tmp_path):
    f = tmp_path / "lost.jsonl"
    keys = ["MENU", "4", "2", "ENTER", "CANCEL", C, "990", "ENTER", "ENTER"]
    assert main(["record", "--date", "2026-11-23T09:00", "--lose-reply", "2", str(f)] + keys) == 0
    ins = [r["in"] for r in _lines(f) if "in" in r]
    assert ["timeout"] in ins
    assert runtimes.replay(str(f), "cpython") is None


def test_record_rejects_a_bad_key(tmp_path, capsys):
    assert main(["record", str(tmp_path / "x.jsonl"), "MENU", "XYZ"]) == 2
    assert "unknown key" in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()


def test_the_board_gets_the_gbk_table_the_slip_needs():
    # the issuer's name on a slip comes from the center in GBK (pos.gbk reads menus/gbk.bin):
    # the board replay of the purchase found a board printing 发卡行:???? without it
    from posterm.flash import build

    tree = build.deploy_tree("pico")
    assert tree["/menus/gbk.bin"] == (HERE.parent / "menus" / "gbk.bin").read_bytes()


def test_the_failure_message_says_how_to_rerecord():
    d = {
        "step": 3,
        "line": 7,
        "input": ["key", "1"],
        "what": "show",
        "expected": {"show": ["a"], "inv": 0},
        "got": {"show": ["b"], "inv": 0},
    }
    text = fmt.describe(d, "tests/recordings/x.jsonl")
    assert "step 3 (line 7), after the key 1: the screen differs" in text
    assert "posterm record --update tests/recordings/x.jsonl" in text


async def test_an_emulator_session_records_and_replays(tmp_path):
    import asyncio

    from posterm.emulator.app import EmulatorApp
    from posterm.emulator.frontdriver import EmulatorDriver
    from posterm.replay.recorder import record_front

    driver = EmulatorDriver(str(tmp_path / "d"), date=(2026, 11, 23, 9, 0, 0))
    rec = record_front(driver, "emulator")
    app = EmulatorApp(driver, flash=False)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("m", "4", "2", "enter")
            for _ in range(200):
                await pilot.pause()
                if driver.pending is None and "签到成功" in "".join(driver.terminal.frame.text()):
                    break
                await asyncio.sleep(0.02)
            await app.workers.wait_for_complete()
            await pilot.press("escape")
            await pilot.pause()
    finally:
        driver.close()
    f = tmp_path / "emu.jsonl"
    rec.write(f)
    lines = _lines(f)
    assert lines[0]["source"] == "emulator"
    assert lines[0]["card_removal"] == "reader"  # a key at 请拔卡 beeps there: replayed so
    assert any("send" in r for r in lines) and any(r.get("in", [""])[0] == "reply" for r in lines)
    for runtime in ("cpython", "micropython-unix"):
        assert runtimes.replay(str(f), runtime) is None, runtime
    assert main(["record", "--update", str(f)]) == 2


def test_the_board_and_the_desktop_record_the_same_session(tmp_path):
    keys = ["MENU", "4", "2", "ENTER", "CANCEL", C, "3550", "ENTER", "123456", "ENTER", "ENTER"]
    board, desk = tmp_path / "board.jsonl", tmp_path / "desk.jsonl"
    date = ["--date", "2026-11-23T09:00"]
    assert main(["record", "--board", "pico", "--heap", "400K"] + date + [str(board)] + keys) == 0
    assert main(["record"] + date + [str(desk)] + keys) == 0

    def outputs(path):
        return [r for r in _lines(path) if "show" in r or "send" in r or "print" in r]

    got, want = outputs(board), outputs(desk)
    assert len(got) == len(want) and any("send" in r for r in got)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, f"output {i}: board {g} != desktop {w}"
    h = _lines(board)[0]
    assert h["source"] == "board" and h["board"] == "pico"
    assert any(r.get("in", [""])[0] == "tick" for r in _lines(board)), "the board loop's ticks"
