"""A printable certificate (one A4 page, landscape) for a trainee who has passed a set of
lessons: the name, the lessons with the date each was passed, the date, the trainer."""

import datetime
import html

from posterm.lessons import model, results
from posterm.lessons import strings


class NotPassed(Exception):
    pass


WORDS = strings.section("certificate")  # menus/training_strings.toml

_CSS = """
@page { size: A4 landscape; margin: 12mm; }
html, body { margin: 0; }
body { font-family: "Noto Serif CJK SC", "Noto Sans CJK SC", "WenQuanYi Zen Hei", serif; }
.frame { border: 6px double #8a6d1f; padding: 10mm 16mm; height: 160mm; box-sizing: border-box;
  text-align: center; }
h1 { font-size: 30pt; letter-spacing: .15em; margin: 4mm 0 6mm; color: #5b4512; }
.name { font-size: 24pt; font-weight: bold; border-bottom: 1px solid #333; padding: 0 8mm; }
p.body { font-size: 13pt; margin: 6mm 0 4mm; }
table { margin: 0 auto; border-collapse: collapse; font-size: 11pt; }
td, th { border-bottom: 1px solid #aaa; padding: 1.2mm 4mm; text-align: left; }
.foot { display: flex; justify-content: space-between; margin-top: 10mm; font-size: 12pt; }
.line { display: inline-block; min-width: 45mm; border-bottom: 1px solid #333; }
"""


def build(data_dir, trainee, lessons, cohort=None, trainer=None, date=None, lang="zh"):
    """-> the certificate's HTML; NotPassed when a lesson is not passed yet."""
    w = WORDS[lang]
    name = trainee["name"]
    rows = results.rows(data_dir, name)
    passed = {}
    for r in rows:
        if r["status"] == results.COMPLETED and r["passed"] and r["lesson"] not in passed:
            passed[r["lesson"]] = r
    missing = [lesson for lesson in lessons if lesson not in passed]
    if missing:
        raise NotPassed(w["not_passed"] % (name, ", ".join(missing)))
    trainer = trainer or (cohort or {}).get("trainer") or ""
    date = date or datetime.date.today().isoformat()
    e = html.escape
    out = [
        "<!doctype html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{e(w['title'])} {e(name)}</title><style>{_CSS}</style></head><body>",
        '<div class="frame">',
        f"<h1>{e(w['title'])}</h1>",
        f'<p class="body">{w["body"] % ("<span class=name>" + e(name) + "</span>")}</p>',
        f"<table><tr><th>{e(w['lesson'])}</th><th>{e(w['result'])}</th>"
        f"<th>{e(w['passed_on'])}</th></tr>",
    ]
    for lesson in lessons:
        r = passed[lesson]
        try:
            title = model.load(lesson).title.get(lang)
        except model.LessonError:
            title = lesson
        out.append(
            f"<tr><td>{e(title)}</td><td>{r['first_time']}/{r['steps']} "
            f"({r['accuracy']}%), {r['seconds']:g}s</td><td>{e(r['started'][:10])}</td></tr>"
        )
    out.append("</table>")
    klass = f"{w['class']}: {e(cohort['name'])}<br>" if cohort else ""
    out.append(
        f'<div class="foot"><div style="text-align:left">{klass}{e(w["date"])}: {e(date)}</div>'
        f'<div style="text-align:right">{e(w["trainer"])}: {e(trainer)}<br><br>'
        f'{e(w["sign"])}: <span class="line">&nbsp;</span></div></div>'
    )
    out.append("</div></body></html>")
    return "\n".join(out) + "\n"
