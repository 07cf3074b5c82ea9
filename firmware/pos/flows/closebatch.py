# Settlement steps 1-4 with the center (see pos.flows.settle), run as an overlay:
# the pending reversal, the 0500 with the totals, the batch upload when the center's
# totals differ, the end of the upload, then the batch closed in one state write.
from pos import center, ui, clock, overlay, settlement
from pos.flows import reversal
from pos.flows.settle import STEP_REVERSAL, STEP_SETTLE, STEP_UPLOAD, STEP_CLOSE, STEP_FINISH
from pos.flows.settle import save_job


def _management(t, mti, net, f48=None):
    st = t.state
    msg = {"mti": mti}
    center.base_fields(t, msg, st.take_trace())
    msg[60] = "00" + center.batch_str(t) + net
    if f48 is not None:
        msg[48] = f48
    return msg


def run(t, title, job):
    # Generator -> True when the batch is closed (job["step"] is then STEP_FINISH).
    if job["step"] == STEP_REVERSAL:
        ok = yield from reversal.send_pending(t)
        if not ok:
            return None
        job["step"] = STEP_SETTLE
        save_job(t, job)
    if job["step"] == STEP_SETTLE:
        # the totals for the 0500 (and read again for the closed batch's record below: not
        # held through the batch upload's exchanges, where a board has the least heap)
        f48 = settlement.field48(settlement.totals(t.journal.each()))
        msg = _management(t, "0500", "201", f48)
        f48 = None
        msg[49] = "156"
        msg[63] = t.state.operator + " "
        ui.show_progress(t, title, t.s("settle_in_progress"))
        res = yield from center.exchange(t, msg, title, with_mac=False)
        if not res.approved():
            yield from center.show_failure(t, title, res)
            return None
        flags = settlement.balance_flags(res.reply.get(48) or "")
        job["flags"] = flags[0] + flags[1]
        job["balanced"] = flags == ("1", "1")
        job["settle_date"] = res.reply.get(15, "")
        res = msg = None
        job["step"] = STEP_UPLOAD
        save_job(t, job)
    if job["step"] == STEP_UPLOAD:
        ok = yield from _upload(t, title, job)
        if not ok:
            return None
        job["step"] = STEP_CLOSE
        save_job(t, job)
    if job["step"] == STEP_CLOSE:
        tot = settlement.totals(t.journal.each())  # the batch the center was told of
        st = t.state
        st.extra["last_settle"] = {
            "batch": center.batch_str(t),
            "date": clock.date8(t.now),
            "time": clock.hhmmss(t.now),
            "balanced": job.get("balanced", False),
            "flags": job.get("flags", ""),
            "uploaded": job.get("sent", 0) + job.get("tc_sent", 0),  # 201 records and TCs
            "settle_date": job.get("settle_date", ""),
            "op": st.operator,
            "totals": tot,
        }
        st.batch = 1 if st.batch >= 999999 else st.batch + 1
        job["step"] = STEP_FINISH
        st.extra["settle"] = job
        st.save()  # one atomic write: the closed batch and the new batch number
    return True


def _upload(t, title, job):
    # Generator -> True when the center acknowledged the end of the upload.
    if not job.get("balanced"):
        done = job.get("sent", 0)
        i = 0
        k = 0
        while True:
            # one message's records at a time, read from the journal (the batch is not
            # held in RAM while the terminal waits for the center)
            f48 = settlement.upload_chunk(t.journal.each(), k, t.journal.pan)
            if f48 is None:
                break
            k += 1
            n = int(f48[:2])  # the record count (pos.field48.records)
            if done >= i + n:  # acknowledged before an interruption
                i += n
                continue
            ui.show_progress(t, title, t.s("settle_uploading"))
            res = yield from center.exchange(t, _management(t, "0320", "201", f48), title, False)
            if not _delivered(t, res):
                yield from center.show_failure(t, title, res)
                return False
            i += n
            job["sent"] = i
            save_job(t, job)
        end = "202"
    else:
        end = "207"
    with overlay.scope():  # the chip transactions' TCs (203 / 205), pos.flows.tcupload
        from pos.flows import tcupload

        ok = yield from tcupload.upload(t, title, job, end == "207", save_job)
        del tcupload
    if not ok:
        return False
    count = job.get("sent", 0) + job.get("tc_sent", 0)
    with overlay.scope():
        from pos import field48

        f48 = field48.end(count)
        del field48
    res = yield from center.exchange(t, _management(t, "0320", end, f48), title, False)
    if not _delivered(t, res):
        yield from center.show_failure(t, title, res)
        return False
    return True


def _delivered(t, res):
    # Any answer to a batch upload counts: some hosts answer 25 or another code to a 0320,
    # and real terminals count the record as delivered and go on (reference §11), so
    # settlement never stays on 请先结算. Only no answer keeps the step for the next try.
    if res.status != center.OK:
        return False
    if res.code() != "00":
        t.emit(("log", "warn", "batch upload answered %s: counted as delivered" % res.code()))
    return True
