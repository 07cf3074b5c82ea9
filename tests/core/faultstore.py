# A storage that fails the way a full disk does, for the core's storage tests: the
# n-th append to the journal writes only part of its bytes, then raises ENOSPC (as a
# write cut short by a full file system). Not a test module.
from pos.storage import MemoryStorage

ENOSPC = 28


class FullDisk(MemoryStorage):
    def __init__(self, files=None):
        MemoryStorage.__init__(self, files)
        self.appends = 0  # journal appends tried so far
        self.fail_at = ()  # the append numbers (1-based) that fail
        self.full = False  # every write fails while set (the disk stays full)
        self.truncate_fails = 0  # the next n truncates fail too

    def append(self, name, data):
        self.appends += 1
        if self.full or self.appends in self.fail_at:
            MemoryStorage.append(self, name, bytes(data)[: len(data) // 2])
            raise OSError(ENOSPC, "No space left on device")
        MemoryStorage.append(self, name, data)

    def write(self, name, data, backup=None):
        if self.full:
            raise OSError(ENOSPC, "No space left on device")
        MemoryStorage.write(self, name, data, backup)

    def truncate(self, name, size):
        if self.truncate_fails > 0:
            self.truncate_fails -= 1
            raise OSError(ENOSPC, "No space left on device")
        MemoryStorage.truncate(self, name, size)
