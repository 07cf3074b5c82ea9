"""`posterm board sim`: the board firmware (the deploy tree `posterm flash` sends, .mpy from
mpy-cross) on the MicroPython unix port with simulated peripherals and a heap cap."""

import datetime
import os
import re
import subprocess
import sys

import pytest

from posterm.boardsim import render, sim
from posterm.font import boards_loader

NOW = datetime.datetime(2026, 11, 23, 9, 0, 0)
PAN = "6212142000000000012"
SIGN_IN = [("key", "MENU"), ("key", "1"), ("key", "1"), ("key", "ENTER"), ("key", "ENTER")]


def _keys(text):
    from pos.keys import parse_token

    return [ev for tok in text.split() for ev in parse_token(tok)]


PURCHASE = _keys(f"CARD={PAN} 12800 ENTER 123456 ENTER ENTER")


@pytest.fixture(autouse=True)
def _unix_port():
    if sim.micropython_binary() is None:
        pytest.fail("the board sim needs the unix port: pip install -e '.[test]'")


def _run(events, **kw):
    kw.setdefault("now", NOW)
    with sim.Sim(**kw) as s:
        for ev in events:
            s.feed(ev)
        s.end_input()
        records = list(s.records_iter())
        frames = list(s.bridge.frames)
        tree = sorted(
            os.path.relpath(os.path.join(d, f), s.workdir)
            for d, _, files in os.walk(os.path.join(s.workdir, "board"))
            for f in files
        )
    return records, frames, tree


def _settled(records):
    return [r for r in records if r["ev"] == "settled"]


def test_a_purchase_day_completes_on_the_board_sim_under_the_pico_cap():
    records, frames, tree = _run(SIGN_IN + PURCHASE, board="pico", heap_report=True)
    assert [r for r in records if r["ev"] == "memory_error"] == []
    assert records[0]["ev"] == "heap_start" and records[0]["cap"] == 274329
    assert 0 <= records[0]["cap"] - records[0]["free"] <= 256  # the sim's hold is exact
    assert records[-1]["ev"] == "done"
    settled = _settled(records)
    assert len(settled) == 1 + len(SIGN_IN + PURCHASE)  # the screen after boot, then each
    assert settled[0]["key"] is None and "今日未签到" in settled[0]["screen"]
    assert "签到成功" in settled[4]["screen"]
    assert "今日已签到" in settled[-1]["screen"]
    slips = [render.slip(r.data) for r in records if r["ev"] == "print"]
    assert len(slips) == 2  # merchant and cardholder copies, through the ESC/POS driver
    assert any("金额:RMB 128.00" in line for line in slips[0])
    assert any("商户存根" in line for line in slips[0])
    assert any("持卡人存根" in line for line in slips[1])
    # the wire, through the bridge: the sign-in's 0800s (menu update chunks, then the keys)
    # and the purchase's 0200, each answered (0810, 0210)
    mtis = [data[13:15].hex() for way, data in frames]
    assert mtis[-2:] == ["0200", "0210"]
    assert set(mtis[:-2]) == {"0800", "0810"} and len(mtis) % 2 == 0
    # the firmware ran from the deploy tree: compiled modules, main.py as source
    assert "board/pos/terminal.mpy" in tree and "board/boards/boot.mpy" in tree
    assert "board/main.py" in tree and not any(p.endswith("terminal.py") for p in tree)
    for r in settled:
        assert 0 < r["largest"] <= r["free"] < sim.x64_cap("pico")


def _screens(settled):
    return [re.sub(r"授权号:\s*\d+", "授权号:", r["screen"]) for r in settled]


def _slips(records):
    out = []
    for r in records:
        if r["ev"] == "print":
            out.append([x for x in render.slip(r.data) if not x.startswith("授权号:")])
    return out


