"""Headless lessons: run a lesson's expected keys against a training terminal and
check every step's screen; `check` a lesson file (parse, keys, run)."""

from posterm.lessons import model
from posterm.lessons.session import RUN, Session


class RunReport:
    def __init__(self, lesson, lang, problems, steps_done, snapshots):
        self.lesson = lesson
        self.lang = lang
        self.problems = problems
        self.steps_done = steps_done
        self.snapshots = snapshots

    @property
    def ok(self):
        return not self.problems

    def summary(self):
        n = len(self.lesson.steps)
        if self.ok:
            return f"{self.lesson.name} [{self.lang}]: ok ({n} steps)"
        return f"{self.lesson.name} [{self.lang}]: FAILED at step {self.steps_done + 1} of {n}"


def run(lesson, data_dir, lang=None, profile=None):
    """Feed every step's keys; stop at the first step whose checks fail (the
    later steps are reported as not reached). -> RunReport"""
    session = Session(lesson, data_dir, mode=RUN, lang=lang, profile=profile)
    problems = []
    try:
        session.start()
        for step in lesson.steps:
            out = None
            for ev in list(session.events):  # the step's, slip values filled in
                if session.terminal.waiting_for() is None:
                    problems.append(
                        f"step {step.number} cannot be reached: no flow is waiting for input"
                    )
                    break
                out = session.feed(ev)
            if problems:
                break
            if out is not None and out.problems:
                problems.extend(out.problems)
                break
        done = len(session.results) - (1 if problems and session.results else 0)
        if problems:
            done = max(0, min(done, step.number - 1))
            rest = len(lesson.steps) - step.number
            if rest == 1:
                problems.append(f"step {len(lesson.steps)} not reached")
            elif rest:
                problems.append(f"steps {step.number + 1}-{len(lesson.steps)} not reached")
        else:
            done = len(lesson.steps)
        return RunReport(lesson, session.lang, problems, done, list(session.snapshots))
    finally:
        session.close()


def languages(lesson):
    """The languages a lesson's screen checks are written for (zh always)."""
    langs = ["zh"]
    for step in lesson.steps:
        for exp in (step.screen, step.seen, step.receipt):
            if exp.en is not None:
                return ["zh", "en"]
    return langs


def check(path, data_dir, profile=None):
    """All problems with a lesson file, as lines; [] when it is fine."""
    try:
        lesson = model.load(path)
    except model.LessonError as e:
        return [str(e)]
    out = []
    for lang in languages(lesson):
        try:
            report = run(lesson, data_dir, lang=lang, profile=profile)
        except model.LessonError as e:
            out.append(str(e))
            continue
        out.extend(f"{lesson.path} [{lang}]: {p}" for p in report.problems)
    return out
