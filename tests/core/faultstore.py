# A storage that fails the way a full disk does, for the core's storage tests: the
# n-th append to the journal writes only part of its bytes, then raises ENOSPC (as a
# write cut short by a full file system). Not a test module.
from pos.memstorage import MemoryStorage

ENOSPC = 28


class FullDisk(MemoryStorage):
    def __init__(self, files=None):
        MemoryStorage.__init__(self, files)
        self.appends = 0  # journal appends tried so far
        self.fail_at = ()  # the append numbers (1-based) that fail
        self.full = False  # every write fails while set (the disk stays full)
        self.truncate_fails = 0  # the next n truncates fail too
        self.errno = ENOSPC  # what a refused write raises (5, EIO: a write error)

    def append(self, name, data):
        self.appends += 1
        if self.full or self.appends in self.fail_at:
            MemoryStorage.append(self, name, bytes(data)[: len(data) // 2])
            raise OSError(ENOSPC, "No space left on device")
        MemoryStorage.append(self, name, data)

    def write(self, name, data, backup=None):
        if self.full:
            raise OSError(self.errno, "No space left on device" if self.errno == ENOSPC
                          else "Input/output error")  # fmt: skip
        MemoryStorage.write(self, name, data, backup)

    def truncate(self, name, size):
        if self.truncate_fails > 0:
            self.truncate_fails -= 1
            raise OSError(ENOSPC, "No space left on device")
        MemoryStorage.truncate(self, name, size)


class BlindDisk(MemoryStorage):
    # A storage whose reads of the journal fail (an I/O error: None, as the file storage
    # gives) while `blind` is set; with `no_size` its size cannot be read either.
    def __init__(self, files=None):
        MemoryStorage.__init__(self, files)
        self.blind = False
        self.no_size = False

    def read(self, name):
        if self.blind and name == "journal.log":
            return None
        return MemoryStorage.read(self, name)

    def read_at(self, name, offset, n):
        if self.blind and name == "journal.log":
            return None
        return MemoryStorage.read_at(self, name, offset, n)

    def size(self, name):
        if self.blind and self.no_size and name == "journal.log":
            return -1
        return MemoryStorage.size(self, name)


class PowerLost(BaseException):
    # the power went: nothing after it runs (not an error the terminal could handle)
    pass


class PowerCut(MemoryStorage):
    # A storage that loses the power in the middle of a journal append: append number
    # `cut_at` (1-based) writes `keep` of its bytes (half by default; a negative keep: all
    # but that many), then PowerLost is raised; the files are what a restart finds.
    def __init__(self, files=None):
        MemoryStorage.__init__(self, files)
        self.appends = 0
        self.cut_at = 0
        self.keep = None

    def append(self, name, data):
        self.appends += 1
        if self.appends == self.cut_at:
            n = len(data) // 2 if self.keep is None else self.keep
            if n < 0:
                n += len(data)
            MemoryStorage.append(self, name, bytes(data)[:n])
            raise PowerLost()
        MemoryStorage.append(self, name, data)


class ShortOnWrite(MemoryStorage):
    # A storage whose next `armed` appends to the journal run out of heap on the way (a
    # board's write allocates: the record's bytes, the file object): MemoryError, nothing
    # written.
    def __init__(self):
        MemoryStorage.__init__(self)
        self.armed = 0

    def append(self, name, data):
        if self.armed and name == "journal.log":
            self.armed -= 1
            raise MemoryError("memory allocation failed, allocating 384 bytes")
        MemoryStorage.append(self, name, data)