def test_the_cashiers_day_fits_the_esp32_cap_from_romfs_and_is_safe_short_of_memory():
    # CI's board-sim day (issue 14): the bench's whole day (sign-in, ten purchases, void,
    # refund, balance, reprint, look-up, settlement) on the firmware as `posterm flash
    # --romfs` deploys it, at an ESP32's free heap (110 KB, x1.41 on the unix port). First
    # what must hold whatever the heap (a change that needs more fails the last part, but
    # must never fail these): every key is handled, a MemoryError shows
    # 内存不足 and the terminal goes back to idle and on, nothing is sent twice, at most one
    # reversal per MemoryError, no approved sale half-kept (settlement balances), and the
    # money messages are a board with room's, in the same order. (Where the heap runs out
    # moves a little from run to run: the collector is conservative and the stack's stale
    # words depend on how long the center took.)
    from posterm.bench import boardheap

    events = boardheap.day_events()
    records, frames, _ = _run(events, board="esp32", romfs=True)
    assert records[0]["ev"] == "heap_start" and records[0]["cap"] == sim.x64_cap("esp32")
    assert records[-1]["ev"] == "done", records[-3:]  # the board never stopped
    settled = _settled(records)
    assert len(settled) == 1 + len(events)  # every key and card of the day was handled
    errors = [r for r in records if r["ev"] == "memory_error"]
    for e in errors:
        assert e["where"] == "flow", e  # the drivers had what they needed
        nxt = next(r for r in records[records.index(e) :] if r["ev"] == "settled")
        assert "内存不足" in nxt["screen"], nxt
    assert not [r for r in settled if "系统错误" in r["screen"]]
    roomy, roomy_frames, _ = _run(events, board="esp32", romfs=True, heap=512 * 1024)
    assert [r for r in roomy if r["ev"] == "memory_error"] == []
    sent = [data for way, data in frames if way == "out"]
    roomy_sent = [data[13:15].hex() for way, data in roomy_frames if way == "out"]
    mtis = [data[13:15].hex() for data in sent]
    # a reversal only for a sale whose approval could not be journalled even after a
    # collection (pos.flows.online), one each: never a storm, never sent twice
    assert mtis.count("0400") <= len(errors), (mtis, errors)
    assert _sent_again(sent) == [], "no message sent twice"
    # the money messages are those of the roomy day, in order, less the ones that ran out of
    # memory before they left (the script's keys after a 内存不足 may open other screens)
    money = ("0200", "0220", "0500", "0320")
    it = iter([m for m in roomy_sent if m in money])
    assert all(m in it for m in mtis if m in money), (mtis, roomy_sent)
    assert "0500" in mtis and "对账平" in settled[-2]["screen"], settled[-2]  # balanced
    assert "今日未签到" in settled[-1]["screen"]  # settled and signed out at the end
    # and it fits: ROMFS N is below the ESP32 cap (README, Performance), so the whole day
    # completes there as with room, every sale out and both its slips printed
    assert errors == [], errors
    assert mtis == [m for m in roomy_sent], (mtis, roomy_sent)
    assert _slips(records) == _slips(roomy)
    # with room, the whole day: every sale out and answered, both slips of each
    roomy_mtis = [data[13:15].hex() for way, data in roomy_frames]
    assert roomy_mtis.count("0200") == 11 and "0220" in roomy_mtis and "0320" in roomy_mtis
    assert len(_slips(roomy)) == 21


def _unsafe(events, records, frames, roomy_sent):
    # what item 6 of issue 14 forbids in a day run short of memory: the board stopping, a
    # key not handled, a MemoryError not shown as 内存不足 (or a driver's), 系统错误, more
    # reversals than MemoryErrors, a message sent twice, money messages not the roomy day's
    # (in order), a settlement that does not balance
    out = []
    settled = _settled(records)
    errors = [r for r in records if r["ev"] == "memory_error"]
    if records[-1]["ev"] != "done":
        out.append("stopped: %r" % records[-3:])
    if len(settled) != 1 + len(events):
        out.append("%d of %d events handled" % (len(settled) - 1, len(events)))
    for e in errors:
        nxt = next((r for r in records[records.index(e) :] if r["ev"] == "settled"), None)
        if e["where"] != "flow" or nxt is None or "内存不足" not in nxt["screen"]:
            out.append("MemoryError %r, then %r" % (e, nxt and nxt["screen"]))
    out += ["系统错误: %r" % r["screen"] for r in settled if "系统错误" in r["screen"]]
    sent = [data for way, data in frames if way == "out"]
    mtis = [data[13:15].hex() for data in sent]
    if mtis.count("0400") > len(errors):
        out.append("%d reversals for %d MemoryErrors" % (mtis.count("0400"), len(errors)))
    again = _sent_again(sent)
    if again:
        out.append("a message sent twice: %r" % again)
    money = ("0200", "0220", "0500", "0320")
    it = iter([m for m in roomy_sent if m in money])
    if not all(m in it for m in mtis if m in money):
        out.append("money messages %r, with room %r" % (mtis, roomy_sent))
    checked = [r for r in settled if "对账" in r["screen"]]
    if "0500" in mtis and checked and "对账平" not in checked[-1]["screen"]:
        out.append("settlement: %r" % checked[-1]["screen"])
    out += _approvals_undone(records, frames)
    return out, errors


