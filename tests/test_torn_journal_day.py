"""A journal record cut at the end of the file (the power lost mid-append), end to end with
`posterm keys` and the embedded center: the terminal says so at start-up and settlement does
not silently agree with itself: the center's books hold the transaction, the slip says
对账不平 and the batch is uploaded."""

import subprocess
import sys

POSTERM = [sys.executable, "-m", "posterm.cli"]
PAN = "6212142000000000012"


def keys(data, *tokens):
    cmd = POSTERM + ["keys", "--data", str(data), "--date", "2026-11-23T09:00", *tokens]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    return r.stdout


def test_a_refund_torn_from_the_journal_is_said_and_settlement_finds_the_center_differs(
    tmp_path,
):
    data = tmp_path / "d"
    out = keys(data, "MENU", "1", "1", "ENTER", "ENTER",
               "MENU", "1", "2", "30000", "ENTER", "CARD=" + PAN, "123456", "ENTER", "ENTER",
               "CANCEL")  # fmt: skip
    journal = data / "terminal" / "journal.log"
    whole = journal.read_bytes()
    rrn = out.split("参考号:")[1].split()[0]
    out = keys(data, "MENU", "1", "4", "123456", "ENTER", "CARD=" + PAN, rrn, "ENTER", "1123",
               "ENTER", "10000", "ENTER", "123456", "ENTER", "ENTER", "CANCEL")  # fmt: skip
    assert "交易成功" in out or "应答码:00" in out, out[-400:]
    with_refund = journal.read_bytes()
    assert len(with_refund) > len(whole)
    # the power lost in the middle of the refund's append: half its record on disk
    journal.write_bytes(with_refund[: len(whole) + (len(with_refund) - len(whole)) // 2])
    out = keys(data, "ENTER", "MENU", "1", "7", "ENTER")
    first = out.split("-" * 16)[0]
    assert "流水缺失" in first and "结算时与中心对账" in "".join(first.split()), first
    assert "对账不平" in out, out[-800:]
    log = (data / "posterm.log").read_text(encoding="utf-8")
    assert "the last record was cut short" in log
