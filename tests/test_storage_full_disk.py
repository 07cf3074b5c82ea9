"""The terminal's files on a disk that refuses writes: a real refusal by the OS (a child
process whose file-size limit, RLIMIT_FSIZE, is below what the write needs: the write fails
with EFBIG as it would with ENOSPC on a full disk), never a mocked function. Nothing is left
behind (no .tmp file), the file keeps its previous contents, and the user is told."""

import os
import subprocess
import sys
import textwrap

import pytest

from posterm import paths
from posterm.host.server import start_in_thread

resource = pytest.importorskip("resource")  # POSIX

POSTERM = [sys.executable, "-m", "posterm.cli"]


def _limited(limit):
    def pre():
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of the signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return pre


def test_a_write_the_disk_refuses_leaves_no_tmp_file_and_the_old_file_whole(tmp_path):
    code = textwrap.dedent(
        """
        import os, sys
        from pos.storage import FileStorage
        s = FileStorage(sys.argv[1])
        s.write("state.json", b"old" * 10, backup="state.json.bak")
        for backup in (None, "state.json.bak"):
            try:
                s.write("state.json", b"x" * 5000, backup=backup)
            except OSError as e:
                print("refused", e.errno)
            else:
                print("written")
        """
    )
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                       text=True, timeout=60, preexec_fn=_limited(1000))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["refused", "27", "refused", "27"], r.stdout  # EFBIG
    assert sorted(os.listdir(tmp_path)) == ["state.json"], os.listdir(tmp_path)
    assert (tmp_path / "state.json").read_bytes() == b"old" * 10


def test_posterm_keys_on_a_disk_that_refuses_says_so_and_leaves_nothing_behind(tmp_path):
    host = start_in_thread(str(tmp_path / "center.db"), paths.menu_file())
    data = tmp_path / "t"
    try:
        addr = "%s:%d" % tuple(host.address)
        cmd = POSTERM + ["keys", "--data", str(data), "--date", "2026-11-23T09:00",
                         "--host", addr, "MENU", "1", "1", "ENTER"]  # fmt: skip
        # state.json is ~500 bytes: a 400-byte limit refuses it (the first write at start
        # is smaller: a factory state)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                           preexec_fn=_limited(400))  # fmt: skip
    finally:
        host.stop()
    assert "Traceback" not in r.stderr
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "存储失败" in r.stdout or "存储空间不足" in r.stdout, r.stdout[-300:]
    assert "could not write its files" in r.stderr and "internal error" not in r.stderr
    assert "refused on this screen" not in r.stderr, r.stderr  # the screen changed
    left = [n for n in os.listdir(data / "terminal") if n.endswith(".tmp")]
    assert left == [], left


def test_the_chip_counts_on_a_disk_that_refuses_leave_no_tmp_file_and_keep_the_old(tmp_path):
    code = textwrap.dedent(
        """
        import sys
        from posterm.host.deck import Deck
        d = Deck(sys.argv[1])
        icc = d.icc("6212142000000001010")
        icc["atc"] = 7
        d.save()
        icc["atc"] = 12345  # a longer file than the limit lets through
        try:
            d.save()
        except OSError as e:
            print("refused", e.errno)
        """
    )
    import json

    size = len(json.dumps({"6212142000000001010": {"atc": 7}}, indent=1))
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                       text=True, timeout=60, preexec_fn=_limited(size + 2))  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["refused", "27"], (r.stdout, r.stderr)
    assert sorted(os.listdir(tmp_path)) == ["chipcards.json"]
    assert '"atc": 7' in (tmp_path / "chipcards.json").read_text()


def test_posterm_keys_says_when_the_chip_counts_cannot_be_saved(tmp_path):
    # the counts' file cannot be made (its temporary name is taken by a directory): said,
    # exit status 1, no traceback; the sale itself went through
    data = tmp_path / "d"
    data.mkdir()
    (data / "chipcards.json.tmp").mkdir()
    cmd = POSTERM + ["keys", "--data", str(data), "--date", "2026-11-23T09:00", "MENU", "1",
                     "1", "ENTER", "ENTER", "MENU", "1", "2", "100", "ENTER",
                     "CHIP=6212142000000001010", "123456", "ENTER"]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 1
    assert "counts (ATC, PIN tries) could not be saved" in r.stderr, r.stderr
    assert "请撕下商户存根" in r.stdout  # approved and printed
