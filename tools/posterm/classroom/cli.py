"""`posterm class` (the roster, progress, certificates, xAPI) and `posterm classroom`
(the lessons served to the trainees' browsers)."""

import argparse
import os
import sys

from posterm import paths
from posterm.errors import CliError

CLASS_HELP = """\
posterm class add NAME... [--cohort C]      put trainees on the roster (names normalised)
posterm class list [--cohort C]             the roster
posterm class remove NAME                   take a trainee off (results stay on file)
posterm class cohort C --date D --trainer T a class (cohort) with its date and trainer
posterm class progress [--cohort C] [--format table|csv|html] [-o FILE]
posterm class certificate NAME --lessons 01,04 [-o FILE]   for a trainee who passed them
posterm class export [--cohort C] --format xapi [-o FILE]   results as xAPI statements
"""


# the actor accounts' home page when --home-page is not given (posterm.classroom.xapi uses it)
DEFAULT_HOME_PAGE = "https://posterm.example/trainees"


def _default_home_page():
    return DEFAULT_HOME_PAGE


def register(subs, common_options):
    p = subs.add_parser(
        "class",
        help="the class: roster, progress, certificates, xAPI export",
        description="The class of trainees.\n\n" + CLASS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common_options(p, date=False, host=False)
    cs = p.add_subparsers(dest="class_cmd", metavar="COMMAND", required=True)

    def sub(name, help_text):
        sp = cs.add_parser(name, help=help_text, description=help_text)
        sp.add_argument(
            "--data",
            metavar="DIR",
            default=argparse.SUPPRESS,
            help="the data dir (default: %s)" % paths.default_data_dir(),
        )
        sp.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS,
                        help="the language of the output (zh)")
        return sp

    a = sub("add", "put trainees on the roster")
    a.add_argument("names", nargs="+", metavar="NAME")
    a.add_argument("--cohort", metavar="CLASS", default=None, help="put them in this class")
    a.add_argument(
        "--new",
        action="store_true",
        help="a Latin name that starts like a roster name is another person",
    )
    a.set_defaults(class_func=cmd_add)
    li = sub("list", "the roster")
    li.add_argument("--cohort", metavar="CLASS", default=None, help="only this class")
    li.set_defaults(class_func=cmd_list)
    rm = sub("remove", "take a trainee off the roster (the results stay on file)")
    rm.add_argument("name", metavar="NAME")
    rm.set_defaults(class_func=cmd_remove)
    co = sub("cohort", "make or change a class (cohort): its date and trainer")
    co.add_argument("name", metavar="CLASS")
    co.add_argument("--date", metavar="YYYY-MM-DD", default=None, help="the class's date")
    co.add_argument("--trainer", metavar="NAME", default=None, help="the class's trainer")
    co.set_defaults(class_func=cmd_cohort)
    pr = sub("progress", "per trainee and lesson: attempts, best, last, passed, time trend")
    pr.add_argument("--cohort", metavar="CLASS", default=None, help="only this class")
    pr.add_argument("--trainee", metavar="NAME", default=None, help="only this trainee")
    pr.add_argument("--lessons", metavar="L1,L2", default=None, help="only these lessons")
    pr.add_argument("--format", choices=("table", "csv", "html"), default="table",
                    help="a table (default), CSV, or a printable HTML report with charts")
    pr.add_argument("-o", "--output", metavar="FILE", default=None,
                    help="write it to FILE (default: standard output)")
    pr.set_defaults(class_func=cmd_progress)
    ce = sub("certificate", "a printable certificate for a trainee who passed the lessons")
    ce.add_argument("name", metavar="NAME")
    ce.add_argument("--lessons", metavar="L1,L2", required=True,
                    help="the lessons it certifies (every one passed)")
    ce.add_argument("--trainer", metavar="NAME", default=None, help="(default: the class's)")
    ce.add_argument("--date", metavar="YYYY-MM-DD", default=None, help="(default: today)")
    ce.add_argument("-o", "--output", metavar="FILE", default=None,
                    help="write it to FILE (default: standard output)")
    ce.set_defaults(class_func=cmd_certificate)
    ex = sub("export", "the results as xAPI statements (JSON) for an LMS")
    ex.add_argument("--cohort", metavar="CLASS", default=None, help="only this class")
    ex.add_argument("--trainee", metavar="NAME", default=None, help="only this trainee")
    ex.add_argument("--format", choices=("xapi",), default="xapi", help="xAPI statements")
    ex.add_argument(
        "--home-page",
        metavar="URL",
        default=None,
        help="the actor accounts' home page, the LMS's address (default: %s)"
        % _default_home_page(),
    )
    ex.add_argument("-o", "--output", metavar="FILE", default=None,
                    help="write it to FILE (default: standard output)")
    ex.set_defaults(class_func=cmd_export)
    p.set_defaults(func=dispatch)

    from posterm.classroom import servecli

    servecli.register(subs, common_options)


