"""The center's business rules against a scripted terminal, without sockets: whole frames into
the processor and its replies back (test_host_support.Local); the wire itself (framing,
caps, faults, timeouts) is tested in test_host_wire / test_host_units / test_host_guard."""

import json
import zlib

import pytest
from test_host_support import (
    CARD,
    EXPIRED_CARD,
    LOST_CARD,
    MID,
    NOW,
    POOR_CARD,
    STOLEN_CARD,
    TID,
    TPDU,
    UNKNOWN_CARD,
    Local,
    Terminal,
    unsign_keys,
)


def big_menu():
    items = [
        {"key": str(i % 10), "label": f"菜单项目{i}", "action": "purchase"} for i in range(60)
    ]
    return {"version": 1, "root": {"label": "主菜单", "items": items}}


@pytest.fixture
def menu_file(tmp_path):
    path = tmp_path / "menu.json"
    path.write_text(json.dumps(big_menu(), ensure_ascii=False, indent=1), encoding="utf-8")
    return path


@pytest.fixture
def host(tmp_path, menu_file):
    h = Local(str(tmp_path / "host.db"), menu_path=str(menu_file), now=lambda: NOW)
    yield h
    h.stop()


@pytest.fixture
def term(host):
    t = Terminal(host.address)
    assert t.sign_in()[39] == "00"
    return t


def balance(store, pan=CARD):
    return store.get_card(pan)["balance_fen"]


# -- sign-in ----------------------------------------------------------------------------------
def test_sign_in_delivers_working_keys_under_the_tmk_and_the_host_batch(host, store):
    t = Terminal(host.address)
    tpdu, header, rep = t.exchange(
        {
            "mti": "0800",
            11: "000001",
            41: TID,
            42: MID,
            60: "00000001003",
            63: "01 ",
        }
    )
    assert tpdu == bytes.fromhex("6000000003")  # addresses swapped
    assert header == bytes.fromhex("603100000000")
    assert rep["mti"] == "0810"
    assert (rep[11], rep[41], rep[42], rep[39]) == ("000001", TID, MID, "00")
    assert (rep[12], rep[13]) == ("101530", "1124")
    assert len(rep[32]) == 8 and rep[32].isdigit()
    assert len(rep[37]) == 12 and rep[37].isdigit()
    assert rep[60] == "00000001003"
    assert 64 not in rep
    pik, mak = unsign_keys(rep[62])
    row = store.get_terminal(TID)
    assert (row["pik"], row["mak"]) == (pik.hex().upper(), mak.hex().upper())


def test_each_sign_in_gets_fresh_keys(host):
    t = Terminal(host.address)
    t.sign_in()
    first = (t.pik, t.mak)
    t.sign_in()
    assert (t.pik, t.mak) != first


def test_unknown_terminal_gets_97_and_keeps_no_keys(host, store):
    t = Terminal(host.address, tid="99999999")
    rep = t.sign_in()
    assert rep[39] == "97" and 62 not in rep


def test_frozen_terminal_gets_its_freeze_code_and_keeps_old_keys(term, store):
    before = store.get_terminal(TID)["mak"]
    store.freeze_terminal(TID, "05")
    rep = Terminal(term.address).sign_in()
    assert rep[39] == "05"
    assert store.get_terminal(TID)["mak"] == before
    rep = term.purchase()
    assert rep[39] == "05" and term.reply_mac_ok(rep)
    store.unfreeze_terminal(TID)
    assert term.purchase()[39] == "00"


# -- purchase ---------------------------------------------------------------------------------
def test_purchase_is_approved_debited_and_answered_with_a_valid_mac(term, store):
    req = term.financial("0200", "000000", "22", amount=12345)
    rep = term.send(req)
    assert rep["mti"] == "0210"
    for f in (2, 3, 4, 11, 25, 41, 42, 49, 60):
        assert rep[f] == req[f]
    assert rep[39] == "00"
    assert len(rep[37]) == 12 and rep[37].startswith("112410")
    assert len(rep[38]) == 6 and rep[38].isdigit()
    assert len(rep[44]) == 22
    assert rep[15] == "1124"
    assert term.reply_mac_ok(rep)
    assert balance(store) == 1000000 - 12345
    tx = store.list_transactions(TID)[-1]
    assert (tx["type"], tx["amount_fen"], tx["status"], tx["rrn"], tx["auth"]) == (
        "purchase",
        12345,
        "approved",
        rep[37],
        rep[38],
    )


def test_each_approval_gets_a_fresh_rrn(term):
    assert term.purchase(amount=100)[37] != term.purchase(amount=100)[37]


def test_bad_mac_gets_a0_without_a_reply_mac_and_no_debit(term, store):
    req = term.financial("0200", "000000", "22")
    req[64] = b"00000000"
    rep = term.send(req)
    assert rep[39] == "A0" and 64 not in rep
    assert balance(store) == 1000000


