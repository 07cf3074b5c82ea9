# Settlement (结算), reference §6.4, as resumable steps. The step reached is
# saved in state.extra["settle"] before each message goes out, so a
# settlement cut short (center down, power cut) carries on from there on the
# next try; until it ends every transaction shows 请先结算.
#   1  send any pending reversal
#   2  0500 / 60.3=201 with the totals in 48; the answer says balanced (1) or not (2)
#   3  not balanced: batch upload 0320 / 201, 8 records a message ("sent" counts
#      the records acknowledged); then the end of the upload, 0320 / 202
#      (balanced: 207 straight away), 48 = the number of records uploaded
#   4  the batch is closed: its totals become the last settlement (for
#      重打结算单) and batch + 1, in one state write
#   5  print the slip, clear the journal, then sign out (0820 / 002) or sign in
#      again, per parameter auto_signout
# Totals are always counted from the journal, which is cleared once, at step 5:
# repeating a step never counts a transaction twice. The center's side is
# idempotent too (same 0500 again, upload records keyed by trace, end = close).
from pos import ui, overlay

STEP_REVERSAL = 1
STEP_SETTLE = 2
STEP_UPLOAD = 3
STEP_CLOSE = 4
STEP_FINISH = 5


def pending(t):
    return t.state.extra.get("settle")


def save_job(t, job):
    t.state.extra["settle"] = job
    t.state.save()


def run(t):
    title = t.s("settle_title")
    if not t.journal.ready():  # a record still waits for the journal (disk full)
        with overlay.scope():
            from pos.flows import storagefail

            ok = yield from storagefail.retry(t, title)
            del storagefail
        if not ok:
            return None
    job = pending(t)
    if job is None:
        if not t.signed_in_today():
            t.emit(("beep", "error"))
            yield from ui.notice(t, title, t.s("please_sign_in"))
            return None
        go = yield from ui.confirm(t, title, t.s("settle_confirm"), t.s("settle_confirm_footer"))
        if not go:
            return None
        job = {"step": STEP_REVERSAL, "batch": t.state.batch, "sent": 0}
        try:
            save_job(t, job)
        except OSError as e:
            # the disk refused the job (full): a settlement only in RAM would be forgotten
            # by a restart, so none starts; the screen says why, nothing was sent
            t.state.extra.pop("settle", None)
            t.emit(("log", "error", "settlement not started, its job not saved: %s" % e))
            t.emit(("beep", "error"))
            yield from ui.notice(t, title, [t.s("storage_failed"), t.s("storage_call")])
            return None
    else:
        t.emit(("log", "info", "settlement resumes at step %d" % job["step"]))
    if job["step"] < STEP_FINISH:
        # steps 1-4, with the center (an overlay: the codec and the keys' code are
        # dropped before the slip is printed)
        with overlay.scope():
            from pos.flows import closebatch

            ok = yield from closebatch.run(t, title, job)
            del closebatch
        if not ok:
            return None
    # STEP_FINISH
    summary = t.state.extra.get("last_settle") or {}
    t.emit(("beep", "ok"))
    head = t.s("settle_balanced" if summary.get("balanced") else "settle_unbalanced")
    ui.screen(t, title, [head, t.s("printing")])
    with overlay.scope():  # the printing's and the slip's code are dropped after it
        from pos.flows import printing

        yield from printing.print_settlement(t, summary, False)
        del printing
    t.journal.clear()
    t.state.extra.pop("settle", None)
    t.state.save()
    if t.state.extra.get("param_due"):
        # the center asked for a parameter download while the batch was open
        with overlay.scope():
            from pos.flows import paramload

            yield from paramload.due(t, title)
            del paramload
    yield from _after(t, title, head)
    return summary


def _after(t, title, head):
    # sign out, or sign in again, as parameter auto_signout says
    if int(t.state.params.get("auto_signout", 1) or 0):
        from pos.flows import signout

        ui.show_progress(t, title, [t.s("settle_done"), t.s("settle_signout_in_progress")])
        yield from signout.sign_out(t, title, [head, t.s("settle_done")])
    else:
        from pos.flows import signin

        ui.show_progress(t, title, [t.s("settle_done"), t.s("settle_signing_in")])
        yield from signin.key_download(t, title, t.s("signin_ok_manual"))


def reprint(t):
    # 重打结算单: the last settlement's slip, marked 重打印
    title = t.s("print_settlement")
    summary = t.state.extra.get("last_settle")
    if not summary:
        yield from ui.notice(t, title, t.s("print_no_settlement"), timeout=10)
        return
    ui.screen(t, title, t.s("printing"))
    with overlay.scope():
        from pos.flows import printing

        yield from printing.print_settlement(t, summary, True)


def blocked(t):
    return bool(pending(t))
