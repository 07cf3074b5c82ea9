# Menu update (菜单更新): the center serves versioned menu files. A private
# management pair of ours: 0800 with 60.3 = 930 and field 62 = our version
# (4 digits) + the offset wanted (6 digits); the 0810 carries in 62 the
# center's version (4), the CRC-32 of the whole file (8 hex), its length (6),
# the offset (6) and up to 400 bytes of the file. Length 0 = up to date.
# The file is checked (CRC, JSON, menu structure), written atomically, and
# used from the next screen on. Each chunk goes to storage as it comes (menu.json.dl), so
# the heap never holds the whole file; it takes the name menu.json once checked.
from pos import center, ui, crc
from pos.request import z as _z

MENU_CODE = "930"
# pos.menu's MENU_FILE and STORED_BIN (tests/core/test_menuupdate_core.py checks they are
# the same): pos.menu itself is not held through the download's exchanges (~2.4 KB of its
# objects on the x64 unix port, from ROMFS); the file is checked by pos.menucheck
MENU_FILE = "menu.json"
STORED_BIN = MENU_FILE + ".bin"
PART = MENU_FILE + ".dl"  # the download so far
NOT_SERVED = ("12", "30", "40")
_HEAD = 24


class MenuUpdateError(ValueError):
    pass


def parse_chunk(f62):
    if len(f62) < _HEAD:
        raise MenuUpdateError("field 62 too short")
    try:
        head = f62[:_HEAD].decode()
        version = int(head[0:4])
        crc32 = int(head[4:12], 16)
        total = int(head[12:18])
        offset = int(head[18:24])
    except ValueError:
        raise MenuUpdateError("bad menu header")
    return version, crc32, total, offset, f62[_HEAD:]


def update(t, title, quiet=False):
    # Generator -> True if the menu is current (updated or already so), or, quiet (the auto
    # sign-in), when the center has no menu download (it is said, the sign-in goes on).
    st = t.state
    offset = 0
    got = 0  # the CRC-32 of the bytes so far
    version = crc32 = total = None
    while True:
        msg = {"mti": "0800"}
        center.base_fields(t, msg, st.take_trace())
        msg[60] = "00" + center.batch_str(t) + MENU_CODE
        msg[62] = (_z(st.menu_version % 10000, 4) + _z(offset, 6)).encode()
        res = yield from center.exchange(t, msg, title, with_mac=False)
        if res.status == center.OK and res.code() in NOT_SERVED and offset == 0:
            # a real center has no menu download of ours: it answers 12, 30 or 40
            t.emit(("log", "info", "menu update: not served by this center (%s)" % res.code()))
            if quiet:
                ui.show_progress(t, title, t.s("menu_not_served"))
                return True
            yield from ui.notice(t, title, t.s("menu_not_served"))
            return False
        if not res.approved():
            if offset:
                t.storage.remove(PART)
            yield from center.show_failure(t, title, res)
            return False
        try:
            v, c, n, off, data = parse_chunk(res.reply.get(62) or b"")
            if n == 0:
                if not quiet:
                    yield from ui.notice(t, title, t.s("menu_current", st.menu_version))
                return True
            if version is None:
                version, crc32, total = v, c, n
                t.storage.remove(PART)
            if (v, c, n) != (version, crc32, total) or off != offset or not data:
                raise MenuUpdateError("menu changed during download")
        except MenuUpdateError as e:
            t.storage.remove(PART)
            t.emit(("log", "warn", "menu update: %s" % e))
            yield from ui.notice(t, title, [t.s("menu_update_failed"), str(e)])
            return False
        try:
            t.storage.append(PART, data)
        except OSError as e:
            t.storage.remove(PART)
            t.emit(("log", "warn", "menu update: cannot store the file: %s" % (e,)))
            yield from ui.notice(t, title, [t.s("menu_update_failed"), str(e)])
            return False
        got = crc.crc32(data, got)
        offset += len(data)
        res = data = None  # the answer is not kept through the next exchange
        if offset >= total:
            break
    problem = None
    if offset != total or got != crc32 or t.storage.size(PART) != total:
        problem = t.s("menu_crc_error")
    else:
        # checked as it is read from storage (pos.menucheck: pos.menu.validate's rules and
        # words, the tree never built: it was ~24 KB of heap, the sign-in's largest need)
        from pos import menucheck

        problem = menucheck.problem(t.storage, PART)
        del menucheck
    if problem:
        t.storage.remove(PART)
        t.emit(("log", "warn", "menu update rejected: %s" % problem))
        yield from ui.notice(t, title, [t.s("menu_update_failed"), problem])
        return False
    try:
        # the old menu's compiled copy goes first (pos.menu.STORED_BIN: the first move in
        # the new menu compiles it): a power cut after the rename leaves the new menu.json
        # without one, never with the old one's
        t.storage.remove(STORED_BIN)
        t.storage.rename(PART, MENU_FILE)
    except OSError as e:
        t.storage.remove(PART)
        yield from ui.notice(t, title, [t.s("menu_update_failed"), str(e)])
        return False
    st.menu_version = version
    st.save()
    t.reload_menu()
    if not quiet:
        yield from ui.notice(t, title, t.s("menu_updated", version))
    return True


def run(t):
    yield from update(t, t.s("menu_update_title"), quiet=False)
