"""Chip (插卡) and contactless (挥卡) purchases end to end: the terminal core driven through
posterm.driver.Driver against the bundled center, its virtual chip card (pos.emv.card) inserted
through the reader port.  What goes over the wire is checked with code nobody here wrote:
field 55 by pyemv's TLV decoder, the ARQC and the center's ARPC by pyemv's key derivation and
cryptograms."""

import pytest
from pos import iso8583
from pos.emv import card as emvcard
from pyemv import ac, kd
from pyemv import tlv as pyemv_tlv
from test_day import CARD, TID, Day

from posterm.host import emv
from posterm.host.store import DECK

pytestmark = pytest.mark.filterwarnings(
    "ignore::cryptography.utils.CryptographyDeprecationWarning"
)

F55_TAGS = ("9F26 9F27 9F10 9F37 9F36 95 9A 9C 9F02 5F2A 82 9F1A 9F03 9F33 9F34 9F35 9F1E 84 "
            "9F09 9F41").split()  # fmt: skip


class ChipDay(Day):
    def __init__(self, data_dir):
        super().__init__(data_dir)
        self.wire = []  # (request body dict, reply body dict)
        self.d.send_listeners.append(self._capture)

    def _capture(self, frame, event, ms):
        try:
            req = iso8583.decode(iso8583.unpack_frame(frame)[2])
            rep = None
            if event and event[0] == "reply":
                rep = iso8583.decode(iso8583.unpack_frame(event[1])[2])
        except iso8583.Iso8583Error:
            return
        self.wire.append((req, rep))

    def financial(self):
        return [w for w in self.wire if w[0]["mti"] in ("0200", "0400")]

    def insert(self, spec):
        self.d.feed(("chip", spec))
        return self

    def tap(self, spec):
        self.d.feed(("tap", spec))
        return self


@pytest.fixture
def day(tmp_path):
    d = ChipDay(tmp_path)
    d.sign_in()
    yield d
    d.close()


RID = bytes.fromhex("A000000333")


def deck_spec(pan=CARD, **more):
    spec = emv.card_spec([c for c in DECK if c["pan"] == pan][0])
    spec.update(more)
    return spec


def test_a_chip_purchase_sends_the_cup_objects_and_the_center_checks_the_arqc(day):
    spec = deck_spec()
    day.press("MENU", "1", "2", "12345", "ENTER").insert(spec).press("123456", "ENTER")
    req, rep = day.financial()[-1]
    assert req[22] == "051" and req[23] == "001" and req[60][-2:] == "50"
    assert req[2] == CARD and req[35].startswith(CARD + "=")
    tags = pyemv_tlv.decode(req[55])
    for tag in F55_TAGS:
        assert tag in tags, tag
    assert tags["9F27"] == b"\x80" and tags["84"] == bytes.fromhex(emvcard.DEBIT)
    assert tags["9F02"] == bytes.fromhex("000000012345") and tags["5F2A"] == b"\x01\x56"
    # the issuer's side recomputed by pyemv: card key (option A), session key, ARQC
    imk = bytes.fromhex(emv.TEST_IMK_AC)
    mk = kd.derive_icc_mk_a(imk, CARD, "01")
    sk = kd.derive_common_sk(mk, tags["9F36"] + bytes(6))
    cdol1 = b"".join(tags[t] for t in ("9F02", "9F03", "9F1A", "95", "5F2A", "9A", "9C", "9F37"))
    data = cdol1 + tags["82"] + tags["9F36"] + tags["9F10"][3:7]
    assert ac.generate_ac(sk, data) == tags["9F26"]
    # the answer: 00, and 91 = ARPC (method 1, by pyemv) || ARC
    assert rep[39] == "00"
    f91 = pyemv_tlv.decode(rep[55])["91"]
    assert f91 == ac.generate_arpc_1(sk, tags["9F26"], b"00") + b"00"
    # the card took the ARPC and gave a TC; the journal has it for the slip and the upload
    rec = day.journal("purchase")[-1]
    assert rec["entry"] == "05" and rec["ac_type"] == "TC" and rec["atc"] == "0001"
    assert spec["atc"] == 1 and spec["last_online_atc"] == 1  # issuer authentication passed
    slip = day.slip()
    assert "卡类型:IC卡" in slip and "AID:A000000333010101" in slip
    assert "TC:" + rec["ac"] in slip and "TVR:" + rec["tvr"] in slip and "TSI:" in slip
    tc = pyemv_tlv.decode(bytes.fromhex(rec["tc55"]))
    assert tc["9F27"] == b"\x40" and tc["8A"] == b"00"


