# The state files' reading (pos.state), loaded for it only: state.json is checked for its
# shape and read at start; a damaged or missing file falls back to its previous copy
# (NAME.bak), the damaged one is copied aside (NAME.damaged-N, once), and a file of which
# no copy can be read is named in State.unreadable (the supervisor acknowledges it:
# pos.flows.startup).
from pos.state import BACKUP, STATE_FILE, REVERSAL_FILE, _parse


# state.json: key -> the type its value must have (None is allowed where it says so)
_STATE_SHAPE = (
    ("params", dict, True),
    ("extra", dict, True),
    ("trace", int, False),
    ("batch", int, False),
    ("signin_date", str, False),
    ("pik", str, False),
    ("mak", str, False),
    ("operator", str, False),
    ("menu_version", int, False),
)


def _valid_state(o):
    if not isinstance(o, dict) or "trace" not in o:
        return False
    for k, kind, nullable in _STATE_SHAPE:
        if k in o:
            v = o[k]
            if v is None and nullable:
                continue
            if not isinstance(v, kind):
                return False
    return 1 <= o["trace"] <= 999999 and o.get("batch", 1) >= 0


def load(st):
    # State._load(): state.json (or its previous copy) into st
    obj, ok = st._read(STATE_FILE, _valid_state)
    st._state_ok = ok
    if obj is None:
        return  # no file (a new terminal), or `unreadable` says so
    p = obj.get("params") or {}
    for k in p:
        st.params[k] = p[k]
    st.trace = obj.get("trace", 1)
    st.batch = obj.get("batch", 1)
    st.signin_date = obj.get("signin_date", "")
    st.pik = obj.get("pik", "")
    st.mak = obj.get("mak", "")
    st.operator = obj.get("operator", "01")
    st.menu_version = obj.get("menu_version", 0)
    st.extra = obj.get("extra") or {}


def acknowledge(st, name):
    # The supervisor has seen that no copy of `name` could be read (the damaged
    # files are kept aside): state.json is written afresh from what is in RAM,
    # a reversal file is dropped.
    if name in st.unreadable:
        st.unreadable.remove(name)
    if name == REVERSAL_FILE:
        st.storage.remove(REVERSAL_FILE + BACKUP)
        st.storage.remove(REVERSAL_FILE)
    else:
        st._state_ok = False
        st.save()


def fallback(st, name, main, valid):
    # State._read() when name is damaged or missing -> (obj, False)
    bak_data = st.storage.read(name + BACKUP)
    bak = _parse(bak_data, valid)
    if main is not None:
        _keep_damaged(st, name, main)
    if bak is not None:
        if main is not None and name not in st.restored:
            st.restored.append(name)  # (no file but a backup: a cut between renames)
        return bak, False
    if (main is not None or bak_data is not None) and name not in st.unreadable:
        if bak_data is not None:
            _keep_damaged(st, name + BACKUP, bak_data)
        st.unreadable.append(name)
    return None, False


def _keep_damaged(st, name, data):
    for kept in st.damaged_copies:
        if kept[0] == name:
            return
    n = 1
    while st.storage.size(name + ".damaged-" + str(n)) >= 0:
        n += 1
    last = name + ".damaged-" + str(n - 1)
    if n > 1 and st.storage.read(last) == data:
        copy = last  # kept at an earlier start (nobody acknowledged it yet)
    else:
        copy = name + ".damaged-" + str(n)
        try:
            st.storage.write(copy, data)
        except OSError:
            copy = ""
    st.damaged_copies.append((name, copy))
