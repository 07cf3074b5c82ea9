# What start-up found in the terminal's files (run once, as an overlay, before the idle
# screen): a damaged journal's notice, state files read from their previous copy, and a
# file of which no copy can be read, which waits for the supervisor.
from pos import ui
from pos import keys as K


def at_start(t):
    # Generator, before the idle screen: a damaged journal's notice (how many records
    # could not be read, the copy kept); state files read from their previous copy;
    # and for a file of which no copy can be read, its screen until the supervisor
    # acknowledges it (nothing else runs until then).
    j = t.journal
    if j.unreadable:
        t.emit(
            (
                "log",
                "error",
                "journal: %d unreadable record(s), damaged file kept as %s"
                % (j.unreadable, j.damaged_copy or "(no copy: %s)" % j.error),
            )
        )
        t.emit(("beep", "error"))
        body = [t.s("journal_unreadable", j.unreadable)]
        if j.damaged_copy:
            body.append(t.s("journal_copy_kept"))
        yield from ui.notice(t, t.s("journal_damaged"), body)
    if j.recovered_bytes:
        yield from _torn(t, j)
    st = t.state
    for name, copy in st.damaged_copies:
        t.emit(("log", "error", "%s damaged, kept as %s" % (name, copy or "(no copy)")))
    if st.restored:
        t.emit(("log", "warn", "restored from the previous copy: " + ", ".join(st.restored)))
        if "state.json" in st.restored:
            # the previous copy may be a trace behind: go on past the journal's last
            _resume_counters(t)
            st.save()
        yield from ui.notice(t, t.s("state_title"), t.s("restored_from_backup"), timeout=10)
    while st.unreadable:
        name = st.unreadable[0]
        yield from _acknowledge(t, name)
    yield from _check_menu(t)


def _check_menu(t):
    # a downloaded menu (menu update) that cannot be used is set aside (menu.json.damaged-N)
    # and the shipped one used: said on screen and in the log, the terminal usable
    if t.storage.size("menu.json") < 0:  # none downloaded: pos.menu not even imported
        return
    from pos import menu

    damaged = []
    try:
        menu.load(t.storage, t.resources, damaged)
    except menu.MenuError:
        pass  # the shipped one failed too: the menu key says so
    t.reload_menu()  # parsed again when the menu opens (a board keeps no tree)
    for why, copy in damaged:
        t.emit(("log", "error", "menu.json (downloaded) unusable: %s; kept as %s; the shipped "
                "menu is used until a menu update" % (why, copy or "(no copy)")))  # fmt: skip
        t.emit(("beep", "error"))
        body = [t.s("menu_damaged"), t.s("menu_shipped_used"), t.s("menu_update_again")]
        yield from ui.notice(t, t.s("menu_damaged_title"), body)


def _torn(t, j):
    # a record cut short at the end of the journal (the power lost mid-append) was cut
    # off: said on screen and in the log, with the transaction its bytes still name. An
    # approval is journalled before its reversal is disarmed: the reversal pending for it
    # gives the money back before the next transaction; any other record is missing from
    # 交易查询 and the totals until settlement compares them with the center's (对账不平,
    # the batch upload)
    torn = j.torn or {}
    trace = torn.get("trace", "")
    rev = t.state.reversal()
    reversed_ = rev is not None and (not trace or rev.get("11") == trace)
    t.emit(("log", "error", "journal: the last record was cut short (power lost mid-append): "
            "%d bytes cut off (type %s, trace %s, amount %s); %s" % (
                j.recovered_bytes, torn.get("type", "?"), trace or "?",
                torn.get("amount", "?"), "its reversal is pending (trace %s)" % rev.get("11")
                if reversed_ else "not in the journal: settlement compares the totals with "
                "the center")))  # fmt: skip
    t.emit(("beep", "error"))
    body = [t.s("journal_torn")]
    if trace:
        body.append(t.s("journal_torn_trace", trace))
    body.append(t.s("journal_torn_reversal" if reversed_ else "journal_torn_settle"))
    yield from ui.notice(t, t.s("journal_torn_title"), body)


def _acknowledge(t, name):
    from pos.state import REVERSAL_FILE
    from pos import overlay

    if name == REVERSAL_FILE:
        title = t.s("reversal_damaged_title")
        body = [t.s("reversal_unreadable"), t.s("call_acquirer"), t.s("supervisor_confirm")]
    else:
        title = t.s("state_damaged_title")
        body = [t.s("state_unreadable"), t.s("supervisor_confirm")]
    t.emit(("log", "error", "%s: no copy can be read; waiting for the supervisor" % name))
    t.emit(("beep", "error"))
    ui.screen(t, title, body)
    while True:
        k = yield from ui.wait_key(t, None, True)
        if k == K.ENTER:
            break
    with overlay.scope():
        from pos.flows import auth

        ok = yield from auth.require_supervisor(t, title)
        del auth
    if not ok:
        return
    if name != REVERSAL_FILE:
        _resume_counters(t)
    t.state.acknowledge(name)
    t.emit(("log", "warn", "%s acknowledged by the supervisor" % name))
    yield from ui.notice(t, title, t.s("damaged_confirmed"), timeout=10)


def _resume_counters(t):
    # state.json is lost: carry on from the journal's batch and last trace, so that no
    # trace number of this batch is used twice
    st = t.state
    top = 0
    rev = st.reversal()
    if rev is not None and _digits(rev.get("11", "")):
        top = int(rev["11"])
    for e in t.journal.each():
        try:
            n = int(e.get("trace", "0"))
            b = int(e.get("batch", "0"))
        except ValueError:
            continue
        if n > top:
            top = n
        if b > st.batch:
            st.batch = b
    if top >= st.trace:
        st.trace = 1 if top >= 999999 else top + 1


def _digits(s):
    for ch in s:
        if ch < "0" or ch > "9":
            return False
    return s != ""
