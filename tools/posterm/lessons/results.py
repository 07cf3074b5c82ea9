"""Assessment results: one JSON file per trainee under DATA/training/results/, a list of
attempts. An attempt is written the moment it starts (status "started") and rewritten
when it ends: "completed" (with the score: passed or not, steps right first time, every
mistake with what was expected, the time per step) or "abandoned" (quit, window closed,
input ended; with how far the trainee got). An attempt the process never closed (a
crash, a power cut) stays "started": the trainer still sees it was made.

Exported as CSV and as a printable result sheet (HTML or Markdown); per-trainee
progress, certificates and xAPI statements are built on these rows (posterm.classroom)."""

import csv
import datetime
import html
import io
import json
import os
import re
import uuid
from posterm.lessons import strings


class ResultsError(Exception):
    pass


STARTED = "started"
ABANDONED = "abandoned"
COMPLETED = "completed"

# why an attempt ended early, as the fronts record it
QUIT = "quit"
WINDOW_CLOSED = "window closed"
INPUT_ENDED = "input ended"
INTERRUPTED = "interrupted"
FAILED = "error"  # the program failed under the trainee


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
        raise ResultsError(
            f"cannot read the results of {trainee} ({path_for(data_dir, trainee)}: {e}); "
            "nothing was changed: restore the file, or move it aside to start a new one"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("attempts"), list):
        raise ResultsError(
            f"the results file of {trainee} ({path_for(data_dir, trainee)}) is not a results "
            "file; nothing was changed: restore it, or move it aside to start a new one"
        )
    return data


def write_private(path, text):
    """Write text to path by write-then-rename, readable by its owner only (0600 in a 0700
    dir: trainees' names and results, as the terminal's own data dir)."""
    d = os.path.dirname(path)
    os.makedirs(d, mode=0o700, exist_ok=True)
    try:
        os.chmod(d, 0o700)
    except OSError:
        pass
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _store(data_dir, trainee, data):
    path = path_for(data_dir, trainee)
    try:
        write_private(path, json.dumps(data, ensure_ascii=False, indent=1))
    except OSError as e:
        raise ResultsError(
            f"cannot save the result of {trainee} in {os.path.dirname(path)}: {e.strerror or e}"
        ) from None
    return path


def _now(when=None):
    return (when or datetime.datetime.now()).isoformat(timespec="seconds")


class Attempt:
    """One assessment attempt, on file from its start to its end."""

    def __init__(self, data_dir, trainee, lesson_name, front, now=None):
        self.data_dir = data_dir
        self.trainee = trainee
        self.lesson = lesson_name
        self.front = front  # "text", "emulator", "classroom"
        self.now = now or datetime.datetime.now
        self.id = uuid.uuid4().hex[:12]
        self.status = None
        self.path = None

    def begin(self):
        """Record the attempt as started (before the trainee's first key). -> path"""
        rec = {
            "id": self.id,
            "lesson": self.lesson,
            "front": self.front,
            "status": STARTED,
            "started": _now(self.now()),
        }
        data = load(self.data_dir, self.trainee)
        data["trainee"] = self.trainee
        data["attempts"].append(rec)
        self.path = _store(self.data_dir, self.trainee, data)
        self.status = STARTED
        return self.path

    def complete(self, score):
        return self._end(COMPLETED, score, None)

    def abandon(self, reason, score):
        """The trainee left before the end (quit, window closed, input ended)."""
        if self.status != STARTED:
            return self.path
        return self._end(ABANDONED, score, reason)

    def _end(self, status, score, reason):
        data = load(self.data_dir, self.trainee)
        for rec in data["attempts"]:
            if rec.get("id") == self.id:
                break
        else:  # the file was replaced meanwhile: put the attempt back
            rec = {"id": self.id, "lesson": self.lesson, "front": self.front}
            data["attempts"].append(rec)
        rec.update(score)
        rec["lesson"] = self.lesson
        rec["status"] = status
        rec["ended"] = _now(self.now())
        if status != COMPLETED:
            rec["passed"] = False
        if reason:
            rec["reason"] = reason
        self.path = _store(self.data_dir, self.trainee, data)
        self.status = status
        return self.path


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
        except (OSError, ValueError, AttributeError):
            out.append(f[:-5])  # a damaged file is not hidden: reading it says what is wrong
    return out


COLUMNS = (
    "trainee",
    "lesson",
    "status",
    "reason",
    "started",
    "ended",
    "steps",
    "completed",
    "first_time",
    "mistakes",
    "corrections",
    "seconds",
    "accuracy",
    "passed",
)


