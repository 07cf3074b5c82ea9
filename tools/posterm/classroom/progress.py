"""Progress over time, from the assessment results: per trainee and per lesson the attempts,
the best and the last result, passed or not, and the time trend; per class, who has not
passed what. As a terminal table, CSV, and a printable HTML report with a chart per trainee
(accuracy and time over attempts, inline SVG)."""

import csv
import html
import io

from posterm.lessons import model, results
from posterm.lessons import strings

WORDS = strings.section("progress")  # menus/training_strings.toml


class LessonProgress:
    def __init__(self, trainee, lesson, attempts):
        self.trainee = trainee
        self.lesson = lesson
        self.attempts = attempts  # result rows, oldest first
        done = [a for a in attempts if a["status"] == results.COMPLETED]
        self.completed = done
        self.passed = any(a["passed"] for a in done)
        self.best = max(
            done, key=lambda a: (a["passed"], a["accuracy"], -a["seconds"]), default=None
        )
        self.last = attempts[-1] if attempts else None
        self.times = [a["seconds"] for a in done]

    def trend(self):
        """The time of the first and the last completed attempt: '95 -> 61'."""
        if not self.times:
            return ""
        if len(self.times) == 1:
            return f"{self.times[0]:g}"
        return f"{self.times[0]:g} -> {self.times[-1]:g}"


def lesson_names():
    return model.names()


def lesson_title(name, lang="zh"):
    try:
        return model.load(name).title.get(lang)
    except model.LessonError:
        return name


def collect(data_dir, trainees, lessons=None):
    """-> {trainee name: {lesson: LessonProgress}} for the roster names given."""
    lessons = lessons or lesson_names()
    out = {}
    for name in trainees:
        rows = results.rows(data_dir, name)
        per = {}
        for lesson in lessons:
            per[lesson] = LessonProgress(name, lesson, [r for r in rows if r["lesson"] == lesson])
        out[name] = per
    return out


def _verdict(p, w):
    if not p.attempts:
        return w["never"]
    return w["passed"] if p.passed else w["not_passed"]


def _result(a, w):
    if a is None:
        return ""
    if a["status"] == results.ABANDONED:
        return w["abandoned"]
    if a["status"] == results.STARTED:
        return w["started"]
    return f"{a['first_time']}/{a['steps']} {a['accuracy']}% {a['seconds']:g}s"


def not_passed(progress):
    """-> [(trainee, [lessons not passed])] for those who have some left."""
    out = []
    for name, per in progress.items():
        left = [lesson for lesson, p in per.items() if not p.passed]
        if left:
            out.append((name, left))
    return out


def table(progress, lang="zh"):
    from pos import cells

    w = WORDS[lang]
    heads = (
        w["trainee"],
        w["lesson"],
        w["attempts"],
        w["best"],
        w["last"],
        w["passed"],
        w["time"],
    )
    body = []
    for name, per in progress.items():
        for lesson, p in per.items():
            body.append(
                (
                    name,
                    lesson,
                    str(len(p.attempts)),
                    _result(p.best, w),
                    _result(p.last, w),
                    _verdict(p, w),
                    p.trend(),
                )
            )
    widths = [
        max([cells.width(h)] + [cells.width(r[i]) for r in body]) for i, h in enumerate(heads)
    ]

    def line(row):
        return "  ".join(c + " " * (widths[i] - cells.width(c)) for i, c in enumerate(row))

    out = [line(heads).rstrip(), "  ".join("-" * n for n in widths)]
    out += [line(r).rstrip() for r in body]
    left = not_passed(progress)
    out.append("")
    if left:
        out.append(w["not_passed_head"] + ":")
        for name, lessons in left:
            out.append(f"  {name}: {', '.join(lessons)}")
    elif progress:
        out.append(w["everyone_passed"])
    return "\n".join(out) + "\n"


CSV_COLUMNS = (
    "trainee",
    "lesson",
    "attempts",
    "completed",
    "passed",
    "best_accuracy",
    "best_seconds",
    "last_status",
    "last_accuracy",
    "last_seconds",
    "first_seconds",
)


def to_csv(progress):
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(CSV_COLUMNS)
    for name, per in progress.items():
        for lesson, p in per.items():
            b, last = p.best, p.last
            wr.writerow(
                [
                    name,
                    lesson,
                    len(p.attempts),
                    len(p.completed),
                    "yes" if p.passed else "no",
                    b["accuracy"] if b else "",
                    b["seconds"] if b else "",
                    last["status"] if last else "",
                    last["accuracy"] if last else "",
                    last["seconds"] if last else "",
                    p.times[0] if p.times else "",
                ]
            )
    return buf.getvalue()