def test_purchase_before_any_sign_in_gets_a0(host):
    t = Terminal(host.address)
    t.pik, t.mak = bytes(16), bytes(8)
    assert t.purchase()[39] == "A0"


def test_duplicate_trace_in_the_same_batch_gets_94(term, store):
    assert term.purchase(trace="000050")[39] == "00"
    assert term.purchase(trace="000050")[39] == "94"
    assert balance(store) == 1000000 - 10000


@pytest.mark.parametrize(
    "pan, amount, code",
    [
        (POOR_CARD, 501, "51"),
        (EXPIRED_CARD, 100, "54"),
        (LOST_CARD, 100, "41"),
        (STOLEN_CARD, 100, "43"),
        (UNKNOWN_CARD, 100, "14"),
        (CARD, 5000001, "61"),
    ],
)
def test_purchase_declines(term, store, pan, amount, code):
    rep = term.purchase(pan=pan, amount=amount)
    assert rep[39] == code and 38 not in rep
    assert term.reply_mac_ok(rep)
    assert store.list_transactions(TID)[-1]["status"] == "declined"


def test_poor_card_pays_what_it_has(term, store):
    assert term.purchase(pan=POOR_CARD, amount=500)[39] == "00"
    assert balance(store, POOR_CARD) == 0


def test_wrong_pin_gets_55_and_the_third_in_a_row_38(term, store):
    assert term.purchase(pin="654321")[39] == "55"
    assert term.purchase(pin="654321")[39] == "55"
    assert term.purchase(pin="654321")[39] == "38"
    assert term.purchase()[39] == "38"  # locked for the day
    assert balance(store) == 1000000


def test_a_right_pin_resets_the_wrong_pin_count(term):
    assert term.purchase(pin="111111")[39] == "55"
    assert term.purchase(pin="111111")[39] == "55"
    assert term.purchase()[39] == "00"
    assert term.purchase(pin="111111")[39] == "55"


def test_purchase_without_pin_is_accepted(term):
    assert term.purchase(pin=None)[39] == "00"


def test_transaction_not_allowed_on_the_terminal_gets_58(host, store):
    tmk = bytes.fromhex(store.get_terminal("87654321")["tmk"])
    t = Terminal(host.address, tid="87654321", mid="898310048990002", tmk=tmk)
    t.sign_in()
    rep = t.send(t.financial("0100", "030000", "10", f25="06"))
    assert rep[39] == "58"
    assert t.purchase()[39] == "00"


def test_balance_inquiry_returns_field_54(term):
    rep = term.send(term.financial("0200", "310000", "01", amount=0))
    assert rep[39] == "00"
    assert rep[54] == "1001156C000001000000"


# -- reversal ---------------------------------------------------------------------------------
def test_reversal_undoes_a_purchase_and_is_idempotent(term, store):
    req = term.financial("0200", "000000", "22", amount=3000)
    assert term.send(req)[39] == "00"
    rep = term.reversal_of(req)
    assert rep["mti"] == "0410" and rep[39] == "00" and rep[11] == req[11]
    assert term.reply_mac_ok(rep)
    assert balance(store) == 1000000
    assert store.list_transactions(TID)[-1]["status"] == "reversed"
    assert term.reversal_of(req)[39] == "00"
    assert balance(store) == 1000000


def test_reversal_of_an_unknown_or_declined_transaction_gets_25(term, store):
    req = term.financial("0200", "000000", "22", amount=3000)
    assert term.reversal_of(req)[39] == "25"
    poor = term.financial("0200", "000000", "22", pan=POOR_CARD, amount=9999)
    assert term.send(poor)[39] == "51"
    assert term.reversal_of(poor)[39] == "25"


def test_reversal_with_a_bad_mac_gets_a0(term, store):
    req = term.financial("0200", "000000", "22", amount=3000)
    term.send(req)
    msg = {
        "mti": "0400",
        2: CARD,
        3: "000000",
        4: req[4],
        11: req[11],
        39: "98",
        41: TID,
        42: MID,
        60: req[60],
        64: b"12345678",
    }
    assert term.send(msg)[39] == "A0"
    assert balance(store) == 1000000 - 3000


# -- void, refund, pre-authorisation ----------------------------------------------------------
def test_void_credits_the_purchase_back_once(term, store):
    req = term.financial("0200", "000000", "22", amount=2000)
    rep = term.send(req)
    void_61 = term.batch + req[11]
    void = term.financial(
        "0200", "200000", "23", amount=2000, extra={37: rep[37], 38: rep[38], 61: void_61}
    )
    assert term.send(void)[39] == "00"
    assert balance(store) == 1000000
    again = term.financial(
        "0200", "200000", "23", amount=2000, extra={37: rep[37], 38: rep[38], 61: void_61}
    )
    assert term.send(again)[39] == "25"


