# pos.emv.kernel against the virtual card (pos.emv.card), at the APDU level: selection,
# the read, CVM, the cryptograms, the issuer's answer (ARPC, scripts), field 55.
from mptest import contains, eq, raises, true
from pos.emv import card as emvcard
from pos.emv import apdu, crypto, finish, kernel, tlv
from pos.flows import chipdone

H = bytes.fromhex
IMK = H("0123456789ABCDEFFEDCBA9876543210")
PAN = "6212142000000000012"
TERM = {0x9F02: H("000000012345"), 0x9F03: bytes(6), 0x9A: H("261201"), 0x9C: b"\x00",
        0x9F37: H("A1B2C3D4"), 0x9F1E: b"12345678", 0x9F41: H("00000007")}  # fmt: skip
UNIONPAY = [H("A000000333")]


def spec(**more):
    s = {"pan": PAN, "seq": "01", "expiry": "3012", "pin": "123456", "imk_ac": IMK.hex(),
         "label": "UnionPay Debit"}  # fmt: skip
    for k in more:
        s[k] = more[k]
    return s


def read(c, contactless=False):
    apps = kernel.candidates(c, UNIONPAY, contactless)
    return kernel.start(c, apps[0][0], TERM)


def issuer_key(ctx):
    mk = crypto.icc_master_key(IMK, PAN, "01")
    return crypto.session_key(mk, ctx[0x9F36])


def test_the_read_gives_the_card_data_the_request_needs():
    ctx = read(emvcard.Card(spec()))
    eq(apdu.pan(ctx), PAN)
    eq(apdu.expiry(ctx), "3012")
    eq(kernel.pan_seq(ctx), "01")
    true(apdu.track2(ctx).startswith(PAN + "=3012"))
    eq(ctx["aid"], emvcard.DEBIT)
    eq(ctx[0x95][0] & 0x80, 0x80, "offline data authentication not performed")


def test_two_applications_are_offered_in_the_cards_priority_order():
    apps = [{"aid": emvcard.CREDIT, "label": "Credit", "priority": 2},
            {"aid": emvcard.DEBIT, "label": "Debit", "priority": 1}]  # fmt: skip
    c = emvcard.Card(spec(apps=apps))
    got = kernel.candidates(c, UNIONPAY)
    eq([a[1] for a in got], ["Debit", "Credit"])
    true(kernel.must_choose(got))
    ctx = kernel.start(c, got[1][0], TERM)
    eq(ctx["aid"], emvcard.CREDIT)
    eq(ctx["label"], "Credit")


def test_a_tap_selects_through_the_ppse():
    c = emvcard.Card(spec())
    got = kernel.candidates(c, UNIONPAY, True)
    eq(got[0][0], H(emvcard.DEBIT))
    true(not kernel.must_choose(got))


def test_an_application_the_terminal_does_not_know_is_no_application():
    with raises(kernel.NoApplication):
        kernel.candidates(emvcard.Card(spec()), [H("A000000003")])


def test_a_dead_chip_raises_chip_error():
    with raises(kernel.ChipError):
        kernel.candidates(emvcard.Card(spec(broken=True)), UNIONPAY)


def test_the_offline_pin_is_verified_by_the_card_and_a_wrong_one_counts_down():
    c = emvcard.Card(spec(offline_pin=True))
    ctx = read(c)
    plan = kernel.cvm_plan(ctx)
    eq(plan[0][0], kernel.CVM_OFFLINE_PIN)
    true(plan[0][1], "apply the next rule if it fails")
    eq(kernel.verify(c, ctx, "000000"), "wrong")
    eq(ctx["pin_tries"], 2)
    eq(kernel.verify(c, ctx, "123456"), "ok")
    apdu.cvm_done(ctx, kernel.CVM_OFFLINE_PIN, 3, 2)
    eq(ctx[0x9F34], H("010302"))


def test_a_card_without_offline_pin_asks_for_the_online_pin_and_a_tap_under_the_limit_none():
    ctx = read(emvcard.Card(spec()))
    eq(kernel.cvm_plan(ctx)[0][0], kernel.CVM_ONLINE_PIN)
    eq(kernel.cvm_plan(ctx, True), [(kernel.CVM_NONE, False, 0)])
    apdu.cvm_done(ctx, kernel.CVM_ONLINE_PIN, 3, 0)
    eq(ctx[0x95][2] & 0x04, 0x04, "online PIN entered")


def test_the_arqc_is_the_issuers_and_field_55_carries_the_cup_objects():
    c = emvcard.Card(spec())
    ctx = read(c)
    apdu.cvm_done(ctx, kernel.CVM_ONLINE_PIN, 3, 0)
    chipdone.risk(ctx, 0)
    eq(chipdone.first_ac(c, ctx), "ARQC")
    f55 = chipdone.field55(ctx)
    got = tlv.flatten(f55)
    for tag in chipdone.F55_TAGS:
        if tag not in (0x9F63, 0x9F66):  # 9F66: a tap's
            contains(got, tag)
    cdol1 = tlv.build_dol_data(emvcard.CDOL1, got)
    want = crypto.cryptogram(issuer_key(ctx), crypto.ac_data(cdol1, got[0x82], got[0x9F36],
                                                              got[0x9F10]))  # fmt: skip
    eq(got[0x9F26], want)
    rev = tlv.decode(finish.reversal_subset(f55))
    eq([t for t, _ in rev], [0x95, 0x9F1E, 0x9F10, 0x9F36])
    from pos.flows import reversal

    eq(reversal.chip_tags(f55), finish.reversal_subset(f55), "the reversal's own scan")
    eq(reversal.chip_tags(f55[:-3]), b"", "a 55 cut short gives no tag set")


