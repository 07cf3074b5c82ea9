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
from pos.keys import KeyTokenError

from posterm import paths
from posterm.host.catalog import FAULT_KINDS
from posterm.host.deck import parse_token
from posterm.host.errors import ValidationError
from posterm.host.validate import fault as host_fault

LANGS = ("zh", "en")
HOST_STATES = ("registered", "frozen", "removed")

_LESSON_KEYS = {"order", "title", "goal", "task", "pass", "setup", "steps", "notes"}
_SETUP_KEYS = {
    "date",
    "signed_in",
    "lang",
    "params",
    "before",
    "fault",
    "host",
    "profile",
    "center",
}
_STEP_KEYS = {
    "do",
    "task",
    "keys",
    "screen",
    "seen",
    "receipt",
    "hint",
    "why",
    "center",
    "printer",
}

# Lesson-only tokens. PAPER: the cashier loads a new paper roll (the printer is ok again).
# {auth} {rrn} {trace} {date}: typed from the last slip (its auth code, reference number,
# trace number, MMDD date), as a cashier copies them from the slip in the hand; known
# only once the lesson runs, so they are filled in when the step begins.
PAPER = "PAPER"
SLIP_FIELDS = {"auth": "auth", "rrn": "rrn", "trace": "trace", "date": "date"}
PRINTER_STATES = ("out", "ok")

# What a step (or the setup) can have the training center answer, in the author's words:
# approve, a two-digit decline code ("51", "55"), timeout (no answer), badmac (an answer
# whose MAC does not check), drop (the line drops). -> the host fault it arms (kind, arg).
CENTER_ANSWERS = ("approve", "timeout", "badmac", "drop")

# Default pass mark when a lesson sets none: every step right first time is not needed,
# 80 % of them is; no time limit.
DEFAULT_PASS_ACCURACY = 80

# Key labels an assessment task must never spell (the task is the merchant's words)
_KEY_WORDS = ("「菜单」", "「确认」", "「取消」", "「退格」", "MENU", "ENTER", "CANCEL", "CLEAR")


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


class CenterAnswer:
    """What the training center answers: approve, a decline code, timeout, badmac, drop.
    `times`: how many of the terminal's requests get this answer (None: all of them)."""

    def __init__(self, answer, times=None):
        self.answer = answer
        self.times = times

    def fault(self):
        """-> (kind, arg) for the host's fault store, or None for a plain approval."""
        if self.answer == "approve":
            return None
        if self.answer in ("timeout", "badmac", "drop"):
            return (self.answer, None)
        return ("respond", self.answer)

    def __repr__(self):
        return f"CenterAnswer({self.answer!r}, {self.times!r})"


class PassMark:
    """accuracy: the percentage of steps right first time needed; seconds: the most time
    the whole lesson may take (None: no limit)."""

    def __init__(self, accuracy=DEFAULT_PASS_ACCURACY, seconds=None):
        self.accuracy = accuracy
        self.seconds = seconds

    def as_dict(self):
        return {"accuracy": self.accuracy, "seconds": self.seconds}


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
        self.center = None  # a CenterAnswer armed after `before` (like fault)
        self.missing = []  # traces the center has no record of


class Step:
    def __init__(
        self,
        number,
        do,
        tokens,
        events,
        screen,
        seen,
        receipt,
        hint,
        why,
        task=None,
        center=None,
    ):
        self.number = number
        self.do = do  # Text: the instruction
        self.task = task  # Text or None: what happens, in the merchant's words (assessment)
        self.center = center  # CenterAnswer or None: what the center answers in this step
        self.tokens = tokens  # as written, e.g. ["10000", "ENTER"]
        self.events = events  # the core events they stand for (slip fields: None)
        self.entry = entry_positions(tokens)  # event indices typed into a digit field
        self.printer = None  # "out": the paper runs out as the step begins; "ok"
        self.screen = screen  # Expect: on the screen once the step is done
        self.seen = seen  # Expect: shown at some moment during the step
        self.receipt = receipt  # Expect: printed during the step
        self.hint = hint  # Text or None: the first, general hint
        self.why = why  # Text or None: why this step (shown after it)

    @property
    def deferred(self):
        """The step types something read off the last slip ({auth}, {rrn} ...)."""
        return any(_slip_field(t) for t in self.tokens)

    def resolve(self, slip):
        """-> (tokens, events) with {auth} etc. filled in from `slip` (a journal record)."""
        tokens = []
        for tok in self.tokens:
            field = _slip_field(tok)
            if field:
                value = str(slip.get(SLIP_FIELDS[field], "")) if slip else ""
                if field == "date" and len(value) == 8:
                    value = value[4:]
                tok = value
            tokens.append(tok)
        events = []
        for tok in tokens:
            events.extend(token_events(tok))
        return tokens, events


