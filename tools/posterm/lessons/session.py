"""A lesson being done: a training terminal with its own store and host, the
step the trainee is on, hints, and the screen checks.

One engine serves every mode: the headless runner feeds each step's expected
keys; guided mode (the emulator panel or the text front) feeds the trainee's
keys and shows hints; assessment mode does the same without hints and keeps
the score.

Isolation: a lesson runs in DATA/training/lessons/<name>/ with its own terminal
store and its own embedded host database, wiped at every (re)start, with
`terminal.training` set (培训 TRAINING on the idle screen, a banner on every
slip). Nothing in DATA/terminal or DATA/host.db is opened."""

import os
import shutil
import time

from pos import menu as menumod

from posterm import paths
from posterm.lessons.model import LessonError
from posterm.lessons import strings

GUIDED = "guided"
ASSESS = "assess"
RUN = "run"

# how long the link waits when the training host has a 'timeout' fault armed:
# the answer is known never to come, so the trainee need not wait 30 s
FAULT_TIMEOUT_S = 1.0

KEY_NAMES = strings.section("keys")  # menus/training_strings.toml

MESSAGES = strings.section("session")  # menus/training_strings.toml


def flat(text):
    """Screen text for matching: no spaces or line breaks (wrapping splits words)."""
    return "".join(text.split())


def frame_flat(frame):
    return flat("".join(frame.text()))


# the card reader's events (pos.card): a swipe, an insert, a tap, a scan, the card pulled out
READER = ("card", "chip", "tap", "scan", "removed")
# how each is named in hints and results: [keys] card, chip, tap, scan, removed
_READER_WORDS = {"card": "swipe", "chip": "insert", "tap": "tap", "scan": "scan",
                 "removed": "remove"}


def presented(event):
    """The PAN (swipe, insert, tap) or the payment code (scan) of a reader event; ''."""
    if event[0] in ("chip", "tap"):
        spec = event[1] if len(event) > 1 else None
        return spec.get("pan", "") if isinstance(spec, dict) else ""
    if event[0] in ("card", "scan"):
        return event[1]
    return ""


def key_label(event, lang="zh"):
    names = KEY_NAMES.get(lang, KEY_NAMES["zh"])
    if event[0] == "printer":
        return "装纸" if lang == "zh" else "load paper"
    if event[0] in READER:
        word = names[_READER_WORDS[event[0]]]
        value = presented(event)
        return word + " " + value if value else word
    name = event[1]
    return names.get(name, name)


def event_matches(got, want):
    if got[0] != want[0]:
        return False
    if got[0] in ("key", "printer"):
        return got[1] == want[1]
    if got[0] == "card":
        # a swipe: the PAN must match; the expiry only when the lesson names one
        return got[1] == want[1] and (not want[2] or got[2] == want[2])
    # an insert or a tap: the same card; a scan: the same code; a removal
    return presented(got) == presented(want)


class StepResult:
    """How a step went: right first time, mistakes (each with what was expected and what
    the trainee did), digits fixed with CLEAR, seconds, screen problems."""

    def __init__(self, number, mistakes, seconds, problems, errors=(), corrections=0):
        self.number = number
        self.mistakes = mistakes
        self.seconds = seconds
        self.problems = problems
        self.errors = list(errors)
        self.corrections = corrections

    @property
    def first_time(self):
        return self.mistakes == 0

    def as_dict(self):
        return {
            "step": self.number,
            "first_time": self.first_time,
            "mistakes": self.mistakes,
            "corrections": self.corrections,
            "seconds": round(self.seconds, 1),
        }


class Outcome:
    """What one trainee input did. kind: 'ok' (a key of the step taken), 'step'
    (the step is done), 'done' (the lesson is done), 'wrong' (not fed to the
    terminal), 'typo' (a wrong digit typed into a field: fed, as on the terminal, to
    be taken back with CLEAR), 'fixed' (a CLEAR that took a digit back), 'wait' (the
    step's last key sent a message; judged when the answer is in), 'busy' (ignored
    while waiting for the host), 'finished' (after the end), 'locked' (back or restart
    refused in an assessment)."""

    def __init__(self, kind, hint=None, problems=(), result=None):
        self.kind = kind
        self.hint = hint
        self.problems = list(problems)
        self.result = result


