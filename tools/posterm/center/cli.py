"""`posterm center ...`: the back office for account managers, field agents and risk staff.

Without a command: the console (a Textual app with a login).  Every view has a command form
for scripts on the same database (`--db PATH` / `--data DIR`, `--format table|csv|json`);
the agent's actions take `--as USER` and are written to the audit log.  User errors are one
line on stderr and exit status 2.
"""

import argparse
import getpass
import os
import sqlite3
import sys
from datetime import date

from posterm.center import db as cdb
from posterm.center import export, rules
from posterm.host.errors import HostError, ValidationError

FORMATS = ("table", "csv", "json")


def _db_options(p, suppress=True):
    default = argparse.SUPPRESS if suppress else None
    g = p.add_mutually_exclusive_group()
    g.add_argument("--db", metavar="PATH", default=default,
                   help="the center's database file, or a postgresql:// URL")
    g.add_argument("--data", metavar="DIR", default=default,
                   help="data directory; the database is DIR/host.db")


def _console_options(p, suppress=True):
    default = argparse.SUPPRESS if suppress else None
    p.add_argument("--lang", choices=("zh", "en"), default=argparse.SUPPRESS if suppress
                   else "zh", help="console language (default zh)")
    p.add_argument("--today", metavar="YYYY-MM-DD", default=default,
                   help="the console's today (default: the real one)")


def _view_options(p, who=True, day=True):
    _db_options(p)
    p.add_argument("--format", choices=FORMATS, default="table", help="output (default table)")
    if who:
        p.add_argument("--as", dest="user", metavar="USER", default=None,
                       help="only this user's merchants")
    if day:
        p.add_argument("--date", metavar="YYYY-MM-DD", default=None,
                       help="the day the report is for (default today)")


def _action_options(p):
    _db_options(p)
    p.add_argument("tid", metavar="TID")
    p.add_argument("--reason", required=True, metavar="CODE",
                   help="reason code (see `posterm center reasons`)")
    p.add_argument("--comment", required=True, metavar="TEXT", help="why, for the audit log")
    p.add_argument("--as", dest="user", required=True, metavar="USER",
                   help="who does it (a field agent or risk user)")


def register(subparsers, common_options=None):
    p = subparsers.add_parser(
        "center",
        help="the back office: console and reports for account managers, agents, risk",
        description="Without a command: the console (login, then your role's views).",
    )
    configure(p)
    return p