def rows(data_dir, trainee=None, names=None):
    """Every attempt as a flat row, oldest first per trainee."""
    names = [trainee] if trainee else (names if names is not None else trainees(data_dir))
    out = []
    for name in names:
        for a in load(data_dir, name)["attempts"]:
            steps = a.get("steps", 0)
            first = a.get("first_time", 0)
            out.append(
                {
                    "trainee": name,
                    "lesson": a.get("lesson", ""),
                    "status": a.get("status", COMPLETED),
                    "reason": a.get("reason", ""),
                    "started": a.get("started", a.get("when", "")),
                    "ended": a.get("ended", a.get("when", "")),
                    "steps": steps,
                    "completed": a.get("completed", 0),
                    "first_time": first,
                    "mistakes": a.get("mistakes", 0),
                    "corrections": a.get("corrections", 0),
                    "seconds": a.get("seconds", 0),
                    "accuracy": a.get("accuracy", (100 * first // steps) if steps else 0),
                    "passed": bool(a.get("passed", False)),
                    "errors": a.get("errors", []),
                    "per_step": a.get("per_step", []),
                    "pass_mark": a.get("pass_mark"),
                }
            )
    return out


def to_csv(data_dir, trainee=None, names=None):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows(data_dir, trainee, names):
        r = dict(r, passed="yes" if r["passed"] else "no")
        w.writerow(r)
    return buf.getvalue()


def _percent(r):
    return f"{100 * r['first_time'] // r['steps']}%" if r["steps"] else "-"


WORDS = strings.section("results")  # menus/training_strings.toml


def verdict(r, lang="zh"):
    w = WORDS[lang]
    if r["status"] == STARTED:
        return w["started"]
    if r["status"] == ABANDONED:
        return w["abandoned"] + (f" ({r['reason']})" if r["reason"] else "")
    return w["passed"] if r["passed"] else w["failed"]


def mistakes_text(r, lang="zh"):
    w = WORDS[lang]
    return "; ".join(w["expected"] % (e["step"], e["expected"], e["got"]) for e in r["errors"])


def per_step_text(r):
    return " ".join(f"{p['step']}:{p['seconds']}s" for p in r["per_step"])


def _cells(r, lang):
    return (
        r["trainee"],
        r["lesson"],
        r["started"],
        f"{r['first_time']}/{r['steps']} ({_percent(r)})",
        str(r["mistakes"]),
        str(r["seconds"]),
        verdict(r, lang),
    )


def _heads(lang):
    w = WORDS[lang]
    return (
        w["trainee"],
        w["lesson"],
        w["when"],
        w["first"],
        w["mistakes"],
        w["seconds"],
        w["status"],
    )


def to_markdown(data_dir, trainee=None, lang="zh", names=None):
    w = WORDS[lang]
    out = [f"# {w['title']}", ""]
    out.append("| " + " | ".join(_heads(lang)) + " |")
    out.append("|" + " --- |" * len(_heads(lang)))
    detail = []
    for r in rows(data_dir, trainee, names):
        out.append("| " + " | ".join(_cells(r, lang)) + " |")
        if r["errors"] or r["per_step"]:
            detail.append(
                f"- {r['trainee']} {r['lesson']} {r['started']}: {mistakes_text(r, lang)}"
                f"  ({w['per_step']}: {per_step_text(r)})"
            )
    return "\n".join(out + [""] + detail) + "\n"


def to_html(data_dir, trainee=None, lang="zh", names=None):
    w = WORDS[lang]
    e = html.escape
    out = [
        "<!doctype html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{e(w['title'])}</title><style>",
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}",
        "td,th{border:1px solid #666;padding:.3em .6em;vertical-align:top}th{background:#eee}",
        ".sign{margin-top:3em}.m{font-size:.85em;color:#444}",
        "</style></head><body>",
        f"<h1>{e(w['title'])}</h1>",
        "<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in _heads(lang)) + "</tr>",
    ]
    for r in rows(data_dir, trainee, names):
        cells = _cells(r, lang)
        out.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
        if r["errors"] or r["per_step"]:
            out.append(
                f'<tr><td></td><td colspan="6" class="m">{e(mistakes_text(r, lang))}'
                f"<br>{e(w['per_step'])}: {e(per_step_text(r))}</td></tr>"
            )
    out.append("</table>")
    out.append(f'<p class="sign">{e(w["sign"])}</p></body></html>')
    return "\n".join(out) + "\n"
