"""`posterm classroom`: the lessons served to the trainees' browsers (textual-serve).

    /                 the join page: the class code and the trainee's name (on the roster),
                      and the lesson to take
    /t/TOKEN          that trainee's terminal: one process per trainee (posterm.classroom.
                      trainee), its own data dir and embedded center, results filed in the
                      class's data dir
    /trainer?key=K    the trainer's page: every trainee's lesson, step and mistakes, live,
                      and the class's results (the key is printed at start)

It binds to 127.0.0.1 unless --bind says otherwise, and nobody gets a terminal without the
class code (printed at start, or --code)."""

from posterm import paths


def register(subs, common_options):
    # the parser only: the server (textual-serve, aiohttp: ~1 s to import) is loaded when the
    # command runs, so that every other posterm command starts without it
    import argparse

    p = subs.add_parser(
        "classroom",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="serve the lessons to the trainees' browsers (one terminal each) and a "
        "trainer's page",
        description=__doc__.split("\n", 2)[2],
    )
    p.add_argument(
        "--data",
        metavar="DIR",
        default=None,
        help="the class's data dir: roster, results (default: %s)" % paths.default_data_dir(),
    )
    p.add_argument(
        "--bind",
        metavar="ADDRESS",
        default="127.0.0.1",
        help="the address to listen on (default 127.0.0.1: this machine only; "
        "0.0.0.0 opens it to the room's network)",
    )
    p.add_argument("--port", type=int, default=8000,
                   help="the port to listen on (default 8000)")
    p.add_argument(
        "--code",
        metavar="CODE",
        default=None,
        help="the class code trainees type to join (default: a new random one)",
    )
    p.add_argument(
        "--trainer-key",
        metavar="KEY",
        default=None,
        help="the key of the trainer's page (default: a new random one)",
    )
    p.add_argument(
        "--lessons", metavar="L1,L2", default=None, help="the lessons offered (default: all)"
    )
    p.add_argument("--assess", action="store_true", help="assessment mode (results filed)")
    p.add_argument(
        "--cohort", metavar="CLASS", default=None, help="only this class's trainees may join"
    )
    p.add_argument("--lang", choices=("zh", "en"), default="zh",
                   help="the language of the pages and of the trainees' terminals (zh)")
    p.set_defaults(func=_run)


def _run(args):
    from posterm.classroom import server

    return server.cmd_classroom(args)
