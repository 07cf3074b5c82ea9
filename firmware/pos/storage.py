# The storage port. The core keeps three kinds of things:
#   state files   replaced whole, atomically (write-then-rename);
#   the journal   append-only CRC-framed records (see journal.py);
#   static data   menus, strings, response texts (read-only).
# State files keep their previous copy (write(name, data, backup)) so that a damaged
# one can fall back to it (pos.state).
# Drivers pass an object with these methods (read, read_at, load_json, write, append, size,
# truncate, remove, rename, names); pos.memstorage.MemoryStorage is the test one (its own
# module: a board never loads it, and each function of a resident module costs heap),
# FileStorage serves both a desktop data dir and a board's littlefs.
import os

from pos.compat import json


class StorageError(OSError):
    pass


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


_chmod = getattr(os, "chmod", None)  # CPython; a board's littlefs has no modes


def _private(path, mode=0o600):
    # only the terminal's own user may read its files (a card number, keys, hashes)
    if _chmod is not None:
        try:
            _chmod(path, mode)
        except OSError:
            pass


def _fsync(f):
    f.flush()
    try:
        os.fsync(f.fileno())  # CPython; MicroPython's flush() commits on littlefs
    except (AttributeError, OSError):
        pass


class FileStorage:
    # On CPython the directory is made 0700 and every file 0600 (a data dir made by an
    # older version is tightened on open, its files on their next write).
    def __init__(self, root, readonly=False):
        self.root = root.rstrip("/") if len(root) > 1 else root
        self.readonly = readonly
        # (name, path) of the last file named: a path joined at every read made two strs,
        # and each str made on MicroPython is first looked up among the interned names
        # (~6,500 instructions with the firmware's); reads come in runs of one file (the
        # strings, a menu), and one path is all the heap holds (the ESP32's is tight)
        self._last = None
        if not readonly:
            if not _exists(self.root):
                _makedirs(self.root)
            _private(self.root, 0o700)

    def _path(self, name):
        last = self._last
        if last is not None and last[0] == name:
            return last[1]
        if "/" in name or "\\" in name or name.startswith("."):
            raise StorageError("bad file name %r" % name)
        path = self.root + "/" + name
        self._last = (name, path)
        return path

    def read(self, name):
        # the whole file (a board: one read of its size; an unsized read grows its buffer
        # step by step, each step a new block); None when it cannot be read
        path = self._path(name)
        try:
            with open(path, "rb") as f:
                data = f.read(os.stat(path)[6])
                more = f.read()
                return data + more if more else data
        except OSError:
            return None

    def load_json(self, name):
        # the parsed JSON of a file, read from the file as it is parsed (MicroPython's
        # json.load reads the stream; no block of the file's size), None when it cannot be
        # read (ValueError: bad JSON)
        try:
            f = open(self._path(name), "rb")
        except OSError:
            return None
        try:
            return json.load(f)
        except OSError:
            return None
        finally:
            f.close()

    def map(self, name):
        # the file's bytes in place, as a read-only buffer, when its filesystem holds them in
        # addressable memory (ROMFS: the image is memory-mapped flash, and MicroPython 1.25+
        # gives a ROMFS file the buffer protocol), else None (read it instead)
        try:
            f = open(self._path(name), "rb")
        except OSError:
            return None
        try:
            return memoryview(f)
        except TypeError:
            f.close()
            return None

    def reader(self, name):
        # the file opened for reading (a binary file: seek, read, close; the caller closes
        # it), None when it cannot be opened. For a walk through a file: one open, not one
        # for each read_at (~20,000 instructions of the unix port an open)
        try:
            return open(self._path(name), "rb")
        except OSError:
            return None

    def read_at(self, name, offset, n):
        # n bytes (fewer at the end) from offset, or None when there is no such file
        try:
            with open(self._path(name), "rb") as f:
                f.seek(offset)
                return f.read(n)
        except OSError:
            return None

    def write(self, name, data, backup=None):
        # Replace the file atomically (write-then-rename). backup: a name that then holds
        # the previous copy (renamed, not copied: a power cut between the two renames
        # leaves the previous copy there and no file under name).
        self._check_rw()
        path = self._path(name)
        tmp = path + ".tmp"
        try:
            with open(tmp, "wb") as f:
                _private(tmp)
                f.write(data)
                _fsync(f)
            if backup and _exists(path):
                _rename(path, self._path(backup))
            _rename(tmp, path)
        except OSError:
            # a full disk (or a write error): the part written is removed, nothing left
            # behind; the file (or its previous copy under backup) is as it was
            try:
                os.remove(tmp)
            except OSError:
                pass
            raise

    def append(self, name, data):
        self._check_rw()
        path = self._path(name)
        with open(path, "ab") as f:
            _private(path)
            f.write(data)
            _fsync(f)

    def size(self, name):
        try:
            return os.stat(self._path(name))[6]
        except OSError:
            return -1

    def truncate(self, name, size):
        # Cut the file to size bytes: in place where the file object can (CPython: needs
        # no free space, so it works on a full disk), else by an atomic rewrite.
        self._check_rw()
        try:
            f = open(self._path(name), "r+b")
        except OSError:
            return  # no such file
        try:
            cut = getattr(f, "truncate", None)
            if cut is not None:
                f.seek(0, 2)
                if f.tell() > size:
                    cut(size)
                    _fsync(f)
                return
        finally:
            f.close()
        data = self.read(name)
        if data is not None and len(data) > size:
            self.write(name, data[:size])

    def remove(self, name):
        self._check_rw()
        try:
            os.remove(self._path(name))
        except OSError:
            pass

    def rename(self, src, dst):
        # src takes the name dst (replacing it): atomic on littlefs and on CPython
        self._check_rw()
        _rename(self._path(src), self._path(dst))

    def names(self):
        try:
            out = [n for n in os.listdir(self.root) if not n.endswith(".tmp")]
        except OSError:
            return []
        out.sort()
        return out

    def _check_rw(self):
        if self.readonly:
            raise StorageError("read-only storage")


def _rename(src, dst):
    try:
        os.replace(src, dst)  # CPython (atomic on Windows too)
    except AttributeError:
        try:
            os.rename(src, dst)  # MicroPython: atomic on littlefs
        except OSError:
            if not _exists(dst):
                raise
            os.remove(dst)  # FAT (VfsFat) does not rename onto a file
            os.rename(src, dst)


def _makedirs(path):
    cur = "/" if path.startswith("/") else ""
    for p in path.split("/"):
        if not p:
            continue
        cur = cur + p if cur in ("", "/") else cur + "/" + p
        if not _exists(cur):
            os.mkdir(cur)
