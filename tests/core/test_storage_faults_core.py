# The terminal's files under the faults they are tested against (README "What survives
# what"): a journal append cut short by a full disk, damaged bytes in the journal, and
# damaged or oddly shaped state files.
from mptest import eq, true, contains
from pos.journal import Journal, JournalWriteError, encode_record
import faultstore
import txhelp
from rig import Rig
from pos import operators as ops


def _rec(i):
    return {"type": "purchase", "trace": "%06d" % i, "amount": i}


# -- a journal that cannot be read at start-up --------------------------------------
def _blind_after_three(no_size):
    s = faultstore.BlindDisk()
    j = Journal(s)
    for i in range(1, 4):
        j.append(_rec(i))
    s.blind = True
    s.no_size = no_size
    return s


def test_a_journal_unreadable_at_start_up_is_never_cut_back_or_cleared():
    for no_size in (False, True):
        s = _blind_after_three(no_size)
        before = s.files["journal.log"]
        j = Journal(s)
        true(j.blind, "the journal knows it could not read its file")
        true(not j.ready(), "no record is taken while the file cannot be read")
        failed = False
        try:
            j.append(_rec(4))
        except JournalWriteError:
            failed = True
        true(failed, "the append reports that the journal cannot be read")
        eq(len(j.pending), 1, "the approved record stays pending")
        for what in (j.entries, j.clear):
            failed = False
            try:
                what()
            except JournalWriteError:
                failed = True
            true(failed, "an unreadable batch is neither read as empty nor cleared")
        eq(s.files["journal.log"], before, "the file is exactly as it was")
        s.blind = False
        eq(len(j.flush()), 1, "once it reads again the pending record is written")
        eq([e["trace"] for e in Journal(s).entries()], ["000001", "000002", "000003", "000004"])


def test_a_journal_read_error_in_the_middle_is_not_an_end_of_batch():
    s = faultstore.BlindDisk()
    j = Journal(s)
    for i in range(1, 4):
        j.append(_rec(i))
    real = s.read_at
    calls = [0]

    def flaky(name, offset, n):
        calls[0] += 1
        if offset > 0 and calls[0] == 2:
            return None
        return real(name, offset, n)

    s.read_at = flaky
    failed = False
    try:
        j.entries()
    except JournalWriteError:
        failed = True
    true(failed, "a read error after the first record is told, not a shorter batch")
    eq(len(j.entries()), 3, "the next read sees every record")
    calls[0] = 0
    s.read_at = flaky
    seen = []
    failed = False
    try:
        for e in j.each():
            seen.append(e["trace"])
    except JournalWriteError:
        failed = True
    true(failed, "each(): the read error is told too, not taken for the batch's end")
    eq(len(seen), 1)


# -- item 2: a torn append ---------------------------------------------------------
def test_a_failed_append_leaves_the_journal_file_exactly_as_it_was():
    s = faultstore.FullDisk()
    j = Journal(s)
    for i in range(1, 4):
        j.append(_rec(i))
    before = s.read("journal.log")
    s.fail_at = (4,)
    failed = False
    try:
        j.append(_rec(4))
    except JournalWriteError:
        failed = True
    true(failed, "the append reports the failure")
    eq(s.read("journal.log"), before, "torn bytes cut back")
    eq(len(j.pending), 1, "the record waits in RAM")
    true(not j.ready())
    eq(len(j.flush()), 1, "written once the disk takes it")
    eq([e["trace"] for e in Journal(s).entries()], ["000001", "000002", "000003", "000004"])


def test_no_record_is_written_behind_torn_bytes_the_storage_would_not_cut():
    s = faultstore.FullDisk()
    j = Journal(s)
    j.append(_rec(1))
    good = s.read("journal.log")
    s.fail_at = (2,)
    s.truncate_fails = 2  # cutting back fails now and at the next try
    for _ in range(2):
        try:
            j.append(_rec(2))
        except JournalWriteError:
            pass
    true(len(s.read("journal.log")) > len(good), "torn bytes still there")
    eq(s.appends, 2, "no append after the torn bytes while they could not be cut")
    j.flush()  # the truncate works now: cut, then both pending records
    eq([e["trace"] for e in Journal(s).entries()], ["000001", "000002", "000002"])
    eq(s.read("journal.log")[: len(good)], good)


