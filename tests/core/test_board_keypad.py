# Keypad matrix scan with debounce and UP/DOWN repeat, against a recording fake matrix.
import sys

import pos

_fw = pos.__file__.replace("\\", "/").rsplit("/", 2)[0]
if _fw not in sys.path:
    sys.path.append(_fw)

from boards import fakes, profiles  # noqa: E402
from boards.keypad import Keypad  # noqa: E402
from mptest import eq  # noqa: E402


def _pad(bounce=None):
    m = fakes.KeyMatrix(5, 4, bounce)
    return m, Keypad(m.rows, m.cols, profiles.KEYMAP_5X4, debounce_ms=20)


def test_a_key_press_is_reported_once_after_the_debounce_time():
    m, k = _pad()
    eq(k.scan(0), [])
    m.down.append((1, 3))  # MENU
    eq(k.scan(10), [])  # first sight of the change
    eq(k.scan(20), [])  # stable for 10 ms only
    eq(k.scan(30), ["MENU"])
    eq(k.scan(40), [])
    eq(k.scan(900), [], "MENU does not repeat")
    m.down.remove((1, 3))
    eq(k.scan(910), [])
    eq(k.scan(935), [])
    eq(k.held(), [])


def test_contact_bounce_shorter_than_the_debounce_time_is_ignored():
    m, k = _pad()
    k.scan(0)
    m.down.append((2, 0))  # "4"
    m.bounce = [0, 1, 0, 1]  # closed, open, closed, open on successive reads
    keys = []
    t = 0
    for _ in range(4):
        t += 5
        keys.extend(k.scan(t))
    eq(keys, [], "bouncing contact")
    for _ in range(6):
        t += 5
        keys.extend(k.scan(t))
    eq(keys, ["4"])


def test_each_row_is_driven_low_in_turn_and_left_high():
    m, k = _pad()
    k.scan(0)
    for r in m.rows:
        eq(r.writes[-2:], [0, 1])
        eq(r._value, 1)


def test_up_and_down_repeat_while_held():
    m, k = _pad()
    k.scan(0)
    m.down.append((0, 3))  # DOWN
    k.scan(10)
    got = []
    for t in range(20, 1000, 10):
        got.extend(k.scan(t))
    # pressed at 30, repeats from 530 every 150 ms: 530, 680, 830, 980
    eq(got, ["DOWN"] * 5)


def test_two_keys_pressed_together_are_both_reported_in_matrix_order():
    m, k = _pad()
    k.scan(0)
    m.down.append((4, 3))  # ENTER
    m.down.append((1, 0))  # 1
    k.scan(5)
    eq(k.scan(30), ["1", "ENTER"])


def test_every_keymap_name_is_a_core_key():
    from pos.keys import is_key

    for keymap in (profiles.KEYMAP_5X4, profiles.KEYMAP_4X4):
        for row in keymap:
            for name in row:
                eq(is_key(name), True, name)
    for name in ("pico", "pico_w", "esp32"):
        p = profiles.get(name)
        kp = p["keypad"]
        eq(len(kp["keymap"]), len(kp["rows"]), name)
        eq(len(kp["keymap"][0]), len(kp["cols"]), name)