# -- the printable report --------------------------------------------------------------------
_CSS = """
@page { size: A4; margin: 14mm; }
body { font-family: "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif; margin: 1.5em;
  color: #111; }
h1 { font-size: 1.6em; margin: 0 0 .2em; }
.meta { color: #444; margin-bottom: 1em; }
section.trainee { page-break-inside: avoid; border-top: 2px solid #333; padding-top: .6em;
  margin-top: 1.2em; }
section.trainee h2 { font-size: 1.2em; margin: 0 0 .4em; }
table { border-collapse: collapse; font-size: .9em; }
td, th { border: 1px solid #888; padding: .2em .5em; text-align: left; }
th { background: #eee; }
td.ok { color: #060; font-weight: bold; } td.no { color: #a00; } td.never { color: #777; }
.chart { margin: .5em 0; }
.left { margin-top: 1.5em; } .sign { margin-top: 2.5em; }
"""


def _chart(attempts, w, width=520, height=150):
    """An inline SVG: accuracy (line, 0-100 %) and seconds (bars) per completed attempt."""
    done = [a for a in attempts if a["status"] == results.COMPLETED]
    if not done:
        return ""
    left, right, top, bottom = 40, 40, 12, 22
    pw, ph = width - left - right, height - top - bottom
    n = len(done)
    step = pw / n
    tmax = max(a["seconds"] for a in done) or 1
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img">',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fafafa" stroke="#999"/>',
    ]
    for pct in (50, 100):
        y = top + ph - ph * pct / 100
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{pct}%</text>'
        )
    parts.append(
        f'<text x="{left + pw + 4}" y="{top + 8}" font-size="10">'
        f"{tmax:g}{html.escape(w['seconds'])}</text>"
    )
    points = []
    for i, a in enumerate(done):
        x = left + step * i + step / 2
        bh = ph * a["seconds"] / tmax
        parts.append(
            f'<rect x="{x - step * 0.3:.1f}" y="{top + ph - bh:.1f}" width="{step * 0.6:.1f}" '
            f'height="{bh:.1f}" fill="#9ecae1"><title>{a["seconds"]:g}s</title></rect>'
        )
        y = top + ph - ph * a["accuracy"] / 100
        points.append(f"{x:.1f},{y:.1f}")
        color = "#1a7f37" if a["passed"] else "#c62828"
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{color}">'
            f"<title>{a['lesson']} {a['accuracy']}%</title></circle>"
        )
        parts.append(
            f'<text x="{x:.1f}" y="{height - 6}" font-size="10" '
            f'text-anchor="middle">{i + 1}</text>'
        )
    parts.append(
        f'<polyline points="{" ".join(points)}" fill="none" stroke="#1a7f37" stroke-width="2"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def to_html(progress, lang="zh", cohort=None):
    w = WORDS[lang]
    e = html.escape
    out = [
        "<!doctype html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{e(w['title'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(w['title'])}</h1>",
    ]
    if cohort:
        meta = [f"{w['class']}: {cohort['name']}"]
        if cohort.get("date"):
            meta.append(f"{w['date']}: {cohort['date']}")
        if cohort.get("trainer"):
            meta.append(f"{w['trainer']}: {cohort['trainer']}")
        out.append(f'<p class="meta">{e("  ".join(meta))}</p>')
    for name, per in progress.items():
        out.append(f'<section class="trainee"><h2>{e(name)}</h2>')
        attempts = sorted(
            (a for p in per.values() for a in p.attempts), key=lambda a: a["started"]
        )
        if attempts:
            out.append(f'<div class="legend">{e(w["chart"])}</div>')
            out.append(_chart(attempts, w))
        else:
            out.append(f"<p>{e(w['no_attempts'])}</p>")
        out.append(
            "<table><tr>"
            + "".join(
                f"<th>{e(h)}</th>"
                for h in (w["lesson"], w["attempts"], w["best"], w["last"], w["passed"], w["time"])
            )
            + "</tr>"
        )
        for lesson, p in per.items():
            cls = "never" if not p.attempts else ("ok" if p.passed else "no")
            out.append(
                f"<tr><td>{e(lesson.split('_', 1)[0])} {e(lesson_title(lesson, lang))}</td>"
                f"<td>{len(p.attempts)}</td>"
                f"<td>{e(_result(p.best, w))}</td><td>{e(_result(p.last, w))}</td>"
                f'<td class="{cls}">{e(_verdict(p, w))}</td><td>{e(p.trend())}</td></tr>'
            )
        out.append("</table></section>")
    left = not_passed(progress)
    out.append(f'<section class="left"><h2>{e(w["not_passed_head"])}</h2>')
    if left:
        out.append("<ul>")
        for name, lessons in left:
            out.append(f"<li><b>{e(name)}</b>: {e(', '.join(lessons))}</li>")
        out.append("</ul>")
    else:
        out.append(f"<p>{e(w['everyone_passed'])}</p>")
    out.append(f'</section><p class="sign">{e(w["sign"])}</p></body></html>')
    return "\n".join(out) + "\n"