def _slip_field(tok):
    if tok.startswith("{") and tok.endswith("}") and tok[1:-1] in SLIP_FIELDS:
        return tok[1:-1]
    return None


def token_events(tok):
    if tok.upper() == PAPER:
        return [("printer", "ok")]
    return parse_token(tok)


def entry_positions(tokens):
    """The event indices that belong to a run of digits (an amount, a PIN, a number typed
    into a field): there the terminal takes CLEAR (退格) to fix a digit."""
    out = set()
    i = 0
    for tok in tokens:
        n = len(tok) if tok.isdigit() else 1
        if tok.isdigit() and len(tok) > 1:
            out.update(range(i, i + n))
        i += n
    return out


class Lesson:
    def __init__(
        self, name, path, order, title, goal, setup, steps, notes, task=None, pass_mark=None
    ):
        self.name = name
        self.path = path
        self.order = order
        self.title = title
        self.goal = goal
        self.task = task  # Text or None: the assessment task, in the merchant's words
        self.pass_mark = pass_mark or PassMark()
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
    except UnicodeDecodeError as e:  # tomllib reads UTF-8 only
        raise LessonError(path, f"not UTF-8 text (byte {e.start}): a lesson is a UTF-8 "
                          "TOML file") from None
    name = os.path.basename(path)[:-5] if path.endswith(".toml") else os.path.basename(path)
    return parse(data, name, path)


def load_all(directory=None):
    return [load(n, directory) for n in names(directory)]


def parse(data, name, path="<lesson>"):
    _unknown(data, _LESSON_KEYS, path)
    title = _text(data.get("title"), f"{path}: title", required=True)
    goal = _text(data.get("goal"), f"{path}: goal", required=True)
    notes = _text(data.get("notes"), f"{path}: notes")
    task = _task(data.get("task"), f"{path}: task")
    pass_mark = _pass(data.get("pass"), f"{path}: pass")
    order = data.get("order", 0)
    if not isinstance(order, int):
        raise LessonError(f"{path}: order", "must be an integer")
    setup = _setup(data.get("setup", {}), f"{path}: setup")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise LessonError(path, "needs at least one [[steps]]")
    steps = [_step(s, i + 1, f"{path}: step {i + 1}") for i, s in enumerate(raw_steps)]
    return Lesson(name, path, order, title, goal, setup, steps, notes, task, pass_mark)


def _task(value, where):
    text = _text(value, where)
    if text is None:
        return None
    for lang_text in (text.zh, text.en):
        for word in _KEY_WORDS:
            if word in lang_text:
                raise LessonError(
                    where,
                    f"names the key {word}: an assessment task says what the customer or "
                    "the merchant wants, never which keys to press",
                )
    return text


def _pass(raw, where):
    if raw is None:
        return PassMark()
    _unknown(raw, {"accuracy", "seconds"}, where)
    acc = raw.get("accuracy", DEFAULT_PASS_ACCURACY)
    if not isinstance(acc, int) or isinstance(acc, bool) or not 0 <= acc <= 100:
        raise LessonError(where + ".accuracy", "must be a whole percentage 0-100")
    secs = raw.get("seconds")
    if secs is not None and (not isinstance(secs, int) or isinstance(secs, bool) or secs < 1):
        raise LessonError(where + ".seconds", "must be a whole number of seconds >= 1")
    return PassMark(acc, secs)


