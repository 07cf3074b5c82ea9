# The terminal's persistent state: parameters, keys and counters, in one
# file replaced atomically (state.json), plus the pending reversal in its own
# file (reversal.json) so that the two never tear against each other.
from pos.compat import json

STATE_FILE = "state.json"
REVERSAL_FILE = "reversal.json"
_VERSION = 1


class State:
    def __init__(self, storage, defaults):
        self.storage = storage
        self.params = {}
        for k in defaults:
            self.params[k] = defaults[k]
        self.trace = 1  # the next trace number (F11) to use
        self.batch = 1  # current batch (60.2)
        self.signin_date = ""  # YYYYMMDD of the last successful sign-in
        self.pik = ""  # hex, clear working keys (a board keeps them in its PIN pad)
        self.mak = ""
        self.operator = "01"
        self.menu_version = 0
        self.extra = {}  # room for the flows: settlement step, locks, ...
        self._load()

    def _load(self):
        data = self.storage.read(STATE_FILE)
        if not data:
            return
        try:
            obj = json.loads(data)
        except ValueError:
            return  # unreadable: factory state (write-then-rename makes this rare)
        p = obj.get("params") or {}
        for k in p:
            self.params[k] = p[k]
        self.trace = obj.get("trace", 1)
        self.batch = obj.get("batch", 1)
        self.signin_date = obj.get("signin_date", "")
        self.pik = obj.get("pik", "")
        self.mak = obj.get("mak", "")
        self.operator = obj.get("operator", "01")
        self.menu_version = obj.get("menu_version", 0)
        self.extra = obj.get("extra") or {}

    def save(self):
        obj = {
            "v": _VERSION,
            "params": self.params,
            "trace": self.trace,
            "batch": self.batch,
            "signin_date": self.signin_date,
            "pik": self.pik,
            "mak": self.mak,
            "operator": self.operator,
            "menu_version": self.menu_version,
            "extra": self.extra,
        }
        self.storage.write(STATE_FILE, json.dumps(obj).encode())

    def take_trace(self):
        # Consume a trace number (F11) and persist before the message goes out,
        # so a power cut never makes the terminal reuse one. 999999 wraps to 1.
        n = self.trace
        self.trace = 1 if n >= 999999 else n + 1
        self.save()
        return n

    # -- the pending reversal --------------------------------------------
    def reversal(self):
        data = self.storage.read(REVERSAL_FILE)
        if not data:
            return None
        try:
            return json.loads(data)
        except ValueError:
            return None

    def set_reversal(self, rec):
        if rec is None:
            self.storage.remove(REVERSAL_FILE)
        else:
            self.storage.write(REVERSAL_FILE, json.dumps(rec).encode())
