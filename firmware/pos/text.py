# Screen and receipt strings (zh default, en second), loaded from the data
# files menus/strings_<lang>.json, and the host response-code texts.
from pos.compat import json


class Strings:
    def __init__(self, resources, lang="zh"):
        self.resources = resources
        self.lang = lang
        self._table = None
        self._codes = None

    def set_lang(self, lang):
        if lang != self.lang:
            self.lang = lang
            self._table = None
            self._codes = None

    def _load(self):
        data = self.resources.read("strings_" + self.lang + ".json")
        if data is None:
            data = self.resources.read("strings_zh.json")
        self._table = json.loads(data) if data else {}

    def get(self, key, *args):
        if self._table is None:
            self._load()
        s = self._table.get(key)
        if s is None:
            return key
        if args:
            return s % args
        return s

    def response(self, code):
        # -> text for a host response code (field 39); unknown codes: 交易失败
        if self._codes is None:
            data = self.resources.read("respcodes.json")
            self._codes = json.loads(data) if data else {}
        entry = self._codes.get(code)
        if entry is None:
            return self.get("tx_failed")
        return entry.get(self.lang) or entry.get("zh") or ""


def label(obj, lang):
    # A menu label {"zh": ..., "en": ...} in the current language.
    if isinstance(obj, str):
        return obj
    return obj.get(lang) or obj.get("zh") or ""
