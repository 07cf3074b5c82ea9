"""One trainee's terminal in the classroom: the lesson app (guided or assessment) in its
own data dir with its own embedded center, its results filed in the class's data dir, and
a live status for the trainer's page. `posterm classroom` runs one of these per joined
browser (textual-serve); run by hand it is a plain lesson in a terminal:

    python -m posterm.classroom.trainee --data DATA --trainee 张三 --lesson 04 [--assess]
"""

import argparse
import sys

from posterm.classroom import live


def main(argv=None):
    p = argparse.ArgumentParser(prog="posterm.classroom.trainee")
    p.add_argument("--data", required=True, help="the class's data dir (roster, results)")
    p.add_argument("--trainee", required=True)
    p.add_argument("--lesson", required=True)
    p.add_argument("--assess", action="store_true")
    p.add_argument("--lang", choices=("zh", "en"), default=None)
    args = p.parse_args(argv)
    return run(args.data, args.trainee, args.lesson, args.assess, args.lang)


def run(data_dir, trainee, lesson_name, assess=False, lang=None):
    from posterm.lessons import guided, model, results
    from posterm.lessons.session import ASSESS, GUIDED

    lesson = model.load(lesson_name)
    mode = ASSESS if assess else GUIDED
    own = live.trainee_dir(data_dir, trainee)
    session = guided.make_session(lesson, own, mode, lang)
    session.start()
    app = guided.LessonApp(session, trainee=trainee if assess else None, data_dir=data_dir)
    app.title = f"posterm {trainee}"

    def changed(s):
        if s.done:
            state, result = live.COMPLETED, s.score()
        else:
            state, result = live.WORKING, None
        live.write(data_dir, trainee, live.status_of(s, state, result))

    session.listeners.append(changed)
    changed(session)

    def closed(signum, frame):
        raise SystemExit(1)  # the server went away: the finally below files the attempt

    import signal

    for sig in (signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, closed)
    try:
        app.run()
    finally:
        app.record_abandoned(results.WINDOW_CLOSED)
        if not session.done:
            live.write(data_dir, trainee, live.status_of(session, live.ABANDONED))
        session.close()
    return 0 if session.done else 1


if __name__ == "__main__":
    sys.exit(main())
