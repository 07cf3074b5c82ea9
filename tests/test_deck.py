"""The test deck (tools/posterm/host/deck.json) is the one source of test card data: what a
script's CARD= swipes, what CHIP=/TAP= insert and tap, what `posterm host cards` lists and
shows, and what the center's card table is seeded with. Keys are checked against pyemv."""

import argparse
import io
import json
import os
import subprocess
import sys

import pytest
from pyemv import kd

from pos import iso8583, paycode
from pos.emv import card as emvcard
from pos.keys import KeyTokenError, parse_token
from posterm.driver import Driver
from posterm.host import cli as host_cli
from posterm.host import deck, emv
from posterm.host.store import Store

POSTERM = [sys.executable, "-m", "posterm.cli"]
DATE = (2026, 11, 23, 9, 0, 0)


def cards_where(pred):
    return [c for c in deck.CARDS if pred(c)]


def test_the_deck_ships_a_card_of_every_kind_a_cashier_meets():
    chip = cards_where(lambda c: deck.CHIP in deck.interfaces(c) and not c["chip"].get("broken"))
    assert any(c["chip"]["aid"] == "A000000333010101" for c in chip), "a chip debit card"
    assert any(c["chip"]["aid"] == "A000000333010102" for c in chip), "a chip credit card"
    assert cards_where(lambda c: deck.CHIP in deck.interfaces(c) and c["chip"].get("broken")
                       and deck.STRIPE in deck.interfaces(c)), "a chip that fails, to swipe"
    assert cards_where(lambda c: deck.CONTACTLESS in deck.interfaces(c)
                       and c.get("device") != "phone"), "a contactless card"
    assert cards_where(lambda c: c.get("device") == "phone"), "a phone"
    schemes = {paycode.scheme(q["code"]) for q in deck.CODES}
    assert schemes == {paycode.UNIONPAY, paycode.WECHAT, paycode.ALIPAY}
    assert {q["scheme"] for q in deck.CODES} == schemes  # the declared scheme is the code's
    for q in deck.CODES:
        assert paycode.scheme(q["code"]) == q["scheme"], q["code"]
    for confirm in (True, False, "never"):
        assert any(q.get("confirm", False) == confirm for q in deck.CODES), confirm


def test_every_chip_card_of_the_deck_builds_a_virtual_card_that_answers():
    select_pse = bytes.fromhex("00A404000E") + b"1PAY.SYS.DDF01" + b"\x00"
    for c in deck.CARDS:
        ifs = deck.interfaces(c)
        if deck.CHIP not in ifs and deck.CONTACTLESS not in ifs:
            continue
        icc = emvcard.Card(emv.card_spec(c))
        assert icc.reset()[0] == 0x3B
        sw = icc.apdu(select_pse)[-2:]
        assert sw == (b"\x6f\x00" if c["chip"].get("broken") else b"\x90\x00"), c["pan"]
        # a chip says chip on its track: a swipe of it is refused with 请插卡 (2xx)
        assert c["track2"].split("=")[1][4] in "26", c["pan"]


def test_stripe_cards_have_real_looking_tracks_that_start_with_the_card():
    for c in deck.CARDS:
        if deck.STRIPE not in deck.interfaces(c):
            continue
        pan, rest = c["track2"].split("=")
        assert pan == c["pan"] and rest[:4] == c["expiry"] and len(rest) >= 7
        if c.get("track3"):
            assert c["track3"][2:].startswith(c["pan"] + "=")


def test_a_script_swipe_of_a_deck_card_reads_the_decks_own_tracks():
    for c in cards_where(lambda c: deck.STRIPE in deck.interfaces(c)):
        ev = deck.parse_token("CARD=" + c["pan"])
        assert ev == [("card", c["pan"], "", c["track2"], c.get("track3", ""))]