def configure(p):
    p.set_defaults(func=run)
    _db_options(p, suppress=False)
    _console_options(p, suppress=False)
    cmds = p.add_subparsers(dest="center_cmd", metavar="COMMAND")

    def sub(name, text):
        return cmds.add_parser(name, help=text, description=text)

    q = sub("serve", "serve the console to a browser (textual-serve) on loopback")
    _db_options(q)
    _console_options(q)
    q.add_argument("--port", type=int, default=8566, help="port (default 8566)")
    q.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")

    q = sub("terminals", "each terminal's sales today, this week, this month")
    _view_options(q)
    q = sub("terminal", "one terminal: state, last seen, usage, what it reported, its audit")
    _view_options(q, who=False)
    q.add_argument("tid", metavar="TID")
    q = sub("inactive", "terminals with no sign-in or no transaction for N days")
    _view_options(q)
    q = sub("abnormal", "abnormal days: far above baseline, round amounts, one card, night")
    _view_options(q)
    q.add_argument("--days", type=int, default=None, help="days to look at")
    q = sub("risk", "跳码 hits: a card in two regions within minutes; foreign merchant numbers")
    _view_options(q)
    q.add_argument("--days", type=int, default=None, help="days to look at")
    q = sub("sheet", "the weekly tracking sheet (终端POS机使用问题跟踪表)")
    _view_options(q)
    q.add_argument("--week", metavar="YYYY-Www", default=None, help="week (default this week)")
    q.add_argument("--xlsx", metavar="FILE", default=None, help="also write it as XLSX")
    q.add_argument("--html", metavar="FILE", default=None,
                   help="also write it as HTML, with each terminal's daily sales chart")
    q = sub("note", "fill in the tracking sheet for a terminal (problem, action, follow-up)")
    _db_options(q)
    q.add_argument("tid", metavar="TID")
    q.add_argument("--as", dest="user", required=True, metavar="USER")
    q.add_argument("--week", metavar="YYYY-Www", default=None, help="week (default this week)")
    q.add_argument("--problem", default=None)
    q.add_argument("--action", default=None)
    q.add_argument("--follow-up", dest="follow_up", metavar="YYYY-MM-DD", default=None)
    q = sub("audit", "the audit log (append-only), of one terminal or all")
    _view_options(q, day=False)
    q.add_argument("tid", metavar="TID", nargs="?", default=None)
    q.add_argument("--verify", action="store_true", help="check the log's hash chain")

    for name, text in (("suspend", "停机: suspend a terminal (its requests get the code)"),
                       ("resume", "复机: resume a suspended (agent, risk) or frozen (risk) one"),
                       ("freeze", "冻结: freeze a terminal")):
        _action_options(sub(name, text))
    q = sub("bind", "register a terminal for a merchant; prints its new TMK once, with KCV")
    _db_options(q)
    q.add_argument("tid", metavar="TID")
    q.add_argument("mid", metavar="MID")
    q.add_argument("--as", dest="user", required=True, metavar="USER")
    q.add_argument("--comment", default="", metavar="TEXT")

    q = sub("reasons", "the reason codes for suspend, resume, freeze")
    _view_options(q, who=False, day=False)

    q = sub("users", "logins: list, add, passwd, assign")
    _db_options(q)
    ua = q.add_subparsers(dest="center_action", metavar="ACTION")
    r = ua.add_parser("list", help="list the users")
    _db_options(r)
    r = ua.add_parser("add", help="add a login (password asked, or one line on stdin)")
    _db_options(r)
    r.add_argument("name", metavar="NAME")
    r.add_argument("--role", required=True, choices=cdb.ROLES)
    r.add_argument("--merchants", default="", metavar="MID,MID|all",
                   help="the merchants this user looks after")
    r.add_argument("--display", default="", help="full name")
    r.add_argument("--phone", default="", help="phone number")
    r = ua.add_parser("passwd", help="set a new password")
    _db_options(r)
    r.add_argument("name", metavar="NAME")
    r = ua.add_parser("assign", help="add merchants to a user")
    _db_options(r)
    r.add_argument("name", metavar="NAME")
    r.add_argument("mids", metavar="MID", nargs="+")

    q = sub("merchants", "merchants: list, add (name, region, inactive thresholds)")
    _db_options(q)
    ma = q.add_subparsers(dest="center_action", metavar="ACTION")
    r = ma.add_parser("list", help="list the merchants")
    _db_options(r)
    r = ma.add_parser("add", help="add or change a merchant")
    _db_options(r)
    r.add_argument("mid", metavar="MID")
    r.add_argument("name", metavar="NAME")
    r.add_argument("--region", default=None, help="area code or name (default: from the MID)")
    r.add_argument("--inactive-days", dest="inactive_days", type=int, default=None,
                   help="inactive after this many days without sign-in or transaction")

    q = sub("settings", "show the thresholds, or set one: settings KEY VALUE")
    _db_options(q)
    q.add_argument("key", nargs="?", default=None)
    q.add_argument("value", nargs="?", default=None)

    q = sub("generate", "write a scripted month of traffic into the database (demo, tests)")
    _db_options(q)
    q.add_argument("--terminals", type=int, default=300)
    q.add_argument("--month", default=None, metavar="YYYY-MM", help="default: last month")
    q.add_argument("--seed", type=int, default=16)


def db_path(args):
    if getattr(args, "db", None):
        return args.db
    data = getattr(args, "data", None)
    if not data:
        from posterm import paths

        data = paths.default_data_dir()
    return os.path.join(data, "host.db")


def _today(args):
    text = getattr(args, "date", None)
    if not text:
        return date.today()
    d = rules.parse_day(text)
    if d is None:
        raise ValidationError("--date", f"expected YYYY-MM-DD, got {text!r}")
    return d


