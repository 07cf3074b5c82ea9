# pos.emv.card: the virtual chip card at the APDU level, as a terminal talks to it.
from emvwalk import H, TERMINAL, cmd, read_record, select, send, walk_to_arqc
from mptest import contains, eq, raises, true
from pos.emv import card as emvcard
from pos.emv import crypto, tlv

IMK = H("0123456789ABCDEFFEDCBA9876543210")


def debit(**more):
    spec = {"pan": "6212142000000000012", "seq": "01", "expiry": "3012", "holder": "ZHANG SAN",
            "label": "UnionPay Debit", "aid": emvcard.DEBIT, "imk_ac": IMK.hex(), "pin": "123456"}
    for k in more:
        spec[k] = more[k]
    return spec


def online_answer(arc):
    # what the terminal sends in the second GENERATE AC: the ARC (8A) and what it sent before
    values = {}
    for tag in TERMINAL:
        values[tag] = TERMINAL[tag]
    values[0x8A] = arc
    return values


def test_a_whole_transaction_walk_ends_in_an_arqc_the_issuer_can_recompute():
    spec = debit()
    card = emvcard.Card(spec)
    true(card.reset()[0] == 0x3B)
    seen = walk_to_arqc(card, "123456")
    eq(seen[0x84], H(emvcard.DEBIT))
    eq(seen[0x50], b"UnionPay Debit")
    eq(seen[0x5A], H("6212142000000000012F"))
    eq(seen[0x5F34], H("01"))
    eq(seen[0x5F24], H("301231"))
    eq(seen[0x57][:10], H("6212142000000000012D"))
    eq(seen[0x5F20], b"ZHANG SAN")
    eq(seen[0x9F27], H("80"))
    eq(seen[0x9F36], H("0001"))
    eq(spec["atc"], 1)
    iad = seen[0x9F10]
    eq(iad, H("07010103A40000"))  # ARQC in the first GENERATE AC, offline PIN performed
    # the issuer's side: derive the card's key from the IMK, the session key from the ATC
    mk = crypto.icc_master_key(IMK, "6212142000000000012", "01")
    sk = crypto.session_key(mk, seen[0x9F36])
    want = crypto.cryptogram(sk, seen["cdol1_data"] + seen[0x82] + seen[0x9F36] + iad[3:7])
    eq(seen[0x9F26], want)


def test_the_issuer_arpc_is_checked_by_the_card_and_the_second_ac_is_a_tc():
    card = emvcard.Card(debit())
    seen = walk_to_arqc(card, None)
    mk = crypto.icc_master_key(IMK, "6212142000000000012", "01")
    sk = crypto.session_key(mk, seen[0x9F36])
    arpc = crypto.arpc1(sk, seen[0x9F26], b"00")
    send(card, cmd(0x00, 0x82, 0, 0, arpc + b"00", le=False))
    cdol2 = tlv.build_dol_data(seen[0x8D], online_answer(b"00"))
    tc = tlv.flatten(send(card, cmd(0x80, 0xAE, 0x40, 0, cdol2)))
    eq(tc[0x9F27], H("40"))
    eq(tc[0x9F36], seen[0x9F36], "the second GENERATE AC keeps the ATC")
    iad = tc[0x9F10]
    eq(crypto.cryptogram(sk, cdol2 + seen[0x82] + tc[0x9F36] + iad[3:7]), tc[0x9F26])
    # the transaction is over: a third GENERATE AC is out of order
    eq(card.apdu(cmd(0x80, 0xAE, 0x40, 0, cdol2)), emvcard.SW_OUT_OF_ORDER)


def test_a_wrong_arpc_fails_and_the_card_then_gives_an_aac():
    card = emvcard.Card(debit())
    seen = walk_to_arqc(card, None)
    eq(card.apdu(cmd(0x00, 0x82, 0, 0, bytes(8) + b"00", le=False)), H("6300"))
    eq(card.apdu(cmd(0x00, 0x82, 0, 0, bytes(8) + b"00", le=False)), emvcard.SW_OUT_OF_ORDER)
    cdol2 = tlv.build_dol_data(seen[0x8D], online_answer(b"00"))
    aac = tlv.flatten(send(card, cmd(0x80, 0xAE, 0x40, 0, cdol2)))
    eq(aac[0x9F27], H("00"))
    eq(aac[0x9F10][4] & 0x08, 0x08, "CVR: issuer authentication failed")


def test_a_declined_online_answer_gets_an_aac_even_when_a_tc_is_asked():
    card = emvcard.Card(debit())
    seen = walk_to_arqc(card, None)
    cdol2 = tlv.build_dol_data(seen[0x8D], online_answer(b"51"))
    eq(tlv.flatten(send(card, cmd(0x80, 0xAE, 0x40, 0, cdol2)))[0x9F27], H("00"))


def test_atc_counts_transactions_and_lives_in_the_spec_dict():
    spec = debit(atc=41)
    card = emvcard.Card(spec)
    eq(tlv.flatten(send(card, cmd(0x80, 0xCA, 0x9F, 0x36))), {0x9F36: H("0029")})
    walk_to_arqc(card, None)
    eq(spec["atc"], 42)
    # a new card object from the same dict (the deck reloaded) carries on from there
    card = emvcard.Card(spec)
    seen = walk_to_arqc(card, None)
    eq(seen[0x9F36], H("002B"))


