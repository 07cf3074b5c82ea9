"""posterm flash --port PORT [--board pico|pico_w|esp32] [--full] [--dry-run]"""

from posterm.flash.flasher import BOARDS


def register(subparsers, common_options):
    p = subparsers.add_parser(
        "flash",
        help="deploy the firmware, menus and font to a MicroPython board",
        description=(
            "Deploy posterm to a board over its USB serial REPL: compiles the firmware to .mpy "
            "for the board's MicroPython, sends only the files that changed (by sha256 against "
            "the board's manifest), and switches to the new files in one step, so an "
            "interrupted flash leaves the old firmware working. Then resets the board."
        ),
    )
    p.add_argument(
        "--port",
        required=True,
        metavar="PORT",
        help="serial port (/dev/ttyACM0, COM3) or a pyserial URL (socket://HOST:PORT)",
    )
    p.add_argument("--board", choices=BOARDS, default="pico", help="board profile (pico)")
    p.add_argument(
        "--full", action="store_true", help="send every file, whatever the manifest says"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="show what would be sent; change nothing"
    )
    p.add_argument(
        "--no-reset", action="store_true", help="leave the board in the REPL afterwards"
    )
    p.set_defaults(func=run)


def run(args):
    from posterm.cli import CliError
    from posterm.flash.device import FlashError
    from posterm.flash.flasher import flash

    try:
        res = flash(args.port, args.board, args.full, args.dry_run, reset=not args.no_reset)
    except FlashError as e:
        raise CliError(str(e)) from None
    print(res.summary())
    return 0