def test_a_swipe_sends_the_decks_track_2_and_3_to_the_center(tmp_path):
    c = deck.card("6212142000000000012")
    d = Driver(str(tmp_path / "t"), date=DATE)
    sent = []
    d.send_listeners.append(lambda data, _ev, _ms: sent.append(data))
    d.start()
    try:
        for tok in ("MENU", "1", "1", "ENTER", "CANCEL", "MENU", "1", "2", "100", "ENTER",
                    "CARD=" + c["pan"], "123456", "ENTER"):
            for ev in deck.parse_token(tok):
                d.feed(ev)
    finally:
        d.close()
    msgs = [iso8583.decode(iso8583.unpack_frame(f)[2]) for f in sent]
    sale = [m for m in msgs if m["mti"] == "0200"][-1]
    assert sale[35] == c["track2"] and sale[36] == c["track3"]
    assert 2 not in sale


def test_a_card_the_deck_does_not_hold_swipes_the_track_the_center_gives_an_added_card(tmp_path):
    # one builder of test tracks: pos.card.track_for (the token) = the store's default
    store = Store(str(tmp_path / "h.db"))
    try:
        store.add_card("6212142000000000079", "123456", 100)
        row = store.get_card("6212142000000000079")
    finally:
        store.close()
    assert parse_token("CARD=6212142000000000079")[0][3] == row["track2"]
    assert deck.parse_token("CARD=6212142000000000079")[0][3] == row["track2"]


def test_chip_and_tap_tokens_present_the_decks_card_and_the_chip_counts_on(tmp_path):
    dk = deck.Deck(str(tmp_path))
    (ev,) = dk.parse_token("CHIP=6212142000000001010")
    assert ev[0] == "chip" and ev[1]["aid"] == "A000000333010101"
    assert ev[1] == emv.card_spec(deck.card("6212142000000001010"))
    assert dk.parse_token("TAP=6212142000000001051")[0][0] == "tap"
    assert dk.parse_token("REMOVE") == [("removed",)]
    assert dk.parse_token("SCAN=134567890000000029") == [("scan", "134567890000000029")]
    # the chip counts (pos.emv.card keeps its ATC in the dict) and a later run goes on
    icc = emvcard.Card(ev[1])
    icc.reset()
    ev[1]["atc"] = 7  # as seven GENERATE ACs leave it
    dk.save()
    if os.name == "posix":  # the data dir's files are its owner's only, as the terminal's
        assert (tmp_path / deck.STATE_FILE).stat().st_mode & 0o777 == 0o600
    again = deck.Deck(str(tmp_path)).parse_token("CHIP=6212142000000001010")[0][1]
    assert again["atc"] == 7
    assert deck.Deck().parse_token("CHIP=6212142000000001010")[0][1].get("atc", 0) == 0
    (tmp_path / deck.STATE_FILE).write_text("{not json")  # damaged: never back to 0
    damaged = deck.Deck(str(tmp_path))
    assert damaged.icc("6212142000000001010")["atc"] == deck.ATC_JUMP and damaged.notice


