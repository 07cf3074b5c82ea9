# The terminal's persistent state: parameters, keys and counters, in one
# file replaced atomically (state.json), plus the pending reversal in its own
# file (reversal.json) so that the two never tear against each other.
#
# Each file keeps its previous copy (NAME.bak: the write renames the old file there
# before the new one takes its name). A file that is unreadable or of the wrong shape
# (null, [], {}, truncated JSON) is copied aside (NAME.damaged-N) and its previous
# copy is used (`restored` names it, for the start-up notice). When neither copy can
# be read the file is named in `unreadable`: the terminal refuses transactions until
# the supervisor acknowledges it (pos.flows.gates), rather than silently starting
# afresh (trace 1, factory keys) or dropping a pending reversal.
from pos import overlay  # resident (imported at boot): no import at each call
from pos.compat import json

STATE_FILE = "state.json"
REVERSAL_FILE = "reversal.json"
BACKUP = ".bak"
_VERSION = 1


def _digits(s):
    if not s:
        return False
    for ch in s:
        if ch < "0" or ch > "9":
            return False
    return True


def _valid_reversal(o):
    # an 0400 as pos.flows.reversal.to_record makes it: field numbers -> strings
    if not isinstance(o, dict) or o.get("mti") != "0400" or not isinstance(o.get("tries"), int):
        return False
    if not isinstance(o.get("11"), str) or not _digits(o["11"]):
        return False
    for k in o:
        if k in ("mti", "tries", "kind", "pan_enc"):
            continue
        if not _digits(k) or not isinstance(o[k], str):
            return False
    return True


def _parse(data, valid):
    if data is None:
        return None
    try:
        obj = json.loads(data)
    except ValueError:
        return None
    return obj if valid(obj) else None


class State:
    def __init__(self, storage, defaults, seal=False):
        self.storage = storage
        self.seal = seal  # the pending reversal's PAN kept sealed (pos.vault)
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
        self.restored = []  # files read from their previous copy (start-up notice)
        self.unreadable = []  # files of which no copy can be read (supervisor acknowledges)
        self.damaged_copies = []  # the copies kept of damaged files
        self._state_ok = False  # state.json holds a good copy: the next save keeps it
        self._load()
        self.reversal()  # a damaged reversal file is found at start-up, not mid-sale

    # -- reading a file, falling back to its previous copy -------------------------
    def _read(self, name, valid):
        # -> (obj, from_main): obj from name, else from its backup (pos.statefix, loaded
        # only then), else None
        main = self.storage.read(name)
        obj = _parse(main, valid)
        if obj is not None:
            return obj, True
        if main is None and self.storage.size(name + BACKUP) < 0:
            return None, False
        with overlay.scope():
            from pos import statefix

            return statefix.fallback(self, name, main, valid)

    def _load(self):
        # (once, at start: pos.statefix checks the file's shape and reads it)
        with overlay.scope():
            from pos import statefix

            statefix.load(self)
            del statefix

    def save(self):
        if STATE_FILE in self.unreadable:
            return  # nothing replaces the damaged file until the supervisor has seen it
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
        # a damaged state.json is replaced without becoming the backup (the good
        # previous copy stays there)
        backup = STATE_FILE + BACKUP if self._state_ok else None
        self.storage.write(STATE_FILE, json.dumps(obj).encode(), backup)
        self._state_ok = True

    def take_trace(self):
        # Consume a trace number (F11) and persist before the message goes out,
        # so a power cut never makes the terminal reuse one. 999999 wraps to 1.
        n = self.trace
        self.trace = 1 if n >= 999999 else n + 1
        self.save()
        return n

    def acknowledge(self, name):
        # the supervisor has seen that no copy of `name` could be read (pos.statefix)
        with overlay.scope():
            from pos import statefix

            statefix.acknowledge(self, name)
            del statefix

    # -- the pending reversal --------------------------------------------
    def reversal(self):
        rec, ok = self._read(REVERSAL_FILE, _valid_reversal)
        if rec is None:
            return None
        if not ok:
            try:  # the previous copy becomes the file again
                self.storage.write(REVERSAL_FILE, json.dumps(rec).encode())
            except OSError:
                pass
        if self.seal and "pan_enc" in rec:
            with overlay.scope():
                from pos import vault

                vault.open_fields(self.storage, rec, "2")
                del vault
        return rec

    def update_reversal(self, key, value):
        # One field of the pending reversal replaced on the disk as it is there, its PAN left
        # sealed (reversal() + set_reversal() open and seal it again: two 3DES schedules,
        # ~6 KB of x64 heap at the chip's end, where a board has the least). Only a field the
        # reversal has: -> True when it was replaced.
        rec, ok = self._read(REVERSAL_FILE, _valid_reversal)
        if rec is None or key not in rec:
            return False
        rec[key] = value
        self.storage.write(REVERSAL_FILE, json.dumps(rec).encode(), REVERSAL_FILE + BACKUP)
        return True

    def set_reversal(self, rec):
        if rec is None:
            # the backup first: a cut between the two leaves the reversal pending
            self.storage.remove(REVERSAL_FILE + BACKUP)
            self.storage.remove(REVERSAL_FILE)
            return
        if self.seal:
            with overlay.scope():
                from pos import vault

                rec = vault.seal_fields(self.storage, rec, "2")
                del vault
        data = json.dumps(rec).encode()
        if self.storage.size(REVERSAL_FILE) < 0:
            # a new reversal is written twice (money rides on it): the copy first, so
            # that at every moment one whole copy is on the disk
            self.storage.write(REVERSAL_FILE + BACKUP, data)
        self.storage.write(REVERSAL_FILE, data, REVERSAL_FILE + BACKUP)
