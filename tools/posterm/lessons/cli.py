"""`posterm lesson`: lessons for trainee cashiers.

posterm lesson list                         the lessons, in order
posterm lesson NAME [--assess --trainee T]  guided (or assessment) mode in the emulator
posterm lesson NAME --text                  the same on a plain terminal (stdin)
posterm lesson run NAME... | --all          headless: every step's keys and screen checks
posterm lesson check FILE...                validate lesson files (keys, screens, steps)
posterm lesson export NAME --format md|html a printable handout
posterm lesson results [--trainee T] --format csv|md|html   assessment results
"""

import argparse
import os
import sys

from posterm import paths
from posterm.errors import CliError

COMMANDS = ("list", "run", "check", "export", "results")

DESCRIPTION = __doc__.split("\n", 2)[2]


def register(subs, common_options):
    p = subs.add_parser(
        "lesson",
        help="lessons for trainee cashiers: guided, assessment, run, check, export",
        description="Lessons for trainee cashiers (files in menus/lessons/).\n\n" + DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(p, common_options)
    p.add_argument("what", metavar="NAME|COMMAND", help="a lesson name, or " + ", ".join(COMMANDS))
    p.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.set_defaults(func=dispatch, _common_options=common_options)


def _common(p, common_options):
    # --data, --lang, --profile; lessons set their own date and never use a live host
    common_options(p, date=False, host=False)


def _sub(name, common_options, description):
    from posterm.cliparse import Parser

    p = Parser(prog=f"posterm lesson {name}", description=description)
    _common(p, common_options)
    return p


def dispatch(args):
    """Run a lesson command; whatever goes wrong is one clear line and a non-zero exit,
    never a traceback (an unusable data dir, output closed early, a broken results file)."""
    from posterm.driver import DataDirLocked
    from posterm.lessons.results import ResultsError

    try:
        return _dispatch(args)
    except BrokenPipeError:
        return output_closed()
    except (ResultsError, DataDirLocked) as e:
        raise CliError(str(e)) from None
    except OSError as e:
        raise CliError(os_message(e, _data(getattr(args, "_inner", args)))) from None


def os_message(e, data_dir):
    where = e.filename or data_dir
    return (
        f"cannot use the data dir {data_dir}: {e.strerror or e} ({where}); "
        "give a writable directory with --data DIR"
    )


def output_closed():
    """stdout went away (`posterm lesson list | head -1`): quiet, as every command ends
    then (README, "No command prints a Python traceback"); keep Python from failing again on
    its final flush, exit 1."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return 1


def _dispatch(args):
    co = args._common_options
    what = args.what
    if what == "list":
        p = _sub("list", co, "The lessons, in order, with their titles.")
        return cmd_list(_merge(args, p.parse_args(args.rest)))
    if what == "run":
        p = _sub("run", co, "Run lessons headless: feed every step's keys, check the screens.")
        p.add_argument("names", nargs="*", metavar="NAME")
        p.add_argument("--all", action="store_true", help="every lesson in menus/lessons/")
        return cmd_run(_merge(args, p.parse_args(args.rest)))
    if what == "check":
        p = _sub("check", co, "Validate lesson files: fields, key names, screens, steps.")
        p.add_argument("files", nargs="+", metavar="FILE")
        return cmd_check(_merge(args, p.parse_args(args.rest)))
    if what == "export":
        p = _sub("export", co, "A printable handout: each step's instruction and screen.")
        p.add_argument("name", metavar="NAME")
        p.add_argument("--format", choices=("md", "html"), default="md")
        p.add_argument("-o", "--output", metavar="FILE", default=None)
        return cmd_export(_merge(args, p.parse_args(args.rest)))
    if what == "results":
        p = _sub("results", co, "Assessment results: CSV or a printable result sheet.")
        p.add_argument("--trainee", metavar="NAME", default=None)
        p.add_argument("--format", choices=("csv", "md", "html"), default="csv")
        p.add_argument("-o", "--output", metavar="FILE", default=None)
        return cmd_results(_merge(args, p.parse_args(args.rest)))
    p = _sub("NAME", co, "Open a lesson: guided mode, or assessment mode with --assess.")
    p.add_argument("--assess", action="store_true", help="assessment: no hints, results saved")
    p.add_argument("--trainee", metavar="NAME", default=None, help="the trainee (assessment)")
    p.add_argument(
        "--text", action="store_true", help="a plain text front instead of the emulator"
    )
    a = _merge(args, p.parse_args(args.rest))
    a.name = what
    return cmd_open(a)


def _merge(outer, inner):
    outer._inner = inner
    for k in ("data", "lang", "profile"):
        if getattr(inner, k, None) in (None, "lcd128x64") and getattr(outer, k, None):
            setattr(inner, k, getattr(outer, k))
    return inner


def _data(args):
    return args.data or paths.default_data_dir()


def _lesson(name):
    from posterm.lessons import model

    try:
        return model.load(name)
    except model.LessonError as e:
        raise CliError(str(e)) from None


def roster_name(data_dir, typed):
    """The roster's name for a typed trainee name (张 三, Zhang San, zhang -> 张三)."""
    from posterm.classroom import roster

    try:
        return roster.load(data_dir).find(typed)["name"]
    except roster.RosterError as e:
        raise CliError(str(e)) from None


def _profile(args):
    return None if args.profile == "lcd128x64" else args.profile


# -- commands -------------------------------------------------------------------------------
def cmd_list(args):
    from posterm.lessons import model

    lang = args.lang or "zh"
    for name in model.names():
        try:
            lesson = model.load(name)
        except model.LessonError as e:
            print(f"{name}  (broken: {e.message})")
            continue
        print(f"{name:<28} {lesson.title.get(lang)}  ({len(lesson.steps)})")
    return 0


def cmd_run(args):
    from posterm.lessons import model, runner

    if args.all == bool(args.names):
        raise CliError("name the lessons to run, or --all")
    names = model.names() if args.all else args.names
    if not names:
        raise CliError(f"no lessons in {paths.LESSONS_DIR}")
    failed = 0
    for name in names:
        lesson = _lesson(name)
        langs = [args.lang] if args.lang else runner.languages(lesson)
        for lang in langs:
            try:
                report = runner.run(lesson, _data(args), lang=lang, profile=_profile(args))
            except model.LessonError as e:
                print(f"{name} [{lang}]: FAILED: {e}")
                failed += 1
                continue
            print(report.summary())
            for p in report.problems:
                print("  " + p)
            failed += not report.ok
    return 1 if failed else 0


def cmd_check(args):
    from posterm.lessons import runner

    bad = 0
    for path in args.files:
        if not os.path.exists(path):
            print(f"{path}: no such file", file=sys.stderr)
            bad += 1
            continue
        problems = runner.check(path, _data(args), profile=_profile(args))
        if problems:
            bad += 1
            for p in problems:
                print(p, file=sys.stderr)
        else:
            print(f"{path}: ok")
    return 1 if bad else 0


def cmd_export(args):
    from posterm.lessons import export, model

    lesson = _lesson(args.name)
    try:
        text = export.build(
            lesson, _data(args), args.format, lang=args.lang, profile=_profile(args)
        )
    except (export.ExportError, model.LessonError) as e:
        raise CliError(f"{lesson.name} does not run, fix it first: {e}") from None
    _write(text, args.output)
    return 0


def cmd_results(args):
    from posterm.lessons import results

    data = _data(args)
    if args.trainee:
        from posterm.classroom import roster

        try:
            args.trainee = roster.load(data).find(args.trainee)["name"]
        except roster.RosterError:
            pass  # results of someone no longer on the roster are still shown
    try:
        if args.format == "csv":
            text = results.to_csv(data, args.trainee)
        elif args.format == "md":
            text = results.to_markdown(data, args.trainee, args.lang or "zh")
        else:
            text = results.to_html(data, args.trainee, args.lang or "zh")
    except results.ResultsError as e:
        raise CliError(str(e)) from None
    _write(text, args.output)
    return 0


def _write(text, output):
    if output:
        try:
            with open(output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as e:
            raise CliError(f"cannot write {output}: {e.strerror or e}") from None
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)


def cmd_open(args):
    from posterm.lessons import session as sessmod

    lesson = _lesson(args.name)
    if args.assess and not args.trainee:
        raise CliError("assessment mode needs --trainee NAME (a name on the class roster)")
    if args.trainee:
        args.trainee = roster_name(_data(args), args.trainee)
    mode = sessmod.ASSESS if args.assess else sessmod.GUIDED
    if not args.text:
        try:
            from posterm.lessons import guided
        except ImportError as e:
            raise CliError(f"the emulator is not available ({e}); use --text") from None
        return guided.run_app(
            lesson, _data(args), mode, args.trainee, lang=args.lang, profile=_profile(args)
        )
    from posterm.lessons import textfront

    return textfront.run(
        lesson, _data(args), mode, args.trainee, lang=args.lang, profile=_profile(args)
    )
