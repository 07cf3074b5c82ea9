"""`posterm host ...`: run the host (center) or manage its database.

The core CLI calls register(subparsers) and then run(args).  Every user error is one line on
stderr and exit status 2; arguments are checked before the database is touched.
"""

import argparse
import asyncio
import logging
import os
import sqlite3
import sys
import unicodedata

from posterm.host import validate
from posterm.host.catalog import CARD_STATUSES, FAULT_KINDS, TX_TYPES
from posterm.host.errors import HostError, NotFoundError, ValidationError
from posterm.host.store import Store

DEFAULT_LISTEN = "127.0.0.1:5800"
DESCRIPTION = """Without a command: serve ISO 8583 on --listen until Ctrl-C.

Limits while serving: at most --max-connections open connections in all (more wait
in the listen backlog until one closes; lowered to what the file-descriptor limit
allows) and --max-per-peer from one IP address (one over it is closed at once); the log
says so once when a cap is hit and once when it clears; a connection idle for
--idle-timeout seconds is closed; a request that cannot reach the database within
--db-wait seconds (another process holds a lock, the disk is full) is answered 96 and
changes nothing."""


def default_data_dir():
    from posterm import paths  # the same default as the emulator's embedded host

    return paths.default_data_dir()


def _db_options(parser, suppress):
    default = argparse.SUPPRESS if suppress else None
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--db", metavar="PATH", default=default,
        help="host database file, or a postgresql:// URL (several centers may share one)")
    group.add_argument(
        "--data",
        metavar="DIR",
        default=default,
        help="data directory; the database is DIR/host.db "
        "(default: the per-user posterm data dir)",
    )