def _online(c, ctx, arc=b"00", good=True, scripts=()):
    sk = issuer_key(ctx)
    arpc = crypto.arpc1(sk, ctx[0x9F26], arc)
    if not good:
        arpc = bytes(8)
    items = [(0x91, arpc + arc)]
    for s in scripts:
        items.append(s)
    return tlv.build(items)


def test_a_good_arpc_gives_a_tc_and_a_bad_one_an_aac():
    c = emvcard.Card(spec())
    ctx = read(c)
    chipdone.first_ac(c, ctx)
    eq(finish.complete(c, ctx, _online(c, ctx), b"00", True), "TC")
    eq(ctx[0x9B][0] & 0x10, 0x10, "issuer authentication performed")
    eq(ctx[0x95][4] & 0x40, 0, "issuer authentication passed")
    c2 = emvcard.Card(spec())
    ctx = read(c2)
    chipdone.first_ac(c2, ctx)
    eq(finish.complete(c2, ctx, _online(c2, ctx, good=False), b"00", True), "AAC")
    eq(ctx[0x95][4] & 0x40, 0x40, "issuer authentication failed")


def test_a_decline_or_no_answer_ends_with_an_aac():
    c = emvcard.Card(spec())
    ctx = read(c)
    chipdone.first_ac(c, ctx)
    eq(finish.complete(c, ctx, b"", b"Z3", False), "AAC")
    eq(ctx[0x8A], b"Z3")


def test_a_card_that_declines_offline_gives_an_aac_to_the_first_generate_ac():
    c = emvcard.Card(spec(decline_offline=True))
    ctx = read(c)
    eq(chipdone.first_ac(c, ctx), "AAC")


def _script(c, ctx, ins, mac_ok=True):
    mk = crypto.icc_master_key(IMK, PAN, "01")
    sk = crypto.session_key(mk, ctx[0x9F36])
    header = bytes((0x84, ins, 0, 0, 4))
    mac = crypto.mac3(sk, header + ctx[0x9F36] + ctx[0x9F26])[:4]
    if not mac_ok:
        mac = bytes(4)
    return (0x72, [(0x9F18, H("00000001")), (0x86, header + mac)])


def test_an_issuer_script_after_the_tc_unblocks_the_pin_and_its_result_is_in_df31():
    s = spec(offline_pin=True, pin_tries=1)
    c = emvcard.Card(s)
    ctx = read(c)
    chipdone.first_ac(c, ctx)
    reply = _online(c, ctx, scripts=[_script(c, ctx, 0x24)])
    eq(finish.complete(c, ctx, reply, b"00", True), "TC")
    eq(s["pin_tries"], 3)
    eq(ctx[0xDF31], H("2000000001"))
    eq(ctx[0x9B][0] & 0x04, 0x04, "script processing performed")
    tlv.decode(finish.script55(ctx))


def test_a_script_with_a_bad_mac_is_refused_and_says_so():
    s = spec()
    c = emvcard.Card(s)
    ctx = read(c)
    chipdone.first_ac(c, ctx)
    reply = _online(c, ctx, scripts=[_script(c, ctx, 0x1E, mac_ok=False)])
    eq(finish.complete(c, ctx, reply, b"00", True), "TC")
    true(not s.get("blocked"))
    eq(ctx[0xDF31], H("1100000001"))
    eq(ctx[0x95][4] & 0x10, 0x10, "script failed after the final generate ac")


def test_an_application_blocked_by_a_script_is_refused_next_time():
    s = spec()
    c = emvcard.Card(s)
    ctx = read(c)
    chipdone.first_ac(c, ctx)
    finish.complete(c, ctx, _online(c, ctx, scripts=[_script(c, ctx, 0x1E)]), b"00", True)
    true(s.get("blocked"))
    c = emvcard.Card(s)
    apps = kernel.candidates(c, UNIONPAY)
    with raises(kernel.NoApplication):
        kernel.start(c, apps[0][0], TERM)


class NoPse:
    # a card without the payment system directory: the terminal selects its AIDs in turn
    def __init__(self, card):
        self.card = card

    def reset(self):
        return self.card.reset()

    def apdu(self, cmd):
        if cmd[1] == 0xA4 and b"1PAY.SYS.DDF01" in cmd:
            return b"\x6a\x82"
        return self.card.apdu(cmd)


