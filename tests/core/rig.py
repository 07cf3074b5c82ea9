# A test rig for the core: a Terminal on MemoryStorage, the shipped menus as
# resources, and a scripted center (fakecenter) answering every "send".
# Runs on CPython and on MicroPython (no sockets, no threads).
from pos.memstorage import MemoryStorage
from pos.storage import FileStorage
from pos.terminal import Terminal
from pos.keys import parse_token
import fakecenter


def menus_dir():
    import os

    import pos

    parts = pos.__file__.replace("\\", "/").split("/")
    for cand in ("/".join(parts[:-3]) + "/menus", "/menus"):
        try:
            os.stat(cand + "/menu.json")
            return cand
        except OSError:
            pass
    raise OSError("menus/ not found")


class Rig:
    def __init__(
        self, now=(2026, 11, 23, 9, 0, 0), center=None, storage=None, profile="lcd128x64"
    ):
        self.storage = storage if storage is not None else MemoryStorage()
        self.resources = FileStorage(menus_dir(), readonly=True)
        self.center = center if center is not None else fakecenter.Center()
        self.t = Terminal(self.storage, self.resources, profile, now)
        self.frames = []
        self.receipts = []
        self.sent = []
        self.logs = []
        self.run(self.t.start())

    def run(self, effects):
        q = list(effects)
        while q:
            e = q.pop(0)
            if e[0] == "show":
                self.frames.append(e[1])
            elif e[0] == "print":
                self.receipts.append(e[1])
            elif e[0] == "send":
                self.sent.append(e[1])
                q.extend(self.t.handle(self.center.answer(e[1], e[2])))
            elif e[0] == "log":
                self.logs.append(e)

    def press(self, *tokens):
        for tok in tokens:
            for ev in parse_token(tok):
                self.run(self.t.handle(ev))
        return self

    def event(self, ev):
        self.run(self.t.handle(ev))
        return self

    def tick(self, now):
        return self.event(("tick", now))

    def screen(self):
        return "\n".join(self.t.frame.text())

    def screen_flat(self):
        return "".join(line.strip() for line in self.t.frame.text())

    def mark(self):
        return len(self.frames)

    def texts_since(self, mark=0):
        return ["".join(line.strip() for line in f.text()) for f in self.frames[mark:]]

    def seen(self, text, mark=0):
        for s in self.texts_since(mark):
            if text in s:
                return True
        return False

    def sign_in(self):
        self.press("MENU", "4", "2", "ENTER", "CANCEL")
        return self

    def receipt_text(self, i=-1):
        return "\n".join(line[1] for line in self.receipts[i])