def _sent_again(sent):
    # the frames that went out more than once -> [(MTI, trace)], less a reversal's retries
    # (reference §11: the same 0400 with reason 06, at most the retries' 3 tries in all; a
    # try is counted as it leaves, so its first repeat already says 06)
    from pos import iso8583

    seen = set()
    tries = {}
    out = []
    for data in sent:
        m = iso8583.decode(iso8583.unpack_frame(data)[2])
        if m["mti"] == "0400":
            tries[m[11]] = tries.get(m[11], 0) + 1
            if tries[m[11]] > 3:
                out.append(("0400", m[11]))
        if data in seen and not (m["mti"] == "0400" and m.get(39) == "06"):
            out.append((m["mti"], m.get(11)))
        seen.add(data)
    return out


def _approvals_undone(records, frames):
    # "an approved transaction is kept": a sale the center approved (its 0210 with 39 = 00
    # came back) is never reversed, whether its answer's check or its journalling ran short
    # (each collects and tries again, then gives up the heap the terminal keeps aside for an
    # approval: pos.terminal's reserve), unless the terminal could not even read the answer
    # with the reserve given up (it says so: 'answer to trace N not checked'; it then cannot
    # know the sale was approved, and the reversal it armed goes). -> problems
    from pos import iso8583

    approved = set()
    undone = []
    for way, data in frames:
        m = iso8583.decode(iso8583.unpack_frame(data)[2])
        if way == "in" and m["mti"] == "0210" and m.get(39) == "00":
            approved.add(m[11])
        elif way == "out" and m["mti"] == "0400" and m[11] in approved:
            undone.append(m[11])
    logs = [r["text"] for r in records if r["ev"] == "log"]
    unread = {t for t in undone if "answer to trace %s not checked: no heap" % t in logs}
    return ["approved sale %s reversed (%r)" % (t, logs) for t in undone if t not in unread]


def test_short_of_memory_the_day_stays_safe_at_caps_below_the_romfs_n():
    # Item 6 at caps where the day does run out (the ESP32 cap no longer does: N is below
    # it, ~110 KB since 20:57): from 100 KB (x64) up in 2 KB steps, the first two caps where
    # the board sim itself has room and the firmware meets MemoryErrors (21:10: 100 and 102
    # KB, ~30 each; 6 KB steps from 92 met one: 92 and 98 KB are the sim's own shortage, 104
    # one MemoryError, 110 none); each must keep the rules of _unsafe. Since 2026-12-02
    # 02:50 from 99 KB in 1 KB steps: with the sim's name pools charged and the firmware's
    # exchange pipelined, a day with heap reports meets MemoryErrors at 100-102 KB only (2 KB
    # steps from 100 met one cap, from 96 one: the lower caps are the sim's own shortage).
    # Since 05:00 (N 99 KB: the sim's pins and names module out of the firmware's heap, the
    # menu module not held through the menu download) from 90 KB: 90 and 91 KB meet 25 and
    # 37 MemoryErrors (89, 93 and 94 are the sim's own shortage, 95-98 meet 1-2, 99 none).
    from posterm.bench import boardheap

    events = boardheap.day_events()
    _, roomy_frames, _ = _run(events, board="esp32", romfs=True, heap=512 * 1024)
    roomy_sent = [data[13:15].hex() for way, data in roomy_frames if way == "out"]
    cap = 90 * 1024
    tried = []
    while len(tried) < 2 and cap < sim.x64_cap("esp32"):
        records, frames, _ = _run(events, board="esp32", romfs=True, heap=cap)
        cap += 1024
        if any(r["ev"] == "sim_short" for r in records):
            continue  # the sim itself had no room at this cap: no verdict on the firmware
        problems, errors = _unsafe(events, records, frames, roomy_sent)
        if not errors:
            continue
        assert problems == [], (cap - 1024, problems)
        tried.append((cap - 1024, len(errors)))
    assert len(tried) == 2, "no two caps with MemoryErrors below the ESP32 cap: %r" % tried


def test_from_romfs_the_firmware_imports_from_the_image_and_a_purchase_completes():
    records, frames, tree = _run(SIGN_IN + PURCHASE, board="pico", romfs=True)
    booted = next(r for r in records if r["ev"] == "booted")
    assert booted["terminal"] == "/rom/pos/terminal.mpy"
    assert [r for r in records if r["ev"] == "memory_error"] == []
    assert len([r for r in records if r["ev"] == "print"]) == 2
    assert "今日已签到" in _settled(records)[-1]["screen"]
    # the filesystem holds only main.py, board.json and the terminal's data
    assert [p for p in tree if not p.startswith("board/data/")] == [
        "board/board.json",
        "board/main.py",
    ]


def test_from_files_the_firmware_imports_from_the_filesystem():
    records, _, _ = _run([], board="pico")
    booted = next(r for r in records if r["ev"] == "booted")
    assert booted["terminal"] == "pos/terminal.mpy"  # sys.path "": as on a board


