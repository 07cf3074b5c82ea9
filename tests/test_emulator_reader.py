"""The emulator's card reader and scanner (Textual Pilot): every deck card with how it reads
and every payment code, in aligned columns; Enter inserts a chip card, taps a phone, swipes
a stripe card, scans a code; s / i / t / k and the buttons (mouse) do each one; a card that
cannot be presented so is said so and the reader stays open; e pulls an inserted card out."""

from test_emulator import PAN, lcd_flat, make_app, settle, sign_in

from posterm.host import deck

CHIP = "6212142000000001010"
DUAL = "6212142000000001036"  # chip + contactless
PHONE = "6212142000000001051"
WECHAT = "134567890000000029"


def recording(app):
    fed = []
    feed = app.driver.feed

    def spy(ev):
        fed.append(ev)
        feed(ev)

    app.driver.feed = spy
    return fed


async def open_reader(pilot, value):
    await pilot.press("c")
    await pilot.pause()
    reader = pilot.app.screen
    assert reader.__class__.__name__ == "CardPicker"
    reader.query_one("#card-list").highlighted = [r[0] for r in reader.rows].index(value)
    await pilot.pause()
    return reader


async def test_the_reader_lists_cards_and_codes_in_columns_that_line_up(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("c")
            await pilot.pause()
            reader = app.screen
            values = [r[0] for r in reader.rows]
            assert set(values) >= {c["pan"] for c in deck.CARDS} | {q["code"] for q in deck.CODES}
            lines = [str(o.prompt) for o in reader.query_one("#card-list").options]
            head = str(reader.query_one("#card-head").render())
            # every column starts where its header does, 16-digit PANs and 19-digit ones alike
            for word in ("reads", "exp", "holder", "status"):
                at = head.index(word)
                for line, row in zip(lines, reader.rows, strict=True):
                    if word == "status" and not row[4]:
                        continue  # a code paid at once has no status
                    assert line[at - 1] == " " and line[at] != " ", (word, line)
            kinds = {r[0]: r[1] for r in reader.rows}
            assert kinds[PAN] == "stripe" and kinds[CHIP] == "chip" and kinds[DUAL] == "chip+tap"
            assert kinds[PHONE] == "phone" and kinds["6212142000000001044"] == "chip (broken)"
            assert kinds[WECHAT] == "QR WeChat" and kinds["6288880000000000011"] == "QR UnionPay"
            assert kinds["281234567890000011"] == "QR Alipay"
            assert len({len(line) for line in lines}) == 1
    finally:
        driver.close()


async def test_a_swipe_from_the_reader_reads_the_same_tracks_as_a_script(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            fed = recording(app)
            await open_reader(pilot, "6222020000000000018")
            await pilot.press("s")
            await pilot.pause()
            assert fed == deck.parse_token("CARD=6222020000000000018")
            assert fed[0][3] == deck.card("6222020000000000018")["track2"]
    finally:
        driver.close()


async def test_enter_inserts_a_chip_card_it_pays_and_e_pulls_the_card_out(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await sign_in(pilot)
            await pilot.press("m", "1", "2", "1", "0", "0", "enter")
            fed = recording(app)
            await open_reader(pilot, CHIP)
            await pilot.press("enter")
            await settle(pilot)
            assert fed[0][0] == "chip" and fed[0][1]["pan"] == CHIP
            assert "In the reader " + CHIP in str(app.status.render())
            await pilot.press(*"123456", "enter")
            await settle(pilot)
            e = driver.terminal.journal.entries()[-1]
            assert e["entry"] == "05" and driver.terminal.journal.pan(e) == CHIP
            # the cardholder copy, then 请拔卡 until the card is out: a key only beeps
            await pilot.press("enter")
            await settle(pilot)
            assert "请拔卡" in lcd_flat(app), lcd_flat(app)
            await pilot.press("enter")
            await settle(pilot)
            assert "请拔卡" in lcd_flat(app) and "Beep: key ENTER refused" in str(
                app.status.render())
            await pilot.press("e")
            await pilot.pause()
            assert fed[-1] == ("removed",) and app.inserted is None
            assert "In the reader" not in str(app.status.render())
            assert "欢迎使用" in lcd_flat(app), lcd_flat(app)
    finally:
        driver.close()
    # what the chip counted goes on in the data dir (its ATC), as on a real card
    assert deck.Deck(str(tmp_path)).icc(CHIP)["atc"] == 1


async def test_t_taps_a_dual_card_and_the_mouse_taps_a_phone(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await sign_in(pilot)
            for pan, how in ((DUAL, "t"), (PHONE, "click")):
                await pilot.press("m", "1", "2", "1", "0", "0", "enter")
                await open_reader(pilot, pan)
                if how == "t":
                    await pilot.press("t")
                else:
                    assert await pilot.click("#card-do-tap")
                await settle(pilot)
                assert app.screen.__class__.__name__ != "CardPicker"
                for _ in range(3):  # a PIN if asked; then the slips
                    if "密码" in lcd_flat(app):
                        await pilot.press(*"123456", "enter")
                        await settle(pilot)
                e = driver.terminal.journal.entries()[-1]
                assert e["entry"] == "07" and driver.terminal.journal.pan(e) == pan
                while "持卡人存根" in lcd_flat(app) or "请撕下" in lcd_flat(app):
                    await pilot.press("enter")
                    await settle(pilot)
                await pilot.press("escape")
                await pilot.pause()
    finally:
        driver.close()


async def test_a_card_presented_a_way_it_cannot_be_is_refused_in_the_reader(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            fed = recording(app)
            for value, key, says in (
                (PHONE, "s", "has no magnetic stripe"),
                (PAN, "i", "has no contact chip"),
                (CHIP, "t", "has no contactless chip"),
                (WECHAT, "i", "a payment code is scanned"),
            ):
                reader = await open_reader(pilot, value)
                await pilot.press(key)
                await pilot.pause()
                assert app.screen is reader  # still open
                assert says in str(reader.query_one("#card-help").render()), value
                await pilot.press("escape")
                await pilot.pause()
            assert fed == []
    finally:
        driver.close()


async def test_a_code_is_scanned_by_enter_by_the_button_or_typed(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            fed = recording(app)
            await open_reader(pilot, WECHAT)
            await pilot.press("enter")
            await pilot.pause()
            await open_reader(pilot, "281234567890000011")
            assert await pilot.click("#card-do-scan")
            await pilot.pause()
            await pilot.press("c")
            await pilot.pause()
            app.screen.query_one("#card-pan").focus()
            await pilot.press(*"6288880000000000029", "enter")
            await pilot.pause()
            assert fed == [("scan", WECHAT), ("scan", "281234567890000011"),
                           ("scan", "6288880000000000029")]
            await pilot.press("c")
            await pilot.pause()
            app.screen.query_one("#card-pan").focus()
            await pilot.press(*"1999", "enter")  # neither a PAN nor a code
            await pilot.pause()
            assert app.screen.__class__.__name__ == "CardPicker"
            assert "12-19 digit PAN" in str(app.screen.query_one("#card-help").render())
            app.screen.query_one("#card-pan").value = ""
            await pilot.press(*("CHIP=" + CHIP), "enter")
            await pilot.pause()
            assert fed[-1][0] == "chip" and app.inserted == CHIP
    finally:
        driver.close()


async def test_a_qr_payment_with_a_code_picked_in_the_scanner(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await sign_in(pilot)
            await pilot.press("m", "1", "9", "1", "0", "0", "enter")
            await pilot.pause()
            assert "请扫描顾客付款码" in lcd_flat(app)
            await open_reader(pilot, "134567890000000011")
            await pilot.press("enter")
            await settle(pilot)
            e = driver.terminal.journal.entries()[-1]
            assert e["type"] == "qr_sale" and e["entry"] == "03" and e["amount"] == 100
            assert "请撕下商户存根" in lcd_flat(app)
    finally:
        driver.close()


async def test_typing_in_the_card_list_goes_into_the_box_not_to_the_rows_bindings(tmp_path):
    # a cashier who types a token with the list focused: `chip=...` has an i (insert) in it,
    # a PAN typed is digits; each character goes into the box, the highlighted row is not
    # presented, nothing reaches the terminal behind the reader
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            fed = recording(app)
            reader = await open_reader(pilot, PAN)
            await pilot.press(*("chip=" + CHIP))
            await pilot.pause()
            assert app.screen is reader and fed == []
            assert reader.query_one("#card-pan").value == "chip=" + CHIP
            assert reader.focused is reader.query_one("#card-pan")
            await pilot.press("enter")
            await pilot.pause()
            assert fed[0][0] == "chip" and fed[0][1]["pan"] == CHIP
            reader = await open_reader(pilot, PHONE)
            await pilot.press(*"6222020000000000018")
            await pilot.pause()
            assert reader.query_one("#card-pan").value == "6222020000000000018"
            await pilot.press("enter")
            await pilot.pause()
            assert fed[-1] == deck.parse_token("CARD=6222020000000000018")[-1]
            # capitals (as tmux send-keys types CHIP=) and = go into the box too
            reader = await open_reader(pilot, PAN)
            await pilot.press(*("TAP=" + DUAL))
            await pilot.pause()
            assert reader.query_one("#card-pan").value == "TAP=" + DUAL
            await pilot.press("escape")
            await pilot.pause()
            # the one-key actions stay on the list: s swipes the highlighted card
            await open_reader(pilot, "6222020000000000018")
            n = len(fed)
            await pilot.press("s")
            await pilot.pause()
            assert fed[n:] == deck.parse_token("CARD=6222020000000000018")
    finally:
        driver.close()


async def test_a_card_number_typed_with_the_spaces_printed_on_the_card_is_swiped(tmp_path):
    app, driver = make_app(tmp_path)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            fed = recording(app)
            reader = await open_reader(pilot, PAN)
            await pilot.press(*"6222 0200 0000 0000 018")
            await pilot.pause()
            assert reader.query_one("#card-pan").value == "6222 0200 0000 0000 018"
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is not reader
            assert fed[-1] == deck.parse_token("CARD=6222020000000000018")[-1]
    finally:
        driver.close()