def test_a_damaged_chip_counts_file_is_said_kept_and_no_atc_is_used_again(tmp_path, capsys):
    # chipcards.json cut in the middle on disk: the damaged bytes kept as
    # chipcards.json.damaged-1, the count its text still holds read back, every other chip's
    # ATC moved on by ATC_JUMP (an ATC in a cryptogram twice is a cloned card to an issuer),
    # the new counts written at once; said by posterm keys (stderr, the log), no traceback
    from posterm.cli import main

    dk = deck.Deck(str(tmp_path))
    dk.icc("6212142000000001010")["atc"] = 7
    dk.icc("6212142000000001028")["atc"] = 40
    dk.save()
    path = tmp_path / deck.STATE_FILE
    raw = path.read_bytes()
    cut = raw[: raw.index(b"6212142000000001028") + 30]  # the second card's count cut off
    path.write_bytes(cut)
    assert main(["keys", "--data", str(tmp_path), "--date", "2026-11-23T09:00", "MENU"]) == 0
    err = capsys.readouterr().err
    assert "chipcards.json in" in err and "is not JSON" in err and "Traceback" not in err, err
    assert "kept as chipcards.json.damaged-1" in err and "moved on by 1000" in err, err
    assert (tmp_path / "chipcards.json.damaged-1").read_bytes() == cut
    assert "chipcards.json" in (tmp_path / "posterm.log").read_text()
    again = deck.Deck(str(tmp_path))  # what that run wrote: the next one says nothing
    assert again.notice is None
    assert again.icc("6212142000000001010")["atc"] == 7  # read back from the damaged text
    assert again.icc("6212142000000001028")["atc"] == 0 + deck.ATC_JUMP  # lost: moved on
    assert again.icc("6212142000000001028")["atc"] > 40
    path.write_text('{"6212142000000001010": {"atc": "7"}}')  # JSON, but no count table
    assert "is not a table of chip counts" in deck.Deck(str(tmp_path)).notice
    assert (tmp_path / "chipcards.json.damaged-2").exists()


@pytest.mark.parametrize(
    "token, says",
    [
        ("CHIP=6212142000000000012", "has no contact chip (swipe it: CARD=6212142000000000012)"),
        ("TAP=6212142000000001010", "has no contactless chip (insert it: CHIP="),
        ("CARD=6212142000000001051", "has no magnetic stripe (tap it: TAP="),
        ("CHIP=6212142000000009999", "no test card 6212142000000009999 in the deck"),
        ("CHIP=12ab", "a card is CHIP=<12-19 digit PAN>"),
        ("SCAN=1234", "19 digits from 62 (UnionPay QR)"),
        ("SCAN=163456789000000011", "18 digits from 10-15 (WeChat Pay)"),
        ("TIP", "CHIP=<PAN>, TAP=<PAN>, SCAN=<code>"),
    ],
)
def test_a_bad_card_or_code_token_says_what_is_wrong(token, says):
    with pytest.raises(KeyTokenError) as e:
        deck.parse_token(token)
    assert says in str(e.value)


