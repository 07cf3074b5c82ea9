"""Rows (lists of dicts) out as a table, CSV, JSON or an XLSX workbook."""

import csv
import io
import json

from rich.cells import cell_len


def _text(v):
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        return ",".join(_text(x) for x in v)
    return str(v)


def table(rows, columns, headers=None):
    headers = headers or columns
    cells = [[_text(r.get(c)) for c in columns] for r in rows]
    widths = [max([cell_len(h)] + [cell_len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values):
        pads = zip(values, widths, strict=True)
        return "  ".join(v + " " * (w - cell_len(v)) for v, w in pads).rstrip()

    return "\n".join([line(headers)] + [line(r) for r in cells])


def to_csv(rows, columns, headers=None):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(headers or columns)
    for r in rows:
        w.writerow([_text(r.get(c)) for c in columns])
    return buf.getvalue()


def to_json(rows):
    return json.dumps(rows, ensure_ascii=False, indent=1, sort_keys=True)


def render(rows, columns, fmt, headers=None):
    if fmt == "csv":
        return to_csv(rows, columns, headers).rstrip("\n")
    if fmt == "json":
        return to_json(rows)
    if not rows:
        return "(none)"
    return table(rows, columns, headers)


def write_xlsx(path, title, rows, columns, headers=None):
    """One sheet named `title` with a header row; numbers stay numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(list(headers or columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([r.get(c) if isinstance(r.get(c), (int, float)) else _text(r.get(c))
                   for c in columns])
    for i, h in enumerate(headers or columns):
        width = max([cell_len(str(h))] + [cell_len(_text(r.get(columns[i]))) for r in rows])
        ws.column_dimensions[ws.cell(row=1, column=i + 1).column_letter].width = width + 2
    wb.save(path)
