"""A lesson on a plain terminal (`posterm lesson NAME --text`): the screen, the step
and its instruction are printed; the trainee types key tokens (MENU, 1, ENTER,
CARD=<PAN> ...) or :back, :restart, :quit. Also what the tests drive, through
`run(..., stdin, stdout)`."""

import sys

from pos import cells
from pos.keys import KeyTokenError, parse_token

from posterm.lessons import results
from posterm.lessons.session import ASSESS, Session

WORDS = {
    "zh": {
        "step": "第 %d 步 / 共 %d 步",
        "assess": "考核模式:没有提示。",
        "done": "本课完成。",
        "score": "一次做对 %d/%d 步,错误 %d 次,用时 %s 秒。",
        "saved": "成绩已保存:%s",
        "help": "输入按键(MENU 1 ENTER CARD=卡号),或 :back 上一步, :restart 重来, :quit 退出",
        "problem": "注意:",
    },
    "en": {
        "step": "Step %d of %d",
        "assess": "Assessment: no hints.",
        "done": "Lesson complete.",
        "score": "Right first time %d/%d steps, %d mistakes, %s seconds.",
        "saved": "Result saved: %s",
        "help": "Type keys (MENU 1 ENTER CARD=<PAN>), or :back, :restart, :quit",
        "problem": "Note:",
    },
}


def _screen(session, out):
    rows = session.screen_rows()
    rule = "+" + "-" * (cells.width(rows[0]) + 2) + "+\n"
    out.write(rule)
    for r in rows:
        out.write("| " + r + " |\n")
    out.write(rule)


def _prompt(session, out, w):
    _screen(session, out)
    n, m = session.progress()
    out.write((w["step"] % (n, m)) + "\n")
    if session.mode != ASSESS:
        out.write(session.instruction() + "\n")
    out.write("> ")
    out.flush()


def run(lesson, data_dir, mode, trainee=None, lang=None, profile=None, stdin=None, stdout=None):
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    session = Session(lesson, data_dir, mode=mode, lang=lang, profile=profile)
    lang = session.lang
    w = WORDS.get(lang, WORDS["zh"])
    try:
        session.start()
        out.write(f"{lesson.title.get(lang)}\n{lesson.goal.get(lang)}\n")
        if mode == ASSESS:
            out.write(w["assess"] + "\n")
        out.write(w["help"] + "\n")
        _prompt(session, out, w)
        for line in stdin:
            for tok in line.split():
                if tok == ":quit":
                    return 1
                if tok == ":back":
                    session.back()
                    continue
                if tok == ":restart":
                    session.restart()
                    continue
                try:
                    events = parse_token(tok)
                except KeyTokenError as e:
                    out.write(f"{e}\n")
                    continue
                for ev in events:
                    o = session.feed(ev)
                    if o.kind == "wrong" and o.hint:
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
            _prompt(session, out, w)
        if not session.done:
            return 1
        _screen(session, out)
        s = session.score()
        out.write(w["done"] + "\n")
        out.write(w["score"] % (s["first_time"], s["steps"], s["mistakes"], s["seconds"]) + "\n")
        if lesson.notes and mode != ASSESS:
            out.write(lesson.notes.get(lang) + "\n")
        if mode == ASSESS:
            path = results.save_attempt(data_dir, trainee, s)
            out.write((w["saved"] % path) + "\n")
        return 0
    finally:
        session.close()