def _scope(center, args):
    """(terminals, mids) visible to --as USER (all without it)."""
    user = getattr(args, "user", None)
    mids = center.user_mids(user) if user else None
    return center.terminals(mids), mids


def _yuan(fen):
    return f"{fen // 100}.{fen % 100:02d}"


def _emit(out, args, rows, columns, headers=None):
    print(export.render(rows, columns, args.format, headers), file=out)


# -- views ------------------------------------------------------------------------------------
def _terminals(c, args, out):
    terms, _ = _scope(c, args)
    rows = rules.usage(c, terms, _today(args))
    for r in rows:
        for k in ("today", "week", "month"):
            r[k + "_yuan"] = _yuan(r.pop(k + "_fen"))
    cols = ["tid", "mid", "state", "today_count", "today_yuan", "week_count", "week_yuan",
            "month_count", "month_yuan"]
    _emit(out, args, rows, cols)
    return 0


def _terminal(c, args, out):
    t = c.terminal(args.tid)
    today = _today(args)
    use = rules.usage(c, [t], today)[0]
    info = {
        "tid": t["tid"], "mid": t["mid"], "state": c.state_of(t),
        "answers": t["freeze_code"] if t["status"] == "frozen" else "",
        "reason": t["reason"] or "", "comment": t["comment"] or "", "by": t["by_user"] or "",
        "last_seen": t["last_seen"] or "", "last_signin": t["signed_in"] or "",
        "last_tx": t["last_tx"] or "", "location": t["location"] or "",
        "reported": t["last_report"] or "",
        "today": f"{use['today_count']} / {_yuan(use['today_fen'])}",
        "week": f"{use['week_count']} / {_yuan(use['week_fen'])}",
        "month": f"{use['month_count']} / {_yuan(use['month_fen'])}",
        "daily": [n for _, n in rules.daily_counts(c, t["tid"], today)],
        "audit": [dict(r) for r in c.audit(t["tid"])],
    }
    if args.format == "json":
        print(export.to_json(info), file=out)
        return 0
    if args.format == "csv":
        keys = [k for k in info if k != "audit"]
        print(export.to_csv([info], keys).rstrip("\n"), file=out)
        return 0
    for k, v in info.items():
        if k == "audit":
            continue
        print(f"{k:12} {export._text(v)}", file=out)
    print("audit:", file=out)
    print(export.render(info["audit"], ["at", "user", "action", "reason", "comment", "detail"],
                        "table"), file=out)
    return 0


def _inactive(c, args, out):
    terms, _ = _scope(c, args)
    rows = rules.inactive(c, terms, _today(args))
    _emit(out, args, rows, ["tid", "mid", "state", "last_signin", "days_signin", "last_tx",
                            "days_tx", "why"])
    return 0


def _abnormal(c, args, out):
    terms, _ = _scope(c, args)
    if args.days is not None and args.days < 1:
        raise ValidationError("--days", "must be at least 1")
    rows = rules.abnormal(c, terms, _today(args), args.days)
    _emit(out, args, rows, ["day", "tid", "mid", "pattern", "count", "day_count", "what"])
    return 0


def _risk(c, args, out):
    if args.days is not None and args.days < 1:
        raise ValidationError("--days", "must be at least 1")
    mids = c.user_mids(args.user) if args.user else None
    hits = rules.risk(c, _today(args), args.days, mids)
    if args.format == "json":
        print(export.to_json(hits), file=out)
        return 0
    rows = []
    for h in hits:
        for t in h["txs"]:
            rows.append({"hit": h["id"], "kind": h["kind"], "tx": t["id"], "at": t["at"],
                         "tid": t["tid"], "mid": t["mid"], "bound_mid": t["bound_mid"],
                         "region": cdb.region_name(t["region"]), "pan": rules.mask(t["pan"]),
                         "yuan": _yuan(t["amount_fen"])})
    _emit(out, args, rows, ["hit", "kind", "tx", "at", "tid", "mid", "bound_mid", "region",
                            "pan", "yuan"])
    return 0


