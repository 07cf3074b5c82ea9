"""The class roster: the trainees (people, not free text), optionally in a class (cohort)
with a date and a trainer. DATA/training/roster.json, replaced by write-then-rename.

How names are matched (one rule everywhere: `posterm class add`, `--trainee`, the
classroom's join page):

- A name is cleaned first: Unicode NFKC (full-width letters become ASCII), spaces
  collapsed, and spaces between Chinese characters dropped: "张 三" is 张三.
- Its *identity* is the cleaned name without spaces, case-folded: 张三, "张 三" are one
  person; zhang, Zhang, ZHANG are one person.
- Its *sound* is its toneless pinyin (pypinyin), letters and digits only: 张三 and
  "Zhang San" both sound zhangsan.
- Same identity: the same trainee. A name in Latin letters with the sound of a roster
  name is that trainee ("Zhang San" finds 张三) and, when adding, becomes an alias.
  A Latin name that is the start of exactly one roster name's sound finds it too
  (zhang finds 张三 when only one Zhang is on the roster); adding it is refused as
  ambiguous unless --new says it is another person. Two different Chinese names that
  sound alike (张三, 章三) are two people: both can be on the roster, and a Latin
  spelling of their sound must then be written in characters.
"""

import datetime
import json
import os
import re
import unicodedata

ROSTER_FILE = "roster.json"

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_SPACE_BETWEEN_HAN = re.compile(
    r"(?<=[\u3400-\u9fff\uf900-\ufaff])\s+(?=[\u3400-\u9fff\uf900-\ufaff])"
)


class RosterError(Exception):
    pass


def clean(name):
    """The name as it is written on the roster."""
    if not isinstance(name, str):
        raise RosterError("a trainee's name must be text")
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split())
    text = _SPACE_BETWEEN_HAN.sub("", text)
    if not text:
        raise RosterError("a trainee's name cannot be empty")
    if len(text) > 40:
        raise RosterError(f"a trainee's name is at most 40 characters: {text[:40]}...")
    if re.search(r"[\\/:*?\"<>|]", text):
        raise RosterError(f"a trainee's name cannot have \\ / : * ? \" < > |: {text}")
    return text


def identity(name):
    return "".join(clean(name).split()).casefold()


def has_han(name):
    return bool(_HAN.search(name))


def sound(name):
    """Toneless pinyin, letters and digits only: 张三 -> zhangsan, "Zhang San" -> zhangsan."""
    from pypinyin import lazy_pinyin

    text = clean(name)
    return re.sub(r"[^a-z0-9]", "", "".join(lazy_pinyin(text)).casefold())


def roster_path(data_dir):
    return os.path.join(os.path.abspath(data_dir), "training", ROSTER_FILE)


def _today():
    return datetime.date.today().isoformat()


