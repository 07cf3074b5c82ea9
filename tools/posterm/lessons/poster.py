"""The menu map as a wall poster (`posterm menu map --format html`): one landscape A4 page,
a card per top-level menu with every function and its keys drawn as key caps, headings in
Chinese by default (--lang en for English)."""

import html

from pos import menu as menumod
from posterm.lessons import strings

WORDS = strings.section("poster")  # menus/training_strings.toml

_CSS = """
@page { size: A4 landscape; margin: 8mm; }
* { box-sizing: border-box; }
body { margin: 0; font-family: "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif;
  color: #1b1b1b; }
header { background: #b71c1c; color: #fff; padding: 3mm 6mm; border-radius: 3mm; }
header h1 { margin: 0; font-size: 20pt; letter-spacing: .08em; }
header p { margin: 1mm 0 0; font-size: 11pt; }
.grid { display: grid; grid-template-columns: repeat(3, 1fr); gap: 3mm; margin-top: 3mm; }
.card { border: 2px solid #b71c1c; border-radius: 3mm; padding: 2mm 3mm;
  break-inside: avoid; }
.card h2 { margin: 0 0 1mm; font-size: 13pt; color: #b71c1c; }
.row { display: flex; justify-content: space-between; align-items: center; gap: 2mm;
  padding: .2mm 0; border-bottom: 1px dotted #bbb; font-size: 10pt; }
.row:last-child { border-bottom: none; }
.keys { white-space: nowrap; }
kbd { display: inline-block; min-width: 6mm; text-align: center; font-family: inherit;
  font-size: 9pt; font-weight: bold; border: 1.5px solid #444; border-bottom-width: 3px;
  border-radius: 1.5mm; padding: 0 1.2mm; margin-left: .8mm; background: #f4f4f4; }
kbd.menu { background: #ffe082; }
.sub { color: #666; font-size: 9pt; }
footer { margin-top: 2mm; font-size: 9pt; color: #555; }
"""


def build(tree, lang="zh"):
    w = WORDS.get(lang, WORDS["zh"])
    e = html.escape
    names = {}
    groups = []  # (top label, [(label, keys, trail below the top)])
    for kp, _depth, label, action in menumod.walk(tree, lang):
        names[kp] = label
        if len(kp) == 1:
            groups.append((f"{kp[0]}. {label}", []))
        if action and groups:
            trail = " › ".join(names[kp[: i + 1]] for i in range(1, len(kp) - 1))
            groups[-1][1].append((label, kp, trail))
    out = [
        "<!doctype html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{e(w['title'])}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{e(w['title'])}</h1><p>{e(w['sub'])}</p></header>",
        '<div class="grid">',
    ]
    for head, rows in groups:
        if not rows:
            continue
        out.append(f'<section class="card"><h2>{e(head)}</h2>')
        for label, kp, trail in rows:
            keys = f'<kbd class="menu">{e(w["menu"])}</kbd>' + "".join(
                f"<kbd>{e(k)}</kbd>" for k in kp
            )
            sub = f' <span class="sub">{e(trail)}</span>' if trail else ""
            out.append(
                f'<div class="row"><span>{e(label)}{sub}</span><span class="keys">{keys}'
                "</span></div>"
            )
        out.append("</section>")
    out.append(f"</div><footer>{e(w['foot'])}</footer></body></html>")
    return "\n".join(out) + "\n"