def test_wrong_pin_counts_down_63cx_then_blocks_with_6983():
    spec = debit()
    card = emvcard.Card(spec)
    select(card, H(emvcard.DEBIT))
    wrong = cmd(0x00, 0x20, 0x00, 0x80, H("24" "1111" "FFFFFFFFFF"), le=False)
    right = cmd(0x00, 0x20, 0x00, 0x80, H("26" "123456" "FFFFFFFF"), le=False)
    eq(card.apdu(wrong), H("63C2"))
    eq(tlv.flatten(send(card, cmd(0x80, 0xCA, 0x9F, 0x17))), {0x9F17: H("02")})
    eq(card.apdu(right), H("9000"))
    eq(spec["pin_tries"], 3, "a right PIN resets the counter")
    eq(card.apdu(wrong), H("63C2"))
    eq(card.apdu(wrong), H("63C1"))
    eq(card.apdu(wrong), H("63C0"))
    eq(card.apdu(right), H("6983"), "blocked: even the right PIN is refused")
    eq(spec["pin_tries"], 0)


def test_bad_pin_blocks_and_enciphered_pin_are_refused():
    card = emvcard.Card(debit())
    select(card, H(emvcard.DEBIT))
    eq(card.apdu(cmd(0x00, 0x20, 0x00, 0x80, H("16123456FFFFFFFF"), le=False)), H("6A80"))
    eq(card.apdu(cmd(0x00, 0x20, 0x00, 0x80, H("261234A6FFFFFFFF"), le=False)), H("6A80"))
    eq(card.apdu(cmd(0x00, 0x20, 0x00, 0x80, H("26123456FFFF"), le=False)), H("6700"))
    eq(card.apdu(cmd(0x00, 0x20, 0x00, 0x88, H("26123456FFFFFFFF"), le=False)), H("6A86"))


def test_ppse_lists_the_applications_and_partial_aid_selects_each_in_turn():
    spec = debit(apps=[{"aid": emvcard.DEBIT, "label": "UnionPay Debit", "priority": 1},
                       {"aid": emvcard.CREDIT, "label": "UnionPay Credit", "priority": 2}])
    card = emvcard.Card(spec)
    fci = select(card, b"2PAY.SYS.DDF01")
    aids = [v for t, v, _ in tlv.walk(fci) if t == 0x4F]
    eq(aids, [H(emvcard.DEBIT), H(emvcard.CREDIT)])
    eq(read_record(card, 1, 1), emvcard.SW_NOT_FOUND)
    first = select(card, H("A000000333"))
    eq(tlv.find(first, 0x84), H(emvcard.DEBIT))
    second = select(card, H("A000000333"), p2=2)
    eq(tlv.find(second, 0x84), H(emvcard.CREDIT))
    eq(tlv.find(second, 0x50), b"UnionPay Credit")
    eq(card.apdu(cmd(0x00, 0xA4, 0x04, 0x02, H("A000000333"))), emvcard.SW_NOT_FOUND)
    eq(card.apdu(cmd(0x00, 0xA4, 0x04, 0x00, H("A000000004"))), emvcard.SW_NOT_FOUND)


def test_pse_directory_record_names_the_application():
    card = emvcard.Card(debit(aid=emvcard.CREDIT, label="UnionPay Credit"))
    select(card, b"1PAY.SYS.DDF01")
    rec = read_record(card, 1, 1)
    eq(rec[-2:], H("9000"))
    flat = tlv.flatten(rec[:-2])
    eq(flat[0x4F], H(emvcard.CREDIT))
    eq(flat[0x50], b"UnionPay Credit")
    eq(read_record(card, 1, 2), emvcard.SW_NO_RECORD)


