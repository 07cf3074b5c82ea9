"""Guided and assessment mode in the emulator: the emulator app with a lesson panel
(step N of M, the instruction, hints that get more specific on every miss), the
expected key highlighted on the keypad, back a step (b) and restart (r).

The emulator itself is untouched: LessonApp subclasses EmulatorApp, and the app's
driver is a LessonDriver that forwards to the lesson session's current training
driver (a restart or a step back builds a new one)."""

import os

from textual.binding import Binding
from textual.containers import Vertical
from rich.text import Text
from textual.widgets import Static

from posterm.emulator import app as emulator_app
from posterm.emulator.app import EmulatorApp
from posterm.emulator.frontdriver import EmulatorDriver
from posterm.emulator.widgets import PadButton
from posterm.lessons import results
from posterm.lessons.session import ASSESS, GUIDED, READER, Session, presented
from posterm.lessons import strings

HIGHLIGHT = "-lesson-next"

WORDS = strings.section("guided")  # menus/training_strings.toml


class LessonDriver:
    """The driver the emulator app sees: the session's current training driver, with the
    app's listeners carried over to every new one (restart, back)."""

    def __init__(self, session):
        self._session = session
        self.frame_listeners = []
        self.print_listeners = []
        self.send_listeners = []
        self.outcome_listeners = []  # callables(Outcome) for answers that arrive later
        self._start_send = None
        session.on_ready.append(self._attach)
        if session.driver is not None:
            self._attach(session)

    @property
    def start_send(self):
        return self._start_send

    @start_send.setter
    def start_send(self, fn):
        self._start_send = fn
        if self._session.driver is not None:
            self._session.driver.start_send = fn

    def _attach(self, session):
        d = session.driver
        d.frame_listeners.append(lambda f: [cb(f) for cb in list(self.frame_listeners)])
        d.print_listeners.append(lambda lines: [cb(lines) for cb in list(self.print_listeners)])
        d.send_listeners.append(
            lambda data, ev, ms: [cb(data, ev, ms) for cb in list(self.send_listeners)]
        )
        d.start_send = self._start_send
        for cb in list(self.frame_listeners):
            cb(d.terminal.frame)

    def start(self):
        # the session set the lesson up already; show where it stands
        for cb in list(self.frame_listeners):
            cb(self._session.terminal.frame)

    def feed(self, event):
        self._session.driver.feed(event)

    def finish_send(self, data, event, ms):
        self._session.driver.finish_send(data, event, ms)
        out = self._session.send_finished()
        if out is not None:
            for cb in list(self.outcome_listeners):
                cb(out)

    def close(self):
        self._session.close()

    def __getattr__(self, name):
        return getattr(self._session.driver, name)


