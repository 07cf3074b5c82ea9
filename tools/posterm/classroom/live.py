"""What every trainee in the classroom is doing now, for the trainer's page: one small JSON
file per trainee under DATA/classroom/live/, replaced (write-then-rename) by the trainee's
own process on every change (a key, a step done, the end)."""

import datetime
import json
import os
import re

WORKING = "working"
COMPLETED = "completed"
ABANDONED = "abandoned"


def live_dir(data_dir):
    return os.path.join(os.path.abspath(data_dir), "classroom", "live")


def trainee_dir(data_dir, trainee):
    """The trainee's own data dir in the classroom: terminal store and embedded center."""
    return os.path.join(os.path.abspath(data_dir), "classroom", "trainees", _safe(trainee))


def _safe(name):
    return re.sub(r"[\\/:*?\"<>|\x00-\x1f]", "_", name) or "_"


def write(data_dir, trainee, status):
    d = live_dir(data_dir)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, _safe(trainee) + ".json")
    rec = dict(
        status, trainee=trainee, updated=datetime.datetime.now().isoformat(timespec="seconds")
    )
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(rec, f, ensure_ascii=False)
    os.replace(tmp, path)
    return path


def read_all(data_dir):
    d = live_dir(data_dir)
    try:
        files = sorted(f for f in os.listdir(d) if f.endswith(".json"))
    except OSError:
        return []
    out = []
    for f in files:
        try:
            with open(os.path.join(d, f), encoding="utf-8") as fh:
                out.append(json.load(fh))
        except (OSError, ValueError):
            continue
    return out


def status_of(session, state=WORKING, result=None):
    """The live record of a lesson session."""
    n, m = session.progress()
    mistakes = sum(r.mistakes for r in session.results) + session.misses
    rec = {
        "lesson": session.lesson.name,
        "title": session.lesson.title.get(session.lang),
        "mode": session.mode,
        "step": len(session.results) if session.done else n,
        "steps": m,
        "mistakes": mistakes,
        "state": state,
    }
    if result is not None:
        rec["passed"] = bool(result.get("passed"))
        rec["accuracy"] = result.get("accuracy")
        rec["seconds"] = result.get("seconds")
    return rec
