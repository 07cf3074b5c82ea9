"""Printable handouts: every step's instruction beside the terminal screen as it
looks once the step is done (from a headless run), in Markdown or HTML."""

import html

from pos import cells

from posterm.lessons import runner
from posterm.lessons.session import key_label

LABELS = {
    "zh": {
        "goal": "目标",
        "step": "步骤",
        "do": "操作",
        "keys": "按键",
        "screen": "屏幕",
        "why": "说明",
        "receipt": "打印的签购单",
        "notes": "小结",
        "setup": "准备",
        "date": "终端日期",
        "signed_in": "已签到",
        "not_signed_in": "未签到",
        "training": "培训模式:本课的交易不进入真实流水、统计和批次。",
    },
    "en": {
        "goal": "Goal",
        "step": "Step",
        "do": "What to do",
        "keys": "Keys",
        "screen": "Screen",
        "why": "Why",
        "receipt": "Printed slip",
        "notes": "Summary",
        "setup": "Setup",
        "date": "Terminal date",
        "signed_in": "signed in",
        "not_signed_in": "not signed in",
        "training": "Training mode: nothing in this lesson reaches the live journal, "
        "totals or batch.",
    },
}


class ExportError(Exception):
    pass


def _keys(step, lang):
    out = []
    for tok in step.tokens:
        if tok.upper().startswith("CARD="):
            out.append(("刷卡 " if lang == "zh" else "card ") + tok[5:].split("=")[0])
        elif tok.upper() == tok and not tok.isdigit():
            out.append(key_label(("key", tok.upper()), lang))
        else:
            out.append(tok)
    return " ".join(out)


def _date(d):
    return "%04d-%02d-%02d %02d:%02d" % d[:5]


def build(lesson, data_dir, fmt="md", lang=None, profile=None):
    """-> the handout text. Raises ExportError when the lesson does not run."""
    report = runner.run(lesson, data_dir, lang=lang, profile=profile)
    if not report.ok:
        raise ExportError("; ".join(report.problems))
    lang = report.lang
    if fmt == "md":
        return _markdown(lesson, report, lang)
    if fmt == "html":
        return _html(lesson, report, lang)
    raise ExportError(f"unknown format {fmt!r} (md or html)")


def _setup_line(lesson, L):
    s = lesson.setup
    state = L["signed_in"] if s.signed_in else L["not_signed_in"]
    return f"{L['date']}: {_date(s.date)}, {state}"


def _markdown(lesson, report, lang):
    L = LABELS[lang]
    out = [f"# {lesson.title.get(lang)}", ""]
    out += [f"**{L['goal']}:** {lesson.goal.get(lang)}", ""]
    out += [f"*{L['setup']}: {_setup_line(lesson, L)}. {L['training']}*", ""]
    for snap in report.snapshots:
        step = snap.step
        out.append(f"## {L['step']} {step.number}")
        out.append("")
        out.append(step.do.get(lang))
        out.append("")
        out.append(f"{L['keys']}: **{_keys(step, lang)}**")
        out.append("")
        out.append("```")
        width = max(cells.width(r) for r in snap.rows)
        out.append("+" + "-" * (width + 2) + "+")
        for r in snap.rows:
            out.append("| " + r + " |")
        out.append("+" + "-" * (width + 2) + "+")
        out.append("```")
        out.append("")
        if step.why:
            out.append(f"> {step.why.get(lang)}")
            out.append("")
        for lines in snap.receipts:
            out.append(f"{L['receipt']}:")
            out.append("")
            out.append("```")
            out.extend(_receipt(report, lines))
            out.append("```")
            out.append("")
    if lesson.notes:
        out += [f"## {L['notes']}", "", lesson.notes.get(lang), ""]
    return "\n".join(out)


def _receipt(report, lines):
    from pos.receipt import render_text

    return render_text(lines, 32)


_CSS = """
body { font-family: sans-serif; max-width: 60em; margin: 2em auto; }
table.steps { border-collapse: collapse; width: 100%; }
table.steps td { border-top: 1px solid #999; padding: .6em; vertical-align: top; }
td.n { font-weight: bold; width: 3em; }
pre.lcd { background: #c8d8b0; color: #123; padding: .4em .6em; display: inline-block;
  font-family: "Noto Sans Mono CJK SC", "Sarasa Mono SC", monospace; line-height: 1.25;
  border: 3px solid #333; border-radius: 4px; margin: 0; }
pre.lcd span.inv { background: #123; color: #c8d8b0; }
pre.slip { font-family: monospace; border: 1px dashed #777; padding: .4em; }
.why { color: #444; font-style: italic; }
.keys kbd { border: 1px solid #666; border-radius: 3px; padding: 0 .3em; background: #eee; }
@media print { body { margin: 0; } tr { page-break-inside: avoid; } }
"""


def _lcd_html(snap):
    rows = []
    for i, r in enumerate(snap.rows):
        text = html.escape(r)
        if snap.inverse & (1 << i):
            text = f'<span class="inv">{text}</span>'
        rows.append(text)
    return '<pre class="lcd">' + "\n".join(rows) + "</pre>"


def _html(lesson, report, lang):
    L = LABELS[lang]
    e = html.escape
    out = [
        "<!doctype html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{e(lesson.title.get(lang))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(lesson.title.get(lang))}</h1>",
        f"<p><b>{L['goal']}:</b> {e(lesson.goal.get(lang))}</p>",
        f"<p><i>{e(L['setup'])}: {e(_setup_line(lesson, L))}. {e(L['training'])}</i></p>",
        '<table class="steps">',
    ]
    for snap in report.snapshots:
        step = snap.step
        keys = " ".join(f"<kbd>{e(k)}</kbd>" for k in _keys(step, lang).split(" "))
        cell = [f"<p>{e(step.do.get(lang))}</p>", f'<p class="keys">{L["keys"]}: {keys}</p>']
        if step.why:
            cell.append(f'<p class="why">{e(step.why.get(lang))}</p>')
        screen = [_lcd_html(snap)]
        for lines in snap.receipts:
            screen.append(
                f'<p>{L["receipt"]}:</p><pre class="slip">'
                + e("\n".join(_receipt(report, lines)))
                + "</pre>"
            )
        out.append(
            f'<tr><td class="n">{step.number}</td><td>{"".join(cell)}</td>'
            f"<td>{''.join(screen)}</td></tr>"
        )
    out.append("</table>")
    if lesson.notes:
        out.append(f"<h2>{L['notes']}</h2><p>{e(lesson.notes.get(lang))}</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
