"""The results as xAPI (Experience API, "Tin Can") statements, the form a bank's LMS or
a learning record store (LRS) takes: per attempt an `attempted` statement when it started,
then `passed` or `failed` when it was completed (result: score = steps right first time,
success, completion, duration) or `terminated` when it was abandoned (completion false).

Statement ids are derived from the attempt's id, so exporting twice sends the same
statements (an LRS keeps one copy). The actor is the roster name as an account on
`home_page` (the LMS's own address: --home-page)."""

import datetime
import json
import uuid

from posterm.classroom.cli import DEFAULT_HOME_PAGE
from posterm.lessons import model, results

VERBS = {
    "attempted": ("http://adlnet.gov/expapi/verbs/attempted", "attempted", "开始考核"),
    "passed": ("http://adlnet.gov/expapi/verbs/passed", "passed", "通过"),
    "failed": ("http://adlnet.gov/expapi/verbs/failed", "failed", "未通过"),
    "terminated": ("http://adlnet.gov/expapi/verbs/terminated", "terminated", "中途放弃"),
}
ACTIVITY_TYPE = "http://adlnet.gov/expapi/activities/assessment"
ACTIVITY_BASE = "https://posterm.example/lessons/"
MISTAKES_EXT = "https://posterm.example/xapi/mistakes"
_NS = uuid.UUID("6f1d3c1e-5b0e-4a8e-9a55-2f3b8f2b7a11")


def duration(seconds):
    """ISO 8601 duration: 75.5 -> PT1M15.5S."""
    seconds = max(0.0, float(seconds))
    minutes, secs = divmod(round(seconds, 1), 60)
    hours, minutes = divmod(int(minutes), 60)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    return out + f"{secs:g}S"


def _stamp(text):
    when = datetime.datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.astimezone()
    return when.isoformat(timespec="seconds")


def _titles(lesson_name):
    try:
        lesson = model.load(lesson_name)
    except model.LessonError:
        return {"en-US": lesson_name}
    return {"zh-CN": lesson.title.zh, "en-US": lesson.title.en}


def _verb(key):
    iri, en, zh = VERBS[key]
    return {"id": iri, "display": {"en-US": en, "zh-CN": zh}}


def statements(data_dir, trainees, home_page=None):
    home_page = home_page or DEFAULT_HOME_PAGE
    out = []
    titles = {}
    for name in trainees:
        actor = {
            "objectType": "Agent",
            "name": name,
            "account": {"homePage": home_page, "name": name},
        }
        for a in results.load(data_dir, name)["attempts"]:
            lesson = a.get("lesson", "")
            if lesson not in titles:
                titles[lesson] = _titles(lesson)
            attempt_id = a.get("id") or f"{name}/{lesson}/{a.get('started', a.get('when'))}"
            registration = str(uuid.uuid5(_NS, attempt_id))
            obj = {
                "objectType": "Activity",
                "id": ACTIVITY_BASE + lesson,
                "definition": {"name": titles[lesson], "type": ACTIVITY_TYPE},
            }
            started = a.get("started") or a.get("when")
            base = {
                "actor": actor,
                "object": obj,
                "context": {"registration": registration, "platform": "posterm"},
            }
            out.append(
                dict(
                    base,
                    id=str(uuid.uuid5(_NS, attempt_id + "/attempted")),
                    verb=_verb("attempted"),
                    timestamp=_stamp(started),
                )
            )
            status = a.get("status", results.COMPLETED)
            if status == results.STARTED:
                continue
            steps = a.get("steps", 0)
            first = a.get("first_time", 0)
            result = {
                "completion": status == results.COMPLETED,
                "duration": duration(a.get("seconds", 0)),
                "extensions": {MISTAKES_EXT: a.get("errors", [])},
            }
            if status == results.COMPLETED:
                verb = "passed" if a.get("passed") else "failed"
                result["success"] = bool(a.get("passed"))
                result["score"] = {
                    "raw": first,
                    "min": 0,
                    "max": steps,
                    "scaled": round(first / steps, 4) if steps else 0,
                }
            else:
                verb = "terminated"
            out.append(
                dict(
                    base,
                    id=str(uuid.uuid5(_NS, attempt_id + "/" + verb)),
                    verb=_verb(verb),
                    result=result,
                    timestamp=_stamp(a.get("ended") or started),
                )
            )
    return out


def to_json(data_dir, trainees, home_page=None):
    return json.dumps(statements(data_dir, trainees, home_page), ensure_ascii=False, indent=1)
