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
    p.add_argument(
        "--board",
        choices=BOARDS,
        default=None,
        help="board profile (default: what the board says it is: rp2 -> pico/pico_w, esp32)",
    )
    p.add_argument(
        "--full", action="store_true", help="send every file, whatever the manifest says"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="show what would be sent; change nothing"
    )
    p.add_argument(
        "--no-reset", action="store_true", help="leave the board in the REPL afterwards"
    )
    p.add_argument(
        "--romfs",
        action="store_true",
        help="bytecode in flash: the firmware, font, menus and strings as a ROMFS image "
        "(mpremote romfs deploy; MicroPython 1.25+ with a ROM partition), main.py and "
        "board.json on the filesystem",
    )
    p.add_argument(
        "--wifi",
        metavar="SSID[:PASSWORD]",
        default=None,
        help="Pico W / ESP32: join this Wi-Fi and talk TCP to --center instead of the UART link",
    )
    p.add_argument(
        "--center",
        metavar="HOST:PORT",
        default=None,
        help="the host the board reaches over Wi-Fi (with --wifi)",
    )
    p.add_argument(
        "--names-map",
        metavar="FILE",
        default=None,
        help="write the map of the firmware's renamed names (the build shortens them: "
        "posterm.flash.minify) to FILE; `python -m posterm.flash.minify --map FILE` turns "
        "a board's traceback on stdin back into the sources' names",
    )
    p.add_argument(
        "--no-rename",
        action="store_true",
        help="deploy the firmware with its sources' names (more heap: names are interned)",
    )
    p.add_argument(
        "--lines",
        action="store_true",
        help="keep the line numbers in the bytecode of a files deploy (tracebacks with "
        "lines; ~3 KB more heap: a ROMFS deploy always keeps them, in flash)",
    )
    p.set_defaults(func=run)


def wifi_config(wifi, center):
    """--wifi/--center -> the board.json fragment, or None; ValueError on bad input."""
    if wifi is None and center is None:
        return None
    if wifi is None or center is None:
        raise ValueError("--wifi and --center go together")
    ssid, _, password = wifi.partition(":")
    if not ssid:
        raise ValueError("--wifi needs an SSID")
    from posterm.link import parse_address

    parse_address(center)  # HostAddressError is a ValueError
    return {"wifi": {"ssid": ssid, "password": password, "host": center}}


def run(args):
    from posterm.cli import CliError
    from posterm.flash.device import FlashError
    from posterm.flash.flasher import flash

    try:
        config = wifi_config(args.wifi, args.center)
    except ValueError as e:
        raise CliError(str(e)) from None
    if config and args.board == "pico":
        raise CliError("the Pico has no Wi-Fi: use --board pico_w or esp32")
    try:
        res = flash(
            args.port,
            args.board,
            args.full,
            args.dry_run,
            reset=not args.no_reset,
            config=config,
            romfs=args.romfs,
            rename=not args.no_rename,
            names_map=args.names_map,
            lines=args.lines,
        )
    except FlashError as e:
        raise CliError(str(e)) from None
    print(res.summary())
    return 0
