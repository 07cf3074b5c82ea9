"""Lessons as data: load and validate a lesson file (menus/lessons/*.toml).

The format is documented in menus/lessons/README.md. A lesson is a title and a
goal in zh and en, a setup (terminal date, signed in or not, host faults, a key
script run before the lesson starts) and steps: an instruction in zh and en, the
keys or card the step expects, and what the screen must show after it.

Everything wrong with a file is a LessonError naming the file, the step and the
field, so `posterm lesson check` can print it as one clear line."""

import os
import tomllib

from pos import clock
from pos.keys import KeyTokenError, parse_token

from posterm import paths

LANGS = ("zh", "en")
FAULT_KINDS = ("timeout", "respond", "badmac", "drop", "delay")
HOST_STATES = ("registered", "frozen", "removed")

_LESSON_KEYS = {"order", "title", "goal", "setup", "steps", "notes"}
_SETUP_KEYS = {"date", "signed_in", "lang", "params", "before", "fault", "host", "profile"}
_STEP_KEYS = {"do", "keys", "screen", "seen", "receipt", "hint", "why"}


class LessonError(ValueError):
    """A problem with a lesson file: where (file, step, field) and what."""

    def __init__(self, where, message):
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


class Text:
    """A text in zh and en (en falls back to zh when missing)."""

    def __init__(self, zh, en=""):
        self.zh = zh
        self.en = en or zh

    def get(self, lang):
        return self.en if lang == "en" else self.zh

    def __repr__(self):
        return f"Text({self.zh!r}, {self.en!r})"


class Expect:
    """Texts the screen (or the receipt) must show, per language."""

    def __init__(self, zh=(), en=None):
        self.zh = list(zh)
        self.en = list(en) if en is not None else None

    def get(self, lang):
        if lang == "en":
            return self.en if self.en is not None else []
        return self.zh

    def __bool__(self):
        return bool(self.zh or self.en)


class Fault:
    def __init__(self, kind, arg=None, count=None):
        self.kind = kind
        self.arg = arg
        self.count = count


class Setup:
    def __init__(self):
        self.date = (2026, 11, 23, 9, 0, 0)
        self.signed_in = False
        self.lang = "zh"
        self.params = {}
        self.before = []  # key tokens run (silently) before step 1
        self.fault = None  # a Fault armed for the terminal after `before`
        self.host = "registered"  # or "frozen" (with host_code) or "removed"
        self.host_code = None
        self.allowed = None  # the transaction types the host allows, None = all
        self.profile = "lcd128x64"


class Step:
    def __init__(self, number, do, tokens, events, screen, seen, receipt, hint, why):
        self.number = number
        self.do = do  # Text: the instruction
        self.tokens = tokens  # as written, e.g. ["10000", "ENTER"]
        self.events = events  # the core events they stand for
        self.screen = screen  # Expect: on the screen once the step is done
        self.seen = seen  # Expect: shown at some moment during the step
        self.receipt = receipt  # Expect: printed during the step
        self.hint = hint  # Text or None: the first, general hint
        self.why = why  # Text or None: why this step (shown after it)


class Lesson:
    def __init__(self, name, path, order, title, goal, setup, steps, notes):
        self.name = name
        self.path = path
        self.order = order
        self.title = title
        self.goal = goal
        self.setup = setup
        self.steps = steps
        self.notes = notes  # Text or None: read after the last step

    def __repr__(self):
        return f"Lesson({self.name!r}, {len(self.steps)} steps)"


# -- loading ---------------------------------------------------------------------------------
def lesson_dir():
    return paths.LESSONS_DIR


def names(directory=None):
    """The lesson names in `directory` (file names without .toml), in lesson order."""
    directory = directory or lesson_dir()
    try:
        files = sorted(f for f in os.listdir(directory) if f.endswith(".toml"))
    except OSError:
        return []
    return [f[:-5] for f in files]


def find(name, directory=None):
    """A lesson by name (or a path to a .toml file) -> its path."""
    if name.endswith(".toml") or os.sep in name or "/" in name:
        return name
    directory = directory or lesson_dir()
    path = os.path.join(directory, name + ".toml")
    if os.path.exists(path):
        return path
    # a unique prefix or the part after the number: "01", "daily_signin"
    hits = [n for n in names(directory) if n.startswith(name) or n.split("_", 1)[-1] == name]
    if len(hits) == 1:
        return os.path.join(directory, hits[0] + ".toml")
    known = ", ".join(names(directory)) or "none"
    if hits:
        raise LessonError(name, "ambiguous lesson name: " + ", ".join(hits))
    raise LessonError(name, f"no such lesson (lessons: {known})")


def load(name_or_path, directory=None):
    path = find(name_or_path, directory)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise LessonError(path, e.strerror or str(e)) from None
    except tomllib.TOMLDecodeError as e:
        raise LessonError(path, f"not valid TOML: {e}") from None
    name = os.path.basename(path)[:-5] if path.endswith(".toml") else os.path.basename(path)
    return parse(data, name, path)


def load_all(directory=None):
    return [load(n, directory) for n in names(directory)]


