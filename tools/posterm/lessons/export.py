"""Printable handouts: every step's instruction beside the terminal screen as it
looks once the step is done (from a headless run), in Markdown or HTML."""

import html

from pos import cells

from posterm.lessons import runner
from posterm.lessons.model import token_events
from posterm.lessons.session import key_label
from posterm.lessons import strings

LABELS = strings.section("export")  # menus/training_strings.toml


SLIP_LABELS = strings.section("slip_fields")  # menus/training_strings.toml


class ExportError(Exception):
    pass


def _keys(step, lang):
    out = []
    for tok in step.tokens:
        if tok.startswith("{") and tok.endswith("}"):
            out.append(SLIP_LABELS[lang].get(tok[1:-1], tok))
        elif tok.upper() == "PAPER":
            out.append("装纸" if lang == "zh" else "load-paper")
        elif tok.upper().startswith(("CARD=", "CHIP=", "TAP=", "SCAN=")) or (
                tok.upper() == "REMOVE"):
            out.append(key_label(token_events(tok)[0], lang))  # 刷卡/插卡/挥卡/扫码 ..., 拔卡
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
@page { size: A4; margin: 9mm 10mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif; font-size: 9.5pt;
  line-height: 1.3; max-width: 190mm; margin: 0 auto; color: #111; }
h1 { font-size: 15pt; margin: 0 0 1mm; }
p.goal, p.setup { margin: 0 0 1.2mm; }
p.setup { color: #444; font-size: 8pt; }
.steps { display: grid; grid-template-columns: 1fr 1fr; gap: 1.6mm 3mm; }
.step { border: 1px solid #999; border-radius: 2mm; padding: 1.2mm 1.8mm;
  display: grid; grid-template-columns: 5mm 1fr auto; gap: 0 1.5mm;
  break-inside: avoid; page-break-inside: avoid; }
.step .n { font-weight: bold; font-size: 11pt; }
.step p { margin: 0 0 .6mm; }
pre.lcd { background: #c8d8b0; color: #123; padding: .6mm 1mm; margin: 0;
  font-family: "Noto Sans Mono CJK SC", "WenQuanYi Zen Hei Mono", monospace; font-size: 8.5pt;
  line-height: 1.2; border: 1.5px solid #333; border-radius: 1mm; align-self: start; }
pre.lcd span.inv { background: #123; color: #c8d8b0; }
.why { color: #444; font-style: italic; font-size: 8pt; }
.slip { font-size: 8pt; color: #333; }
.keys kbd { border: 1px solid #666; border-radius: 2px; padding: 0 .25em; background: #eee;
  font-family: inherit; }
.notes { margin: 1.5mm 0 0; font-size: 8.5pt; }
.signoff { display: grid; grid-template-columns: 1.2fr 1fr 1.4fr; gap: 4mm; margin-top: 4mm;
  font-size: 10pt; }
.signoff span { display: inline-block; border-bottom: 1px solid #222; min-width: 30mm;
  height: 5mm; vertical-align: bottom; }
@media print { body { max-width: none; } }
"""


def _lcd_html(snap):
    rows = []
    for i, r in enumerate(snap.rows):
        text = html.escape(r)
        if snap.inverse & (1 << i):
            text = f'<span class="inv">{text}</span>'
        rows.append(text)
    return '<pre class="lcd">' + "\n".join(rows) + "</pre>"


SIGNOFF = strings.section("signoff")  # menus/training_strings.toml


def _html(lesson, report, lang):
    """One printed A4 page: the steps as cards in two columns, each with its screen; the
    slips are named (the lesson checks what they print), and lines for the trainee's name,
    the date and the trainer's sign-off at the foot."""
    L = LABELS[lang]
    e = html.escape
    out = [
        "<!doctype html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{e(lesson.title.get(lang))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(lesson.title.get(lang))}</h1>",
        f'<p class="goal"><b>{L["goal"]}:</b> {e(lesson.goal.get(lang))}</p>',
        f'<p class="setup">{e(L["setup"])}: {e(_setup_line(lesson, L))}. {e(L["training"])}</p>',
        '<div class="steps">',
    ]
    for snap in report.snapshots:
        step = snap.step
        keys = " ".join(f"<kbd>{e(k)}</kbd>" for k in _keys(step, lang).split(" "))
        cell = [f"<p>{e(step.do.get(lang))}</p>", f'<p class="keys">{L["keys"]}: {keys}</p>']
        if step.why:
            cell.append(f'<p class="why">{e(step.why.get(lang))}</p>')
        if snap.receipts:
            copies = [_slip_name(report, lines) for lines in snap.receipts]
            cell.append(f'<p class="slip">{e(L["receipt"])}: {e(", ".join(copies))}</p>')
        out.append(
            f'<div class="step"><div class="n">{step.number}</div><div>{"".join(cell)}</div>'
            f"{_lcd_html(snap)}</div>"
        )
    out.append("</div>")
    if lesson.notes:
        out.append(f'<p class="notes"><b>{L["notes"]}:</b> {e(lesson.notes.get(lang))}</p>')
    name, date, sign = SIGNOFF[lang]
    out.append(
        f'<div class="signoff"><div>{e(name)}: <span></span></div>'
        f"<div>{e(date)}: <span></span></div><div>{e(sign)}: <span></span></div></div>"
    )
    out.append("</body></html>")
    return "\n".join(out) + "\n"


_COPIES = (
    "商户存根",
    "持卡人存根",
    "银行存根",
    "MERCHANT COPY",
    "CARDHOLDER COPY",
    "BANK COPY",
    "结算",
    "SETTLEMENT",
    "重打印",
    "REPRINT",
)


def _slip_name(report, lines):
    """Which slip this is (商户存根, 持卡人存根, 结算单 ...), from its own text."""
    text = "".join(_receipt(report, lines))
    names = [c for c in _COPIES if c in text]
    if names:
        return " ".join(names)
    first = [ln.strip() for ln in _receipt(report, lines) if ln.strip()]
    return first[0] if first else "?"