def test_a_cryptogram_from_another_issuer_key_is_declined_05_and_nothing_is_journalled(day):
    spec = deck_spec(imk_ac="00112233445566778899AABBCCDDEEFF")
    m = day.mark()
    day.press("MENU", "1", "2", "5000", "ENTER").insert(spec).press("123456", "ENTER")
    assert day.financial()[-1][1][39] == "05"
    assert day.seen("应答码:05", m)
    assert day.journal("purchase") == []
    assert day.t.state.reversal() is None


def test_a_chip_card_swiped_is_refused_with_insert_card_and_then_inserted(day):
    track = CARD + "=3012220" + "0" * 8
    m = day.mark()
    day.press("MENU", "1", "2", "100", "ENTER", "CARD=" + CARD + "=" + track.split("=")[1])
    assert day.seen("请插卡", m)
    day.press("ENTER").insert(deck_spec()).press("123456", "ENTER")
    assert day.financial()[-1][0][22] == "051"
    assert day.journal("purchase")[-1]["entry"] == "05"


def test_a_chip_that_fails_three_times_lets_the_cashier_swipe_with_60_5_fallback(day):
    broken = deck_spec(broken=True)
    m = day.mark()
    day.press("MENU", "1", "2", "2000", "ENTER").insert(broken)
    assert day.seen("读卡失败,请重新插卡", m)
    day.insert(broken).insert(broken)
    assert day.seen("IC卡读卡失败,请刷卡", m)
    track = "3012220" + "0" * 8  # a chip card's stripe: service code 220, taken as fallback
    day.press("CARD=" + CARD + "=" + track, "123456", "ENTER")
    req, rep = day.financial()[-1]
    assert req[22] == "021" and req[60][-2:] == "52" and 55 not in req
    assert rep[39] == "00"
    assert day.journal("purchase")[-1]["entry"] == "02"


def test_a_card_that_declines_offline_is_told_on_screen_and_nothing_goes_online(day):
    spec = deck_spec(decline_offline=True)
    m = day.mark()
    sent = len(day.financial())
    day.press("MENU", "1", "2", "3000", "ENTER").insert(spec).press("123456", "ENTER")
    assert day.seen("卡片拒绝交易", m) and day.seen("请拔卡", m)
    assert len(day.financial()) == sent
    assert day.journal("purchase") == []


def test_a_tap_under_the_limit_asks_no_pin_and_the_slip_says_no_pin_no_signature(day):
    spec = deck_spec()
    day.press("MENU", "1", "2", "50000", "ENTER").tap(spec)
    req, rep = day.financial()[-1]
    assert req[22] == "072" and req[60][-2:] == "60" and 52 not in req
    assert rep[39] == "00"
    slip = day.slip()
    assert "免密免签" in slip and "持卡人签名" not in slip and "ARQC:" in slip
    assert "非接" in slip


class _Reader:
    """A contactless reader holding a virtual card: what the terminal sends it (INS bytes)."""

    def __init__(self, spec):
        self.card = emvcard.Card(spec)
        self.ins = []

    def reset(self):
        return self.card.reset()

    def apdu(self, cmd):
        self.ins.append(cmd[1])
        return self.card.apdu(cmd)


def _issuer_arqc(tags):
    # pyemv's ARQC over the CDOL1 objects field 55 carries (the issuer's check)
    mk = kd.derive_icc_mk_a(bytes.fromhex(emv.TEST_IMK_AC), CARD, "01")
    sk = kd.derive_common_sk(mk, tags["9F36"] + bytes(6))
    cdol1 = b"".join(tags[t] for t in ("9F02", "9F03", "9F1A", "95", "5F2A", "9A", "9C", "9F37"))
    return ac.generate_ac(sk, cdol1 + tags["82"] + tags["9F36"] + tags["9F10"][3:7])