class LessonPanel(Vertical):
    """The lesson, docked under the emulator: its title and step N of M in the border,
    the instruction, the hint and why the step matters; b / r in the border below."""

    # Docked at the top of the right-hand column, above the printer: the terminal, its
    # keypad, the status and the footer (c Card, p Paper) stay whole at 80x24.
    DEFAULT_CSS = """
    LessonPanel {
        dock: top;
        width: 100%;
        height: auto;
        max-height: 13;
        border: round $success;
        padding: 0 1;
        overflow-y: auto;
    }
    LessonPanel #lesson-hint { color: $warning; text-style: bold; }
    LessonPanel #lesson-how { color: $accent; }
    LessonPanel #lesson-why { color: $text-muted; }
    """

    def __init__(self, session, **kwargs):
        super().__init__(**kwargs)
        self.session = session
        self.words = WORDS.get(session.lang, WORDS["zh"])
        self.hint = ""
        self.why = ""
        self.finished = ""
        self.raw = {}  # the texts as written, before wrapping

    def compose(self):
        yield Static(id="lesson-do")
        yield Static(id="lesson-how")
        yield Static(id="lesson-hint")
        yield Static(id="lesson-why")

    def on_mount(self):
        keys = [self.words["card"], self.words["paper"]]
        if self.session.mode != ASSESS:
            keys += [self.words["back"], self.words["restart"]]
        self.border_subtitle = " ".join(keys)
        self.refresh_text()

    def refresh_text(self):
        s = self.session
        n, m = s.progress()
        kind = self.words["assess"] if s.mode == ASSESS else self.words["guided"]
        step = self.words["step"] % (n, m)
        # step N of M first: a narrow panel cuts the title's end, never the progress
        self.border_title = f"{kind} {step}: {s.lesson.title.get(s.lang)}"
        self._set("#lesson-do", self.finished or s.prompt_text(), always=True)
        how = "" if self.finished else self.how()
        for wid, text in (
            ("#lesson-how", how),
            ("#lesson-hint", self.hint),
            ("#lesson-why", self.why),
        ):
            self._set(wid, text)

    def _set(self, wid, text, always=False):
        self.raw[wid] = text
        w = self.query_one(wid, Static)
        w.update(Text(self._wrapped(text)))
        if not always:
            w.display = bool(text)

    def _wrapped(self, text):
        # wrapped here as a Chinese text is: between characters, never a line that starts
        # with 。,、)」 nor a number or a word cut in two (pos.cells.wrap); Rich would break
        # at the spaces and leave 。 at a line's start
        from pos import cells

        width = self.scrollable_content_region.width
        if width < 8:  # not laid out yet: on_resize wraps it
            return text
        return "\n".join(cells.wrap(text, width))

    def on_resize(self, _event):
        self.refresh_text()

    def how(self):
        """How to do on the emulator what the step needs that is not a key: present a card
        (c, then pick it), load paper (p). In an assessment only the general line (the
        border) says so: naming what the step needs would be a hint."""
        s = self.session
        want = s.expected()
        if s.mode == ASSESS or want is None:
            return ""
        if want[0] == "removed":
            return self.words["how_removed"]
        if want[0] in READER:
            return self.words["how_" + want[0]] % presented(want)
        if want[0] == "printer":
            return self.words["how_paper"]
        return ""

    def text(self):
        """The panel's text as the trainee reads it (tests use this)."""
        parts = [self.border_title or ""]
        for wid in ("#lesson-do", "#lesson-how", "#lesson-hint", "#lesson-why"):
            w = self.query_one(wid, Static)
            if w.display:
                parts.append(self.raw.get(wid, ""))
        return "\n".join(p for p in parts if p)