def parse(data, name, path="<lesson>"):
    _unknown(data, _LESSON_KEYS, path)
    title = _text(data.get("title"), f"{path}: title", required=True)
    goal = _text(data.get("goal"), f"{path}: goal", required=True)
    notes = _text(data.get("notes"), f"{path}: notes")
    order = data.get("order", 0)
    if not isinstance(order, int):
        raise LessonError(f"{path}: order", "must be an integer")
    setup = _setup(data.get("setup", {}), f"{path}: setup")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise LessonError(path, "needs at least one [[steps]]")
    steps = [_step(s, i + 1, f"{path}: step {i + 1}") for i, s in enumerate(raw_steps)]
    return Lesson(name, path, order, title, goal, setup, steps, notes)


def _unknown(table, allowed, where):
    if not isinstance(table, dict):
        raise LessonError(where, "must be a table")
    extra = sorted(set(table) - allowed)
    if extra:
        raise LessonError(
            where, f"unknown field {extra[0]!r} (known: {', '.join(sorted(allowed))})"
        )


def _text(value, where, required=False):
    if value is None:
        if required:
            raise LessonError(where, "is required (a table with zh and en)")
        return None
    if isinstance(value, str):
        return Text(value)
    if not isinstance(value, dict) or not isinstance(value.get("zh"), str) or not value["zh"]:
        raise LessonError(where, 'needs a zh text (and an en one): { zh = "...", en = "..." }')
    en = value.get("en", "")
    if not isinstance(en, str):
        raise LessonError(where, "en must be a string")
    _unknown(value, {"zh", "en"}, where)
    return Text(value["zh"], en)


def _expect(value, where):
    if value is None:
        return Expect()
    if isinstance(value, str):
        return Expect([value])
    if isinstance(value, list):
        return Expect(_strings(value, where))
    if isinstance(value, dict):
        _unknown(value, {"zh", "en"}, where)
        zh = value.get("zh", [])
        en = value.get("en")
        zh = [zh] if isinstance(zh, str) else zh
        en = [en] if isinstance(en, str) else en
        return Expect(_strings(zh, where + ".zh"), _strings(en, where + ".en") if en else None)
    raise LessonError(where, "must be a text, a list of texts or { zh = [...], en = [...] }")


def _strings(value, where):
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise LessonError(where, "must be a list of non-empty texts")
    return value


def tokens_to_events(tokens, where):
    if isinstance(tokens, str):
        tokens = tokens.split()
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise LessonError(where, 'must be a list of key names such as ["MENU", "1"]')
    events = []
    for tok in tokens:
        try:
            events.extend(parse_token(tok))
        except KeyTokenError as e:
            raise LessonError(where, str(e)) from None
    return list(tokens), events


def _setup(raw, where):
    _unknown(raw, _SETUP_KEYS, where)
    s = Setup()
    if "date" in raw:
        try:
            s.date = clock.parse(str(raw["date"]))
        except ValueError as e:
            raise LessonError(where + ".date", f"{e} (write YYYY-MM-DDTHH:MM)") from None
    s.signed_in = bool(raw.get("signed_in", False))
    s.lang = raw.get("lang", "zh")
    if s.lang not in LANGS:
        raise LessonError(where + ".lang", "must be zh or en")
    s.params = raw.get("params", {})
    if not isinstance(s.params, dict):
        raise LessonError(where + ".params", "must be a table of terminal parameters")
    s.before = tokens_to_events(raw.get("before", []), where + ".before")[0]
    s.profile = raw.get("profile", "lcd128x64")
    fault = raw.get("fault")
    if fault is not None:
        _unknown(fault, {"kind", "arg", "count"}, where + ".fault")
        kind = fault.get("kind")
        if kind not in FAULT_KINDS:
            raise LessonError(where + ".fault.kind", f"must be one of {', '.join(FAULT_KINDS)}")
        arg = fault.get("arg")
        if kind in ("respond", "delay") and arg is None:
            raise LessonError(where + ".fault.arg", f"a {kind} fault needs an arg")
        count = fault.get("count")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise LessonError(where + ".fault.count", "must be a whole number >= 1")
        s.fault = Fault(kind, None if arg is None else str(arg), count)
    host = raw.get("host")
    if host is not None:
        _unknown(host, {"terminal", "code", "allowed"}, where + ".host")
        s.host = host.get("terminal", "registered")
        if s.host not in HOST_STATES:
            raise LessonError(where + ".host.terminal", f"must be one of {', '.join(HOST_STATES)}")
        s.host_code = host.get("code")
        if s.host == "frozen" and s.host_code is None:
            s.host_code = "97"
        allowed = host.get("allowed")
        if allowed is not None:
            s.allowed = _strings(allowed, where + ".host.allowed")
    return s


def _step(raw, number, where):
    _unknown(raw, _STEP_KEYS, where)
    do = _text(raw.get("do"), where + ".do", required=True)
    if "keys" not in raw:
        raise LessonError(where, "needs keys = [...] (the key(s) or CARD=<PAN> the step expects)")
    tokens, events = tokens_to_events(raw["keys"], where + ".keys")
    if not events:
        raise LessonError(where + ".keys", "is empty: a step expects at least one key or card")
    return Step(
        number,
        do,
        tokens,
        events,
        _expect(raw.get("screen"), where + ".screen"),
        _expect(raw.get("seen"), where + ".seen"),
        _expect(raw.get("receipt"), where + ".receipt"),
        _text(raw.get("hint"), where + ".hint"),
        _text(raw.get("why"), where + ".why"),
    )