def test_commands_out_of_order_or_unknown_get_their_status_words():
    card = emvcard.Card(debit())
    cdol1 = bytes(29)
    eq(card.apdu(cmd(0x80, 0xAE, 0x80, 0, cdol1)), H("6985"), "GENERATE AC before GPO")
    eq(card.apdu(cmd(0x80, 0xA8, 0, 0, H("830400000000"))), H("6985"), "GPO before SELECT")
    eq(card.apdu(cmd(0x00, 0x20, 0x00, 0x80, H("26123456FFFFFFFF"), le=False)), H("6985"))
    eq(card.apdu(cmd(0x00, 0x84, 0, 0)), H("6D00"), "GET CHALLENGE is not held")
    eq(card.apdu(cmd(0x80, 0xA4, 0x04, 0, b"1PAY.SYS.DDF01")), H("6E00"))
    eq(card.apdu(H("00A4")), H("6700"))
    eq(card.apdu(H("00A4040005A0000003")), H("6700"), "Lc says 5, 4 bytes follow")
    eq(card.apdu(cmd(0x00, 0xA4, 0x00, 0x00, H("3F00"))), H("6A81"))
    select(card, H(emvcard.DEBIT))
    eq(card.apdu(cmd(0x80, 0xA8, 0, 0, H("8300"))), H("6700"), "PDOL data missing")
    eq(card.apdu(cmd(0x80, 0xA8, 0, 0, H("9F0100"))), H("6A80"))
    eq(card.apdu(cmd(0x80, 0xCA, 0x9F, 0x4F)), H("6A88"))
    eq(read_record(card, 3, 1), H("6A83"))
    eq(read_record(card, 1, 0), H("6A86"))
    send(card, cmd(0x80, 0xA8, 0, 0, H("8309") + bytes(9)))
    eq(card.apdu(cmd(0x80, 0xA8, 0, 0, H("8309") + bytes(9))), H("6985"), "GPO twice")
    eq(card.apdu(cmd(0x80, 0xAE, 0x80, 0, bytes(28))), H("6700"), "CDOL1 data short")
    eq(card.apdu(cmd(0x80, 0xAE, 0xC0, 0, cdol1)), H("6A86"))
    eq(card.apdu(cmd(0x80, 0xAE, 0x90, 0, cdol1)), H("6A86"), "CDA is not held")
    eq(card.apdu(cmd(0x00, 0x82, 0, 0, bytes(10), le=False)), H("6985"), "no ARQC yet")


def test_an_offline_tc_or_aac_in_the_first_generate_ac_ends_the_transaction():
    for p1, cid in ((0x40, H("40")), (0x00, H("00"))):
        card = emvcard.Card(debit())
        select(card, H(emvcard.DEBIT))
        send(card, cmd(0x80, 0xA8, 0, 0, H("8309") + bytes(9)))
        r = tlv.flatten(send(card, cmd(0x80, 0xAE, p1, 0, bytes(29))))
        eq(r[0x9F27], cid)
        eq(card.apdu(cmd(0x80, 0xAE, 0x00, 0, bytes(31))), H("6985"))


def test_a_broken_chip_answers_6f00_to_everything():
    card = emvcard.Card(debit(broken=True))
    for apdu in (cmd(0x00, 0xA4, 0x04, 0, b"1PAY.SYS.DDF01"), cmd(0x80, 0xCA, 0x9F, 0x36),
                 H("00")):
        eq(card.apdu(apdu), H("6F00"))


def test_the_cvm_list_asks_for_offline_pin_only_when_the_card_says_so():
    for offline, first_rule in ((True, H("4103")), (False, H("4203"))):
        card = emvcard.Card(debit(offline_pin=offline))
        select(card, H(emvcard.DEBIT))
        flat = tlv.flatten(read_record(card, 2, 1)[:-2])
        eq(flat[0x8E][8:10], first_rule)


def test_a_card_dict_that_cannot_make_a_card_names_the_key():
    for key, value in (("pan", "62121420"), ("pan", None), ("expiry", "3013"), ("imk_ac", "XY"),
                       ("imk_ac", "0011"), ("pin", "12"), ("atc", -1), ("atc", 70000),
                       ("holder", "张三"), ("aid", "A0")):
        with raises(emvcard.CardSpecError) as caught:
            emvcard.Card(debit(**{key: value}))
        eq(caught.value.key, key)
        contains(str(caught.value), key)


def test_the_card_dict_stays_plain_json_through_a_transaction():
    import json

    spec = debit()
    card = emvcard.Card(spec)
    seen = walk_to_arqc(card, "123456")
    mk = crypto.icc_master_key(IMK, "6212142000000000012", "01")
    sk = crypto.session_key(mk, seen[0x9F36])
    send(card, cmd(0x00, 0x82, 0, 0, crypto.arpc1(sk, seen[0x9F26], b"00") + b"00", le=False))
    again = json.loads(json.dumps(spec))
    eq(again["atc"], 1)
    eq(again["pin_tries"], 3)
    eq(again["last_online_atc"], 1)
    eq(tlv.flatten(send(emvcard.Card(again), cmd(0x80, 0xCA, 0x9F, 0x13))), {0x9F13: H("0001")})


def test_an_exhausted_atc_refuses_the_generate_ac_and_does_not_wrap():
    spec = debit(atc=0xFFFF)
    card = emvcard.Card(spec)
    select(card, H(emvcard.DEBIT))
    send(card, cmd(0x80, 0xA8, 0, 0, H("8309") + bytes(9)))
    eq(card.apdu(cmd(0x80, 0xAE, 0x80, 0, bytes(29))), H("6985"))
    eq(spec["atc"], 0xFFFF)


def test_the_second_generate_ac_cannot_ask_for_another_arqc():
    card = emvcard.Card(debit())
    seen = walk_to_arqc(card, None)
    cdol2 = tlv.build_dol_data(seen[0x8D], online_answer(b"00"))
    eq(card.apdu(cmd(0x80, 0xAE, 0x80, 0, cdol2)), H("6A86"))
    eq(card.apdu(cmd(0x80, 0xAE, 0x40, 0, cdol2[:-1])), H("6700"), "CDOL2 data short")
    eq(tlv.flatten(send(card, cmd(0x80, 0xAE, 0x00, 0, cdol2)))[0x9F27], H("00"))
