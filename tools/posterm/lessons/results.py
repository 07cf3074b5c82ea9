"""Assessment results: one JSON file per trainee under DATA/training/results/,
a list of attempts (lesson, when, steps right first time, mistakes, seconds,
per step). Exported as CSV and as a printable result sheet (HTML or Markdown)."""

import csv
import datetime
import html
import io
import json
import os
import re


class ResultsError(Exception):
    pass


def results_dir(data_dir):
    return os.path.join(os.path.abspath(data_dir), "training", "results")


def _file_name(trainee):
    # keep CJK names readable; drop path separators and control characters
    safe = re.sub(r"[\\/:*?\"<>|\x00-\x1f]", "_", trainee.strip())
    if not safe or safe in (".", ".."):
        raise ResultsError("a trainee name is needed (--trainee NAME)")
    return safe + ".json"


def path_for(data_dir, trainee):
    return os.path.join(results_dir(data_dir), _file_name(trainee))


def load(data_dir, trainee):
    try:
        with open(path_for(data_dir, trainee), encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return {"trainee": trainee, "attempts": []}
    except (OSError, ValueError) as e:
        raise ResultsError(f"cannot read the results of {trainee}: {e}") from None
    return data


def save_attempt(data_dir, trainee, score, when=None):
    """Append one assessment attempt (a Session.score() dict) -> the file path."""
    data = load(data_dir, trainee)
    attempt = dict(score)
    attempt["when"] = (when or datetime.datetime.now()).isoformat(timespec="seconds")
    data["trainee"] = trainee
    data["attempts"].append(attempt)
    path = path_for(data_dir, trainee)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
    os.replace(tmp, path)
    return path


def trainees(data_dir):
    d = results_dir(data_dir)
    try:
        files = sorted(f for f in os.listdir(d) if f.endswith(".json"))
    except OSError:
        return []
    out = []
    for f in files:
        try:
            with open(os.path.join(d, f), encoding="utf-8") as fh:
                out.append(json.load(fh).get("trainee") or f[:-5])
        except (OSError, ValueError):
            continue
    return out


def rows(data_dir, trainee=None):
    """Every attempt as a flat row, oldest first per trainee."""
    names = [trainee] if trainee else trainees(data_dir)
    out = []
    for name in names:
        for a in load(data_dir, name)["attempts"]:
            out.append(
                {
                    "trainee": name,
                    "lesson": a.get("lesson", ""),
                    "when": a.get("when", ""),
                    "steps": a.get("steps", 0),
                    "completed": a.get("completed", 0),
                    "first_time": a.get("first_time", 0),
                    "mistakes": a.get("mistakes", 0),
                    "seconds": a.get("seconds", 0),
                }
            )
    return out


COLUMNS = ("trainee", "lesson", "when", "steps", "completed", "first_time", "mistakes", "seconds")


def to_csv(data_dir, trainee=None):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows(data_dir, trainee):
        w.writerow(r)
    return buf.getvalue()


def _percent(r):
    return f"{100 * r['first_time'] // r['steps']}%" if r["steps"] else "-"


SHEET = {
    "zh": ("培训考核成绩单", "学员", "课程", "时间", "一次做对", "错误", "用时(秒)", "完成"),
    "en": (
        "Training assessment results",
        "Trainee",
        "Lesson",
        "When",
        "Right first time",
        "Mistakes",
        "Seconds",
        "Completed",
    ),
}


def to_markdown(data_dir, trainee=None, lang="zh"):
    title, who, lesson, when, first, mist, secs, comp = SHEET[lang]
    out = [f"# {title}", ""]
    out.append(f"| {who} | {lesson} | {when} | {first} | {mist} | {secs} | {comp} |")
    out.append("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows(data_dir, trainee):
        out.append(
            f"| {r['trainee']} | {r['lesson']} | {r['when']} | "
            f"{r['first_time']}/{r['steps']} ({_percent(r)}) | {r['mistakes']} | "
            f"{r['seconds']} | {r['completed']}/{r['steps']} |"
        )
    return "\n".join(out) + "\n"


def to_html(data_dir, trainee=None, lang="zh"):
    title, who, lesson, when, first, mist, secs, comp = SHEET[lang]
    e = html.escape
    out = [
        "<!doctype html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>",
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}",
        "td,th{border:1px solid #666;padding:.3em .6em}th{background:#eee}",
        ".sign{margin-top:3em}",
        "</style></head><body>",
        f"<h1>{e(title)}</h1>",
        "<table><tr>"
        + "".join(f"<th>{e(h)}</th>" for h in (who, lesson, when, first, mist, secs, comp))
        + "</tr>",
    ]
    for r in rows(data_dir, trainee):
        cells = (
            r["trainee"],
            r["lesson"],
            r["when"],
            f"{r['first_time']}/{r['steps']} ({_percent(r)})",
            str(r["mistakes"]),
            str(r["seconds"]),
            f"{r['completed']}/{r['steps']}",
        )
        out.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    sign = (
        "培训师签字:______________  日期:__________"
        if lang == "zh"
        else ("Trainer: ______________  Date: __________")
    )
    out.append(f'<p class="sign">{e(sign)}</p></body></html>')
    return "\n".join(out) + "\n"