SHEET_COLUMNS = ["week", "tid", "mid", "merchant", "week_count", "found", "problem", "action",
                 "follow_up", "by"]
SHEET_HEADERS = ["周次", "终端号", "商户号", "商户名称", "本周开单笔数", "检查发现", "存在问题",
                 "处理措施", "回访日期", "填写人"]


def _week(args):
    week = getattr(args, "week", None) or rules.week_of(_today(args))
    if rules.week_days(week) is None:
        raise ValidationError("--week", f"expected YYYY-Www such as 2026-W48, got {week!r}")
    return week


def _sheet(c, args, out):
    terms, _ = _scope(c, args)
    week = _week(args)
    rows = rules.sheet(c, terms, week, _today(args))
    if args.xlsx:
        export.write_xlsx(args.xlsx, "终端POS机使用问题跟踪表 " + week, rows, SHEET_COLUMNS,
                          SHEET_HEADERS)
    if args.html:
        from posterm.center import htmlsheet

        end = min(rules.week_days(week)[1], _today(args))
        with open(args.html, "w", encoding="utf-8") as f:
            f.write(htmlsheet.render(c, rows, week, end, SHEET_COLUMNS, SHEET_HEADERS))
    _emit(out, args, rows, SHEET_COLUMNS, SHEET_HEADERS)
    return 0


def _note(c, args, out):
    week = _week(args)
    if args.problem is None and args.action is None and args.follow_up is None:
        raise ValidationError("note", "give --problem, --action or --follow-up")
    v = c.edit_sheet(week, args.tid, args.user, args.problem, args.action, args.follow_up)
    print(f"{week} {args.tid}: problem={v['problem']!r} action={v['action']!r} "
          f"follow-up={v['follow_up'] or '-'}", file=out)
    return 0


def _audit(c, args, out):
    if args.verify:
        bad = c.verify_audit()
        if bad is not None:
            print(f"audit log broken at entry {bad}", file=out)
            return 1
        print(f"audit log intact ({len(c.audit())} entries)", file=out)
        return 0
    mids = c.user_mids(args.user) if args.user else None
    if args.tid:
        c.terminal(args.tid)
    rows = [dict(r) for r in c.audit(args.tid, mids)]
    _emit(out, args, rows, ["id", "at", "user", "role", "action", "tid", "mid", "reason",
                            "comment", "detail"])
    return 0


def _action(c, args, out):
    new = c.change_state(args.tid, args.center_cmd, args.reason.upper(), args.comment, args.user)
    t = c.terminal(args.tid)
    tail = f", its requests are answered {t['freeze_code']}" if new != "active" else ""
    print(f"terminal {t['tid']} is {new}{tail}", file=out)
    return 0


def _bind(c, args, out):
    tmk, kcv = c.bind(args.tid, args.mid, args.user, args.comment)
    print(f"terminal {args.tid} bound to merchant {args.mid}", file=out)
    print(f"TMK {tmk}  KCV {kcv}", file=out)
    print("(the TMK is shown this once: load it into the terminal now)", file=out)
    return 0


def _reasons(c, args, out):
    rows = [{"code": k, "actions": v["actions"], "zh": v["zh"], "en": v["en"]}
            for k, v in cdb.REASONS.items()]
    _emit(out, args, rows, ["code", "actions", "zh", "en"])
    return 0


def _read_password(prompt_twice=True):
    if sys.stdin.isatty():
        pw = getpass.getpass("password: ")
        if prompt_twice and getpass.getpass("again: ") != pw:
            raise ValidationError("password", "the two entries differ")
        return pw
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _users(c, args, out):
    action = args.center_action or "list"
    if action == "list":
        rows = []
        for u in c.list_users():
            mids = c.user_mids(u["name"])
            rows.append({"name": u["name"], "role": u["role"], "display": u["display"],
                         "phone": u["phone"], "merchants": "all" if mids is None else mids})
        print(export.render(rows, ["name", "role", "display", "phone", "merchants"], "table"),
              file=out)
        return 0
    if action == "add":
        text = args.merchants.strip()
        mids = "all" if text == "all" else [m for m in text.replace(" ", ",").split(",") if m]
        c.add_user(args.name, args.role, _read_password(), mids, args.display, args.phone)
        print(f"user {args.name} ({args.role}) added", file=out)
    elif action == "passwd":
        c.set_password(args.name, _read_password())
        print(f"password of {args.name} changed", file=out)
    elif action == "assign":
        c.assign(args.name, args.mids)
        print(f"{args.name} looks after " + ", ".join(c.user_mids(args.name) or ["all"]),
              file=out)
    return 0