def register(subparsers):
    """Add the `host` sub-command to the posterm parser; returns its parser."""
    p = subparsers.add_parser(
        "host",
        help="run the host (center) or manage its terminals, cards, menus, faults",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    configure(p)
    return p


def configure(p):
    p.set_defaults(func=run)
    p.add_argument(
        "--listen",
        metavar="HOST:PORT",
        default=DEFAULT_LISTEN,
        help=f"address to serve on (default {DEFAULT_LISTEN})",
    )
    p.add_argument(
        "--menu",
        metavar="FILE",
        default=None,
        help="menu JSON seeded as version 1 into a new database "
        "(default: the repository's menus/menu.json)",
    )
    from posterm.host import server

    def limit(name, default, kind, text):
        p.add_argument(name, type=kind, default=default, metavar="N", help=text)

    limit(
        "--max-connections",
        server.MAX_CONNECTIONS,
        int,
        f"open connections in all (default {server.MAX_CONNECTIONS})",
    )
    limit(
        "--max-per-peer",
        server.MAX_PER_PEER,
        int,
        f"open connections from one IP address (default {server.MAX_PER_PEER})",
    )
    limit(
        "--idle-timeout",
        server.READ_TIMEOUT,
        float,
        f"seconds a connection may stay silent (default {server.READ_TIMEOUT:g})",
    )
    limit(
        "--db-wait",
        server.DB_WAIT,
        float,
        f"seconds a request may wait for the database before 96 (default {server.DB_WAIT:g})",
    )
    limit("--backlog", server.BACKLOG, int, f"listen backlog (default {server.BACKLOG})")
    limit(
        "--max-group",
        server.MAX_GROUP,
        int,
        f"requests served under one database commit at most (group commit; default "
        f"{server.MAX_GROUP}; 1: a commit per request)",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="log only warnings and errors (no line per message)",
    )
    p.add_argument(
        "--reuse-port",
        action="store_true",
        help="listen with SO_REUSEPORT: several `posterm host` processes on the same address "
        "share the connections (a fleet of centers on one PostgreSQL database, or on one "
        "SQLite file: they take turns at its write lock)",
    )
    _db_options(p, suppress=False)
    cmds = p.add_subparsers(dest="host_cmd", metavar="COMMAND")

    def sub(parent, name, help_text):
        q = parent.add_parser(name, help=help_text, description=help_text)
        _db_options(q, suppress=True)
        return q

    terms = sub(cmds, "terminals", "list, add, set, freeze, unfreeze, remove terminals")
    ta = terms.add_subparsers(dest="host_action", metavar="ACTION")
    sub(ta, "list", "list the registered terminals with their (test) TMKs and MAC algorithm")
    q = sub(ta, "add", "register a terminal")
    q.add_argument("tid", metavar="TID", help="terminal id, 8 characters")
    q.add_argument("mid", metavar="MID", help="merchant id, 15 characters")
    q.add_argument(
        "tmk",
        metavar="TMK",
        nargs="?",
        default=None,
        help="terminal master key, 32 hex digits (default: a random one, shown by list)",
    )
    q.add_argument(
        "--allow", metavar="TYPES", default="all", help="allowed transaction types (default all)"
    )
    q.add_argument("--mac", default="ecb", help="MAC algorithm: ecb (CUP, default), x9.9, x9.19")
    q = sub(ta, "set", "change how the center is configured for a terminal")
    q.add_argument("tid", metavar="TID")
    q.add_argument(
        "--mac", default=None, help="MAC algorithm the terminal uses: ecb (CUP), x9.9, x9.19"
    )
    q.add_argument("--mid", default=None, help="the terminal's merchant id (15 characters)")
    q.add_argument("--tmk", default=None, help="a new TMK, 32 hex digits")
    q = sub(ta, "freeze", "freeze a terminal: its requests get --code (default 97)")
    q.add_argument("tid", metavar="TID")
    q.add_argument("--code", default="97", help="response code to answer with")
    q = sub(ta, "unfreeze", "serve a frozen terminal again")
    q.add_argument("tid", metavar="TID")
    q = sub(ta, "remove", "delete a terminal")
    q.add_argument("tid", metavar="TID")
    q = sub(ta, "allow", "set the transaction types a terminal may make (others get 58)")
    q.add_argument("tid", metavar="TID")
    q.add_argument(
        "types", metavar="TYPES", help="'all' or a comma list of: " + ", ".join(TX_TYPES)
    )

    cards = sub(cmds, "cards", "list, show or add test cards (no action: list)")
    ca = cards.add_subparsers(dest="host_action", metavar="ACTION")
    sub(ca, "list", "list the card deck (how each card reads: stripe, chip, tap) and the "
        "customers' payment codes")
    q = sub(ca, "show", "print a test card's data and test keys, or a payment code's")
    q.add_argument("pan", metavar="PAN", help="a card's PAN or a payment code")
    q = sub(ca, "add", "add a card, or replace one with the same PAN")
    q.add_argument("pan", metavar="PAN")
    q.add_argument("pin", metavar="PIN")
    q.add_argument("balance", metavar="BALANCE", help="balance in yuan, e.g. 10000.00")
    q.add_argument("--expiry", default="3012", help="YYMM (default 3012)")
    q.add_argument("--status", default="ok", help="|".join(CARD_STATUSES))
    q.add_argument("--holder", default="", help="cardholder name")
    q.add_argument(
        "--limit", default="50000.00", help="per-transaction limit in yuan (default 50000.00)"
    )

    menus = sub(cmds, "menus", "list or publish terminal menu versions")
    ma = menus.add_subparsers(dest="host_action", metavar="ACTION")
    sub(ma, "list", "list the stored menu versions")
    q = sub(ma, "publish", "store FILE as the next menu version")
    q.add_argument("file", metavar="FILE")

    faults = sub(cmds, "faults", "inject faults for a terminal (lessons, tests)")
    fa = faults.add_subparsers(dest="host_action", metavar="ACTION")
    sub(fa, "list", "list the armed faults")
    q = sub(fa, "set", "arm a fault: " + ", ".join(FAULT_KINDS) + " (respond CODE, delay "
            "SECONDS, need N: the answer's header asks for processing N, e.g. 4 the IC keys)")
    q.add_argument("tid", metavar="TID")
    q.add_argument("kind", metavar="KIND", help=" | ".join(FAULT_KINDS))
    q.add_argument("arg", metavar="ARG", nargs="?", default=None)
    g = q.add_mutually_exclusive_group()
    g.add_argument("--once", action="store_true", help="only the next request")
    g.add_argument("--count", type=int, default=None, help="only the next N requests")
    q = sub(fa, "clear", "disarm the fault of TID")
    q.add_argument("tid", metavar="TID")

    q = sub(cmds, "transactions", "list the transactions the host has seen")
    q.add_argument("--tid", default=None)

    q = sub(
        cmds,
        "forget",
        "drop one transaction from the host's books, so that the terminal's next "
        "settlement does not balance and goes through the batch upload (tests, lessons)",
    )
    q.add_argument("tid", metavar="TID")
    q.add_argument("trace", metavar="TRACE", help="the terminal's trace number (凭证号)")
    q.add_argument("--batch", default=None, help="batch number (default: the newest)")

    from posterm.center import storm

    storm.configure(
        sub(
            cmds,
            "storm",
            "N simulated terminals sign in at once, report in and "
            "buy against a center over loopback; latencies and rates (load test)",
        )
    )


def db_path(args):
    db = getattr(args, "db", None)
    if db:
        return db
    data = getattr(args, "data", None) or default_data_dir()
    return os.path.join(data, "host.db")


def _open(args):
    store = Store(db_path(args))
    if store.fresh:
        from posterm import paths

        store.provision_defaults(getattr(args, "menu", None) or paths.menu_file())
    return store


def _yuan(fen):
    return "-" if fen is None else f"{fen // 100}.{fen % 100:02d}"


def _width(text):
    """Columns `text` takes on a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text, width):
    return text + " " * (width - _width(text))


def _table(rows, headers):
    rows = [[str(c) for c in r] for r in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(_pad(h, w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for r in rows:
        lines.append("  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip())
    return "\n".join(lines)


def _parse_listen(text):
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValidationError("--listen", f"expected HOST:PORT, got {text!r}")
    return host, int(port)


# -- commands ---------------------------------------------------------------------------------
SWITCH_INTERVAL = 0.0005  # seconds (sys.setswitchinterval) in a `posterm host` process


def _serve(args, out):
    from posterm.host import server
    from posterm.host.server import Host

    bind, port = _parse_listen(args.listen)
    _open(args).close()
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(message)s", stream=sys.stderr)

    for name in ("max_connections", "max_per_peer", "backlog", "max_group"):
        if getattr(args, name) < 1:
            raise ValidationError("--" + name.replace("_", "-"), "must be at least 1")
    for name in ("idle_timeout", "db_wait"):
        if not getattr(args, name) > 0:
            raise ValidationError("--" + name.replace("_", "-"), "must be more than 0 seconds")

    # The event loop and the database thread share the GIL: hand it over often, so that a
    # busy loop never holds the database thread up for the default 5 ms at each statement.
    sys.setswitchinterval(SWITCH_INTERVAL)

    async def main():
        host = Host(
            db_path(args),
            read_timeout=args.idle_timeout,
            db_wait=args.db_wait,
            max_connections=args.max_connections,
            max_per_peer=args.max_per_peer,
            backlog=args.backlog,
            max_group=args.max_group,
            reuse_port=args.reuse_port,
        )
        addr = await host.start(bind, port)
        server.tune_gc()  # started: what it made stays out of the collections
        print(
            f"posterm host listening on {addr[0]}:{addr[1]}, db {db_path(args)}",
            file=out,
            flush=True,
        )
        try:
            await asyncio.Event().wait()
        finally:
            await host.stop()

    try:
        with asyncio.Runner(loop_factory=server.loop_factory()) as runner:
            runner.run(main())
    except KeyboardInterrupt:
        pass
    except OSError as e:
        raise HostError(f"cannot listen on {args.listen}: {e.strerror or e}") from None
    return 0


def _terminals(args, out):
    action = args.host_action or "list"
    if action != "list":
        validate.tid(args.tid)
    if action == "add":
        validate.mid(args.mid)
        if args.tmk is not None:
            validate.tmk(args.tmk)
        validate.mac_algo(args.mac)
        allowed = validate.tx_types(args.allow)
    elif action == "set":
        if args.mac is None and args.mid is None and args.tmk is None:
            raise ValidationError("set", "give at least one of --mac, --mid, --tmk")
        if args.mac is not None:
            validate.mac_algo(args.mac)
        if args.mid is not None:
            validate.mid(args.mid)
        if args.tmk is not None:
            validate.tmk(args.tmk)
    elif action == "freeze":
        validate.response_code(args.code, "--code")
    elif action == "allow":
        allowed = validate.tx_types(args.types)
    store = _open(args)
    try:
        if action == "list":
            rows = [
                (
                    t["tid"],
                    t["mid"],
                    t["status"] + (f"({t['freeze_code']})" if t["status"] == "frozen" else ""),
                    t["host_batch"],
                    t["allowed"] or "all",
                    t["mac_algo"],
                    t["tmk"],
                    t["signed_in"] or "-",
                )
                for t in store.list_terminals()
            ]
            headers = ["TID", "MID", "STATUS", "BATCH", "ALLOWED", "MAC", "TMK (test key)"]
            print(_table(rows, headers + ["SIGNED IN"]), file=out)
        elif action == "add":
            tmk = store.add_terminal(args.tid, args.mid, args.tmk, allowed, args.mac)
            given = "" if args.tmk else f", TMK {tmk} (random)"
            print(f"terminal {args.tid} added{given}", file=out)
        elif action == "set":
            store.configure_terminal(args.tid, args.mac, args.mid, args.tmk)
            t = store.get_terminal(args.tid)
            print(f"terminal {args.tid}: MAC {t['mac_algo']}, MID {t['mid']}", file=out)
        elif action == "freeze":
            store.freeze_terminal(args.tid, args.code)
            print(f"terminal {args.tid} frozen (answers {args.code.upper()})", file=out)
        elif action == "unfreeze":
            store.unfreeze_terminal(args.tid)
            print(f"terminal {args.tid} unfrozen", file=out)
        elif action == "remove":
            store.remove_terminal(args.tid)
            print(f"terminal {args.tid} removed", file=out)
        elif action == "allow":
            store.set_allowed(args.tid, allowed)
            print(f"terminal {args.tid} allows {','.join(allowed or ['all'])}", file=out)
    finally:
        store.close()
    return 0


def _cards(args, out):
    from posterm.host import deck

    action = args.host_action or "list"
    if action in ("add", "show"):
        args.pan = deck.card_number(args.pan)  # "6212 1420 ...": as printed on the card
    if action == "add":
        validate.pan(args.pan)
        validate.pin(args.pin)
        balance = validate.amount_fen(args.balance)
        limit = validate.amount_fen(args.limit, "--limit")
        validate.expiry(args.expiry)
        validate.card_status(args.status)
    store = _open(args)
    try:
        if action == "list":
            rows = []
            for c in store.list_cards():
                d = deck.card(c["pan"]) or {}
                stripe = deck.STRIPE in deck.interfaces(d)
                rows.append(
                    (
                        c["pan"],
                        deck.kind(d),
                        c["status"],
                        c["expiry"],
                        _yuan(c["balance_fen"]),
                        _yuan(c["limit_fen"]),
                        c["holder"],
                        _org(c["pan"]),
                        (c["track2"] if stripe else "") or "-",
                    )
                )
            headers = ["PAN", "READS", "STATUS", "EXPIRY", "BALANCE", "LIMIT", "HOLDER", "CARD"]
            print(_table(rows, headers + ["TRACK 2"]), file=out)
            codes = [
                (q["code"], deck.code_kind(q), q.get("holder", ""), deck.confirm_word(q))
                for q in deck.CODES
            ]
            print("", file=out)
            print(_table(codes, ["PAYMENT CODE", "SCHEME", "HOLDER", "CONFIRM ON PHONE"]),
                  file=out)
        elif action == "show":
            lines = deck.describe(args.pan, store.get_card(args.pan))
            if lines is None:
                row = store.get_card(args.pan)
                if row is None:
                    raise NotFoundError("test card or payment code", args.pan)
                # a card added with `cards add`: a stripe card the center knows
                lines = [("PAN", row["pan"]), ("reads", "stripe"), ("holder", row["holder"]),
                         ("expiry", row["expiry"]), ("PIN", row["pin"]),
                         ("status", row["status"]), ("balance", _yuan(row["balance_fen"])),
                         ("track 2", row["track2"] or "-"), ("script", "CARD=" + row["pan"])]
            width = max(_width(k) for k, _v in lines)
            for k, v in lines:
                print(f"{_pad(k, width)}  {v}", file=out)
        else:
            store.add_card(
                args.pan, args.pin, balance, args.expiry, args.status, args.holder, limit
            )
            print(f"card {args.pan} stored, balance {_yuan(balance)}", file=out)
    finally:
        store.close()
    return 0


def _menus(args, out):
    action = args.host_action or "list"
    if action == "publish":
        try:
            with open(args.file, "rb") as f:
                data = f.read()
        except OSError as e:
            raise ValidationError("FILE", f"cannot read {args.file}: {e.strerror}")
        try:
            validate.menu_json(data.decode("utf-8"), args.file)
        except UnicodeDecodeError:
            raise ValidationError(args.file, "not UTF-8 text") from None
    store = _open(args)
    try:
        if action == "list":
            rows = [
                (f"{m['version']:04d}", m["crc"], m["size"], m["created"], m["source"])
                for m in store.list_menus()
            ]
            print(_table(rows, ["VERSION", "CRC32", "BYTES", "CREATED", "SOURCE"]), file=out)
        else:
            version = store.publish_menu(data)
            print(f"menu version {version:04d} published from {args.file}", file=out)
    finally:
        store.close()
    return 0


def _faults(args, out):
    action = args.host_action or "list"
    if action != "list":
        validate.tid(args.tid)
    if action == "set":
        validate.fault(args.kind, args.arg)
        remaining = 1 if args.once else args.count
        if remaining is not None and remaining < 1:
            raise ValidationError("--count", "must be at least 1")
    store = _open(args)
    try:
        if action == "list":
            rows = [
                (
                    f["tid"],
                    f["kind"],
                    f["arg"] or "-",
                    "persistent" if f["remaining"] is None else f["remaining"],
                )
                for f in store.list_faults()
            ]
            print(_table(rows, ["TID", "KIND", "ARG", "REMAINING"]), file=out)
        elif action == "set":
            store.require_terminal(args.tid)
            store.set_fault(args.tid, args.kind, args.arg, remaining)
            print(f"fault {args.kind} armed for {args.tid}", file=out)
        else:
            store.clear_faults(args.tid)
            print(f"faults of {args.tid} cleared", file=out)
    finally:
        store.close()
    return 0


def _transactions(args, out):
    if args.tid is not None:
        validate.tid(args.tid)
    store = _open(args)
    try:
        rows = [
            (
                t["id"],
                t["tid"],
                t["batch"],
                t["trace"],
                t["type"],
                _mask(t["pan"]),
                _yuan(t["amount_fen"]),
                t["rrn"] or "-",
                t["auth"] or "-",
                t["date"] + " " + t["time"],
                t["result"],
                t["status"],
            )
            for t in store.list_transactions(args.tid)
        ]
    finally:
        store.close()
    print(
        _table(
            rows,
            [
                "ID",
                "TID",
                "BATCH",
                "TRACE",
                "TYPE",
                "PAN",
                "AMOUNT",
                "RRN",
                "AUTH",
                "WHEN",
                "39",
                "STATUS",
            ],
        ),
        file=out,
    )
    return 0


def _forget(args, out):
    store = _open(args)
    try:
        row = store.forget_transaction(args.tid, args.trace, args.batch)
    finally:
        store.close()
    print(
        f"forgot {row['type']} trace {row['trace']} of batch {row['batch']} "
        f"({_mask(row['pan'])}, {_yuan(row['amount_fen'])})",
        file=out,
    )
    return 0


def _org(pan):
    """'CUP 中国工商银行', 'VIS VISA 外卡' ... from the BIN table."""
    from posterm.host.store import card_bin

    b = card_bin(pan)
    if b is None:
        return "-"
    return f"{b['org']} {b['issuer']}" + (" 外卡" if b["foreign"] else "")


def _mask(pan):
    if not pan or len(pan) < 13:
        return pan or "-"
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def _storm(args, out):
    from posterm.center import storm

    return storm.run_cli(args, out)


_COMMANDS = {
    None: _serve,
    "terminals": _terminals,
    "cards": _cards,
    "menus": _menus,
    "faults": _faults,
    "transactions": _transactions,
    "forget": _forget,
    "storm": _storm,
}


def run(args, out=None, err=None):
    """Execute parsed `posterm host` arguments; returns the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        return _COMMANDS[getattr(args, "host_cmd", None)](args, out)
    except HostError as e:
        print(f"posterm host: error: {e}", file=err)
        return 2
    except sqlite3.Error as e:
        print(f"posterm host: error: database {db_path(args)}: {e}", file=err)
        return 2
    except BrokenPipeError:  # its output closed early (| head -1): quiet, as every command
        raise
    except OSError as e:
        print(f"posterm host: error: {e}", file=err)
        return 2


def main(argv=None):
    parser = argparse.ArgumentParser(prog="posterm host")
    configure(parser)
    return run(parser.parse_args(argv))
