# Checks made before any transaction (reference §6.1). A journal that cannot be written
# (disk full) stops every transaction until the record waiting for it is written
# (pos.flows.storagefail).
from pos import overlay, ui


def settlement_pending(t):
    return bool(t.state.extra.get("settle"))


def batch_full(t):
    limit = int(t.state.params.get("max_tx", 300) or 300)
    return t.journal.count >= limit


def begin(t, title, kind, journalled=None, supervisor=None):
    # Generator -> True when a transaction of the catalog's type `kind` may start: the
    # gates (sign-in, settlement, room in the batch for a journalled one), then the
    # supervisor's password where the catalog says the type needs it. journalled,
    # supervisor: the type's (catalog.journalled, catalog.supervisor) when the caller has
    # read them in a catalog scope of its own (an import is ~15,000 instructions of the unix
    # port: __import__ looks "pos" up among the interned names twice)
    if journalled is None:
        with overlay.scope():  # the catalog is read, not held (the heap at the prompts)
            from pos import catalog

            journalled, supervisor = catalog.journalled(kind), catalog.supervisor(kind)
            del catalog
    ok = yield from check(t, title, journalled)
    if ok and supervisor:
        with overlay.scope():
            from pos.flows import auth

            ok = yield from auth.require_supervisor(t, title)
            del auth
    return ok


def check(t, title, journalled=True):
    # Generator -> True if a transaction may start now; else shows why.
    # journalled: the transaction adds a journal record (all but the balance inquiry).
    # Every transaction (the balance inquiry too: it would send a pending reversal)
    # waits for the journal: while an approved record is not written, its reversal
    # stays armed and must not go out.
    if not t.journal.ready():  # (storage_ok's generator made only then)
        ok = yield from storage_ok(t, title)
        if not ok:
            return False
    if t.state.unreadable:
        reason = t.s("supervisor_confirm")
    elif settlement_pending(t):
        reason = t.s("settle_first")
    elif not t.signed_in_today():
        reason = t.s("please_sign_in")
    elif journalled and batch_full(t):
        reason = t.s("settle_batch_full")
    else:
        ex = t.state.extra
        if ex.get("param_due") or ex.get("ic_due") or ex.get("script_advice") or (
                ex.get("status_due")):  # fmt: skip
            yield from pending(t, title)  # (a generator made only when something is owed)
        return True
    t.emit(("beep", "error"))
    yield from ui.notice(t, title, reason)
    return False


def pending(t, title):
    # Generator: what a reply's header asked of the terminal (processing requirement,
    # pos.commcheck.after_reply) and is still owed, done before the next transaction and
    # right after a sign-in (pos.flows.signin)
    if t.state.extra.get("param_due") and not t.journal.count:
        # the center asked for a parameter download (reply header) and no batch is
        # open: it goes first (pos.flows.paramload)
        with overlay.scope():
            from pos.flows import paramload

            yield from paramload.due(t, title)
            del paramload
    if t.state.extra.get("ic_due") or t.state.extra.get("script_advice"):
        # IC keys / AIDs the reply header asked for, a script advice not delivered yet
        # (pos.flows.icload)
        with overlay.scope():
            from pos.flows import icload

            yield from icload.pending(t, title)
            del icload
    if t.state.extra.get("status_due"):
        # the terminal status upload a reply's header asked for (one try)
        with overlay.scope():
            from pos.flows import heartbeat

            yield from heartbeat.run(t)
            del heartbeat


def storage_ok(t, title):
    # Generator -> True when the journal can take a record now; else the records left
    # pending by a failed write are tried first (pos.flows.storagefail).
    if t.journal.ready():
        return True
    with overlay.scope():
        from pos.flows import storagefail

        return (yield from storagefail.retry(t, title))
