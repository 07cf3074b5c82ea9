"""The weekly tracking sheet as one HTML page: the table, and under it each terminal's daily
sales over the last four weeks as an inline SVG bar chart (the console's chart, on paper)."""

from html import escape

from posterm.center import rules


def bar_chart(series, width=420, height=90):
    """An SVG bar chart of [(day, count)]: one bar a day, the highest labelled."""
    top = max([n for _, n in series] + [1])
    step = width / max(1, len(series))
    bars = []
    for i, (day, n) in enumerate(series):
        h = (height - 18) * n / top
        x = i * step
        bars.append(
            f'<rect x="{x + 1:.1f}" y="{height - 14 - h:.1f}" width="{max(1.0, step - 2):.1f}"'
            f' height="{h:.1f}" fill="#7b4fd6"><title>{day.isoformat()}: {n}</title></rect>')
    first, last = series[0][0], series[-1][0]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
        f' role="img" aria-label="daily sales">'
        + "".join(bars)
        + f'<text x="0" y="{height - 2}" font-size="10">{first:%m-%d}</text>'
        f'<text x="{width}" y="{height - 2}" font-size="10" text-anchor="end">{last:%m-%d}'
        f"</text>"
        f'<text x="{width}" y="10" font-size="10" text-anchor="end">max {top}</text></svg>')


def render(center, rows, week, today, columns, headers):
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh"><head><meta charset="utf-8">',
        f"<title>终端POS机使用问题跟踪表 {escape(week)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:3px 6px;font-size:13px}"
        "h2{font-size:15px;margin:1.2em 0 .3em}</style></head><body>",
        f"<h1>终端POS机使用问题跟踪表 {escape(week)}</h1>",
        "<table><tr>" + "".join(f"<th>{escape(h)}</th>" for h in headers) + "</tr>",
    ]
    for r in rows:
        out.append("<tr>" + "".join(f"<td>{escape(str(r.get(c, '')))}</td>" for c in columns)
                   + "</tr>")
    out.append("</table>")
    for r in rows:
        series = rules.daily_counts(center, r["tid"], today)
        out.append(f"<h2>{escape(r['tid'])} {escape(r.get('merchant', ''))}</h2>")
        out.append(bar_chart(series))
    out.append("</body></html>")
    return "\n".join(out) + "\n"