def _traces_on_slips(r, since=0):
    out = []
    for lines in r.receipts[since:]:
        text = "\n".join(line[1] for line in lines)
        if "商户存根" not in text:
            continue
        at = text.find("凭证号:")
        out.append(text[at + 4 : at + 10])
    return out


def test_sixteen_approvals_with_a_full_disk_in_the_middle_keep_every_printed_slip():
    s = faultstore.FullDisk()
    r = txhelp.rig(storage=s)
    base = s.appends
    s.fail_at = (base + 8,)  # the 8th approval's append is cut short
    for i in range(7):
        txhelp.buy(r, str(1000 + i))
    # the 8th: approved by the center, not journalled: no slip, the screen says why
    mark = len(r.receipts)
    r.press("MENU", "1", "2", "1007", "ENTER", "CARD=" + txhelp.PAN, "123456", "ENTER")
    contains(r.screen_flat(), "存储失败")
    contains(r.screen_flat(), "请联系维护")
    eq(r.t.frame.text()[0].strip(), "消费", "a titled screen")
    eq(len(r.receipts), mark, "no slip for an unrecorded approval")
    true(r.t.state.reversal() is not None, "its reversal stays armed")
    r.press("CANCEL")
    # the disk is still full: every transaction is refused, nothing is sent
    s.full = True
    sent = len(r.center.requests)
    r.press("MENU", "1", "2")
    contains(r.screen_flat(), "存储失败")
    eq(len(r.center.requests), sent, "nothing sent while the journal cannot be written")
    r.press("ENTER")
    r.press("MENU", "1", "5")  # the balance inquiry too (it would send the reversal)
    contains(r.screen_flat(), "存储失败")
    r.press("ENTER", "CANCEL")
    # space again: the next transaction writes the pending record and prints its slip
    s.full = False
    r.press("MENU", "1", "2")
    contains(r.screen_flat(), "请撕下商户存根")
    eq(_traces_on_slips(r, mark), [r.t.journal.entries()[-1]["trace"]])
    r.press("ENTER")  # cardholder copy; the purchase then asks for its amount
    r.press("1008", "ENTER", "CARD=" + txhelp.PAN, "123456", "ENTER", "ENTER", "CANCEL")
    for i in range(9, 16):
        txhelp.buy(r, str(1000 + i))
    printed = _traces_on_slips(r)
    eq(len(printed), 16)
    # restart: every approval that printed a slip is in the journal, once
    again = Rig(storage=s)
    traces = [e["trace"] for e in again.t.journal.entries()]
    eq(sorted(traces), sorted(printed))
    eq(again.t.journal.unreadable, 0)
    eq(again.t.journal.recovered_bytes, 0, "no torn bytes left in the file")
    # the late record's reversal was not sent: it is journalled, the card stays charged
    eq(len([q for q in r.center.requests if q["mti"] == "0400"]), 0)


def test_an_approval_journalled_on_retry_prints_its_slip_at_once():
    s = faultstore.FullDisk()
    r = txhelp.rig(storage=s)
    s.fail_at = (s.appends + 1,)
    r.press("MENU", "1", "2", "1234", "ENTER", "CARD=" + txhelp.PAN, "123456", "ENTER")
    contains(r.screen_flat(), "确认键重试")
    r.press("ENTER")
    contains(r.screen_flat(), "请撕下商户存根")
    eq(len(_traces_on_slips(r)), 1)
    eq(len(r.t.journal.entries()), 1)
    true(r.t.state.reversal() is None, "journalled: the reversal is disarmed")


def test_an_unjournalled_approval_is_reversed_after_a_restart():
    s = faultstore.FullDisk()
    r = txhelp.rig(storage=s)
    s.fail_at = (s.appends + 1,)
    r.press("MENU", "1", "2", "1234", "ENTER", "CARD=" + txhelp.PAN, "123456", "ENTER")
    r.press("CANCEL")
    trace = r.t.state.reversal()["11"]
    # power cut: the pending record was only in RAM; its reversal is on disk
    r2 = Rig(storage=s, center=r.center)
    eq(len(r2.t.journal.entries()), 0)
    txhelp.buy(r2, "500")
    rev = [q for q in r.center.requests if q["mti"] == "0400"]
    eq(len(rev), 1, "the reversal went out before the next purchase")
    eq(rev[0][11], trace)
    eq(len(r2.t.journal.entries()), 1)


