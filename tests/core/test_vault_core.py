# Card numbers at rest (pos.vault): the journal and the pending reversal keep the PAN
# sealed under the terminal's own key and show it masked 6+4; the flows that need the
# whole number (void, refund, the batch upload) still get it.
from mptest import eq, true
from pos.journal import Journal
from pos.memstorage import MemoryStorage
from pos import vault
from pos.vault import KEY_FILE
import txhelp

PAN = txhelp.PAN


def _no_pan_in(s, what):
    for name in s.names():
        data = s.read(name)
        true(PAN.encode() not in data, "%s: the PAN in clear in %s" % (what, name))
        true(PAN[6:15].encode() not in data, "%s: the middle digits in %s" % (what, name))


def test_the_journal_and_the_reversal_keep_no_card_number_in_clear():
    r = txhelp.rig()
    txhelp.buy(r, "1000")
    r.center.then("timeout")
    r.press("MENU", "1", "2", "2000", "ENTER", "CARD=" + PAN, "123456", "ENTER", "CANCEL")
    true(r.storage.read("reversal.json") is not None, "a pending reversal")
    _no_pan_in(r.storage, "after a purchase and a timeout")
    e = r.t.journal.entries()[0]
    eq(e["pan"], "621214*********0012", "masked 6+4 in the record")
    eq(r.t.journal.pan(e), PAN)
    eq(r.t.state.reversal()["2"], PAN, "the reversal names the whole card to the center")
    eq(len(r.storage.read(KEY_FILE)), 16)
    # the reversal goes out with the whole PAN, the void checks the card
    txhelp.buy(r, "500")
    eq(r.center.last("0400")[2], PAN)
    trace = r.t.journal.entries()[0]["trace"]
    txhelp.void(r, trace)
    eq(r.t.journal.entries()[-1]["type"], "void")
    _no_pan_in(r.storage, "after a void")


def test_each_terminal_seals_under_its_own_key():
    a = MemoryStorage()
    b = MemoryStorage()
    sa = vault.seal(a, PAN)
    true(sa != vault.seal(b, PAN) and sa != vault.seal(a, PAN), "random IV, own key")
    eq(vault.open_pan(a, sa), PAN)
    eq(vault.open_pan(b, sa), "", "another terminal's key does not open it")
    for at in (3, 20, 40, 50):  # the IV, each cipher block, the MAC
        bad = sa[:at] + ("0" if sa[at] != "0" else "1") + sa[at + 1 :]
        eq(vault.open_pan(a, bad), "", "a damaged seal gives no number, never a wrong one")
    eq(vault.open_pan(a, "zz"), "")
    eq(vault.open_pan(MemoryStorage(), sa), "", "no key file: nothing")


def test_the_key_is_made_once_and_kept_with_a_copy():
    s = MemoryStorage()
    sealed = vault.seal(s, "6212140000000000")
    key = s.read(KEY_FILE)
    eq(s.read(KEY_FILE + ".bak"), key)
    eq(vault.seal(s, "6212140000000000") != sealed, True)
    eq(s.read(KEY_FILE), key, "made once")
    eq(vault.open_pan(s, sealed), "6212140000000000", "after a restart")
    s.files[KEY_FILE] = b"short"
    eq(vault.open_pan(s, sealed), "6212140000000000", "the copy is used when the key is damaged")


def test_a_journal_written_before_sealing_still_gives_its_pans():
    s = MemoryStorage()
    Journal(s).append({"type": "purchase", "trace": "000001", "pan": PAN, "amount": 1})
    j = Journal(s, seal=True)
    eq(j.pan(j.entries()[0]), PAN)
    j.append({"type": "purchase", "trace": "000002", "pan": PAN, "amount": 2})
    eq([j.pan(e) for e in j.entries()], [PAN, PAN])
    eq(j.entries()[1]["pan"], "621214*********0012")


def test_a_field_of_the_pending_reversal_is_replaced_with_its_pan_left_sealed():
    # the chip's end replaces 55 of the armed reversal (pos.flows.chipdone): the record on
    # the disk keeps its PAN sealed, nothing is opened, and the reversal reads back whole
    r = txhelp.rig()
    t = r.t
    t.state.set_reversal({"mti": "0400", "tries": 0, "2": PAN, "4": "000000001000",
                          "11": "000001", "55": "9F2608"})  # fmt: skip
    before = r.storage.read("reversal.json")
    sealed = t.state.reversal()
    eq(sealed["2"], PAN)
    true(t.state.update_reversal("55", "9F2701"), "replaced")
    after = r.storage.read("reversal.json")
    true(after != before and PAN.encode() not in after, "the PAN still sealed on the disk")
    rev = t.state.reversal()
    eq((rev["2"], rev["55"], rev["11"]), (PAN, "9F2701", "000001"))
    eq(t.state.update_reversal("60", "x"), False, "a field it does not have is not added")
    t.state.set_reversal(None)
    eq(t.state.update_reversal("55", "x"), False, "no reversal pending")
    eq(t.state.reversal(), None)
    _no_pan_in(r.storage, "after the update")