def test_void_of_a_missing_original_or_another_amount_gets_25(term, store):
    req = term.financial("0200", "000000", "22", amount=2000)
    rep = term.send(req)
    for amount, f61 in ((2000, term.batch + "999999"), (1999, term.batch + req[11])):
        void = term.financial("0200", "200000", "23", amount=amount, extra={37: rep[37], 61: f61})
        assert term.send(void)[39] == "25"
    assert balance(store) == 1000000 - 2000


def test_reversal_of_a_void_restores_the_purchase(term, store):
    req = term.financial("0200", "000000", "22", amount=2000)
    rep = term.send(req)
    void = term.financial(
        "0200", "200000", "23", amount=2000, extra={37: rep[37], 61: term.batch + req[11]}
    )
    assert term.send(void)[39] == "00"
    assert term.reversal_of(void)[39] == "00"
    assert balance(store) == 1000000 - 2000
    assert store.find_transaction(TID, term.batch, req[11])["status"] == "approved"


def refund(term, rrn, amount):
    return term.send(
        term.financial(
            "0220",
            "200000",
            "25",
            amount=amount,
            pin=None,
            extra={37: rrn, 61: "000000000000" + "1124", 63: "000"},
        )
    )


def test_refund_up_to_the_original_amount(term, store):
    rep = term.purchase(amount=5000)
    r = refund(term, rep[37], 3000)
    assert r["mti"] == "0230" and r[39] == "00" and term.reply_mac_ok(r)
    assert refund(term, rep[37], 2001)[39] == "64"
    assert refund(term, rep[37], 2000)[39] == "00"
    assert balance(store) == 1000000


def test_refund_of_an_unknown_rrn_gets_25(term):
    assert refund(term, "112400009999", 100)[39] == "25"


def test_preauth_hold_then_completion_within_115_percent(term, store):
    pre = term.send(term.financial("0100", "030000", "10", amount=10000, f25="06"))
    assert pre["mti"] == "0110" and pre[39] == "00"
    assert balance(store) == 1000000 - 10000
    too_much = term.financial(
        "0200",
        "000000",
        "20",
        amount=11501,
        f25="06",
        extra={38: pre[38], 61: "000000000000" + "1124"},
    )
    assert term.send(too_much)[39] == "64"
    done = term.financial(
        "0200",
        "000000",
        "20",
        amount=11500,
        f25="06",
        extra={38: pre[38], 61: "000000000000" + "1124"},
    )
    assert term.send(done)[39] == "00"
    assert balance(store) == 1000000 - 11500
    assert term.reversal_of(done)[39] == "00"
    assert balance(store) == 1000000 - 10000


def test_preauth_void_releases_the_hold(term, store):
    pre = term.send(term.financial("0100", "030000", "10", amount=10000, f25="06"))
    pv = term.financial(
        "0100",
        "200000",
        "11",
        amount=10000,
        f25="06",
        extra={38: pre[38], 61: "000000000000" + "1124"},
    )
    assert term.send(pv)[39] == "00"
    assert balance(store) == 1000000
    assert (
        term.send(
            term.financial(
                "0100",
                "200000",
                "11",
                amount=10000,
                f25="06",
                extra={38: pre[38], 61: "0" * 12 + "1124"},
            )
        )[39]
        == "25"
    )


def test_completion_void_credits_the_completion(term, store):
    pre = term.send(term.financial("0100", "030000", "10", amount=10000, f25="06"))
    comp = term.financial(
        "0200", "000000", "20", amount=9000, f25="06", extra={38: pre[38], 61: "0" * 12 + "1124"}
    )
    crep = term.send(comp)
    cv = term.financial(
        "0200",
        "200000",
        "21",
        amount=9000,
        f25="06",
        extra={37: crep[37], 38: crep[38], 61: term.batch + comp[11] + "1124"},
    )
    assert term.send(cv)[39] == "00"
    assert balance(store) == 1000000


# -- settlement and batch upload --------------------------------------------------------------
def settle_48(debit, dcount, credit, ccount):
    return f"{debit:012d}{dcount:03d}{credit:012d}{ccount:03d}0" + "0" * 31


def settle(term, f48):
    return term.send(
        {
            "mti": "0500",
            11: term.next_trace(),
            41: TID,
            42: MID,
            48: f48,
            49: "156",
            60: "00" + term.batch + "201",
            63: "01 ",
        }
    )


def upload(term, code, f48):
    return term.send(
        {
            "mti": "0320",
            11: term.next_trace(),
            41: TID,
            42: MID,
            48: f48,
            60: "00" + term.batch + code,
        }
    )