def test_a_card_without_a_directory_is_found_through_the_terminals_aid_list():
    c = NoPse(emvcard.Card(spec()))
    got = kernel.candidates(c, [H(emvcard.CREDIT), H(emvcard.DEBIT)])
    eq([a[0] for a in got], [H(emvcard.DEBIT)])
    eq(got[0][1], "UnionPay Debit")
    ctx = kernel.start(c, got[0][0], TERM)
    eq(apdu.pan(ctx), PAN)


def test_a_reader_that_fails_is_a_chip_error_not_a_crash():
    class Dead:
        def reset(self):
            return b"\x3b"

        def apdu(self, cmd):
            raise OSError("reader unplugged")

    with raises(kernel.ChipError):
        kernel.candidates(Dead(), UNIONPAY)


TTQ = H("26000080")  # qPBOC, online PIN, signature


class Tracing:
    # the card behind a reader that records the commands (INS) it is sent
    def __init__(self, card):
        self.card = card
        self.ins = []

    def reset(self):
        return self.card.reset()

    def apdu(self, cmd):
        self.ins.append(cmd[1])
        return self.card.apdu(cmd)


def _tap(c, ttq=TTQ):
    term = dict(TERM)
    term[0x9F66] = ttq
    apps = kernel.candidates(c, UNIONPAY, True)
    return kernel.start(c, apps[0][0], term)


def test_a_qpboc_card_answers_the_tap_gpo_with_the_arqc_and_no_generate_ac_follows():
    card = emvcard.Card(spec())
    c = Tracing(card)
    ctx = _tap(c)
    eq(apdu.pan(ctx), PAN)
    eq(apdu.expiry(ctx), "3012")
    eq(kernel.pan_seq(ctx), "01")
    eq(kernel.cvm_plan(ctx), [(kernel.CVM_ONLINE_PIN, False, 0)], "no offline PIN on a tap")
    apdu.cvm_done(ctx, kernel.CVM_ONLINE_PIN, 0, 0)
    chipdone.risk(ctx, 0)
    eq(chipdone.first_ac(c, ctx), "ARQC")
    true(0xAE not in c.ins, "no GENERATE AC")
    eq(c.ins.count(0xA8), 1)
    eq(card.spec["atc"], 1)
    got = tlv.flatten(chipdone.field55(ctx))
    eq(got[0x9F66], TTQ)
    eq(got[0x9F27], b"\x80")
    # the cryptogram covers the TVR the GPO sent (what field 55 carries), over CDOL1's objects
    cdol1 = tlv.build_dol_data(emvcard.CDOL1, got)
    want = crypto.cryptogram(issuer_key(ctx), crypto.ac_data(cdol1, got[0x82], got[0x9F36],
                                                              got[0x9F10]))  # fmt: skip
    eq(got[0x9F26], want)
    # the card's transaction is over: a GENERATE AC now is out of order
    eq(card.apdu(H("80AE800000")), emvcard.SW_OUT_OF_ORDER)


def test_the_kernel_takes_the_full_flow_when_the_cards_tap_gpo_carries_no_cryptogram():
    for more, ttq in (({"qpboc": False}, TTQ), ({}, H("86000080"))):  # no qPBOC card / TTQ
        c = Tracing(emvcard.Card(spec(**more)))
        ctx = _tap(c, ttq)
        true("qpboc" not in ctx)
        chipdone.risk(ctx, 0)
        eq(chipdone.first_ac(c, ctx), "ARQC")
        eq(c.ins.count(0xAE), 1, "the first GENERATE AC")


def test_a_qpboc_card_that_declines_gives_an_aac_in_its_gpo_answer():
    c = emvcard.Card(spec(decline_offline=True))
    ctx = _tap(c)
    eq(chipdone.first_ac(c, ctx), "AAC")


def test_a_script_71_runs_before_the_final_generate_ac_and_a_failed_one_says_so():
    s = spec()
    c = emvcard.Card(s)
    ctx = read(c)
    chipdone.first_ac(c, ctx)
    block = _script(c, ctx, 0x1E)
    reply = _online(c, ctx, scripts=[(0x71, block[1])])
    eq(finish.complete(c, ctx, reply, b"00", True), "AAC", "blocked before it: no TC")
    eq(ctx[0xDF31], H("2000000001"))
    c = emvcard.Card(spec())
    ctx = read(c)
    chipdone.first_ac(c, ctx)
    bad = _script(c, ctx, 0x24, mac_ok=False)
    eq(finish.complete(c, ctx, _online(c, ctx, scripts=[(0x71, bad[1])]), b"00", True), "TC")
    eq(ctx[0xDF31], H("1100000001"))
    eq(ctx[0x95][4] & 0x20, 0x20, "script failed before the final generate ac")


def test_a_qpboc_cards_ctq_says_which_cvm_above_the_limit():
    eq(kernel.cvm_plan(_tap(emvcard.Card(spec())))[0][0], kernel.CVM_ONLINE_PIN)
    eq(kernel.cvm_plan(_tap(emvcard.Card(spec(ctq="4000"))))[0][0], kernel.CVM_SIGNATURE)
    eq(kernel.cvm_plan(_tap(emvcard.Card(spec(ctq="4000"))), True)[0][0], kernel.CVM_NONE)
