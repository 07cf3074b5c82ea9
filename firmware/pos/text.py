# Screen and receipt strings (zh default, en second), loaded from the data
# files menus/strings_<lang>.json, and the host response-code texts.
#
# RAM: the strings file stays as its raw UTF-8 bytes (9 KB) and a key is found
# in it when asked for; the parsed dict of the same file took 19 KB on
# MicroPython. Response-code texts (a 14 KB dict parsed) are looked up in the
# file on demand and not kept: they are shown once per transaction.
from pos.compat import json

_QUOTE = 0x22
_BACKSLASH = 0x5C


def _find_value(data, key):
    # -> the JSON string value of top-level `key` in data (bytes of a flat JSON
    # object of strings), or None. A match must be a key: a quoted key followed
    # by ':' (a value is followed by ',' or '}', and an escaped \"key\" inside a
    # value is preceded by a backslash).
    needle = b'"' + key.encode() + b'"'
    n = len(data)
    at = data.find(needle)
    while at >= 0:
        i = at + len(needle)
        while i < n and data[i] in b" \t\r\n":
            i += 1
        if i < n and data[i] == 0x3A and (at == 0 or data[at - 1] != _BACKSLASH):
            i += 1
            while i < n and data[i] in b" \t\r\n":
                i += 1
            if i >= n or data[i] != _QUOTE:
                return None
            j = i + 1
            while j < n:
                c = data[j]
                if c == _BACKSLASH:
                    j += 2
                    continue
                if c == _QUOTE:
                    return json.loads(data[i : j + 1])
                j += 1
            return None
        at = data.find(needle, at + 1)
    return None


class Strings:
    def __init__(self, resources, lang="zh"):
        self.resources = resources
        self.lang = lang
        self._data = None

    def set_lang(self, lang):
        if lang != self.lang:
            self.lang = lang
            self._data = None

    def _load(self):
        data = self.resources.read("strings_" + self.lang + ".json")
        if data is None:
            data = self.resources.read("strings_zh.json")
        self._data = bytes(data) if data else b"{}"

    def get(self, key, *args):
        if self._data is None:
            self._load()
        s = _find_value(self._data, key)
        if s is None:
            return key
        if args:
            return s % args
        return s

    def response(self, code):
        # -> text for a host response code (field 39); unknown codes: 交易失败
        data = self.resources.read("respcodes.json")
        entry = None
        if data:
            codes = json.loads(data)
            entry = codes.get(code)
            codes = None
        if entry is None:
            return self.get("tx_failed")
        return entry.get(self.lang) or entry.get("zh") or ""


def label(obj, lang):
    # A menu label {"zh": ..., "en": ...} in the current language.
    if isinstance(obj, str):
        return obj
    return obj.get(lang) or obj.get("zh") or ""