def test_encode_record_is_unchanged():
    # the frame format does not move (files written by older versions still load)
    eq(encode_record(1, {"a": 1})[:7], bytes((0xA5, 0, 8, 0, 0, 0, 1)))


# -- item 3: damaged bytes mid-file ------------------------------------------------
def _journal_bytes(n):
    s = faultstore.FullDisk()
    j = Journal(s)
    for i in range(1, n + 1):
        j.append(_rec(i))
    return s.read("journal.log")


def _spans(data):
    # [(start, stop)] of each record in data
    out = []
    pos = 0
    i = 1
    while pos < len(data):
        stop = pos + len(encode_record(i, _rec(i)))
        out.append((pos, stop))
        pos = stop
        i += 1
    return out


def test_one_damaged_byte_at_any_offset_loses_only_its_own_record():
    data = _journal_bytes(6)
    spans = _spans(data)
    eq(spans[-1][1], len(data))
    for off in range(len(data)):
        bad = bytearray(data)
        bad[off] ^= 0x55
        s = faultstore.FullDisk({"journal.log": bytes(bad)})
        j = Journal(s)
        hit = 0
        while not (spans[hit][0] <= off < spans[hit][1]):
            hit += 1
        want = ["%06d" % (i + 1) for i in range(6) if i != hit]
        eq([e["trace"] for e in j.entries()], want, "byte %d" % off)
        eq(j.unreadable, 1, "byte %d: one unreadable record" % off)
        eq(j.damaged_copy, "journal.log.damaged-1", "byte %d" % off)
        eq(s.read("journal.log.damaged-1"), bytes(bad), "byte %d: the damaged file kept" % off)
        # appends go on after the readable records; the next start finds nothing new
        j.append(_rec(7))
        again = Journal(s)
        eq(len(again.entries()), 6, "byte %d" % off)
        eq(again.unreadable, 0)


def test_a_damaged_run_of_records_is_counted_and_the_rest_kept():
    data = _journal_bytes(8)
    spans = _spans(data)
    bad = bytearray(data)
    for i in range(spans[2][0] + 3, spans[4][1] - 2):  # records 3, 4 and 5
        bad[i] = 0
    j = Journal(faultstore.FullDisk({"journal.log": bytes(bad)}))
    eq([e["trace"] for e in j.entries()], ["000001", "000002", "000006", "000007", "000008"])
    eq(j.unreadable, 3)