def test_a_qpboc_tap_takes_the_cryptogram_from_the_gpo_and_goes_online_without_generate_ac(day):
    for amount, f22 in (("50000", "072"), ("100001", "071")):  # both sides of the 双免 limit
        reader = _Reader(deck_spec())
        day.press("MENU", "1", "2", amount, "ENTER").tap(reader)
        if f22 == "071":
            day.press("123456", "ENTER")
        req, rep = day.financial()[-1]
        assert 0xA8 in reader.ins and 0xAE not in reader.ins, reader.ins  # GPO, no GENERATE AC
        assert reader.ins.count(0xB2) == 1, "only the record the terminal needs (PAN, expiry)"
        assert req[22] == f22 and req[60][-2:] == "60" and (52 in req) == (f22 == "071")
        tags = pyemv_tlv.decode(req[55])
        for tag in F55_TAGS + ["9F66"]:
            assert tag in tags, tag
        assert tags["9F66"][0] & 0x20, "the TTQ says qPBOC"
        assert tags["9F27"] == b"\x80" and tags["9F26"] == _issuer_arqc(tags)
        assert rep[39] == "00"
        rec = day.journal("purchase")[-1]
        assert rec["entry"] == "07" and rec["ac_type"] == "ARQC" and rec["ac"] == tags[
            "9F26"].hex().upper()
        assert ("免密免签" in day.slip()) == (f22 == "072")
        day.press("ENTER", "CANCEL")


def test_a_qpboc_card_whose_ctq_asks_a_signature_gets_no_pin_over_the_limit(day):
    m = day.mark()
    day.press("MENU", "1", "2", "150000", "ENTER").tap(deck_spec(ctq="4000"))
    assert not day.seen("请输入密码", m)
    req, rep = day.financial()[-1]
    assert req[22] == "072" and 52 not in req and rep[39] == "00"
    assert pyemv_tlv.decode(req[55])["9F34"][0] & 0x3F == 0x1E  # signature
    slip = day.slip()
    assert "持卡人签名" in slip and "免密免签" not in slip


def test_a_qpboc_card_that_declines_is_told_and_asked_away_from_the_reader_nothing_sent(day):
    sent = len(day.financial())
    m = day.mark()
    day.press("MENU", "1", "2", "3000", "ENTER").tap(deck_spec(decline_offline=True))
    assert day.seen("卡片拒绝交易", m) and day.seen("请移开卡片", m), day.screen()
    assert not day.seen("请拔卡", m), "a tapped card is not pulled out of a slot"
    assert len(day.financial()) == sent and day.journal("purchase") == []


def test_a_contactless_card_without_qpboc_is_read_by_the_full_flow_and_approved(day):
    reader = _Reader(deck_spec(qpboc=False))
    day.press("MENU", "1", "2", "3000", "ENTER").tap(reader)
    req, rep = day.financial()[-1]
    assert reader.ins.count(0xAE) == 1, "the first GENERATE AC gave the ARQC"
    tags = pyemv_tlv.decode(req[55])
    assert req[22] == "072" and tags["9F26"] == _issuer_arqc(tags) and rep[39] == "00"


def test_a_tap_over_the_limit_asks_for_the_online_pin(day):
    m = day.mark()
    day.press("MENU", "1", "2", "100001", "ENTER").tap(deck_spec())
    assert day.seen("请输入密码", m)
    day.press("123456", "ENTER")
    req, rep = day.financial()[-1]
    assert req[22] == "071" and 52 in req and rep[39] == "00"
    assert "免密免签" not in day.slip()


def test_a_chip_purchase_whose_answer_is_lost_is_reversed_with_the_reversal_tag_set(day):
    store = day.host()
    store.set_fault(TID, "timeout", remaining=1)
    store.close()
    spec = deck_spec()
    day.press("MENU", "1", "2", "777", "ENTER").insert(spec).press("123456", "ENTER")
    lost = day.t.state.reversal()
    assert lost is not None and lost["39"] == "98"
    got = pyemv_tlv.decode(bytes.fromhex(lost["55"]))
    assert sorted(got) == sorted(["95", "9F1E", "9F10", "9F36"])
    day.press("CANCEL", "CANCEL")
    day.press("MENU", "1", "2", "100", "ENTER").insert(spec).press("123456", "ENTER")
    rev = [w for w in day.financial() if w[0]["mti"] == "0400"][-1]
    assert rev[1][39] == "00" and rev[0][39] == "98"
    assert sorted(pyemv_tlv.decode(rev[0][55])) == sorted(["95", "9F1E", "9F10", "9F36"])
    assert day.t.state.reversal() is None