def dispatch(args):
    from posterm.classroom.roster import RosterError
    from posterm.lessons import cli as lesson_cli
    from posterm.lessons.results import ResultsError

    try:
        return args.class_func(args)
    except BrokenPipeError:
        return lesson_cli.output_closed()
    except (RosterError, ResultsError) as e:
        raise CliError(str(e)) from None
    except OSError as e:
        raise CliError(lesson_cli.os_message(e, data_dir(args))) from None


def data_dir(args):
    return getattr(args, "data", None) or paths.default_data_dir()


def _lang(args):
    return getattr(args, "lang", None) or "zh"


def _roster(args):
    from posterm.classroom import roster

    return roster.load(data_dir(args))


def _write(text, output):
    from posterm.lessons import cli as lesson_cli

    lesson_cli._write(text, output)


def cmd_add(args):
    from posterm.classroom.roster import RosterError

    r = _roster(args)
    said = []
    for name in args.names:  # every name first: one refused adds nobody
        try:
            t, note = r.add(name, cohort=args.cohort, new=args.new)
        except RosterError as e:
            raise CliError(f"{e}; nobody was added" if len(args.names) > 1 else str(e)) from None
        said.append(note or f"added {t['name']}"
                    + (f" to class {t['cohort']}" if t["cohort"] else ""))
    r.save()
    for line in said:
        print(line)
    return 0


def cmd_list(args):
    from pos import cells

    r = _roster(args)
    members = r.members(args.cohort)
    if not members:
        print(
            "the roster is empty: posterm class add NAME"
            if not r.trainees
            else "nobody in that class"
        )
        return 0
    width = max(cells.width(t["name"]) for t in members)
    for t in members:
        c = r.cohort(t["cohort"]) if t.get("cohort") else None
        extra = []
        if c:
            extra.append(
                f"class {c['name']}"
                + "".join(f", {c[k]}" for k in ("date", "trainer") if c.get(k))
            )
        if t.get("aliases"):
            extra.append("also " + ", ".join(t["aliases"]))
        pad = " " * (width - cells.width(t["name"]))
        print(f"{t['name']}{pad}  {'; '.join(extra)}".rstrip())
    return 0


def cmd_remove(args):
    r = _roster(args)
    t = r.remove(args.name)
    r.save()
    print(f"removed {t['name']} from the roster (the results stay on file)")
    return 0


def cmd_cohort(args):
    r = _roster(args)
    c = r.set_cohort(args.name, args.date, args.trainer)
    r.save()
    print(f"class {c['name']}: date {c.get('date') or '-'}, trainer {c.get('trainer') or '-'}")
    return 0


def _lesson_names(spec):
    from posterm.lessons import model

    if not spec:
        return model.names()
    out = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            path = model.find(part)
        except model.LessonError as e:
            raise CliError(str(e)) from None
        out.append(os.path.basename(path)[:-5])
    if not out:
        raise CliError("--lessons needs lesson names, e.g. 01,04")
    return out


def _members(args, r):
    if getattr(args, "trainee", None):
        return [r.find(args.trainee)]
    members = r.members(args.cohort)
    if not members:
        raise CliError(
            "nobody on the roster"
            + (f" in class {args.cohort}" if args.cohort else ": posterm class add NAME")
        )
    return members


def cmd_progress(args):
    from posterm.classroom import progress

    r = _roster(args)
    names = [t["name"] for t in _members(args, r)]
    prog = progress.collect(data_dir(args), names, _lesson_names(args.lessons))
    if args.format == "table":
        text = progress.table(prog, _lang(args))
    elif args.format == "csv":
        text = progress.to_csv(prog)
    else:
        text = progress.to_html(prog, _lang(args), r.cohort(args.cohort) if args.cohort else None)
    _write(text, args.output)
    return 0


def cmd_certificate(args):
    from posterm.classroom import certificate

    r = _roster(args)
    t = r.find(args.name)
    lessons = _lesson_names(args.lessons)
    cohort = r.cohort(t["cohort"]) if t.get("cohort") else None
    try:
        text = certificate.build(
            data_dir(args),
            t,
            lessons,
            cohort,
            trainer=args.trainer,
            date=args.date,
            lang=_lang(args),
        )
    except certificate.NotPassed as e:
        raise CliError(str(e)) from None
    _write(text, args.output)
    return 0


def cmd_export(args):
    from posterm.classroom import xapi

    from urllib.parse import urlsplit

    page = urlsplit(args.home_page or "")
    if args.home_page and (page.scheme not in ("http", "https") or not page.netloc):
        # xAPI: an account's homePage is an IRL (the LMS's address); an LRS refuses others
        raise CliError(f"--home-page {args.home_page!r}: give the LMS's address, "
                       "e.g. https://lms.example.com")
    r = _roster(args)
    names = [t["name"] for t in _members(args, r)]
    text = xapi.to_json(data_dir(args), names, home_page=args.home_page)
    _write(text, args.output)
    if not args.output:
        sys.stdout.write("\n")
    return 0
