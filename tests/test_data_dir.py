"""The desktop data dir: one live terminal per dir (an OS lock, not a pid check), and
files only their owner can read."""

import os
import stat
import subprocess
import sys
import textwrap

import pytest

from posterm import paths
from posterm.driver import DataDirLock, DataDirLocked, Driver

HOLD = textwrap.dedent(
    """
    import sys
    from posterm.driver import DataDirLock
    lock = DataDirLock(sys.argv[1]).acquire()
    print("held", flush=True)
    sys.stdin.read()
    """
)


def _holder(data_dir):
    p = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert p.stdout.readline().strip() == "held"
    return p


def test_a_stale_pid_now_owned_by_a_live_unrelated_process_does_not_block(tmp_path):
    other = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    try:
        (tmp_path / "terminal.lock").write_text(str(other.pid))  # a crashed run's file
        lock = DataDirLock(str(tmp_path)).acquire()
        assert lock.held
        assert (tmp_path / "terminal.lock").read_text() == str(os.getpid())
        lock.release()
    finally:
        other.communicate("")


def test_a_live_terminal_in_another_process_is_refused_until_it_ends(tmp_path):
    p = _holder(tmp_path)
    try:
        with pytest.raises(DataDirLocked) as e:
            DataDirLock(str(tmp_path)).acquire()
        assert "is in use by another posterm (pid %d)" % p.pid in str(e.value)
    finally:
        p.kill()  # no clean-up: the OS drops the lock with the process
        p.wait()
    DataDirLock(str(tmp_path)).acquire().release()


def test_a_second_lock_in_the_same_process_is_refused_and_release_frees_it(tmp_path):
    first = DataDirLock(str(tmp_path)).acquire()
    with pytest.raises(DataDirLocked):
        DataDirLock(str(tmp_path)).acquire()
    first.release()
    DataDirLock(str(tmp_path)).acquire().release()


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_the_driver_keeps_the_data_dir_0700_and_its_files_0600(tmp_path):
    data = tmp_path / "d"
    data.mkdir(mode=0o755)
    (data / "host.db").touch(mode=0o644)  # an older version's files are tightened
    d = Driver(str(data), date=(2026, 11, 23, 9, 0, 0))
    try:
        d.start()
        d.log("info", "x")
        for key in ("MENU", "4", "2", "ENTER"):  # sign-in: state, keys
            d.feed(("key", key))
    finally:
        d.close()
    term = paths.terminal_dir(str(data))
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(term).st_mode) == 0o700
    files = [os.path.join(data, n) for n in ("host.db", "posterm.log", "terminal.lock")]
    files += [os.path.join(term, n) for n in os.listdir(term)]
    assert len(files) > 4
    for f in files:
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600, f