def test_settlement_uploads_each_chip_transactions_tc_in_its_own_0320_203(day):
    spec = deck_spec()
    day.press("MENU", "1", "2", "2000", "ENTER").insert(spec).press("123456", "ENTER", "ENTER")
    day.press("CANCEL")
    day.purchase("1000")  # a swipe: its record is not a TC upload
    chip = day.journal("purchase")[0]
    day.settle()
    assert day.seen("对账平")
    ups = [w for w in day.wire if w[0]["mti"] == "0320"]
    tcs = [w for w in ups if w[0][60][8:11] == "203"]
    assert len(tcs) == 1
    req, rep = tcs[0]
    assert rep[39] == "00" and req[2] == CARD and req[22] == "050" and req[23] == "001"
    assert req[61] == chip["batch"] + chip["trace"]
    tags = pyemv_tlv.decode(req[55])
    assert tags["9F27"] == b"\x40" and tags["9F26"].hex().upper() == chip["ac"]
    # the TC is the card's (pyemv): the session key of its ATC over the CDOL2 data
    mk = kd.derive_icc_mk_a(bytes.fromhex(emv.TEST_IMK_AC), CARD, "01")
    sk = kd.derive_common_sk(mk, tags["9F36"] + bytes(6))
    cdol2 = b"".join(tags[t] for t in ("8A", "9F02", "9F03", "9F1A", "95", "5F2A", "9A", "9C",
                                        "9F37"))  # fmt: skip
    assert ac.generate_ac(sk, cdol2 + tags["82"] + tags["9F36"] + tags["9F10"][3:7]) == tags[
        "9F26"
    ]
    end = [w for w in ups if w[0][60][8:11] == "207"]
    assert end and end[0][0][48] == "0001"
    store = day.host()
    try:
        rows = [dict(r) for r in store.list_uploads(TID, chip["batch"])]
    finally:
        store.close()
    assert [(r["code"], r["trace"]) for r in rows] == [("203", chip["trace"])]


def test_an_issuer_script_unblocks_the_pin_and_its_result_goes_in_a_0620_advice(day, monkeypatch):
    monkeypatch.setitem(emv.CHIPS, CARD, {"script": "pin_unblock"})
    spec = deck_spec(pin_tries=1)
    day.press("MENU", "1", "2", "4200", "ENTER").insert(spec).press("123456", "ENTER")
    req, rep = day.financial()[-1]
    day.press("ENTER")  # the cardholder's copy: then the advice goes
    script = pyemv_tlv.decode(rep[55])["72"]
    assert script["9F18"] == b"\x00\x00\x00\x01"
    assert script["86"][:5] == bytes.fromhex("8424000004")  # PIN UNBLOCK with a 4-byte MAC
    assert spec["pin_tries"] == 3  # the card took the script (its MAC verified)
    adv = [w for w in day.wire if w[0]["mti"] == "0620"]
    assert len(adv) == 1
    req, rep = adv[0]
    assert req[60][8:11] == "951" and rep[39] == "00"
    assert pyemv_tlv.decode(req[55])["DF31"] == bytes.fromhex("2000000001")
    assert day.t.state.extra.get("script_advice") is None
    rec = day.journal("purchase")[-1]
    assert req[61] == rec["batch"] + rec["trace"]


def test_a_script_71_runs_before_the_final_generate_ac_and_both_results_go_in_the_advice(
        day, monkeypatch):  # fmt: skip
    monkeypatch.setitem(emv.CHIPS, CARD, {"script71": "pin_unblock", "script": "unblock"})
    spec = deck_spec(pin_tries=1)
    day.press("MENU", "1", "2", "4300", "ENTER").insert(spec).press("123456", "ENTER")
    req, rep = day.financial()[-1]
    day.press("ENTER")
    items = pyemv_tlv.decode(rep[55])
    assert list(items)[:3] == ["91", "71", "72"], list(items)
    assert items["71"]["9F18"] == bytes.fromhex("00000071")
    assert items["71"]["86"][:5] == bytes.fromhex("8424000004")  # PIN UNBLOCK, its MAC
    assert items["72"]["86"][:5] == bytes.fromhex("8418000004")  # APPLICATION UNBLOCK
    assert spec["pin_tries"] == 3 and day.journal("purchase")[-1]["ac_type"] == "TC"
    adv = [w for w in day.wire if w[0]["mti"] == "0620"]
    assert len(adv) == 1 and adv[0][1][39] == "00"
    assert pyemv_tlv.decode(adv[0][0][55])["DF31"] == bytes.fromhex("2000000071" "2000000001")
    day.press("CANCEL")
    day.settle()  # the TC upload carries the results too
    tc = [w for w in day.wire if w[0]["mti"] == "0320" and w[0][60][8:11] == "203"]
    assert len(tc) == 1 and tc[0][1][39] == "00"
    got = pyemv_tlv.decode(tc[0][0][55])
    assert got["9F27"] == b"\x40" and got["DF31"] == bytes.fromhex("2000000071" "2000000001")
    assert emv.script_results(tc[0][0]) == [("00000071", "done"), ("00000001", "done")]


