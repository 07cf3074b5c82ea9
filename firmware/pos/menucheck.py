# A downloaded menu.json checked as it is read (pos.flows.menuupdate, before the file takes
# the name menu.json): the rules of pos.menu.validate, with its messages, without building
# the tree. The tree was the sign-in's largest need on a board (~24 KB of heap for the
# shipped menu's 47 nodes on the x64 unix port, parsed whole while the sign-in's exchange
# modules were loaded: where it ran out, board sim ESP32 ROMFS); here one node's facts at a
# time are held, and _CHUNK bytes of the file.
#
# The file is read _CHUNK bytes at a time (storage.read_at). The grammar is JSON's; each
# scalar (a string, a number, true, false, null) is decoded by json.loads as the whole file
# was, so that what each runtime's json accepts in one it accepts here. A file that is not
# JSON is said so whatever else is wrong with it (as the whole parse failed first); else the
# first problem pos.menu.validate would raise, in its order: the top, "version", then the
# nodes depth first, each node's own checks before its items'. A key given twice counts by
# its last value, as in a parsed dict.
from pos.compat import json

_CHUNK = 512
_SPACE = b" \t\r\n"
NOT_JSON = "menu is not valid JSON"


class _Bad(ValueError):
    pass


def problem(storage, name):
    # -> None when the menu file is a menu, else what is wrong (pos.menu.validate's words)
    r = _Reader(storage, name)
    try:
        if r.peek() != 0x7B:  # "{"
            r.value()
            why = "menu needs a 'root' node"
        else:
            why = r.top()
        if r.peek() != -1:
            raise _Bad()  # more after the value
    except (_Bad, ValueError, UnicodeError):
        return NOT_JSON
    return why


class _Reader:
    def __init__(self, storage, name):
        self.storage = storage
        self.name = name
        self.buf = b""
        self.i = 0
        self.off = 0

    def more(self):
        # -> False at the end of the file; else the next chunk is after what is left
        chunk = self.storage.read_at(self.name, self.off, _CHUNK)
        if not chunk:
            return False
        self.off += len(chunk)
        self.buf = self.buf[self.i :] + chunk
        self.i = 0
        return True

    def peek(self):
        # -> the next byte that is not white space (not taken), or -1 at the end
        while True:
            buf = self.buf
            i = self.i
            while i < len(buf) and buf[i] in _SPACE:
                i += 1
            self.i = i
            if i < len(buf):
                return buf[i]
            if not self.more():
                return -1

    def take(self, byte):
        if self.peek() != byte:
            raise _Bad()
        self.i += 1

    def scalar(self):
        # a string, number, true, false or null at the reading point, decoded by json
        if self.peek() == 0x22:  # '"': to the quote that no backslash escapes
            j = self.i + 1
            while True:
                j = self.buf.find(b'"', j)
                if j < 0:  # not in the buffer yet: the next chunk, and look again
                    if not self.more():
                        raise _Bad()
                    j = self.i + 1
                    continue
                k = j
                while self.buf[k - 1] == 0x5C:  # "\\"
                    k -= 1
                if (j - k) % 2 == 0:
                    break
                j += 1
            end = j + 1
        else:
            end = self.i
            while True:
                buf = self.buf
                while end < len(buf) and buf[end] not in b' \t\r\n,]}:"[{':
                    end += 1
                if end < len(buf):
                    break
                at = end - self.i
                if not self.more():
                    end = len(self.buf)
                    break
                end = self.i + at
            if end == self.i:
                raise _Bad()
        token = self.buf[self.i : end]
        self.i = end
        return json.loads(token.decode())

    def value(self):
        # any JSON value, built (a label, an action, a version; or one that is skipped)
        c = self.peek()
        if c == 0x7B:  # "{"
            out = {}
            self.i += 1
            if self.peek() == 0x7D:  # "}"
                self.i += 1
                return out
            while True:
                key = self.key()
                out[key] = self.value()
                if self.after(0x7D):
                    return out
        if c == 0x5B:  # "["
            seq = []
            self.i += 1
            if self.peek() == 0x5D:  # "]"
                self.i += 1
                return seq
            while True:
                seq.append(self.value())
                if self.after(0x5D):
                    return seq
        if c < 0:
            raise _Bad()
        return self.scalar()

    def key(self):
        if self.peek() != 0x22:
            raise _Bad()
        k = self.scalar()
        self.take(0x3A)  # ":"
        return k

    def after(self, close):
        # after a member: True at the closing bracket (taken), False after a comma
        c = self.peek()
        self.i += 1
        if c == close:
            return True
        if c != 0x2C:  # ","
            raise _Bad()
        return False

    def top(self):
        # the top object (at "{") -> pos.menu.validate's first problem, or None
        self.i += 1
        root = version = None  # (the root node's problem,) ; (the version,)
        if self.peek() == 0x7D:
            self.i += 1
        else:
            while True:
                k = self.key()
                if k == "root":
                    root = (self.node("root"),)
                elif k == "version":
                    version = (self.value(),)
                else:
                    self.value()
                if self.after(0x7D):
                    break
        if root is None:
            return "menu needs a 'root' node"
        if version is not None and not isinstance(version[0], int):
            return "menu 'version' must be an integer"
        return root[0]

    def node(self, path):
        # a node at the reading point, taken whole -> its first problem (pos.menu._check's
        # order and words) or None
        if self.peek() != 0x7B:
            self.value()
            return path + ": a node must be an object"
        self.i += 1
        lab = items = action = None
        n = 0  # the items, when a list
        first = None  # the first of the items' problems
        if self.peek() == 0x7D:
            self.i += 1
        else:
            while True:
                k = self.key()
                if k == "label":
                    lab = self.value()
                elif k == "action":
                    action = self.value()
                elif k == "items" and self.peek() == 0x5B:
                    items = []  # a list: its nodes checked as they come, none kept
                    n = 0
                    first = None
                    self.i += 1
                    if self.peek() == 0x5D:
                        self.i += 1
                    else:
                        while True:
                            n += 1
                            why = self.node(path + "." + str(n))
                            if first is None:
                                first = why
                            if self.after(0x5D):
                                break
                elif k == "items":
                    items = self.value()  # not a list (or null: no items)
                    n = 0
                else:
                    self.value()
                if self.after(0x7D):
                    break
        if not isinstance(lab, dict) or not lab.get("zh") or not isinstance(lab["zh"], str):
            return path + ": needs a label with 'zh'"
        if items is None and action is None:
            return path + ": needs 'items' or 'action'"
        if items is not None and action is not None:
            return path + ": has both 'items' and 'action'"
        if action is not None:
            if not isinstance(action, str):
                return path + ": action must be a name"
            return None
        if not isinstance(items, list) or not n:
            return path + ": 'items' must be a non-empty list"
        if n > 9:
            return path + ": at most 9 items (one digit each)"
        return first
