"""5.3 and 5.1 tell the truth about the link (issue 11 item 15, the terminal's side): the
emulator's embedded center does not use 5.3's IP (it moves to 5.3's port, driver.py), a center
given with --host uses neither; 5.3 says so before asking, and 5.1 shows the address in use
and, when 5.3's setting differs, that setting too."""

import pytest

from pos.keys import parse_token
from posterm.driver import Driver

ADMIN = "12345678"


def press(d, *tokens):
    for tok in tokens:
        for ev in parse_token(tok):
            d.feed(ev)


def flat(d):
    return "".join(row.strip() for row in d.terminal.frame.text())


@pytest.fixture
def embedded(tmp_path):
    d = Driver(str(tmp_path / "d"), date=(2026, 11, 23, 9, 0, 0))
    d.start()
    yield d
    d.close()


def test_comms_says_the_embedded_center_does_not_use_the_ip(embedded):
    press(embedded, "MENU", "5", "3", ADMIN, "ENTER")
    assert "本机中心:IP无效" in flat(embedded), flat(embedded)
    assert embedded.terminal.frame.is_inverse(0)
    press(embedded, "ENTER")
    assert "中心IP地址" in flat(embedded), "the settings are asked for after the note"


def test_params_show_the_address_in_use_and_the_setting_that_differs(embedded):
    port = str(embedded.address[1])
    press(embedded, "MENU", "5", "3", ADMIN, "ENTER", "ENTER", *(["CLEAR"] * 12), "10.0.0.9",
          "ENTER", *(["CLEAR"] * 5), port, "ENTER", "ENTER", "ENTER", "ENTER", "ENTER")
    assert "设置成功" in flat(embedded), flat(embedded)
    assert embedded.terminal.state.params["host"] == "10.0.0.9:" + port
    press(embedded, "ENTER", "CANCEL", "CANCEL", "MENU", "5", "1")
    pages = []
    for _i in range(10):
        pages.append(flat(embedded))
        press(embedded, "DOWN")
    text = " ".join(pages)
    assert "中心地址:127.0.0.1:" + port in text, text
    assert "通讯参数设置:10.0.0.9:" + port in text, text


def test_params_show_one_address_when_the_setting_is_the_one_in_use(embedded):
    press(embedded, "MENU", "5", "1", "DOWN", "DOWN", "DOWN")
    text = flat(embedded)
    assert "中心地址:" in text and "通讯参数设置" not in text, text


def test_comms_says_a_host_given_with_the_option_uses_neither(tmp_path):
    d = Driver(str(tmp_path / "d"), host="127.0.0.1:9", date=(2026, 11, 23, 9, 0, 0))
    try:
        d.start()
        press(d, "MENU", "5", "3", ADMIN, "ENTER")
        assert "--host" in flat(d) and "IP和端口无效" in flat(d), flat(d)
    finally:
        d.close()