def test_an_application_block_in_script_71_makes_the_card_refuse_the_approval_reversed(
        day, monkeypatch):  # fmt: skip
    # before the final GENERATE AC: the card, blocked, answers it with an AAC (a block in
    # 72 comes after the TC: the sale stands); the reversal carries the script's result
    monkeypatch.setitem(emv.CHIPS, CARD, {"script71": "block"})
    spec = deck_spec()
    m = day.mark()
    day.press("MENU", "1", "2", "4400", "ENTER").insert(spec).press("123456", "ENTER")
    assert day.seen("卡片拒绝,交易已冲正", m), day.screen()
    assert spec.get("blocked") is True
    rev = [w for w in day.financial() if w[0]["mti"] == "0400"]
    assert rev and rev[-1][1][39] == "00"
    assert pyemv_tlv.decode(rev[-1][0][55])["DF31"] == bytes.fromhex("2000000071")
    assert day.journal("purchase") == []


def test_a_card_with_two_applications_lets_the_cardholder_pick_one_on_screen(day):
    apps = [{"aid": emvcard.DEBIT, "label": "UnionPay Debit", "priority": 1},
            {"aid": emvcard.CREDIT, "label": "UnionPay Credit", "priority": 2}]  # fmt: skip
    m = day.mark()
    day.press("MENU", "1", "2", "3300", "ENTER").insert(deck_spec(apps=apps))
    assert day.seen("请选择应用", m)
    assert day.seen("1.UnionPay Debit", m) and day.seen("2.UnionPayCredit", m)  # wrapped, whole
    day.press("2", "123456", "ENTER")
    req, rep = day.financial()[-1]
    assert pyemv_tlv.decode(req[55])["84"] == bytes.fromhex(emvcard.CREDIT)
    assert rep[39] == "00"
    assert "应用标签:UnionPay Credit" in day.slip()


def test_a_card_asking_for_the_offline_pin_verifies_it_and_sends_no_pin_block(day):
    spec = deck_spec(offline_pin=True)
    m = day.mark()
    day.press("MENU", "1", "2", "1500", "ENTER").insert(spec)
    assert day.seen("请输入脱机密码", m)
    day.press("111111", "ENTER")
    assert day.seen("密码错,剩余2次", m)
    day.press("ENTER", "123456", "ENTER")
    req, rep = day.financial()[-1]
    assert 52 not in req and req[22] == "052" and rep[39] == "00"
    assert pyemv_tlv.decode(req[55])["9F34"] == bytes.fromhex("410302")
    assert spec["pin_tries"] == 3


def test_the_ic_download_stores_the_centers_keys_aids_and_the_no_pin_limit_taps_then_use(
    day, monkeypatch
):
    monkeypatch.setattr(emv, "NO_CVM_LIMIT_FEN", 30000)  # this center's 双免 limit: 300.00
    m = day.mark()
    day.press("MENU", "4", "3", "ENTER")
    assert day.seen("下载成功,3个应用", m)
    codes = [w[0][60][8:11] for w in day.wire if w[0]["mti"] in ("0800", "0820")]
    for code in ("372", "370", "371", "382", "380", "381", "394", "395"):
        assert code in codes, code
    stored = day.t.storage.read("capk.tlv")
    assert pyemv_tlv.decode(stored)["FF01"]["9F06"] == bytes.fromhex("A000000333")
    for key in emv.CA_KEYS:  # both keys, each whole
        assert bytes.fromhex(key["modulus"]) in stored
    assert day.t.state.extra["ic_aids"] == [a["aid"] for a in emv.AIDS]
    assert day.t.state.params["qps_limit"] == 30000
    day.press("CANCEL")
    m = day.mark()
    day.press("MENU", "1", "2", "50000", "ENTER").tap(deck_spec())
    assert day.seen("请输入密码", m), "500.00 is over this center's limit"
    day.press("123456", "ENTER")
    assert day.financial()[-1][0][22] == "071"


