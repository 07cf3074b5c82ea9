# A void's and a refund's original PAN (sealed in the journal: 3DES in Python, the slowest
# part of their keys on a board) is opened as a step of its own (pos.ui.work_step: a
# ("work", "card") step) once the screen it is checked behind is drawn: the void's
# confirmation of the original, the refund's amount prompt. With defer_work on (a board's
# loop) the screen is handed over first and the PAN is opened when the driver calls work();
# the checks are the same (a card that is not the original's is refused, a refund over
# what is left is refused) and every driver sees the same screens.
from mptest import eq, true
import mptest
import txhelp

PAN = txhelp.PAN
PAN2 = txhelp.PAN2
SUP = txhelp.SUPERVISOR


def _key_reads(r):
    # the terminal's data key read from its storage: a PAN opened (pos.vault.open_pan)
    reads = []
    real = r.storage.read

    def read(name):
        if name.startswith("pan.key"):
            reads.append(name)
        return real(name)

    r.storage.read = read
    return reads


def test_the_voids_original_pan_is_opened_after_its_confirmation_screen_is_drawn():
    for pan, ok in ((PAN, True), (PAN2, False)):
        r = txhelp.buy(txhelp.rig(), "1000")
        trace = txhelp.last_of(r, "purchase")["trace"]
        r.t.defer_work = True
        reads = _key_reads(r)
        m = r.mark()
        r.press("MENU", "1", "3", SUP, "ENTER", trace, "ENTER")
        eq(r.t.waiting_for(), "work", "the PAN is the next step")
        true(r.seen("10.00", m), "the original's screen is handed over first")
        eq(reads, [], "the PAN not opened yet")
        r.run(r.t.work())
        eq(len(reads), 1, "opened once, in the work step")
        eq(r.t.waiting_for(), "input")
        r.press("ENTER", "CARD=" + pan)
        eq(len(reads), 1, "the card checked against it: not opened again")
        if ok:
            true(r.seen("请输入密码"), r.screen_flat())
        else:
            true(r.seen("卡号与原交易不符"), r.screen_flat())


def test_the_void_finds_its_original_without_decoding_a_record_and_reads_it_in_the_work_step():
    # the key that ends the trace reads the original's type, trace and amount from its bytes
    # (pos.journal.naming); the record is decoded once its screen is drawn, with its PAN, and
    # the request still carries its RRN, auth code, batch and trace
    from pos import journal

    r = txhelp.buy(txhelp.rig(), "1000")
    e = txhelp.last_of(r, "purchase")
    r.t.defer_work = True
    decoded = []
    real = mptest.spy(journal, "_record_at", decoded)
    try:
        r.press("MENU", "1", "3", SUP, "ENTER", e["trace"], "ENTER")
        eq(r.t.waiting_for(), "work")
        true(r.seen("10.00") and r.seen(e["trace"]), r.screen_flat())
        eq(decoded, [], "no record decoded to find and show the original")
        r.run(r.t.work())
        eq(len(decoded), 1, "the original decoded once, in the work step")
    finally:
        journal._record_at = real
    r.press("ENTER", "CARD=" + PAN, "ENTER")
    q = r.center.last("0200")
    eq((q[37], q[38], q[61]), (e["rrn"], e["auth"], e["batch"] + e["trace"]))


def test_the_refunds_original_is_looked_up_after_the_amount_screen_is_drawn():
    for amount, refused in (("500", False), ("1500", True)):
        r = txhelp.buy(txhelp.rig(), "1000")
        rrn = txhelp.last_of(r, "purchase")["rrn"]
        date = txhelp.last_of(r, "purchase")["date"][4:8]
        r.t.defer_work = True
        reads = _key_reads(r)
        r.press("MENU", "1", "4", SUP, "ENTER", "CARD=" + PAN, rrn, "ENTER", date, "ENTER")
        eq(r.t.waiting_for(), "work", "the original's look-up is the next step")
        eq(reads, [], "the PAN not opened yet")
        true(r.seen("请输入退货金额"), "the amount's screen is handed over first")
        r.run(r.t.work())
        eq(len(reads), 1, "the original's PAN opened in the work step")
        m = r.mark()
        r.press(amount, "ENTER")
        if refused:
            true(r.seen("退货金额超过原交易", m), r.texts_since(m))
        else:
            true(r.seen("请输入密码", m) and not r.seen("超过", m), r.texts_since(m))
        eq(len(reads), 1)


def test_without_deferred_work_a_void_and_a_refund_show_the_same_screens():
    shown = []
    for defer in (False, True):
        r = txhelp.buy(txhelp.rig(), "1000")
        e = txhelp.last_of(r, "purchase")
        r.t.defer_work = defer
        m = r.mark()
        for tok in (
            "MENU",
            "1",
            "3",
            SUP,
            "ENTER",
            e["trace"],
            "ENTER",
            "ENTER",
            "CARD=" + PAN2,
            "ENTER",
            "MENU",
            "1",
            "4",
            SUP,
            "ENTER",
            "CARD=" + PAN,
            e["rrn"],
            "ENTER",
            e["date"][4:8],
            "ENTER",
            "2000",
            "ENTER",
            "ENTER",
        ):
            r.press(tok)
            while r.t.waiting_for() == "work":
                r.run(r.t.work())
        shown.append(r.texts_since(m))
    eq(shown[0], shown[1])
