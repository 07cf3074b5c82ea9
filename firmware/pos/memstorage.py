# The storage port in memory (pos.storage says what the methods do): the tests', the
# replays' and the desktop benches' storage. A board never loads it (pos.storage's
# FileStorage is its storage), so it is a module of its own.
from pos.compat import json


class MemoryStorage:
    def __init__(self, files=None):
        self.files = {}
        if files:
            for k in files:
                self.files[k] = bytes(files[k])

    def read(self, name):
        return self.files.get(name)

    def read_at(self, name, offset, n):
        # n bytes (fewer at the end) from offset, or None when there is no such file
        d = self.files.get(name)
        return None if d is None else d[offset : offset + n]

    def load_json(self, name):
        # the parsed JSON of a file, None when there is no such file (ValueError: bad JSON)
        d = self.read(name)
        return None if d is None else json.loads(d)

    def write(self, name, data, backup=None):
        if backup and name in self.files:
            self.files[backup] = self.files[name]
        self.files[name] = bytes(data)

    def append(self, name, data):
        self.files[name] = self.files.get(name, b"") + bytes(data)

    def size(self, name):
        d = self.files.get(name)
        return -1 if d is None else len(d)

    def truncate(self, name, size):
        d = self.files.get(name)
        if d is not None:
            self.files[name] = d[:size]

    def remove(self, name):
        if name in self.files:
            del self.files[name]

    def rename(self, src, dst):
        # src takes the name dst (replacing it), atomically
        self.files[dst] = self.files.pop(src)

    def names(self):
        return sorted(self.files)