def _merchants(c, args, out):
    if (args.center_action or "list") == "list":
        rows = [dict(m) | {"region_name": cdb.region_name(c.merchant_region(m["mid"]))}
                for m in c.merchants().values()]
        print(export.render(rows, ["mid", "name", "region_name", "inactive_signin_days",
                                   "inactive_tx_days"], "table"), file=out)
        return 0
    n = args.inactive_days
    c.add_merchant(args.mid, args.name, args.region, n, n)
    print(f"merchant {args.mid} {args.name}", file=out)
    return 0


def _settings(c, args, out):
    if args.key is None:
        for k, v in sorted(c.settings().items()):
            print(f"{k:22} {v}", file=out)
        return 0
    if args.value is None:
        s = c.settings()
        if args.key not in s:
            raise ValidationError("setting", f"unknown {args.key!r}")
        print(s[args.key], file=out)
        return 0
    print(f"{args.key} = {c.set_setting(args.key, args.value)}", file=out)
    return 0


def _generate(c, args, out):
    from posterm.center import traffic

    month = args.month
    plan = traffic.generate(c, args.terminals, month, args.seed)
    print(f"{plan.terminals} terminals, {plan.transactions} transactions, month {plan.month};"
          f" users: manager1 agent1 risk1 (password {traffic.PASSWORD})", file=out)
    return 0


def _console_day(args):
    text = getattr(args, "today", None)
    if text and rules.parse_day(text) is None:
        raise ValidationError("--today", f"expected YYYY-MM-DD, got {text!r}")
    return text


def _console(args, out):
    from posterm.center import app

    path = db_path(args)
    day = _console_day(args)
    cdb.open_center(path).close()
    app.CenterApp(path, today=rules.parse_day(day) if day else None,
                  lang=getattr(args, "lang", "zh")).run()
    return 0


def _serve(args, out):
    import shlex

    from textual_serve.server import Server

    path = db_path(args)
    day = _console_day(args)
    cdb.open_center(path).close()
    cmd = [sys.executable, "-m", "posterm.center.app", "--db", os.path.abspath(path),
           "--lang", getattr(args, "lang", "zh")]
    if day:
        cmd += ["--date", day]
    print(f"posterm center: console on http://{args.host}:{args.port}", file=out, flush=True)
    Server(shlex.join(cmd), host=args.host, port=args.port, title="posterm center").serve()
    return 0


_COMMANDS = {
    "terminals": _terminals, "terminal": _terminal, "inactive": _inactive,
    "abnormal": _abnormal, "risk": _risk, "sheet": _sheet, "note": _note, "audit": _audit,
    "suspend": _action, "resume": _action, "freeze": _action, "bind": _bind,
    "reasons": _reasons, "users": _users, "merchants": _merchants, "settings": _settings,
    "generate": _generate,
}


def run(args, out=None, err=None):
    out = out or sys.stdout
    err = err or sys.stderr
    cmd = getattr(args, "center_cmd", None)
    try:
        if cmd is None:
            return _console(args, out)
        if cmd == "serve":
            return _serve(args, out)
        c = cdb.open_center(db_path(args))
        try:
            return _COMMANDS[cmd](c, args, out)
        finally:
            c.close()
    except HostError as e:
        print(f"posterm center: error: {e}", file=err)
        return 2
    except sqlite3.Error as e:
        print(f"posterm center: error: database {db_path(args)}: {e}", file=err)
        return 2
    except OSError as e:
        print(f"posterm center: error: {e}", file=err)
        return 2


def main(argv=None):
    parser = argparse.ArgumentParser(prog="posterm center")
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