def test_the_display_is_the_ssd1306_drivers_framebuffer():
    records, _, _ = _run([("key", "MENU")], board="pico")
    menu = [r for r in _settled(records) if r.data][-1]
    assert menu["screen"].startswith("    菜单 1/2")
    assert len(menu.data) == 1024  # 128 x 64 in pages of column bytes
    text = render.blocks(menu.data)
    lines = text.split("\n")
    assert len(lines) == 34 and all(len(line) == 130 for line in lines)
    assert sum(bin(b).count("1") for b in menu.data) > 300  # the menu's glyphs are lit
    # the same pixels as the firmware's own renderer draws for that frame (desktop copy)
    display = boards_loader.load("display")
    font = boards_loader.load("font").Font.open(
        os.path.join(os.path.dirname(display.__file__), "data", "font16.bin")
    )
    band = display.render_band(font, menu["screen"].split("|")[1], False, 16)
    px = render.pixels(menu.data)
    for y in range(16):
        row = "".join(str(px[16 + y][x]) for x in range(128))
        want = "".join(f"{b:08b}" for b in band[y * 16 : (y + 1) * 16])
        assert row == want, y


def test_a_memory_error_shows_with_the_key_that_caused_it():
    # the smallest cap (8 KB steps) the boot fits in that leaves too little for a purchase
    # (not always the first cap the boot fits in: where the collector runs makes the need
    # of a purchase move by a few KB from one cap to the next)
    records, _, _ = _run([], board="pico")
    booted = next(r for r in records if r["ev"] == "booted")
    cap = sim.x64_cap("pico") - booted["free"]
    script = SIGN_IN + PURCHASE
    for _ in range(20):
        cap += 8 * 1024
        records, frames, _ = _run(script, board="pico", heap=cap)
        errors = [r for r in records if r["ev"] == "memory_error"]
        if any(r["ev"] == "sim_short" for r in records):
            continue  # the sim itself had no room at this cap: no verdict on the firmware
        if errors and not any(e["key"] is None for e in errors):
            break
    assert errors, f"no MemoryError at a cap of {cap} B"
    # each names the key being handled: the settled record that follows it is that key's,
    # and the firmware showed 内存不足 for it, then went on
    for e in errors:
        after = records[records.index(e) :]
        nxt = next(r for r in after if r["ev"] == "settled")
        assert (nxt["key"], nxt["n_keys"]) == (e["key"], e["n_keys"]), (e, nxt)
        assert tuple(e["key"]) in script
    assert any("内存不足" in r["screen"] for r in _settled(records))
    # and the terminal carried on: every key of the script was still handled
    assert len(_settled(records)) == 1 + len(script)
    assert not [r for r in records if r["ev"] in ("stopped", "stuck")]


def test_the_cli_prints_screens_and_writes_a_png(tmp_path):
    png = tmp_path / "screen.png"
    proc = subprocess.run(
        [sys.executable, "-m", "posterm.cli", "board", "sim", "--board", "pico",
         "--date", "2026-11-23T09:00", "--screen", "text", "--png", str(png), "MENU", "1",
         "CANCEL", "CANCEL", "SCAN=6212345678901234567"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "heap cap 274,329 B on the unix port (pico, 190 KB x 1.41)" in proc.stdout
    assert "1.金融服务" in proc.stdout and "1.签到" in proc.stdout
    # a payment code scanned at idle reaches the firmware (the sim dropped scans and
    # removals once): a QR sale, which asks for the sign-in first
    assert "扫码支付" in proc.stdout and "请做终端签到" in proc.stdout, proc.stdout
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[16:24] == (512).to_bytes(4, "big") + (256).to_bytes(4, "big")


def test_the_cli_rejects_a_bad_heap_size():
    proc = subprocess.run(
        [sys.executable, "-m", "posterm.cli", "board", "sim", "--heap", "lots", "MENU"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode != 0
    assert "--heap: 'lots' is not a size" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_slip_decoder_reads_the_firmware_printers_escpos_bytes():
    printer = boards_loader.load("printer")
    gbtable = boards_loader.load("gbtable")
    data_dir = os.path.join(os.path.dirname(printer.__file__), "data")
    gb = gbtable.GbTable.open(os.path.join(data_dir, "gb2312.bin"))
    lines = [("T", "POS签购单"), ("", "商户名称:posterm测试商户"), ("-", ""), ("C", "posterm")]
    slip = render.slip(printer.EscPos(None, gb, 32).receipt_bytes(lines))
    assert slip[0].strip() == "POS签购单"
    assert slip[1] == "商户名称:posterm测试商户"
    assert slip[2] == "-" * 32
    assert slip[3] == " " * 12 + "posterm"
    assert slip[-1].startswith("--- cut")
