"""The keypad: every terminal key with its legend, its PC key and a binding id, and the
user's remapping file.

Binding ids are ``key.<name>`` for terminal keys (``key.enter``, ``key.0``, ``key.f1``,
``key.dot``) and plain words for emulator actions (``card``, ``paper``, ``tear``, ``log``,
``quit``). A TOML file remaps them::

    [keymap]
    "key.enter" = "enter,space"
    "key.menu" = "m,f5"
    card = "s"

The file is ``keymap.toml`` in the user's config dir (see :func:`default_keymap_path`) or the
one given with ``posterm emulator --keymap FILE``.
"""

import os
import tomllib

from pos import keys as K


class KeymapError(ValueError):
    """The keymap file cannot be used: carries the path and what is wrong."""

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class PadKey:
    """One key on the terminal's keypad."""

    def __init__(self, name, legend, pc_keys, pc_label):
        self.name = name  # pos.keys name fed to the core ("ENTER", "1", ".")
        self.legend = legend  # what the real key says (确认)
        self.pc_keys = pc_keys  # Textual key names, comma separated
        self.pc_label = pc_label  # the PC key as shown on the button
        self.binding_id = "key." + ("dot" if name == "." else name.lower())
        self.widget_id = "key-" + ("dot" if name == "." else name)

    def label(self):
        if self.legend == self.pc_label:
            return self.legend
        return f"{self.legend} {self.pc_label}"


def _digit(d):
    return PadKey(d, d, d, d)


PAD_KEYS = (
    PadKey(K.F1, "F1", "f1", "F1"),
    PadKey(K.F2, "F2", "f2", "F2"),
    PadKey(K.F3, "F3", "f3", "F3"),
    PadKey(K.F4, "F4", "f4", "F4"),
    PadKey(K.MENU, "菜单", "m", "m"),
    PadKey(K.UP, "上", "up", "Up"),
    PadKey(K.DOWN, "下", "down", "Down"),
    PadKey(K.CANCEL, "取消", "escape", "Esc"),
    _digit("1"),
    _digit("2"),
    _digit("3"),
    PadKey(K.CLEAR, "退格", "backspace", "Bksp"),
    _digit("4"),
    _digit("5"),
    _digit("6"),
    _digit("7"),
    _digit("8"),
    _digit("9"),
    PadKey(K.ENTER, "确认", "enter", "Enter"),
    PadKey(".", ".", "full_stop", "."),
    _digit("0"),
)

BY_NAME = {k.name: k for k in PAD_KEYS}
BY_BINDING = {k.binding_id: k for k in PAD_KEYS}

# Emulator actions: binding id -> (default keys, footer description)
ACTIONS = {
    "card": ("c", "Card/QR"),
    "remove": ("e", "Eject card"),
    "paper": ("p", "Paper out"),
    "tear": ("t", "Tear off"),
    "log": ("l", "Log"),
    "quit": ("q,ctrl+q", "Quit"),
}

BINDING_IDS = tuple(k.binding_id for k in PAD_KEYS) + tuple(ACTIONS)


def default_keymap_path():
    import platformdirs

    return os.path.join(platformdirs.user_config_dir("posterm", appauthor=False), "keymap.toml")


def load_keymap(path, required=False):
    """Read a keymap file -> {binding id: "key,key"}. A missing file is an empty keymap
    unless `required` (the user named it)."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        if required:
            raise KeymapError(path, "no such file") from None
        return {}
    except OSError as e:
        raise KeymapError(path, e.strerror or str(e)) from None
    except tomllib.TOMLDecodeError as e:
        raise KeymapError(path, f"not valid TOML: {e}") from None
    table = data.get("keymap", {})
    if not isinstance(table, dict):
        raise KeymapError(path, '[keymap] must be a table of binding id = "keys"')
    out = {}
    for bid, keys in table.items():
        if bid not in BINDING_IDS:
            raise KeymapError(path, f"unknown binding id {bid!r}; known: {', '.join(BINDING_IDS)}")
        if isinstance(keys, list):
            keys = ",".join(str(k) for k in keys)
        if not isinstance(keys, str) or not keys.strip():
            raise KeymapError(path, f'{bid}: keys must be a string such as "enter,space"')
        out[bid] = ",".join(k.strip() for k in keys.split(",") if k.strip())
    _check_conflicts(path, out)
    return out


def _check_conflicts(path, overrides):
    # one PC key for two bindings leaves one of them unreachable: said, not let through
    keys = {k.binding_id: k.pc_keys for k in PAD_KEYS}
    keys.update({bid: default for bid, (default, _text) in ACTIONS.items()})
    keys.update(overrides)
    owner = {}
    for bid in BINDING_IDS:
        for key in keys[bid].split(","):
            if key in owner and owner[key] != bid:
                other = owner[key]
                which = bid if bid in overrides else other
                raise KeymapError(
                    path, f"{key!r} is bound to both {other} and {bid}: give {which} "
                    "another key (or rebind the other one too)")
            owner[key] = bid