def test_settlement_balanced_and_unbalanced_then_batch_end_moves_the_batch(term, store):
    p1 = term.financial("0200", "000000", "22", amount=10000)
    r1 = term.send(p1)
    term.purchase(amount=2500)
    void = term.financial(
        "0200", "200000", "23", amount=10000, extra={37: r1[37], 61: term.batch + p1[11]}
    )
    assert term.send(void)[39] == "00"
    reversed_one = term.financial("0200", "000000", "22", amount=777)
    term.send(reversed_one)
    term.reversal_of(reversed_one)
    term.purchase(pan=POOR_CARD, amount=99999)  # declined, not counted

    rep = settle(term, settle_48(12500, 2, 10000, 1))
    assert rep["mti"] == "0510" and rep[39] == "00"
    assert rep[48][30] == "1" and rep[48][61] == "1"
    assert rep[48][:30] == settle_48(12500, 2, 10000, 1)[:30]

    rep = settle(term, settle_48(12500, 3, 10000, 1))
    assert rep[48][30] == "2" and rep[48][61] == "1"

    rec = "00" + p1[11] + CARD.rjust(20, "0") + f"{10000:012d}"
    assert upload(term, "201", "01" + rec)[39] == "00"
    assert upload(term, "202", "0001")["mti"] == "0330"
    ups = store.list_uploads(TID, "000001")
    assert [(u["trace"], u["pan"], u["amount_fen"]) for u in ups] == [(p1[11], CARD, 10000)]
    assert store.get_terminal(TID)["host_batch"] == "000002"
    term.sign_in()
    assert term.batch == "000002"
    assert settle(term, settle_48(0, 0, 0, 0))[48][30] == "1"


def test_malformed_batch_upload_gets_30(term):
    assert upload(term, "201", "02" + "0" * 40)[39] == "30"


# -- sign-out, echo, menu download ------------------------------------------------------------
def test_sign_out_and_echo_test_are_answered_00(term):
    for code in ("002", "301"):
        rep = term.send(
            {"mti": "0820", 11: term.next_trace(), 41: TID, 42: MID, 60: "00" + term.batch + code}
        )
        assert rep["mti"] == "0830" and rep[39] == "00"


def menu_request(term, version, offset):
    return term.send(
        {
            "mti": "0800",
            11: term.next_trace(),
            41: TID,
            42: MID,
            60: "00" + term.batch + "930",
            62: b"%04d%06d" % (version, offset),
        }
    )


def test_menu_download_in_chunks_reassembles_the_seeded_file(term, menu_file):
    want = menu_file.read_bytes()
    assert len(want) > 1000
    got = b""
    while True:
        rep = menu_request(term, 0, len(got))
        assert rep["mti"] == "0810" and rep[39] == "00"
        head, data = rep[62][:24].decode(), rep[62][24:]
        version, crc, total, offset = int(head[:4]), head[4:12], int(head[12:18]), int(head[18:])
        assert (version, offset, total) == (1, len(got), len(want))
        assert len(data) <= 400
        got += data
        if len(got) == total:
            break
    assert got == want
    assert crc == f"{zlib.crc32(want):08X}"


def test_menu_download_when_up_to_date_sends_no_data(term):
    rep = menu_request(term, 1, 0)
    assert rep[39] == "00" and rep[62][12:24] == b"000000000000" and len(rep[62]) == 24


def test_menu_download_offers_a_newly_published_version(term, store):
    text = json.dumps({"root": {"label": "新菜单", "items": []}}, ensure_ascii=False)
    assert store.publish_menu(text) == 2
    rep = menu_request(term, 1, 0)
    assert rep[62][:4] == b"0002"
    assert rep[62][24:] == text.encode("utf-8")


def test_reply_tpdu_follows_the_terminal_tpdu(term):
    assert TPDU.hex() == "6000030000"
    tpdu, _, _ = term.exchange({"mti": "0820", 11: "000009", 41: TID, 42: MID, 60: "00000001301"})
    assert tpdu.hex() == "6000000003"


def test_foreign_cards_are_totalled_apart_in_the_settlement(term, store):
    # reference §3.4: 内卡 at 0..29, 外卡 at 31..60; the deck's Visa card is foreign
    assert term.purchase(amount=1000)[39] == "00"
    assert term.purchase(pan="4761340000000019", amount=2500, pin="1234")[39] == "00"
    domestic = f"{1000:012d}{1:03d}{0:012d}{0:03d}"
    foreign = f"{2500:012d}{1:03d}{0:012d}{0:03d}"
    rep = settle(term, domestic + "0" + foreign + "0")
    assert (rep[48][30], rep[48][61]) == ("1", "1")  # both balanced
    everything_domestic = f"{3500:012d}{2:03d}{0:012d}{0:03d}"
    rep = settle(term, everything_domestic + "0" + "0" * 30 + "0")
    assert (rep[48][30], rep[48][61]) == ("2", "2")