def test_posterm_keys_refuses_a_bad_card_token_with_its_message_and_no_traceback(tmp_path):
    r = subprocess.run(POSTERM + ["keys", "--data", str(tmp_path), "TAP=6212142000000000012"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "card 6212142000000000012 has no contactless chip" in r.stderr
    assert "Traceback" not in r.stderr


def host(*argv):
    parser = argparse.ArgumentParser(prog="posterm host")
    host_cli.configure(parser)
    out, err = io.StringIO(), io.StringIO()
    code = host_cli.run(parser.parse_args(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


def test_cards_list_says_how_each_card_reads_and_lists_the_payment_codes(tmp_path):
    code, out, _ = host("cards", "list", "--db", str(tmp_path / "h.db"))
    assert code == 0
    rows = {line.split()[0]: line for line in out.splitlines() if line}
    assert " chip " in rows["6212142000000001010"]
    assert " chip+tap " in rows["6212142000000001036"]
    assert " chip (broken) " in rows["6212142000000001044"]
    assert " phone " in rows["6212142000000001051"]
    assert " stripe " in rows["6212142000000000012"]
    assert "QR WeChat" in rows["134567890000000029"] and rows["134567890000000029"].endswith(
        "yes")
    assert "QR UnionPay" in rows["6288880000000000011"]
    assert "QR Alipay" in rows["281234567890000011"]


def test_cards_show_prints_the_card_keys_pyemv_derives(tmp_path):
    c = deck.card("6212142000000001028")
    code, out, _ = host("cards", "show", c["pan"], "--db", str(tmp_path / "h.db"))
    assert code == 0
    shown = dict(line.split("  ", 1) for line in out.splitlines())
    shown = {k.strip(): v.strip() for k, v in shown.items()}
    imk = bytes.fromhex(c["chip"]["imk_ac"])
    mk = kd.derive_icc_mk_a(imk, c["pan"], c["chip"]["seq"])
    sk = kd.derive_common_sk(mk, bytes.fromhex("0001") + bytes(6))
    assert shown["MK-AC (card key: PAN + seq 01, option A)"].startswith(mk.hex().upper())
    assert shown["SK-AC (session key, ATC 0001)"].startswith(sk.hex().upper())
    assert shown["IMK-AC (issuer master key, TEST)"].startswith(c["chip"]["imk_ac"])
    assert emv.imk_of(c["pan"]) == imk  # the key the center checks this card's ARQC with
    assert shown["AID"].startswith("A000000333010102")
    assert shown["script"] == "CARD=%s CHIP=%s" % (c["pan"], c["pan"])
    code, out, _ = host("cards", "show", "281234567890000029", "--db", str(tmp_path / "h.db"))
    assert code == 0 and "QR Alipay" in out and "confirms on the phone" in out
    code, out, _ = host("cards", "show", "281234567890000037", "--db", str(tmp_path / "h.db"))
    assert code == 0 and "never confirms" in out


def test_cards_show_of_an_unknown_number_is_a_clear_error(tmp_path):
    r = subprocess.run(POSTERM + ["host", "cards", "show", "6212142000000000079", "--db",
                                  str(tmp_path / "h.db")], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "unknown test card or payment code 6212142000000000079" in r.stderr


def test_the_shipped_deck_file_is_the_one_the_store_seeds(tmp_path):
    with open(deck._PATH, encoding="utf-8") as f:
        pans = [c["pan"] for c in json.load(f)["cards"]]
    store = Store(str(tmp_path / "h.db"))
    try:
        store.provision_defaults()
        assert [r["pan"] for r in store.list_cards()] == pans
    finally:
        store.close()


def test_cards_show_says_how_a_contactless_card_taps_and_its_issuer_scripts(tmp_path, monkeypatch):
    pan = "6212142000000001036"
    monkeypatch.setitem(emv.CHIPS, pan, {"script71": "pin_unblock", "script": "block"})
    code, out, _ = host("cards", "show", pan, "--db", str(tmp_path / "h.db"))
    assert code == 0
    shown = {k.strip(): v.strip() for k, v in (line.split("  ", 1) for line in out.splitlines())}
    assert shown["tap"].startswith("qPBOC") and "CTQ 8000: online PIN" in shown["tap"]
    assert shown["issuer script 71"] == "pin_unblock" and shown["issuer script 72"] == "block"
    code, out, _ = host("cards", "show", "6212142000000001028", "--db", str(tmp_path / "h.db"))
    assert "qPBOC" not in out  # a contact-only card: no tap line


def test_a_card_number_typed_in_its_printed_groups_is_its_digits(tmp_path):
    # as printed on the card (and on the slip's 6+4 mask): 6212 1420 0000 0001 010
    code, out, err = host("cards", "show", "6212 1420 0000 0001 010", "--db",
                          str(tmp_path / "h.db"))  # fmt: skip
    assert code == 0, err
    assert "6212142000000001010" in out
    pan = "6212142000000000079"
    code, out, err = host("cards", "add", "6212-1420-0000-0000-079", "123456", "100",
                          "--db", str(tmp_path / "h.db"))  # fmt: skip
    assert code == 0, err
    assert f"card {pan} stored" in out
    assert deck.card_number(" 6212 1420 ") == "62121420"
    assert deck.card_number("6212  1420") == "6212  1420"  # two spaces: not a grouping
    assert deck.card_number("62a2 1420") == "62a2 1420"  # said wrong where it is read
    assert deck.card_token("chip=6212 1420 0000 0001 010") == "chip=6212142000000001010"
    assert deck.card_token("6212 1420 0000 0000 012=3012") == "6212142000000000012=3012"
