# The TC upload of settlement's batch upload (IC online transactions, reference §3.5, §12):
# one 0320 per chip or contactless transaction of the batch, 60.3 = 203 when the totals
# balanced, 205 when not; 2, 3, 4, 11, 22 (05x / 07x, 0 for no PIN), 23, 41, 42, 55 (the
# TC tag set the kernel kept: 9F26 the TC, 9F27 ... 8A 9B, DF31 the issuer scripts' results
# when the card ran any), 61 the transaction's batch and
# trace (11 is a fresh trace). Any answer counts as delivered (as the magstripe records:
# pos.flows.closebatch); how many went is kept in the settlement job, so an interrupted
# settlement goes on from the next one.
from pos import center, settlement, ui
from pos.request import z


def records(entries):
    return [e for e in settlement.settled_entries(entries) if e.get("tc55")]


def message(t, e, code, pan):
    msg = {"mti": "0320", 2: pan, 3: "000000", 4: z(e.get("amount", 0), 12)}
    center.base_fields(t, msg, t.state.take_trace())
    msg[22] = e.get("entry", "05") + "0"
    if e.get("seq"):
        msg[23] = "0" + e["seq"]
    msg[55] = bytes.fromhex(e["tc55"])
    msg[60] = "00" + center.batch_str(t) + code
    msg[61] = e.get("batch", center.batch_str(t)) + e.get("trace", "000000")
    return msg


def upload(t, title, job, balanced, save_job):
    # Generator -> True when every TC of the batch was delivered (job["tc_sent"] counts)
    code = "203" if balanced else "205"
    done = job.get("tc_sent", 0)
    i = 0
    for e in records(t.journal.each()):
        if i < done:
            i += 1
            continue
        ui.show_progress(t, title, t.s("settle_uploading"))
        res = yield from center.exchange(t, message(t, e, code, t.journal.pan(e)), title, False)
        if res.status != center.OK:
            yield from center.show_failure(t, title, res)
            return False
        if res.code() != "00":
            t.emit(("log", "warn", "TC upload answered %s: counted as delivered" % res.code()))
        i += 1
        job["tc_sent"] = i
        save_job(t, job)
    return True
