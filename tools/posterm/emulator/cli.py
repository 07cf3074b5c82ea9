"""`posterm emulator` (and `posterm` with no arguments): the terminal in a Textual app."""




def register(subs, common_options):
    p = subs.add_parser(
        "emulator",
        help="the terminal in a Textual app (the default command)",
        description="The terminal on the desktop: screen, keypad, printer, card reader and a "
        "host log, with an embedded host on loopback unless --host is given. Keys: digits, "
        "'.', Enter=确认, Esc=取消, Backspace=退格, Up/Down, F1-F4, m=菜单; c the card reader "
        "and scanner (swipe, insert, tap, key in a deck card; scan a payment code), e eject the "
        "inserted card, p paper out, t tear off, l host log, q quit. Remap them in the keymap "
        "file (--keymap).",
    )
    common_options(p)
    for action in p._actions:
        if action.dest == "date":
            action.help = "where the terminal clock starts (it then runs); default: now"
    p.add_argument("--paper", choices=("58mm", "80mm"), default="58mm", help="receipt width")
    p.add_argument(
        "--keymap",
        metavar="FILE",
        default=None,
        help='key remapping file (TOML, [keymap] id = "keys"); default: %s if it exists'
        % _default_keymap_text(),
    )
    p.add_argument(
        "--record",
        metavar="FILE",
        default=None,
        help="record the session (keys, cards, the center's answers, the clock's ticks, "
        "screens, frames, slips) to FILE when the emulator closes, for `posterm replay`",
    )
    p.set_defaults(func=run)


def _default_keymap_text():
    from posterm.emulator.keymap import default_keymap_path

    return default_keymap_path()


def run(args):

    from posterm.cli import CliError
    from posterm.driver import open_from_args
    from posterm.emulator.frontdriver import EmulatorDriver
    from posterm.emulator.keymap import KeymapError, default_keymap_path, load_keymap

    try:
        if args.keymap:
            keymap = load_keymap(args.keymap, required=True)
        else:
            keymap = load_keymap(default_keymap_path())
    except KeymapError as e:
        raise CliError(f"keymap {e}") from None
    import sys

    if getattr(args, "record", None):
        from posterm.replay.cli import check_recording_path

        check_recording_path(args.record)  # before the session, not when it is over
    driver = open_from_args(
        args, EmulatorDriver, clock_running=True  # --date sets where the clock starts; it runs
    )
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        # a full-screen app on a pipe draws escape codes nobody sees and waits forever (the
        # data dir's problems, said by open_from_args, come first)
        driver.close()
        raise CliError(
            "the emulator needs a terminal (its input or output is not one); for a script, "
            "posterm keys [options] KEY... or posterm keys -"
        )
    from posterm.emulator.app import EmulatorApp

    recording = None
    if getattr(args, "record", None):
        from posterm.replay.recorder import record_front

        driver.terminal.implicit_removal = False  # as EmulatorApp: said in the header
        recording = record_front(driver, "emulator")
    try:
        EmulatorApp(driver, keymap=keymap).run()
    finally:
        driver.close()
        if recording is not None:
            recording.write(args.record)
            print(f"posterm: session recorded in {args.record}")
    from posterm.driver import failure_note

    note = failure_note(driver)
    if note:
        print(note)
        return 1
    return 0