class StepSnapshot:
    """The screen (and any receipt) as it was when a step was done, for handouts."""

    def __init__(self, step, rows, inverse, receipts):
        self.step = step
        self.rows = rows
        self.inverse = inverse
        self.receipts = receipts


class _FaultAwareLink:
    """The driver's link, waiting only FAULT_TIMEOUT_S when the training host is known
    not to answer (a 'timeout' fault the lesson armed)."""

    def __init__(self, link, will_not_answer):
        self._link = link
        self._will_not_answer = will_not_answer

    def exchange(self, data, timeout):
        if self._will_not_answer():
            timeout = min(timeout, FAULT_TIMEOUT_S)
        return self._link.exchange(data, timeout)

    def __getattr__(self, name):
        return getattr(self._link, name)


class _TrainingJournal:
    """The lesson terminal's journal. The whole store is a training store that settles
    with its own training host, so its records count in the lesson's settlement: the
    per-record 'training' flag (which keeps training sales on a live terminal out of
    the live totals) is not written here. Slips still carry the banner (t.training)."""

    def __init__(self, journal):
        self._journal = journal

    def append(self, rec):
        rec.pop("training", None)
        return self._journal.append(rec)

    def __getattr__(self, name):
        return getattr(self._journal, name)


class Session:
    def __init__(
        self,
        lesson,
        data_dir,
        mode=GUIDED,
        lang=None,
        profile=None,
        clock=time.monotonic,
        driver_factory=None,
    ):
        self.lesson = lesson
        self.mode = mode
        self.lang = lang or lesson.setup.lang
        self.profile = profile or lesson.setup.profile
        self.clock = clock
        self.base_dir = os.path.join(os.path.abspath(data_dir), "training")
        self.dir = os.path.join(self.base_dir, "lessons", lesson.name)
        self.driver_factory = driver_factory
        self.driver = None
        self.store = None
        self.frames = []  # frames shown since the current step began
        self.receipts = []  # receipts printed since the current step began
        self.beeps = []
        self.results = []  # StepResult per finished step
        self.snapshots = []  # StepSnapshot per finished step
        self.listeners = []  # callables(session) after every change (the panel)
        self.slip_listeners = []  # callables(lines) for every slip printed
        self.index = 0
        self.pos = 0
        self.misses = 0
        self.errors = []  # this step's mistakes: {"expected", "got", "kind"}
        self.extra = 0  # wrong digits typed into the current field, not yet taken back
        self.events = []  # the current step's events ({auth} etc. filled in)
        self.tokens = []
        self.entry = set()
        self.paper_out = False
        self.corrections = 0  # CLEARs that took a digit back in this step
        self.awaiting = False
        self.on_ready = []  # callables(session) once a (re)started lesson is set up
        self.step_started = 0.0
        self.started = 0.0
        self.finished_at = None

    # -- life cycle --------------------------------------------------------------------------
    def start(self):
        """(Re)start the lesson from its setup: a fresh training store and host."""
        self.close()
        self._fresh_dir()
        self._make_driver()
        self._apply_setup()
        self.index = 0
        self.results = []
        self.snapshots = []
        self.started = self.clock()
        self.finished_at = None
        self._begin_step()
        self._ready()
        return self

    @property
    def locked(self):
        """An assessment cannot be restarted or stepped back: mistakes stay made."""
        return self.mode == ASSESS

    def restart(self):
        if self.locked:
            return Outcome("locked", hint=self._msg("locked"))
        self.start()
        return Outcome("ok")

    def back(self):
        """Go back one step: restart and replay the steps before the previous one."""
        if self.locked:
            return Outcome("locked", hint=self._msg("locked"))
        # part-way through a step: back to its start; else to the previous step
        target = self.index if self.pos > 0 else max(0, self.index - 1)
        keep_results = self.results[:target]
        keep_snaps = self.snapshots[:target]
        started = self.started
        self.close()
        self._fresh_dir()
        self._make_driver()
        self._apply_setup()
        for step in self.lesson.steps[:target]:
            self._arm_center(step.center)
            self._arm_printer(step.printer)
            for ev in self._resolve(step)[1]:
                self._deliver(ev)
        self.index = target
        self.results = keep_results
        self.snapshots = keep_snaps
        self.started = started
        self.finished_at = None
        self._begin_step()
        self._ready()
        return Outcome("ok")

    def close(self):
        if self.store is not None:
            self.store.close()
            self.store = None
        if self.driver is not None:
            self.driver.close()
            self.driver = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # -- where the trainee is ----------------------------------------------------------------
    @property
    def terminal(self):
        return self.driver.terminal

    @property
    def done(self):
        return self.index >= len(self.lesson.steps)

    @property
    def step(self):
        return None if self.done else self.lesson.steps[self.index]

    def expected(self):
        """The event the current step wants next, or None when the lesson is over."""
        step = self.step
        if step is None or self.pos >= len(self.events):
            return None  # the lesson is over, or the step waits for the host's answer
        return self.events[self.pos]

    def expected_key(self):
        """The key name to highlight on the keypad (None for a card or at the end)."""
        ev = self.expected()
        return ev[1] if ev is not None and ev[0] == "key" else None

    def instruction(self):
        step = self.step
        return "" if step is None else step.do.get(self.lang)

    def progress(self):
        """(step number, number of steps)"""
        n = len(self.lesson.steps)
        return (min(self.index + 1, n), n)

    def screen_rows(self):
        """The screen's rows, padded to the full width."""
        return list(self.terminal.frame.lines)

    # -- input -------------------------------------------------------------------------------
    def feed(self, event):
        """A trainee's key or card. A wrong one never reaches the terminal, except a
        wrong digit typed into a field (an amount, a PIN): that one is typed, as on the
        terminal, and CLEAR (退格) takes it back without counting as a mistake."""
        if self.awaiting:
            return Outcome("busy")
        want = self.expected()
        if want is None:
            return Outcome("finished")
        in_field = self.pos in self.entry or (self.pos - 1) in self.entry
        is_digit = event[0] == "key" and event[1] in "0123456789" and len(event[1]) == 1
        if event == ("key", "CLEAR") and want != event and in_field:
            if self.extra or self.pos > 0 and (self.pos - 1) in self.entry:
                self._deliver(event)
                if self.extra:
                    self.extra -= 1
                else:
                    self.pos -= 1
                self.corrections += 1
                self._changed()
                return Outcome("fixed")
        if in_field and is_digit and (self.extra or not event_matches(event, want)):
            refused = self.beeps.count("error")
            self._deliver(event)
            if self.beeps.count("error") == refused:  # the field took it
                self.extra += 1
            out = Outcome("typo", hint=None if self.mode == ASSESS else self._msg("typo"))
            self._changed()
            return out
        if self.extra or not event_matches(event, want):
            return self._mistake(event, want)
        self._deliver(event)
        self.pos += 1
        if self.pos < len(self.events):
            self._changed()
            return Outcome("ok")
        if self.sending():
            # an asynchronous front (the emulator) is waiting for the host: the step
            # is judged when the answer is in (send_finished)
            self.awaiting = True
            self._changed()
            return Outcome("wait")
        return self._complete_step()

    def _mistake(self, event, want):
        self.misses += 1
        if self.extra:
            kind, expected = "uncorrected", key_label(("key", "CLEAR"), self.lang)
        elif want[0] in READER and event[0] in READER:
            # the wrong card or code, or the right card presented the wrong way
            kind, expected = "wrong_card", key_label(want, self.lang)
        elif event[0] in READER:
            kind, expected = "not_a_card", key_label(want, self.lang)
        elif want[0] in READER:
            kind, expected = "card_needed", key_label(want, self.lang)
        else:
            kind, expected = "wrong_key", key_label(want, self.lang)
        self.errors.append(
            {
                "step": self.step.number,
                "expected": expected,
                "got": key_label(event, self.lang),
                "kind": kind,
                "at": round(self.clock() - self.step_started, 1),
            }
        )
        if self.mode == ASSESS:
            hint = None
        elif kind == "uncorrected":
            hint = self._msg("fix_first")
        elif kind == "wrong_card":
            same = presented(event) == presented(want)  # inserted where a swipe was due ...
            hint = self._msg("wrong_way" if same else "wrong_card") % key_label(want, self.lang)
        elif kind == "not_a_card":
            hint = self._msg("not_a_card")
        else:
            hint = self.hint()
        out = Outcome("wrong", hint=hint)
        self._changed()
        return out

    def _msg(self, key):
        return MESSAGES.get(self.lang, MESSAGES["zh"])[key]

    def assessment_text(self):
        """What an assessment shows for the current step: the task in the merchant's
        words (the step's own, else the lesson's), never the keys."""
        step = self.step
        if step is not None and step.task is not None:
            return step.task.get(self.lang)
        return self.lesson.task.get(self.lang) if self.lesson.task else ""

    def prompt_text(self):
        """The instruction (guided) or the task (assessment) for the current step."""
        return self.assessment_text() if self.mode == ASSESS else self.instruction()

    def sending(self):
        return getattr(self.driver, "pending", None) is not None

    def send_finished(self):
        """Call after an asynchronous front fed the host's answer to the driver."""
        if self.awaiting and not self.sending():
            self.awaiting = False
            return self._complete_step()
        self._changed()
        return None

    def _complete_step(self):
        step = self.step
        problems = self.verify_step(step)
        result = StepResult(
            step.number,
            self.misses,
            self.clock() - self.step_started,
            problems,
            self.errors,
            self.corrections,
        )
        self.results.append(result)
        self.snapshots.append(
            StepSnapshot(
                step,
                list(self.terminal.frame.lines),
                self.terminal.frame.inverse,
                list(self.receipts),
            )
        )
        self.index += 1
        if self.done:
            self.finished_at = self.clock()
            self._changed()
            return Outcome("done", problems=problems, result=result)
        self._begin_step()
        self._changed()
        return Outcome("step", problems=problems, result=result)

    def hint(self):
        """The hint for the current miss count (None in assessment mode): general,
        then the kind of key, then the key itself."""
        if self.mode == ASSESS or self.misses == 0:
            return None
        msgs = MESSAGES.get(self.lang, MESSAGES["zh"])
        step = self.step
        want = self.expected()
        if self.misses == 1:
            return step.hint.get(self.lang) if step.hint else msgs["wrong"]
        if want[0] == "printer":
            return msgs["family_paper"]
        if self.misses == 2:
            if want[0] in READER:
                return msgs["family_card"]
            return msgs["family_digit"] if want[1] in "0123456789." else msgs["family_fn"]
        if want[0] in READER:
            return msgs["show_card"] % key_label(want, self.lang)
        text = msgs["show"] % key_label(want, self.lang)
        typed = self._digit_run()
        if typed:
            text += " " + msgs["typing"] % typed
        return text

    def _digit_run(self):
        # the run of digits the current step types (a PIN, an amount), if any
        toks = [t for t in self.tokens if t.isdigit() and len(t) > 1]
        return toks[0] if toks else ""

    # -- checks ------------------------------------------------------------------------------
    def verify_step(self, step):
        """What the screen or printer failed to show during / after the step."""
        problems = []
        final = frame_flat(self.terminal.frame)
        lang = self.lang
        keys = " ".join(self.tokens or step.tokens)
        if not self.frames and not self.receipts:
            why = "was refused (error beep)" if "error" in self.beeps else "had no effect"
            if self.terminal.waiting_for() is None:
                why = "found no flow running"
            problems.append(
                f"step {step.number} cannot be reached: {keys} {why} on the screen "
                f"{self._quote(self.terminal.frame)}"
            )
        for text in step.screen.get(lang):
            if flat(text) not in final:
                problems.append(
                    f"step {step.number}: the screen never shows {text!r} after {keys} "
                    f"(it shows {self._quote(self.terminal.frame)})"
                )
        for text in step.seen.get(lang):
            if not any(flat(text) in frame_flat(f) for f in self.frames):
                problems.append(
                    f"step {step.number}: {text!r} never appears on the screen during {keys}"
                )
        printed = [flat("".join(self.driver.receipt_text(r))) for r in self.receipts]
        for text in step.receipt.get(lang):
            if not any(flat(text) in p for p in printed):
                got = "nothing was printed" if not printed else "the receipt does not have it"
                problems.append(f"step {step.number}: receipt text {text!r} missing ({got})")
        return problems

    @staticmethod
    def _quote(frame):
        return "[" + " | ".join(r.strip() for r in frame.text()) + "]"

    # -- internals ---------------------------------------------------------------------------
    def _fresh_dir(self):
        # only ever below DATA/training/lessons/: never the live terminal's files
        if os.path.isdir(self.dir):
            shutil.rmtree(self.dir)
        os.makedirs(self.dir)

    def _make_driver(self):
        from posterm.driver import Driver

        setup = self.lesson.setup
        factory = self.driver_factory or Driver
        self.driver = factory(
            self.dir,
            host=None,
            lang=self.lang,
            date=setup.date,
            profile=self.profile,
            clock_running=False,
        )
        d = self.driver
        d.terminal.training = True
        d.terminal.journal = _TrainingJournal(d.terminal.journal)
        st = d.terminal.state
        for k, v in setup.params.items():
            st.params[k] = v
        if setup.params:
            st.save()
        d.frame_listeners.append(self.frames.append)
        d.print_listeners.append(self._printed)
        d.link = _FaultAwareLink(d.link, self._host_will_not_answer)
        inner_perform = d.perform

        def perform(effects):
            for eff in effects:
                if eff[0] == "beep":
                    self.beeps.append(eff[1])
            inner_perform(effects)

        d.perform = perform
        from posterm.host.store import Store

        self.store = Store(paths.host_db(self.dir))

    def _printed(self, lines):
        self.receipts.append(lines)
        for cb in list(self.slip_listeners):
            cb(lines)

    def _tid(self):
        return self.terminal.state.params.get("tid", "")

    def _host_will_not_answer(self):
        if self.store is None:
            return False
        row = self.store.get_fault(self._tid())
        return row is not None and row["kind"] == "timeout"

    def _apply_setup(self):
        setup = self.lesson.setup
        d = self.driver
        d.start()
        if setup.signed_in:
            self._sign_in()
        for tok in setup.before:
            from posterm.host.deck import parse_token

            for ev in parse_token(tok):
                d.feed(ev)
        tid = self._tid()
        if setup.host == "frozen":
            self.store.freeze_terminal(tid, setup.host_code)
        elif setup.host == "removed":
            self.store.remove_terminal(tid)
        if setup.allowed is not None:
            self.store.set_allowed(tid, setup.allowed)
        for trace in setup.missing:
            # the center never got this one: the batch will not balance (批上送)
            from posterm.host.errors import HostError

            try:
                self.store.forget_transaction(tid, trace)
            except HostError:
                raise LessonError(
                    self.lesson.path + ": setup.host.missing",
                    f"the center has no transaction {trace} to lose (the `before` keys "
                    "make the transactions)",
                ) from None
        if setup.fault is not None:
            f = setup.fault
            self.store.set_fault(tid, f.kind, f.arg, f.count)
        self._arm_center(setup.center)

    def _arm_center(self, center):
        """What the training center answers the terminal's next request(s) (`times`,
        default 1): through the host store's fault table, so the author never writes
        fault-injection commands."""
        if center is None:
            return
        tid = self._tid()
        fault = center.fault()
        if fault is None:
            self.store.clear_faults(tid)
        else:
            self.store.set_fault(tid, fault[0], fault[1], center.times or 1)

    def _sign_in(self):
        # The manual sign-in through the menu, as a trainer would do it before class.
        t = self.terminal
        path = menumod.find_action(t.menu(), "sign_in_manual")
        if path is None:
            raise LessonError(self.lesson.path + ": setup", "the menu has no manual sign-in")
        for key in ("MENU",) + tuple(path) + ("ENTER",):
            self.driver.feed(("key", key))
        if not t.signed_in_today():
            raise LessonError(
                self.lesson.path + ": setup.signed_in",
                "the sign-in before the lesson failed: " + self._quote(t.frame),
            )
        self.driver.feed(("key", "ENTER"))  # leave the result screen

    def _deliver(self, event):
        if event[0] == "printer":
            self.paper_out = event[1] != "ok"
        self.driver.feed(event)

    def _resolve(self, step):
        if not step.deferred:
            return step.tokens, step.events
        return step.resolve(self._last_slip())

    def _last_slip(self):
        # the last slip with an auth code or a reference number: what the cashier holds
        for e in reversed(self.terminal.journal.entries()):
            if e.get("auth") or e.get("rrn"):
                return e
        return None

    def _arm_printer(self, state):
        """The printer as the step begins: "out" (the roll runs out) or "ok"."""
        if state is None:
            return
        self.paper_out = state == "out"
        self._deliver(("printer", "paper_out" if self.paper_out else "ok"))

    def _begin_step(self):
        step = self.step
        if step is not None:
            self._arm_center(step.center)
            self._arm_printer(step.printer)
            self.tokens, self.events = self._resolve(step)
            from posterm.lessons.model import entry_positions

            self.entry = entry_positions(self.tokens)
        else:
            self.tokens, self.events, self.entry = [], [], set()
        self.pos = 0
        self.misses = 0
        self.errors = []
        self.extra = 0
        self.corrections = 0
        self.awaiting = False
        del self.frames[:]
        del self.receipts[:]
        del self.beeps[:]
        self.step_started = self.clock()

    def _ready(self):
        for cb in list(self.on_ready):
            cb(self)
        self._changed()

    def _changed(self):
        for cb in list(self.listeners):
            cb(self)

    # -- the score ---------------------------------------------------------------------------
    def score(self):
        """The result: steps right first time, every mistake with what was expected, the
        digits fixed with CLEAR, the time per step, and passed / not passed against the
        lesson's pass mark (accuracy: % of steps right first time; seconds: time limit)."""
        end = self.finished_at if self.finished_at is not None else self.clock()
        steps = len(self.lesson.steps)
        first = sum(1 for r in self.results if r.first_time)
        seconds = round(end - self.started, 1)
        accuracy = (100 * first // steps) if steps else 0
        mark = self.lesson.pass_mark
        errors = [e for r in self.results for e in r.errors] + list(self.errors)
        passed = (
            self.done
            and accuracy >= mark.accuracy
            and (mark.seconds is None or seconds <= mark.seconds)
        )
        return {
            "lesson": self.lesson.name,
            "steps": steps,
            "completed": len(self.results),
            "first_time": first,
            "mistakes": len(errors),
            "corrections": sum(r.corrections for r in self.results) + self.corrections,
            "seconds": seconds,
            "accuracy": accuracy,
            "pass_mark": mark.as_dict(),
            "passed": bool(passed),
            "errors": errors,
            "per_step": [r.as_dict() for r in self.results],
        }