class Roster:
    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.path = roster_path(data_dir)
        self.trainees = []  # {"name", "aliases", "cohort", "added"}
        self.cohorts = []  # {"name", "date", "trainer"}
        self._load()

    # -- file ---------------------------------------------------------------------------
    def _load(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
        except FileNotFoundError:
            return
        except ValueError as e:
            raise RosterError(f"cannot read the roster {self.path}: {e}") from None
        # any other OSError: the data dir itself is unusable, said as such by the CLI
        if not isinstance(data, dict):
            raise RosterError(f"{self.path} is not a roster")
        self.trainees = [t for t in data.get("trainees", []) if isinstance(t, dict)]
        self.cohorts = [c for c in data.get("cohorts", []) if isinstance(c, dict)]

    def save(self):
        data = {"trainees": self.trainees, "cohorts": self.cohorts}
        from posterm.lessons.results import write_private

        try:
            write_private(self.path, json.dumps(data, ensure_ascii=False, indent=1))
        except OSError as e:
            raise RosterError(f"cannot save the roster {self.path}: {e.strerror or e}") from None

    # -- lookup -------------------------------------------------------------------------
    def _names(self, t):
        return [t["name"]] + list(t.get("aliases", []))

    def matches(self, name):
        """-> (how, [trainees]) with how "same", "sound" or "start"; [] when none."""
        ident = identity(name)
        same = [t for t in self.trainees if any(identity(n) == ident for n in self._names(t))]
        if same:
            return "same", same
        s = sound(name)
        if not s:
            return "same", []
        if has_han(clean(name)):
            # characters meet other characters as written, never by sound (张三 and 章三
            # are two people); only a trainee on file in Latin letters only is matched
            latin = [
                t
                for t in self.trainees
                if not any(has_han(n) for n in self._names(t))
                and any(sound(n) == s for n in self._names(t))
            ]
            return "sound", latin
        by_sound = [t for t in self.trainees if any(sound(n) == s for n in self._names(t))]
        if by_sound:
            return "sound", by_sound
        start = [t for t in self.trainees if any(sound(n).startswith(s) for n in self._names(t))]
        return "start", start

    def find(self, name, adding_helps=True):
        """The roster trainee a typed name means, or RosterError saying why not (adding_helps:
        the error says how to add the trainee; not where that makes no sense, a removal)."""
        how, found = self.matches(name)
        if len(found) == 1:
            return found[0]
        if found:
            names = ", ".join(t["name"] for t in found)
            raise RosterError(f"{clean(name)} could be any of {names}: write the full name")
        if not adding_helps:
            raise RosterError(
                f"{clean(name)} is not on the class roster (`posterm class list` lists it)"
            )
        raise RosterError(
            f"{clean(name)} is not on the class roster: add the trainee first with "
            f"`posterm class add {clean(name)}`"
        )

    def cohort(self, name):
        for c in self.cohorts:
            if c["name"] == name:
                return c
        return None

    # -- changes ------------------------------------------------------------------------
    def add(self, name, cohort=None, new=False):
        """Add a trainee (or find the one this name already means). -> (trainee, note)"""
        text = clean(name)
        if cohort is not None and self.cohort(cohort) is None:
            raise RosterError(
                f"no class {cohort!r}: make it with `posterm class cohort {cohort} "
                "--date YYYY-MM-DD --trainer NAME`"
            )
        how, found = self.matches(text)
        if found and not (new and how == "start"):
            if len(found) > 1:
                names = ", ".join(t["name"] for t in found)
                raise RosterError(f"{text} could be any of {names}: write the name in full")
            t = found[0]
            if how == "start":
                raise RosterError(
                    f"{text} matches {t['name']} ({sound(t['name'])}) on the roster: write "
                    "the full name, or add --new if this is another person"
                )
            note = f"{text} is {t['name']}, on the roster already"
            if how == "sound" and identity(text) not in [identity(n) for n in self._names(t)]:
                t.setdefault("aliases", []).append(text)
                note += f" (also written {text} from now on)"
            if cohort is not None and t.get("cohort") != cohort:
                t["cohort"] = cohort
                note += f"; now in class {cohort}"
            return t, note
        note = ""
        if has_han(text):
            alike = [t["name"] for t in self.trainees if sound(t["name"]) == sound(text)]
            if alike:
                note = f"{text} sounds like {', '.join(alike)}: kept as another person"
        t = {"name": text, "aliases": [], "cohort": cohort, "added": _today()}
        self.trainees.append(t)
        return t, note

    def remove(self, name):
        t = self.find(name, adding_helps=False)
        self.trainees.remove(t)
        return t

    def set_cohort(self, name, date=None, trainer=None):
        if not name or not name.strip():
            raise RosterError("a class needs a name")
        name = " ".join(unicodedata.normalize("NFKC", name).split())
        if date is not None:
            try:
                datetime.date.fromisoformat(date)
            except ValueError:
                raise RosterError(f"class date {date!r}: write YYYY-MM-DD") from None
        c = self.cohort(name)
        if c is None:
            c = {"name": name, "date": date, "trainer": trainer}
            self.cohorts.append(c)
        else:
            if date is not None:
                c["date"] = date
            if trainer is not None:
                c["trainer"] = trainer
        return c

    def members(self, cohort=None):
        if cohort is None:
            return list(self.trainees)
        if self.cohort(cohort) is None:
            raise RosterError(f"no class {cohort!r} (classes: {self.cohort_names()})")
        return [t for t in self.trainees if t.get("cohort") == cohort]

    def cohort_names(self):
        return ", ".join(c["name"] for c in self.cohorts) or "none"


def load(data_dir):
    return Roster(data_dir)