def test_a_sign_in_answer_asking_for_the_ic_keys_gets_them_before_its_result(day):
    # the center's header says 4 in the 0810 (a "need" fault, once): the IC download goes
    # right after the sign-in, before 签到成功 (reference §1); nothing is owed after it
    store = day.host()
    try:
        store.set_fault(TID, "need", "4", remaining=1)
    finally:
        store.close()
    day.t.storage.remove("capk.tlv")
    day.t.state.extra.pop("ic_aids", None)
    n = len(day.wire)
    day.press("MENU", "4", "2", "ENTER")
    assert day.seen("签到成功") and "签到成功" in day.screen()
    codes = [w[0]["mti"] + "/" + w[0][60][8:11] for w in day.wire[n:]]
    assert codes[0] == "0800/003" and codes[1:4] == ["0820/372", "0800/370", "0800/370"], codes
    assert codes[-2:] == ["0800/394", "0800/395"], codes
    assert day.t.state.extra["ic_aids"] == [a["aid"] for a in emv.AIDS]
    assert pyemv_tlv.decode(day.t.storage.read("capk.tlv"))["FF01"]["9F06"] == RID
    assert not day.t.state.extra.get("ic_due")


def test_a_terminal_whose_aid_list_lacks_the_cards_application_says_so(day):
    day.t.state.extra["ic_aids"] = [emvcard.CREDIT]
    m = day.mark()
    day.press("MENU", "1", "2", "1000", "ENTER").insert(deck_spec())
    assert day.seen("卡片无可用应用", m)
    assert day.financial() == []


def test_a_chip_purchase_is_voided_with_its_cards_stripe(day):
    # the void reads the card by its stripe (or the keypad): a chip card is not refused there
    day.press("MENU", "1", "2", "6600", "ENTER").insert(deck_spec()).press("123456", "ENTER")
    day.press("ENTER", "CANCEL")
    p = day.journal("purchase")[-1]
    track = "3012220" + "0" * 8
    day.press("MENU", "1", "3", "123456", "ENTER", p["trace"], "ENTER", "ENTER",
              "CARD=" + CARD + "=" + track, "ENTER", "ENTER", "CANCEL")  # fmt: skip
    assert day.journal("void")[0]["orig_trace"] == p["trace"]


def test_a_chip_purchase_the_issuer_declines_gives_the_card_its_arc_and_arpc(day):
    spec = deck_spec(pan="6212142000000000020")  # 5.00 yuan on the account
    m = day.mark()
    day.press("MENU", "1", "2", "10000", "ENTER").insert(spec).press("123456", "ENTER")
    req, rep = day.financial()[-1]
    assert rep[39] == "51" and pyemv_tlv.decode(rep[55])["91"][8:] == b"51"
    assert day.seen("应答码:51", m)
    day.press("CANCEL")
    assert day.seen("请拔卡", m)
    assert spec["last_online_atc"] == 1, "the card authenticated the issuer's decline"
    assert day.journal("purchase") == [] and day.t.state.reversal() is None


def _issuer_checks(req, rep, pan=CARD, seq="01", arc=b"00"):
    # the ARQC and the center's ARPC recomputed by pyemv (as for a purchase) -> the tags
    tags = pyemv_tlv.decode(req[55])
    for tag in F55_TAGS:
        assert tag in tags, tag
    mk = kd.derive_icc_mk_a(bytes.fromhex(emv.TEST_IMK_AC), pan, seq)
    sk = kd.derive_common_sk(mk, tags["9F36"] + bytes(6))
    cdol1 = b"".join(tags[t] for t in ("9F02", "9F03", "9F1A", "95", "5F2A", "9A", "9C", "9F37"))
    data = cdol1 + tags["82"] + tags["9F36"] + tags["9F10"][3:7]
    assert ac.generate_ac(sk, data) == tags["9F26"]
    assert pyemv_tlv.decode(rep[55])["91"] == ac.generate_arpc_1(sk, tags["9F26"], arc) + arc
    return tags


