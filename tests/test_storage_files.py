"""FileStorage on a real directory: atomic replace, torn journal on disk, restart."""

import os

from pos.journal import Journal, JournalWriteError
from pos.storage import FileStorage, StorageError

import pytest


def test_write_replaces_atomically_and_leaves_no_temp_file(tmp_path):
    s = FileStorage(str(tmp_path / "t"))
    s.write("state.json", b"one")
    s.write("state.json", b"two")
    assert s.read("state.json") == b"two"
    assert sorted(os.listdir(tmp_path / "t")) == ["state.json"]


def test_a_crash_before_the_rename_keeps_the_old_file(tmp_path):
    s = FileStorage(str(tmp_path))
    s.write("state.json", b'{"trace": 7}')
    (tmp_path / "state.json.tmp").write_bytes(b'{"trace": 8')  # power cut mid-write
    assert s.read("state.json") == b'{"trace": 7}'
    assert "state.json.tmp" not in s.names()


def test_torn_journal_on_disk_recovers_every_completed_record(tmp_path):
    s = FileStorage(str(tmp_path))
    j = Journal(s)
    for i in range(5):
        j.append({"type": "purchase", "trace": "%06d" % (i + 1), "amount": i})
    data = (tmp_path / "journal.log").read_bytes()
    (tmp_path / "journal.log").write_bytes(data[:-3])
    j2 = Journal(FileStorage(str(tmp_path)))
    assert [e["trace"] for e in j2.entries()] == ["000001", "000002", "000003", "000004"]
    assert j2.recovered_bytes > 0
    j2.append({"type": "purchase", "trace": "000005", "amount": 4})
    assert len(Journal(FileStorage(str(tmp_path))).entries()) == 5


def test_names_with_paths_are_refused(tmp_path):
    s = FileStorage(str(tmp_path))
    with pytest.raises(StorageError):
        s.write("../escape", b"x")


def test_readonly_storage_refuses_writes(tmp_path):
    s = FileStorage(str(tmp_path), readonly=True)
    with pytest.raises(StorageError):
        s.write("a", b"x")


class _FullDiskFiles(FileStorage):
    """A real data dir whose next journal append is cut short by a full disk."""

    fail_next = False

    def append(self, name, data):
        if self.fail_next:
            self.fail_next = False
            with open(self._path(name), "ab") as f:
                f.write(data[: len(data) // 3])
            raise OSError(28, "No space left on device")
        super().append(name, data)


def test_a_torn_append_on_disk_is_cut_back_in_place(tmp_path):
    s = _FullDiskFiles(str(tmp_path))
    j = Journal(s)
    j.append({"type": "purchase", "trace": "000001", "amount": 1})
    before = (tmp_path / "journal.log").read_bytes()
    s.fail_next = True
    with pytest.raises(JournalWriteError):
        j.append({"type": "purchase", "trace": "000002", "amount": 2})
    assert (tmp_path / "journal.log").read_bytes() == before
    j.flush()
    j.append({"type": "purchase", "trace": "000003", "amount": 3})
    again = Journal(FileStorage(str(tmp_path)))
    assert [e["trace"] for e in again.entries()] == ["000001", "000002", "000003"]
    assert again.recovered_bytes == 0


class _FatOs:
    """os as MicroPython's VfsFat has it: no os.replace, rename refuses an existing file."""

    def __init__(self, real):
        self._real = real

    def rename(self, src, dst):
        if self._real.path.exists(dst):
            raise OSError(17, "EEXIST")
        self._real.rename(src, dst)

    def __getattr__(self, name):
        if name == "replace":
            raise AttributeError(name)
        return getattr(self._real, name)


def test_state_writes_with_their_backup_work_where_rename_does_not_replace(tmp_path, monkeypatch):
    import pos.storage

    monkeypatch.setattr(pos.storage, "os", _FatOs(os))
    s = FileStorage(str(tmp_path))
    for n in (1, 2, 3):
        s.write("state.json", b"%d" % n, "state.json.bak")
    assert s.read("state.json") == b"3" and s.read("state.json.bak") == b"2"
    assert sorted(os.listdir(tmp_path)) == ["state.json", "state.json.bak"]


class _CountedOpens(FileStorage):
    """A data dir that counts the files opened for reading and can fail the n-th read."""

    def __init__(self, root):
        super().__init__(root)
        self.opens = 0
        self.fail_read = 0  # the read (1-based, over the walk) that raises an I/O error

    def reader(self, name):
        f = super().reader(name)
        if f is None:
            return None
        self.opens += 1
        outer = self
        reads = [0]

        class Failing:
            def seek(self, pos):
                return f.seek(pos)

            def readinto(self, buf):
                reads[0] += 1
                if reads[0] == outer.fail_read:
                    raise OSError(5, "Input/output error")
                return f.readinto(buf)

            def close(self):
                f.close()

        return Failing()


def test_a_walk_of_the_journal_on_files_opens_it_once_and_reads_every_record(tmp_path):
    s = _CountedOpens(str(tmp_path))
    j = Journal(s)
    for i in range(12):
        j.append({"type": "purchase", "trace": "%06d" % (i + 1), "amount": i})
    j.append({"type": "void", "trace": "000013", "orig_trace": "000004", "pad": "z" * 900})
    s.opens = 0
    got = [(ref, kind, o) for ref, kind, o in j.kinds("type", ("purchase", "void"), "orig_trace")]
    assert s.opens == 1, "one open for the walk, not one a record"
    assert [k for _r, k, _o in got] == ["purchase"] * 12 + ["void"]
    assert got[-1][2] == "000004"
    assert j.at(got[-1][0])["pad"] == "z" * 900, "a record longer than the read window"
    assert [e["trace"] for e in j.each(b'"000004"')] == ["000004", "000013"]
    assert len(j.entries()) == 13 and len(Journal(s).entries()) == 13
    s.fail_read = 5  # the 5th record cannot be read: not the end of the batch
    with pytest.raises(JournalWriteError):
        list(j.each())
    s.fail_read = 0
    assert len(j.entries()) == 13