def test_the_operator_is_told_at_start_up_how_many_records_were_unreadable():
    s = faultstore.FullDisk()
    r = txhelp.rig(storage=s)
    for i in range(3):
        txhelp.buy(r, str(100 + i))
    bad = bytearray(s.read("journal.log"))
    bad[len(bad) // 2] ^= 0xFF
    s.files["journal.log"] = bytes(bad)
    r2 = Rig(storage=s)
    eq(r2.t.frame.text()[0].strip(), "流水损坏")
    contains(r2.screen_flat(), "1笔记录无法读取")
    contains(r2.screen_flat(), "已保存副本")
    true([e for e in r2.logs if "1 unreadable record" in e[2]], "and in the log")
    r2.press("ENTER")
    contains(r2.screen_flat(), "欢迎使用")
    eq(len(r2.t.journal.entries()), 2)


def test_a_torn_tail_is_cut_but_a_damaged_last_length_is_reported():
    data = _journal_bytes(3)
    last = _spans(data)[-1][0]
    j = Journal(faultstore.FullDisk({"journal.log": data[:-5]}))
    eq((len(j.entries()), j.unreadable, j.recovered_bytes > 0), (2, 0, True), "torn")
    bad = bytearray(data)
    bad[last + 1] ^= 0x01  # the last record's length now runs past the end
    s = faultstore.FullDisk({"journal.log": bytes(bad)})
    j = Journal(s)
    eq((len(j.entries()), j.unreadable), (2, 1), "damaged length")
    eq(s.read("journal.log.damaged-1"), bytes(bad))


# -- item 5: damaged or oddly shaped state files -----------------------------------
_BAD_SHAPES = (
    b"null",
    b"[]",
    b"{not json",
    b'{"trace": "7"}',
    b"{}",
    b'{"params": 5, "trace": 3}',
)


def _day(n=2):
    # a signed-in terminal with n purchases; state.json and state.json.bak both good
    s = faultstore.FullDisk()
    r = txhelp.rig(storage=s)
    ops.ensure(r.t.state)
    for i in range(n):
        txhelp.buy(r, str(100 + i))
    return s, r


def test_a_damaged_state_file_falls_back_to_its_previous_copy():
    good = None
    for bad in _BAD_SHAPES + ("truncated",):
        s, r = _day()
        good = r.t.state
        if bad == "truncated":
            bad = s.read("state.json")[:-20]
        true(s.read("state.json.bak") is not None, "a previous copy is kept")
        s.files["state.json"] = bad
        r2 = Rig(storage=s)
        what = repr(bad[:20])
        contains(r2.screen_flat(), "已从备份恢复", what)
        eq(r2.t.frame.text()[0].strip(), "终端状态", what)
        st = r2.t.state
        eq(st.mak, good.mak, what + ": the working keys are kept")
        eq(st.extra["op_salt"], good.extra["op_salt"], what + ": the cashiers' table is kept")
        true(st.trace > int(r.t.journal.entries()[-1]["trace"]), what + ": no trace reused")
        eq(s.read("state.json.damaged-1"), bad, what + ": the damaged file is kept")
        r2.press("ENTER")
        txhelp.buy(r2, "300")  # still signed in, the purchase goes through
        eq(len(r2.t.journal.entries()), 3, what)


def test_with_no_readable_copy_the_supervisor_must_acknowledge_before_any_transaction():
    for bad in _BAD_SHAPES:
        s, r = _day()
        s.files["state.json"] = bad
        s.files["state.json.bak"] = b"[1,"
        r2 = Rig(storage=s)
        what = repr(bad[:20])
        eq(r2.t.frame.text()[0].strip(), "终端状态损坏", what)
        contains(r2.screen_flat(), "状态文件无法读取", what)
        contains(r2.screen_flat(), "请主管确认", what)
        r2.press("MENU", "1", "2", "CARD=" + txhelp.PAN)  # nothing else runs
        contains(r2.screen_flat(), "请主管确认", what)
        eq(len(r2.sent), 0, what)
        r2.press("ENTER", "123456", "ENTER")
        contains(r2.screen_flat(), "已确认", what)
        r2.press("ENTER")
        contains(r2.screen_flat(), "欢迎使用", what)
        st = r2.t.state
        eq(st.unreadable, [], what)
        true(st.trace > int(r.t.journal.entries()[-1]["trace"]), what + ": trace not back to 1")
        eq(s.read("state.json.damaged-1"), bad, what)
        true(s.read("state.json") not in (None, bad), what + ": written afresh")


def test_a_cancelled_acknowledgement_keeps_refusing():
    s, r = _day(1)
    s.files["state.json"] = b"null"
    s.files["state.json.bak"] = b"null"
    r2 = Rig(storage=s)
    r2.press("ENTER", "CANCEL")
    contains(r2.screen_flat(), "请主管确认")
    eq(r2.t.state.unreadable, ["state.json"])
    r3 = Rig(storage=s)  # and at the next start; the damaged file is kept once
    contains(r3.screen_flat(), "请主管确认")
    true(s.read("state.json.damaged-1") == b"null" and s.read("state.json.damaged-2") is None)


def _timed_out(s=None):
    s = s or faultstore.FullDisk()
    r = txhelp.rig(storage=s)
    r.center.then("timeout")
    r.press("MENU", "1", "2", "1000", "ENTER", "CARD=" + txhelp.PAN, "123456", "ENTER")
    r.press("CANCEL")
    rev = r.t.state.reversal()
    true(rev is not None, "a pending reversal")
    return s, r, rev


def test_a_truncated_reversal_file_falls_back_to_its_copy_and_still_goes_out():
    for bad in ("truncated", b"{}", b"null", b"[]"):
        s, r, rev = _timed_out()
        if bad == "truncated":
            bad = s.read("reversal.json")[:-9]
        s.files["reversal.json"] = bad
        r2 = Rig(storage=s, center=r.center)
        contains(r2.screen_flat(), "已从备份恢复", repr(bad))
        r2.press("ENTER")
        txhelp.buy(r2, "500")
        eq([q["mti"] for q in r.center.requests[-2:]], ["0400", "0200"], repr(bad))
        eq(r.center.last("0400")[11], rev["11"])
        eq(r2.t.state.reversal(), None)


def test_an_unreadable_reversal_is_never_dropped_silently():
    for bad in (b"{}", b'{"mti": "0400"', b"null"):
        s, r, rev = _timed_out()
        s.files["reversal.json"] = bad
        s.files["reversal.json.bak"] = bad
        r2 = Rig(storage=s, center=r.center)
        what = repr(bad)
        eq(r2.t.frame.text()[0].strip(), "冲正记录损坏", what)
        contains(r2.screen_flat(), "请联系收单行", what)
        true([e for e in r2.logs if "reversal.json" in e[2]], what + ": in the log")
        r2.press("ENTER", "123456", "ENTER", "ENTER")
        contains(r2.screen_flat(), "欢迎使用", what)
        eq(s.read("reversal.json.damaged-1"), bad, what + ": the damaged file is kept")
        true(s.read("reversal.json") is None, what)
        txhelp.buy(r2, "500")  # acknowledged: transactions go on (no system error)
        eq(r.center.requests[-1]["mti"], "0200", what)
        eq(len(r2.t.journal.entries()), 1, what)


def test_a_new_reversal_is_written_with_a_copy_and_dropped_with_it():
    s, r, rev = _timed_out()
    eq(s.read("reversal.json"), s.read("reversal.json.bak"))
    txhelp.buy(r, "500")
    true(s.read("reversal.json") is None and s.read("reversal.json.bak") is None)


def test_a_state_file_the_full_disk_refuses_stops_the_sale_before_anything_is_sent():
    s = faultstore.FullDisk()
    r = txhelp.rig(storage=s)
    s.full = True  # the trace cannot be saved: the request must not leave
    sent = len(r.center.requests)
    r.press("MENU", "1", "2", "1000", "ENTER", "CARD=" + txhelp.PAN, "123456", "ENTER")
    contains(r.screen_flat(), "存储空间不足")  # ENOSPC: the disk is full, said so
    contains(r.screen_flat(), "请联系维护")
    eq(len(r.center.requests), sent, "nothing sent")
    true(r.t.state.reversal() is None, "nothing to reverse")
    true([e for e in r.logs if "No space left" in e[2]], "the error in the log")
    s.full = False
    r.press("ENTER")
    txhelp.buy(r, "1000")
    eq(len(r.t.journal.entries()), 1, "business as usual once there is room")
    # another write error (EIO) is 存储失败: the terminal does not say the disk is full
    s.errno = 5
    s.full = True
    r.press("MENU", "1", "2", "1000", "ENTER", "CARD=" + txhelp.PAN, "123456", "ENTER")
    contains(r.screen_flat(), "存储失败")
    true("存储空间不足" not in r.screen_flat(), r.screen())


def test_a_full_disk_at_settlement_start_says_so_and_starts_no_settlement():
    # the job could not be saved: it stayed in RAM only (请先结算 refused every sale, a
    # restart forgot it) under 系统错误. Now 存储失败 under 结算, no job, nothing sent
    s = faultstore.FullDisk()
    r = txhelp.rig(storage=s)
    txhelp.buy(r, "1000")
    n = len(r.center.requests)
    s.full = True
    txhelp.settle(r)
    eq(r.t.state.extra.get("settle"), None, "no settlement only in RAM")
    contains(r.screen_flat(), "结算")
    contains(r.screen_flat(), "存储失败")
    contains(r.screen_flat(), "请联系维护")
    eq(len(r.center.requests), n, "nothing sent")
    true([e for e in r.logs if "settlement not started" in e[2]], "the log says why")
    s.full = False
    r.press("ENTER")
    txhelp.buy(r, "2000")  # the day goes on: no 请先结算
    eq([e["amount"] for e in r.t.journal.entries()], [1000, 2000])
    txhelp.settle(r)
    true(r.seen("对账平"), r.screen())
    eq(r.t.journal.entries(), [], "settled once there is room")


# -- a record torn by a power cut mid-append ------------------------------------------
def _cut_mid_append(kind, keep=None):
    # a day with one purchase, then the power lost while the next approval (a purchase or
    # a refund) is journalled -> (the storage, the center, the trace cut)
    s = faultstore.PowerCut()
    r = txhelp.rig(storage=s)
    txhelp.buy(r, "300")
    s.cut_at = s.appends + 1
    s.keep = keep
    try:
        if kind == "purchase":
            r.press("MENU", "1", "2", "1234", "ENTER", "CARD=" + txhelp.PAN, "123456", "ENTER")
        else:
            rrn = txhelp.last_of(r, "purchase")["rrn"]
            r.press("MENU", "1", "4", txhelp.SUPERVISOR, "ENTER", "CARD=" + txhelp.PAN, rrn,
                    "ENTER", "1123", "ENTER", "100", "ENTER", "123456", "ENTER")  # fmt: skip
        raise AssertionError("the power cut did not happen: " + r.screen())
    except faultstore.PowerLost:
        pass
    return s, r.center, r.t.state.trace - 1


def test_a_record_torn_by_a_power_cut_is_said_at_start_up_with_its_trace():
    # cut in its last bytes (the payload's closing brace and the CRC): every field whole,
    # in whatever order the interpreter's dict wrote them
    s, center, trace = _cut_mid_append("purchase", keep=-5)
    r = Rig(storage=s, center=center)
    eq(r.t.frame.text()[0].strip(), "流水缺失")
    contains(r.screen_flat(), "最后一笔记录缺失")
    contains(r.screen_flat(), "凭证号:%06d" % trace)
    contains(r.screen_flat(), "该笔将自动冲正")  # the approval's reversal is still armed
    logs = [e[2] for e in r.logs if "cut short" in e[2]]
    eq(len(logs), 1, "one log line")
    contains(logs[0], "trace %06d" % trace)
    contains(logs[0], "its reversal is pending")
    r.press("ENTER")
    contains(r.screen_flat(), "欢迎使用")
    eq(len(r.t.journal.entries()), 1, "the whole record kept, the torn one cut")
    # the next sale sends the reversal first: the center gives the money back
    txhelp.buy(r, "500")
    rev = [q for q in center.requests if q["mti"] == "0400"]
    eq([q[11] for q in rev], ["%06d" % trace])
    # a restart after that finds a clean journal: no notice
    eq(Rig(storage=s, center=center).t.frame.text()[0].strip()[:4], "2026")


def test_a_torn_record_with_no_reversal_says_settlement_checks_it_with_the_center():
    s, center, trace = _cut_mid_append("refund")
    r = Rig(storage=s, center=center)
    eq(r.t.frame.text()[0].strip(), "流水缺失")
    true(r.t.state.reversal() is None, "a refund is not reversed")
    contains(r.screen_flat(), "结算时与中心对账")
    contains([e[2] for e in r.logs if "cut short" in e[2]][0], "settlement compares")
    r.press("ENTER")
    contains(r.screen_flat(), "欢迎使用")
    # (the center's books differ at settlement: tests/test_torn_journal_day.py, real center)


def test_a_record_torn_before_its_trace_is_still_said():
    s, center, _trace = _cut_mid_append("purchase", keep=9)
    r = Rig(storage=s, center=center)
    eq(r.t.frame.text()[0].strip(), "流水缺失")
    true("凭证号" not in r.screen_flat(), r.screen())
    contains(r.screen_flat(), "该笔将自动冲正")


class _NoRemove(faultstore.FullDisk):
    # the reversal's file cannot be removed (an I/O error) while `stuck`
    def __init__(self):
        faultstore.FullDisk.__init__(self)
        self.stuck = False

    def remove(self, name):
        if self.stuck and name.startswith("reversal.json"):
            raise OSError(5, "Input/output error")
        faultstore.FullDisk.remove(self, name)


def test_an_approval_journalled_whose_reversal_cannot_be_cleared_is_kept_never_reversed():
    # the approval is in the journal, then clearing its reversal fails (the disk): the sale
    # is kept (the journal is what counts), its reversal never goes, and its slip prints
    s = _NoRemove()
    r = txhelp.rig(storage=s)
    s.stuck = True
    r.press("MENU", "1", "2", "1234", "ENTER", "CARD=" + txhelp.PAN, "123456", "ENTER")
    eq([e["amount"] for e in r.t.journal.entries()], [1234], "journalled")
    s.stuck = False
    r.press("ENTER", "ENTER", "CANCEL", "CANCEL")
    txhelp.buy(r, "500")
    eq([q["mti"] for q in r.center.requests if q["mti"] in ("0200", "0400")], ["0200", "0200"],
       "the journalled sale is never reversed")  # fmt: skip
    eq(r.t.state.reversal(), None)
    eq([e["amount"] for e in r.t.journal.entries()], [1234, 500])
    true(len(_traces_on_slips(r)) >= 2, "both sales' slips: %r" % (r.receipts,))


def test_a_reversal_given_up_on_a_full_disk_says_so_and_is_journalled_once_later():
    # its last try unanswered while the disk fills: the unconfirmed record cannot be
    # journalled. No 系统错误 with an OS error's text: 存储失败 / 请联系维护, the sale not
    # sent, the reversal kept armed; with room again the record is written once, the
    # reversal dropped, the sale goes
    s = faultstore.FullDisk()
    r = txhelp.rig(storage=s)
    r.t.state.params["retries"] = 1
    r.center.then("timeout")
    r.press("MENU", "1", "2", "1000", "ENTER", "CARD=" + txhelp.PAN, "123456", "ENTER")
    r.press("CANCEL", "CANCEL")
    real = r.center.answer

    def answer(frame, timeout=None):
        ev = real(frame, timeout)
        if frame[13:15] == b"\x04\x00":  # the reversal's try: no answer, the disk fills
            s.full = True
            return ("timeout",)
        return ev

    r.center.answer = answer
    r.press("MENU", "1", "2", "2000", "ENTER", "CARD=" + txhelp.PAN, "123456", "ENTER")
    contains(r.screen_flat(), "存储失败")
    true("系统错误" not in r.screen_flat(), r.screen_flat())
    eq([q["mti"] for q in r.center.requests][-2:], ["0200", "0400"], "the sale not sent")
    true(r.t.state.reversal() is not None, "armed until its record is written")
    s.full = False
    r.center.answer = real
    r.press("ENTER", "CANCEL", "CANCEL")
    slips = len(r.receipts)
    m = r.mark()
    txhelp.buy(r, "3000")
    true(not [x for x in r.texts_since(m) if "reversal_fail" in x], "no raw string key")
    eq(len(r.receipts) - slips, 2, "the sale's two copies, no slip for the reversal given up")
    eq([e["type"] for e in r.t.journal.entries()], ["reversal_failed", "purchase"])
    true(r.t.state.reversal() is None)
    eq([q["mti"] for q in r.center.requests].count("0400"), 1, "no reversal sent again")


def test_a_reversal_deleted_on_a_full_disk_is_not_deleted_and_says_so():
    # 删除冲正 when its record cannot be journalled: 存储失败, the reversal kept (it was
    # dropped with a 系统错误 and an OS error's text on screen, its record only in RAM)
    s = faultstore.FullDisk()
    r = txhelp.rig(storage=s)
    r.center.then("timeout")
    r.press("MENU", "1", "2", "100", "ENTER", "CARD=" + txhelp.PAN, "123456", "ENTER")
    r.press("CANCEL", "CANCEL")
    true(r.t.state.reversal() is not None)
    r.press("MENU", "3", "6", txhelp.SUPERVISOR, "ENTER")
    s.full = True  # the disk fills while the supervisor confirms
    r.press("ENTER")
    contains(r.screen_flat(), "存储失败")
    true("系统错误" not in r.screen_flat(), r.screen_flat())
    true(r.t.state.reversal() is not None, "not deleted")
    s.full = False
    r.press("ENTER", "CANCEL", "CANCEL", "MENU", "3", "6", txhelp.SUPERVISOR, "ENTER", "ENTER")
    contains(r.screen_flat(), "清除成功")
    eq([e["type"] for e in r.t.journal.entries()], ["reversal_failed"], "journalled once")
    eq(r.t.state.reversal(), None)
