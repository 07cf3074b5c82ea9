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
from pos import comm, ui, clock, settlement
from pos.flows import gates, reversal, printing, signout

STEP_REVERSAL = 1
STEP_SETTLE = 2
STEP_UPLOAD = 3
STEP_CLOSE = 4
STEP_FINISH = 5


def pending(t):
    return t.state.extra.get("settle")


def _save(t, job):
    t.state.extra["settle"] = job
    t.state.save()


def _management(t, mti, net, f48=None):
    st = t.state
    msg = {"mti": mti}
    comm.base_fields(t, msg, st.take_trace())
    msg[60] = "00" + comm.batch_str(t) + net
    if f48 is not None:
        msg[48] = f48
    return msg


def run(t):
    title = t.s("settle_title")
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
        _save(t, job)
    else:
        t.emit(("log", "info", "settlement resumes at step %d" % job["step"]))
    if job["step"] == STEP_REVERSAL:
        ok = yield from reversal.send_pending(t)
        if not ok:
            return None
        job["step"] = STEP_SETTLE
        _save(t, job)
    tot = settlement.totals(t.journal.entries())
    if job["step"] == STEP_SETTLE:
        msg = _management(t, "0500", "201", settlement.field48(tot))
        msg[49] = "156"
        msg[63] = t.state.operator + " "
        ui.show_progress(t, title, t.s("settle_in_progress"))
        res = yield from comm.exchange(t, msg, title, with_mac=False)
        if not res.approved():
            yield from comm.show_failure(t, title, res)
            return None
        flags = settlement.balance_flags(res.reply.get(48) or "")
        job["flags"] = flags[0] + flags[1]
        job["balanced"] = flags == ("1", "1")
        job["settle_date"] = res.reply.get(15, "")
        job["step"] = STEP_UPLOAD
        _save(t, job)
    if job["step"] == STEP_UPLOAD:
        ok = yield from _upload(t, title, job)
        if not ok:
            return None
        job["step"] = STEP_CLOSE
        _save(t, job)
    if job["step"] == STEP_CLOSE:
        st = t.state
        st.extra["last_settle"] = {
            "batch": comm.batch_str(t),
            "date": clock.date8(t.now),
            "time": clock.hhmmss(t.now),
            "balanced": job.get("balanced", False),
            "flags": job.get("flags", ""),
            "uploaded": job.get("sent", 0),
            "settle_date": job.get("settle_date", ""),
            "op": st.operator,
            "totals": tot,
        }
        st.batch = 1 if st.batch >= 999999 else st.batch + 1
        job["step"] = STEP_FINISH
        st.extra["settle"] = job
        st.save()  # one atomic write: the closed batch and the new batch number
    # STEP_FINISH
    summary = t.state.extra.get("last_settle") or {}
    t.emit(("beep", "ok"))
    head = t.s("settle_balanced" if summary.get("balanced") else "settle_unbalanced")
    ui.screen(t, title, [head, t.s("printing")])
    yield from printing.print_lines(t, _slip(t, summary, False))
    t.journal.clear()
    t.state.extra.pop("settle", None)
    t.state.save()
    yield from _after(t, title, head)
    return summary


def _upload(t, title, job):
    # Generator -> True when the center acknowledged the end of the upload.
    entries = t.journal.entries()
    if not job.get("balanced"):
        chunks = settlement.upload_chunks(entries)
        done = job.get("sent", 0)
        i = 0
        for f48 in chunks:
            n = int(f48[:2])
            if done >= i + n:  # acknowledged before an interruption
                i += n
                continue
            ui.show_progress(t, title, t.s("settle_uploading"))
            res = yield from comm.exchange(t, _management(t, "0320", "201", f48), title, False)
            if not res.approved():
                yield from comm.show_failure(t, title, res)
                return False
            i += n
            job["sent"] = i
            _save(t, job)
        end = "202"
    else:
        end = "207"
    count = job.get("sent", 0)
    f48 = ("0000" + str(count))[-4:]
    res = yield from comm.exchange(t, _management(t, "0320", end, f48), title, False)
    if not res.approved():
        yield from comm.show_failure(t, title, res)
        return False
    return True


def _after(t, title, head):
    # sign out, or sign in again, as parameter auto_signout says
    if int(t.state.params.get("auto_signout", 1) or 0):
        ui.show_progress(t, title, [t.s("settle_done"), t.s("settle_signout_in_progress")])
        yield from signout.sign_out(t, title, [head, t.s("settle_done")])
    else:
        from pos.flows import signin

        ui.show_progress(t, title, [t.s("settle_done"), t.s("settle_signing_in")])
        yield from signin.key_download(t, title, t.s("signin_ok_manual"))


def _slip(t, summary, reprint):
    from pos import receipt

    return receipt.settlement_slip(t, summary, reprint)


def reprint(t):
    # 重打结算单: the last settlement's slip, marked 重打印
    title = t.s("print_settlement")
    summary = t.state.extra.get("last_settle")
    if not summary:
        yield from ui.notice(t, title, t.s("print_no_settlement"), timeout=10)
        return
    ui.screen(t, title, t.s("printing"))
    yield from printing.print_lines(t, _slip(t, summary, True))


def blocked(t):
    return gates.settlement_pending(t)
