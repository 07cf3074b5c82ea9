"""A lesson on a plain terminal (`posterm lesson NAME --text`): the screen, the step
and its instruction are printed; the trainee types key tokens (MENU, 1, ENTER,
CARD=<PAN> ...) or :back, :restart, :quit. Also what the tests drive, through
`run(..., stdin, stdout)`."""

import sys

from pos import cells
from pos.keys import KeyTokenError

from posterm.lessons.model import token_events

from posterm.lessons import results
from posterm.lessons.session import ASSESS, Session
from posterm.lessons import strings

WORDS = strings.section("textfront")  # menus/training_strings.toml


def _screen(session, out):
    rows = session.screen_rows()
    rule = "+" + "-" * (cells.width(rows[0]) + 2) + "+\n"
    out.write(rule)
    for r in rows:
        out.write("| " + r + " |\n")
    out.write(rule)


def _prompt(session, out, w, last_task):
    _screen(session, out)
    n, m = session.progress()
    out.write((w["step"] % (n, m)) + "\n")
    if session.mode == ASSESS:
        task = session.assessment_text()
        if task and task != last_task:
            out.write(w["task"] + " " + task + "\n")
        last_task = task
    else:
        out.write(session.instruction() + "\n")
    out.write("> ")
    out.flush()
    return last_task


def _slip_printer(session, out):
    # the slips as the printer hands them out (a cashier reads the auth code or the
    # reference number off them)
    def printed(lines):
        out.write("# receipt\n")
        for ln in session.driver.receipt_text(lines):
            out.write(ln + "\n")

    return printed


class WindowClosed(Exception):
    """The terminal the trainee sat at went away (SIGHUP) or the process was told to stop."""


def _on_window_closed():
    # SIGHUP (the terminal window closed) and SIGTERM end the lesson through its finally:
    # the attempt is filed as abandoned. -> a function that puts the old handlers back.
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum, frame):
        raise WindowClosed()

    old = {}
    for sig in (signal.SIGHUP, signal.SIGTERM):
        try:
            old[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):
            pass

    def restore():
        for sig, h in old.items():
            signal.signal(sig, h)

    return restore


def result_lines(s, w):
    """The result of an assessment as the trainee and trainer read it."""
    mark = s["pass_mark"]
    limit = (w["limit"] % mark["seconds"]) if mark.get("seconds") else ""
    lines = [w["score"] % (s["first_time"], s["steps"], s["mistakes"], s["seconds"])]
    lines.append(w["passed" if s["passed"] else "failed"] % (mark["accuracy"], limit))
    for e in s["errors"]:
        lines.append(w["mistake"] % (e["step"], e["expected"], e["got"]))
    lines.append(w["per_step"] % " ".join(f"{p['step']}:{p['seconds']}s" for p in s["per_step"]))
    return lines


def run(lesson, data_dir, mode, trainee=None, lang=None, profile=None, stdin=None, stdout=None):
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    session = Session(lesson, data_dir, mode=mode, lang=lang, profile=profile)
    lang = session.lang
    w = WORDS.get(lang, WORDS["zh"])
    attempt = None
    reason = results.INPUT_ENDED
    session.slip_listeners.append(_slip_printer(session, out))
    closed = _on_window_closed()
    try:
        session.start()
        if mode == ASSESS:
            attempt = results.Attempt(data_dir, trainee, lesson.name, "text")
            attempt.begin()
        out.write(f"{lesson.title.get(lang)}\n")
        if mode == ASSESS:
            out.write(w["assess"] + "\n")
            out.write(w["help_assess"] + "\n")
        else:
            out.write(f"{lesson.goal.get(lang)}\n")
            out.write(w["help"] + "\n")
        last_task = _prompt(session, out, w, None)
        for line in stdin:
            for tok in line.split():
                if tok == ":quit":
                    reason = results.QUIT
                    return 1
                if tok in (":back", ":restart"):
                    o = session.back() if tok == ":back" else session.restart()
                    if o.kind == "locked":
                        out.write(o.hint + "\n")
                    continue
                try:
                    events = token_events(tok)
                except KeyTokenError as e:
                    # a token that is no key, in the lesson's language; a card the deck
                    # cannot present that way keeps its own reason
                    unknown = str(e).startswith("unknown key")
                    out.write((w["unknown_token"] % tok if unknown else str(e)) + "\n")
                    continue
                for ev in events:
                    o = session.feed(ev)
                    if o.kind in ("wrong", "typo") and o.hint:
                        out.write(o.hint + "\n")
                    if o.kind in ("step", "done"):
                        step = session.lesson.steps[o.result.number - 1]
                        if step.why and mode != ASSESS:
                            out.write(step.why.get(lang) + "\n")
                        for p in o.problems:
                            out.write(f"{w['problem']} {p}\n")
                    if session.done:
                        break
                if session.done:
                    break
            if session.done:
                break
            last_task = _prompt(session, out, w, last_task)
        if not session.done:
            return 1
        _screen(session, out)
        s = session.score()
        out.write(w["done"] + "\n")
        if mode == ASSESS:
            path = attempt.complete(s)
            for line in result_lines(s, w):
                out.write(line + "\n")
            out.write((w["saved"] % path) + "\n")
        else:
            out.write(
                w["score"] % (s["first_time"], s["steps"], s["mistakes"], s["seconds"]) + "\n"
            )
            if lesson.notes:
                out.write(lesson.notes.get(lang) + "\n")
        return 0
    except KeyboardInterrupt:
        reason = results.INTERRUPTED
        raise
    except WindowClosed:
        reason = results.WINDOW_CLOSED
        return 1
    except Exception:
        reason = results.FAILED
        raise
    finally:
        if attempt is not None and attempt.status == results.STARTED:
            path = attempt.abandon(reason, session.score())
            try:
                out.write("\n" + (w["abandoned"] % (reason, path)) + "\n")
            except (OSError, ValueError):
                pass
        session.close()
        closed()
