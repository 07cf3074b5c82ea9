# State files that are damaged or missing (pos.state), loaded only then: the previous
# copy (NAME.bak) is used when it can be read, the damaged file is copied aside
# (NAME.damaged-N, once), and a file of which no copy can be read is named in
# State.unreadable (the supervisor acknowledges it: pos.flows.startup).
from pos.state import BACKUP, _parse


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
