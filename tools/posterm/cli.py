"""posterm: the command line. See `posterm --help` and README.md.

posterm                      the emulator, with an embedded host on loopback
posterm emulator [...]       the same, with options
posterm host [...]           run the host (center) on its own, or manage it
posterm center [...]         the back office: console and reports (account managers, agents)
posterm keys [...] KEY...    headless: feed keys, print every frame
posterm iso decode HEX       pretty-print an ISO 8583 frame
posterm menu tree|map|validate
"""

import importlib
import os
import sqlite3
import sys

from posterm import paths

# Sub-commands that live in their own modules: name -> module with register(subparsers).
# A module that is not there (yet) is simply not offered.
_EXTRA = (
    "posterm.emulator.cli",
    "posterm.lessons.cli",
    "posterm.classroom.cli",
    "posterm.flash.cli",
    "posterm.bench.cli",
    "posterm.font.cli",
    "posterm.bridge.cli",
    "posterm.center.cli",
    "posterm.boardsim.cli",
    "posterm.replay.cli",
)


from posterm.errors import CliError  # noqa: E402  (re-exported for sub-command modules)


def common_options(p, date=True, host=True):
    p.add_argument(
        "--data",
        metavar="DIR",
        default=None,
        help="terminal state and the embedded host's database (default: %s)"
        % paths.default_data_dir(),
    )
    if host:
        p.add_argument(
            "--host",
            metavar="HOST:PORT",
            default=None,
            help="use a running host (posterm host) instead of the embedded one",
        )
    p.add_argument("--lang", choices=("zh", "en"), default=None, help="screen language (zh)")
    if date:
        p.add_argument(
            "--date",
            metavar="YYYY-MM-DD[THH:MM]",
            default=None,
            help="the terminal clock (fixed), for scripts and lessons",
        )
    p.add_argument(
        "--profile",
        default="lcd128x64",
        help="display profile: lcd128x64 (4x16, default) or lcd320x240 (15x40)",
    )


def build_parser():
    from posterm.cliparse import Parser

    parser = Parser(
        prog="posterm",
        description="A text-mode clone of a bank card POS terminal (CUP-style ISO 8583).",
    )
    parser.add_argument("--version", action="version", version="posterm " + version())
    subs = parser.add_subparsers(dest="cmd", metavar="COMMAND")

    from posterm import keyscmd

    keyscmd.register(subs, common_options)

    iso = subs.add_parser("iso", help="ISO 8583 tools", description="ISO 8583 tools")
    iso_subs = iso.add_subparsers(dest="iso_cmd", metavar="COMMAND", required=True)
    dec = iso_subs.add_parser(
        "decode",
        help="pretty-print a frame (TPDU, header, MTI, fields); verify the MAC with --mak",
        description="Pretty-print a frame (TPDU, header, MTI, fields, PANs masked); with --mak "
        "the MAC is verified; with --tmk the working keys of a sign-in reply's field 62 are "
        "decrypted and their check values verified, as the terminal reads them. Exit status: "
        "0 decoded (and the MAC matches, the keys verify), 1 the MAC does not match or is "
        "absent, or the keys are refused, 2 the input is not a frame.",
    )
    dec.add_argument(
        "hex", metavar="HEX", help="the frame in hex (spaces allowed), or - for stdin"
    )
    dec.add_argument(
        "--mak", metavar="KEY", default=None, help="MAC key in hex (16, 32 or 48 digits)"
    )
    dec.add_argument(
        "--tmk",
        metavar="KEY",
        default=None,
        help="the terminal master key in hex (16, 32 or 48 digits): show the working keys of "
        "field 62 (24, 40, 44, 56, 60 or 84 bytes; SM keys after 60.3 = 005 / 006)",
    )
    dec.add_argument(
        "--algo",
        choices=("ecb", "x9.9", "x9.19", "sm4"),
        default="ecb",
        help="MAC algorithm: CUP ECB (default), X9.9, X9.19, or sm4 (the CUP SM MAC of a "
        "terminal signed in with SM keys: --mak of 32 hex digits)",
    )
    dec.set_defaults(func=run_iso_decode)

    from posterm import menucmd

    menucmd.register(subs)

    from posterm.host import cli as host_cli

    host_cli.register(subs)

    for modname in _EXTRA:
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as e:
            if e.name and modname.startswith(e.name):
                continue
            raise
        mod.register(subs, common_options)
    return parser


def run_iso_decode(args):
    from pos import iso8583
    from posterm import isotool

    text = sys.stdin.read() if args.hex == "-" else args.hex
    text = "".join(text.split())
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise CliError("HEX must be hexadecimal digits (spaces allowed)") from None
    keys = {}
    for name in ("mak", "tmk"):
        value = getattr(args, name)
        if not value:
            continue
        try:
            keys[name] = bytes.fromhex(value)
        except ValueError:
            raise CliError(f"--{name} must be hex") from None
        if len(keys[name]) not in (8, 16, 24):
            raise CliError(f"--{name} must be 16, 32 or 48 hex digits")
    mak = keys.get("mak")
    try:
        text = isotool.describe(data, mak=mak, algo=args.algo, tmk=keys.get("tmk"))
    except iso8583.Iso8583Error as e:
        raise CliError(f"cannot decode: {e}") from None
    except ValueError as e:  # a key the algorithm cannot take (pos.des.CryptoError)
        raise CliError(str(e)) from None
    print(text)
    lines = text.splitlines()
    if mak is not None and lines[-1] != "MAC: OK":
        return 1  # a MAC mismatch (or none at all) is what a script checking frames must see
    if "tmk" in keys and not any(line.startswith("KEYS: OK") for line in lines):
        return 1  # keys refused
    return 0


def version():
    from importlib import metadata

    try:
        return metadata.version("posterm")
    except metadata.PackageNotFoundError:
        return "unknown"


def main(argv=None):
    # Every way a command can fail reaches the user as one line, never a traceback: a
    # CliError (exit 2), a file or directory it cannot use (an unwritable or odd --data,
    # exit 2), a database it cannot open (exit 2), its output closed early (`| head -1`:
    # the rest is dropped quietly, exit 1), Ctrl-C (130). Started with a standard stream
    # closed (`posterm host >&- &`: Python then has None for it), what goes there is dropped.
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    try:
        rc = _main(argv)
        sys.stdout.flush()
        return rc
    except BrokenPipeError:
        _drop_stdout()
        return 1
    except CliError as e:
        return _fail(str(e))
    except OSError as e:
        return _fail(describe_os_error(e))
    except sqlite3.Error as e:
        return _fail(f"database: {e}")
    except KeyboardInterrupt:
        return 130


def describe_os_error(e):
    # "[Errno 20] Not a directory: '/dev/null/x'" -> "Not a directory: /dev/null/x"
    text = e.strerror or str(e)
    if e.filename:
        text += f": {e.filename}"
    return text


def _fail(text):
    try:
        print(f"posterm: error: {text}", file=sys.stderr)
    except OSError:
        pass
    return 2


def _drop_stdout():
    # stdout's reader is gone: point the descriptor at /dev/null so that the interpreter's
    # final flush does not complain either
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _main(argv):
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        # `posterm` and `posterm --data DIR ...` are the emulator
        argv = (["emulator"] + list(argv)) if _has_emulator() else ["--help"]
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 0
    return func(args) or 0


def _has_emulator():
    try:
        importlib.import_module("posterm.emulator.cli")
        return True
    except ModuleNotFoundError:
        return False


if __name__ == "__main__":
    sys.exit(main())