class LessonApp(EmulatorApp):
    """The emulator in guided or assessment mode for one lesson session (started)."""

    CSS_PATH = os.path.join(os.path.dirname(emulator_app.__file__), "emulator.tcss")
    CSS = """
    PadButton.-lesson-next { background: $success; color: $text; text-style: bold; }
    """
    BINDINGS = EmulatorApp.BINDINGS + [
        Binding("b", "lesson_back", "Back a step", id="lesson.back"),
        Binding("r", "lesson_restart", "Restart", id="lesson.restart"),
    ]

    def __init__(self, session, trainee=None, data_dir=None, **kwargs):
        self.session = session
        self.trainee = trainee
        self.data_dir = data_dir
        self.lesson_driver = LessonDriver(session)
        self.lesson_driver.outcome_listeners.append(self._outcome)
        self.panel = LessonPanel(session, id="lesson")
        self.result_path = None
        self.attempt = None
        self.end_reason = results.WINDOW_CLOSED
        super().__init__(self.lesson_driver, **kwargs)

    def on_mount(self):
        super().on_mount()
        self.query_one("#right").mount(self.panel)
        self.call_after_refresh(self._highlight)
        if self.session.mode == ASSESS and self.trainee:
            # on file before the first key: an attempt can be left, never unrecorded
            self.attempt = results.Attempt(
                self.data_dir, self.trainee, self.session.lesson.name, "emulator"
            )
            self.result_path = None
            self.attempt.begin()

    async def action_quit(self):
        self.end_reason = results.QUIT
        await super().action_quit()

    def record_abandoned(self, reason=None):
        """The attempt ends before the lesson does (quit, window closed): on file as
        abandoned with how far the trainee got."""
        if self.attempt is not None and self.attempt.status == results.STARTED:
            self.attempt.abandon(reason or self.end_reason, self.session.score())

    def on_unmount(self):
        self.record_abandoned()

    # -- the trainee's keys and cards go through the lesson -----------------------------------
    def feed(self, event):
        if event[0] == "printer" and self.session.expected() == event:
            pass  # loading paper is what the step asks: judged by the lesson
        elif event[0] == "removed" and self.session.expected() != event:
            return super().feed(event)  # a card pulled out is never a wrong key
        elif event[0] != "key" and event[0] not in READER:
            return super().feed(event)
        self._outcome(self.session.feed(event))
        self.refresh_status()

    def _outcome(self, out):
        p = self.panel
        w = p.words
        s = self.session
        if out.kind in ("wrong", "typo", "locked"):
            p.hint = out.hint or ""
            if s.mode == ASSESS and out.kind == "wrong":
                self.bell()
        elif out.kind == "fixed":
            p.hint = ""
        elif out.kind == "wait":
            p.hint = w["wait"]
        elif out.kind in ("ok", "step", "done"):
            p.hint = ""
        if out.kind in ("step", "done"):
            step = s.lesson.steps[out.result.number - 1]
            p.why = step.why.get(s.lang) if (step.why and s.mode != ASSESS) else ""
            if out.problems:
                p.why = (p.why + "\n" if p.why else "") + w["problem"] + " " + out.problems[0]
        if out.kind == "done":
            self._finish()
        p.refresh_text()
        self._highlight()

    def _finish(self):
        s = self.session
        score = s.score()
        w = self.panel.words
        text = w["done"] % (
            score["first_time"],
            score["steps"],
            score["mistakes"],
            score["seconds"],
        )
        if s.mode == ASSESS and self.attempt is not None:
            self.result_path = self.attempt.complete(score)
            text += " " + w["passed" if score["passed"] else "failed"]
            for e in score["errors"]:
                text += "\n" + w["mistake"] % (e["step"], e["expected"], e["got"])
            text += "\n" + w["saved"] % self.result_path
        elif s.lesson.notes:
            text += "\n" + s.lesson.notes.get(s.lang)
        self.panel.finished = text

    def _sync_paper(self):
        # the lesson may run the paper out (a step's printer = "out"): the printer pane
        # and the p key follow it
        if self.paper_out != self.session.paper_out:
            self.paper_out = self.session.paper_out
            self.paper.set_class(self.paper_out, "-paper-out")
            width = "80mm" if self.driver.paper_cells >= 48 else "58mm"
            self.paper.border_title = f"Printer {width}" + (" PAPER OUT" if self.paper_out else "")

    def _highlight(self):
        self._sync_paper()
        want = self.session.expected_key() if self.session.mode == GUIDED else None
        for button in self.query(PadButton):
            button.set_class(button.key.name == want, HIGHLIGHT)

    # -- back / restart ------------------------------------------------------------------------
    def check_action(self, action, parameters):
        # an assessment has no going back: the footer does not offer it
        if action in ("lesson_back", "lesson_restart") and self.session.mode == ASSESS:
            return False
        return super().check_action(action, parameters)

    def action_lesson_back(self):
        self._go(self.session.back())

    def action_lesson_restart(self):
        self._go(self.session.restart())

    def _go(self, out):
        if out.kind == "locked":
            self.panel.hint = out.hint
            self.panel.refresh_text()
            return
        self._reset_panel()

    def _reset_panel(self):
        self.panel.hint = self.panel.why = self.panel.finished = ""
        self.panel.refresh_text()
        self._highlight()
        self.refresh_status()


def make_session(lesson, data_dir, mode, lang=None, profile=None):
    return Session(
        lesson, data_dir, mode=mode, lang=lang, profile=profile, driver_factory=EmulatorDriver
    )


def run_app(lesson, data_dir, mode, trainee=None, lang=None, profile=None):
    import signal

    from posterm.driver import DataDirLocked
    from posterm.errors import CliError

    session = make_session(lesson, data_dir, mode, lang, profile)
    try:
        session.start()
    except DataDirLocked as e:
        raise CliError(str(e)) from None
    import sys

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # the emulator on a pipe would draw escape codes nobody sees and wait forever (the
        # data dir's problems, met by the session's start, come first)
        session.close()
        raise CliError("the lesson's emulator needs a terminal (its input or output is not "
                       "one); --text runs the lesson on a plain terminal or from a script")
    app = LessonApp(session, trainee=trainee, data_dir=data_dir)

    def closed(signum, frame):
        # the terminal window (or the browser tab of a classroom) went away
        app.record_abandoned(results.WINDOW_CLOSED)
        raise SystemExit(1)

    old = {}
    for sig in (signal.SIGHUP, signal.SIGTERM):
        try:
            old[sig] = signal.signal(sig, closed)
        except (ValueError, OSError):  # not the main thread
            pass
    try:
        app.run()
    finally:
        app.record_abandoned()
        session.close()
        for sig, handler in old.items():
            signal.signal(sig, handler)
    return 0 if session.done else 1