def _center(raw, where):
    if raw is None:
        return None
    times = None
    if isinstance(raw, dict):
        _unknown(raw, {"answer", "times"}, where)
        times = raw.get("times")
        if times is not None and (not isinstance(times, int) or times < 1):
            raise LessonError(where + ".times", "must be a whole number >= 1")
        raw = raw.get("answer")
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = "%02d" % raw
    if not isinstance(raw, str):
        raise LessonError(
            where, 'must be "approve", a decline code such as "51", "timeout", "badmac" or "drop"'
        )
    answer = raw.strip().lower()
    if answer not in CENTER_ANSWERS and not (
        len(answer) == 2 and answer.isascii() and answer.isalnum()
    ):
        raise LessonError(
            where,
            f"unknown answer {raw!r}: approve, a two-character response code (51, 55, ...), "
            "timeout, badmac or drop",
        )
    if answer not in CENTER_ANSWERS:
        answer = answer.upper()
        if answer == "00":
            answer = "approve"
    return CenterAnswer(answer, times)


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
        if tok.startswith("{"):
            if not _slip_field(tok):
                raise LessonError(
                    where,
                    f"{tok}: a value from the slip is one of "
                    + ", ".join("{%s}" % f for f in SLIP_FIELDS),
                )
            events.append(None)  # filled in when the step begins
            continue
        try:
            events.extend(token_events(tok))
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
    s.center = _center(raw.get("center"), where + ".center")
    if s.center is not None and raw.get("fault") is not None:
        raise LessonError(where, "set center or fault, not both")
    fault = raw.get("fault")
    if fault is not None:
        _unknown(fault, {"kind", "arg", "count"}, where + ".fault")
        kind = fault.get("kind")
        if kind not in FAULT_KINDS:
            raise LessonError(where + ".fault.kind", f"must be one of {', '.join(FAULT_KINDS)}")
        arg = fault.get("arg")
        if kind in ("respond", "delay", "need") and arg is None:
            raise LessonError(where + ".fault.arg", f"a {kind} fault needs an arg")
        try:  # the host's own rules for each kind (one source: posterm host fault set)
            kind, arg = host_fault(kind, None if arg is None else str(arg))
        except ValidationError as e:
            raise LessonError(where + ".fault.arg", e.reason) from None
        count = fault.get("count")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise LessonError(where + ".fault.count", "must be a whole number >= 1")
        s.fault = Fault(kind, None if arg is None else str(arg), count)
    host = raw.get("host")
    if host is not None:
        _unknown(host, {"terminal", "code", "allowed", "missing"}, where + ".host")
        s.host = host.get("terminal", "registered")
        if s.host not in HOST_STATES:
            raise LessonError(where + ".host.terminal", f"must be one of {', '.join(HOST_STATES)}")
        s.host_code = host.get("code")
        if s.host == "frozen" and s.host_code is None:
            s.host_code = "97"
        allowed = host.get("allowed")
        if allowed is not None:
            s.allowed = _strings(allowed, where + ".host.allowed")
        # traces of the `before` transactions the center never got (an unbalanced batch)
        s.missing = _strings(host.get("missing", []), where + ".host.missing")
    return s


def _step(raw, number, where):
    _unknown(raw, _STEP_KEYS, where)
    do = _text(raw.get("do"), where + ".do", required=True)
    if "keys" not in raw:
        raise LessonError(where, "needs keys = [...] (the key(s) or CARD=<PAN> the step expects)")
    tokens, events = tokens_to_events(raw["keys"], where + ".keys")
    if not events:
        raise LessonError(where + ".keys", "is empty: a step expects at least one key or card")
    printer = raw.get("printer")
    if printer is not None and printer not in PRINTER_STATES:
        raise LessonError(where + ".printer", 'must be "out" (the paper runs out) or "ok"')
    step = Step(
        number,
        do,
        tokens,
        events,
        _expect(raw.get("screen"), where + ".screen"),
        _expect(raw.get("seen"), where + ".seen"),
        _expect(raw.get("receipt"), where + ".receipt"),
        _text(raw.get("hint"), where + ".hint"),
        _text(raw.get("why"), where + ".why"),
        _task(raw.get("task"), where + ".task"),
        _center(raw.get("center"), where + ".center"),
    )
    step.printer = printer
    return step
