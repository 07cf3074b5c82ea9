"""Lessons with the card reader's other events: an insert, a tap, pulling the card out (and
a scan, as the session judges it). A wrong card or the right card presented the wrong way
is a mistake that says what the step wants; the handouts name the presentation."""

from posterm.host import deck
from posterm.lessons import export, model
from posterm.lessons.session import GUIDED, Session, event_matches, key_label

CHIP = "6212142000000001010"


def test_an_insert_where_a_swipe_is_due_and_a_swipe_where_an_insert_is_due_say_so(tmp_path):
    s = Session(model.load("18_chip_purchase"), str(tmp_path), mode=GUIDED).start()
    try:
        for tok in ("MENU", "1", "2", "10000", "ENTER"):
            for ev in deck.parse_token(tok):
                assert s.feed(ev).kind in ("ok", "step")
        # step 3 wants the swipe (to see 请插卡): an insert is the right card the wrong way
        out = s.feed(deck.parse_token("CHIP=" + CHIP)[0])
        assert out.kind == "wrong" and "卡对了" in out.hint and "刷卡 " + CHIP in out.hint
        assert s.errors[-1] == {**s.errors[-1], "kind": "wrong_card",
                                "expected": "刷卡 " + CHIP, "got": "插卡 " + CHIP}
        assert s.feed(deck.parse_token("CARD=" + CHIP)[0]).kind == "step"
        # step 4 wants the insert: another card is the wrong card
        out = s.feed(deck.parse_token("CHIP=6212142000000001028")[0])
        assert out.kind == "wrong" and "这张卡不对" in out.hint and "插卡 " + CHIP in out.hint
        out = s.feed(("key", "ENTER"))
        assert out.kind == "wrong" and s.errors[-1]["kind"] == "card_needed"
        assert s.feed(deck.parse_token("CHIP=" + CHIP)[0]).kind == "step"
        assert "请输入密码" in "".join(s.terminal.frame.text())
    finally:
        s.close()


def test_reader_events_match_by_card_or_code_and_are_named_in_both_languages():
    ins = deck.parse_token("CHIP=" + CHIP)[0]
    tap = deck.parse_token("TAP=6212142000000001051")[0]
    scan = ("scan", "134567890000000029")
    assert event_matches(ins, ("chip", {"pan": CHIP}))
    assert not event_matches(ins, ("tap", {"pan": CHIP}))
    assert not event_matches(scan, ("scan", "134567890000000011"))
    assert event_matches(("removed",), ("removed",))
    assert [key_label(e, "zh") for e in (ins, tap, scan, ("removed",))] == [
        "插卡 " + CHIP, "挥卡 6212142000000001051", "扫码 134567890000000029", "拔卡"]
    assert [key_label(e, "en") for e in (ins, tap, scan, ("removed",))] == [
        "insert " + CHIP, "tap 6212142000000001051", "scan 134567890000000029",
        "remove the card"]


def test_the_handout_names_the_insert_the_tap_and_the_removal(tmp_path):
    text = export.build(model.load("18_chip_purchase"), str(tmp_path / "a"), "md")
    assert "插卡 " + CHIP in text and "拔卡" in text and "刷卡 " + CHIP in text
    text = export.build(model.load("19_tap_no_pin"), str(tmp_path / "b"), "md", lang="en")
    assert "tap 6212142000000001036" in text


async def test_the_chip_lesson_in_the_emulator_reader_and_an_eject_is_no_mistake(tmp_path):
    from test_lesson_guided import SIZE, make_app, until

    session, app = make_app(tmp_path, "18_chip_purchase")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("m", "1", "2", *"10000", "enter")
            await pilot.pause()
            assert "第 3 步" in app.panel.text()
            await pilot.press("e")  # nothing in the reader: no event, no mistake
            await pilot.press("c")
            await pilot.pause()
            reader = app.screen
            reader.query_one("#card-list").highlighted = [r[0] for r in reader.rows].index(CHIP)
            await pilot.press("s")  # the swipe the step wants: 请插卡
            await until(pilot, lambda: "第 4 步" in app.panel.text())
            assert "插卡" in app.panel.text() and "按 i" in app.panel.text()
            await pilot.press("c")
            await pilot.pause()
            reader = app.screen
            reader.query_one("#card-list").highlighted = [r[0] for r in reader.rows].index(CHIP)
            await pilot.press("enter")  # Enter inserts a chip card
            await until(pilot, lambda: "第 5 步" in app.panel.text())
            assert session.misses == 0 and session.errors == []
            assert app.inserted == CHIP
    finally:
        session.close()