def test_a_chip_balance_inquiry_sends_9c_31_and_the_center_checks_the_arqc(day):
    spec = deck_spec()
    m = day.mark()
    day.press("MENU", "1", "5").insert(spec).press("123456", "ENTER")
    req, rep = day.wire[-1]
    assert req["mti"] == "0200" and req[3] == "310000" and 4 not in req
    assert req[22] == "051" and req[23] == "001" and req[60][:2] == "01"
    assert req[60][-2:] == "50" and 52 in req
    tags = _issuer_checks(req, rep)
    assert tags["9C"] == b"\x31" and tags["9F02"] == bytes(6) and tags["9F27"] == b"\x80"
    assert rep[39] == "00" and rep[54][7:8] == "C"
    assert day.seen("余额", m) and day.seen(CARD[:6], m)
    balance = int(rep[54][8:20])
    assert day.seen("\uffe5%d.%02d" % (balance // 100, balance % 100), m)
    assert spec["atc"] == 1 and spec["last_online_atc"] == 1  # the card took the ARPC
    day.press("ENTER")
    assert day.seen("请拔卡", m)
    assert day.journal("balance") == [] and day.t.state.reversal() is None


def test_a_chip_balance_inquiry_refuses_a_tap(day):
    m = day.mark()
    day.press("MENU", "1", "5").tap(deck_spec())
    assert day.seen("该交易不支持挥卡", m)
    assert day.wire == [] or all(w[0]["mti"] != "0200" for w in day.wire)


def test_a_chip_preauth_sends_9c_03_the_center_checks_the_arqc_and_it_is_journalled(day):
    spec = deck_spec()
    day.press("MENU", "1", "6", "1", "30000", "ENTER").insert(spec).press("123456", "ENTER")
    req, rep = [w for w in day.wire if w[0]["mti"] == "0100"][-1]
    assert req[3] == "030000" and req[25] == "06" and req[4] == "000000030000"
    assert req[22] == "051" and req[23] == "001" and req[60][:2] == "10"
    assert req[60][-2:] == "50"
    tags = _issuer_checks(req, rep)
    assert tags["9C"] == b"\x03" and tags["9F02"] == bytes.fromhex("000000030000")
    assert rep[39] == "00"
    rec = day.journal("preauth")[-1]
    assert rec["entry"] == "05" and rec["ac_type"] == "TC" and rec["auth"] == rep[38]
    assert spec["atc"] == 1 and spec["last_online_atc"] == 1
    assert "AID:A000000333010101" in day.slip() and "TC:" + rec["ac"] in day.slip()
    assert day.t.state.reversal() is None


def test_a_chip_preauth_tapped_goes_online_with_22_07x_and_60_4_6(day):
    day.press("MENU", "1", "6", "1", "20000", "ENTER").tap(deck_spec())
    req, rep = [w for w in day.wire if w[0]["mti"] == "0100"][-1]
    assert req[22][:2] == "07" and req[60][-2:] == "60" and 55 in req
    assert pyemv_tlv.decode(req[55])["9C"] == b"\x03"
    assert rep[39] == "00" and day.journal("preauth")[-1]["entry"] == "07"


def test_a_chip_preauth_that_fails_three_times_falls_back_to_the_stripe_as_a_preauth(day):
    broken = deck_spec(broken=True)
    m = day.mark()
    day.press("MENU", "1", "6", "1", "2000", "ENTER").insert(broken).insert(broken).insert(broken)
    assert day.seen("IC卡读卡失败,请刷卡", m)
    day.press("CARD=" + CARD + "=3012220" + "0" * 8, "123456", "ENTER")
    req, rep = [w for w in day.wire if w[0]["mti"] == "0100"][-1]
    assert req[3] == "030000" and req[22] == "021" and req[60][-2:] == "52" and 55 not in req
    assert rep[39] == "00" and day.journal("preauth")[-1]["entry"] == "02"


def test_a_chip_balance_that_fails_three_times_falls_back_to_the_stripe(day):
    broken = deck_spec(broken=True)
    m = day.mark()
    day.press("MENU", "1", "5").insert(broken).insert(broken).insert(broken)
    assert day.seen("IC卡读卡失败,请刷卡", m)
    day.press("CARD=" + CARD + "=3012220" + "0" * 8, "123456", "ENTER")
    req, rep = day.wire[-1]
    assert req[3] == "310000" and req[22] == "021" and req[60][-2:] == "52" and 55 not in req
    assert rep[39] == "00" and day.seen("余额", m)
