"""posterm board sim [--board pico|pico_w|esp32] [--heap N] [--romfs] [--host H:P] KEY...|-"""

import datetime
import sys
import threading

from posterm.boardsim import render, sim


def register(subparsers, common_options):
    p = subparsers.add_parser(
        "board",
        help="the board firmware before it is flashed: `posterm board sim`",
        description="Board tools. `posterm board sim` runs the firmware a board gets.",
    )
    subs = p.add_subparsers(dest="board_cmd", metavar="COMMAND")
    s = subs.add_parser(
        "sim",
        help="run the real board firmware on the MicroPython unix port, peripherals simulated",
        description=(
            "Run the board firmware (firmware/main.py and firmware/boards, the files `posterm "
            "flash` sends, compiled by mpy-cross) on the MicroPython unix port with simulated "
            "peripherals: the key matrix fed from the tokens (as `posterm keys`: 0-9 . MENU "
            "ENTER CANCEL CLEAR UP DOWN F1-F3, a run of digits, CARD=PAN[=YYMM], CHIP=PAN, "
            "TAP=PAN, REMOVE, SCAN=code from the test deck; - reads "
            "them from standard input, on the real clock), the 128x64 display drawn from the "
            "driver's framebuffer, the ESC/POS printer bytes decoded to the slip, the link "
            "carried through the bridge to a center on loopback. The heap is capped at the "
            "board's free heap after boot, converted to the unix port's 64-bit objects."
        ),
    )
    s.add_argument(
        "--board",
        choices=sorted(sim.BOARD_FREE_HEAP),
        default="pico",
        help="board profile and heap cap: pico %s, pico_w %s, esp32 %s (x%.2f on x64)"
        % tuple(
            ["%d KB" % (sim.BOARD_FREE_HEAP[b] // 1024) for b in ("pico", "pico_w", "esp32")]
            + [sim.X64_FACTOR]
        ),
    )
    s.add_argument(
        "--heap",
        metavar="BYTES",
        default=None,
        help="heap cap on the unix port instead of the board's (e.g. 163840 or 160K)",
    )
    s.add_argument(
        "--romfs", action="store_true", help="run from a ROMFS image (vfs.VfsRom at /rom)"
    )
    s.add_argument(
        "--host",
        metavar="HOST:PORT",
        default=None,
        help="a running center instead of the embedded one",
    )
    s.add_argument(
        "--data",
        metavar="DIR",
        default=None,
        help="keep the board's filesystem and the embedded center's database here "
        "(default: a fresh board in a temporary directory)",
    )
    s.add_argument(
        "--date",
        metavar="YYYY-MM-DDTHH:MM",
        default=None,
        help="the board's clock (RTC) and the embedded center's at the start (default: now)",
    )
    s.add_argument(
        "--screen",
        choices=("blocks", "text", "none"),
        default="blocks",
        help="how each new screen is shown: the framebuffer as text blocks (default), the "
        "screen's text, or not at all",
    )
    s.add_argument("--png", metavar="FILE", default=None, help="write the last screen as PNG")
    s.add_argument(
        "--heap-report",
        action="store_true",
        help="after each key: free heap and the largest free block",
    )
    s.add_argument(
        "--log",
        action="store_true",
        help="show the firmware's log lines (tracebacks with the sources' names)",
    )
    s.add_argument(
        "--lines",
        action="store_true",
        help="keep the bytecode's line numbers in the files deploy (posterm flash --lines)",
    )
    s.add_argument(
        "--no-rename",
        action="store_true",
        help="run the firmware with its sources' names (the deploy renames them: "
        "posterm.flash.minify)",
    )
    s.add_argument("tokens", nargs="*", metavar="KEY", help="key tokens, or - for stdin")
    s.set_defaults(func=run_sim)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def parse_heap(text):
    t = text.strip().upper()
    mult = 1
    if t.endswith("K"):
        mult, t = 1024, t[:-1]
    elif t.endswith("M"):
        mult, t = 1024 * 1024, t[:-1]
    try:
        n = int(float(t) * mult)
    except ValueError:
        raise ValueError(f"--heap: {text!r} is not a size (bytes, or with K or M)") from None
    if n < 16 * 1024:
        raise ValueError(f"--heap: {n} B is too small (at least 16K)")
    return n


def _events(tokens):
    from pos.keys import KeyTokenError

    from posterm.errors import CliError
    from posterm.host.deck import parse_token

    out = []
    for tok in tokens:
        try:
            out.extend(parse_token(tok))
        except KeyTokenError as e:
            raise CliError(str(e)) from None
    return out


def _stdin_events(s, err):
    from pos.keys import KeyTokenError

    from posterm.host.deck import parse_token

    for line in sys.stdin:
        for tok in line.split():
            try:
                evs = parse_token(tok)
            except KeyTokenError as e:
                print(f"posterm: error: {e}", file=err)
                continue
            for ev in evs:
                s.feed(ev)
    s.end_input()


def _key_name(ev):
    if not ev:
        return "boot"
    if ev[0] == "card":
        return "CARD=" + ev[1]
    if ev[0] in ("chip", "tap"):  # an insert or a tap: the virtual chip's spec
        spec = ev[1] if isinstance(ev[1], dict) else {}
        return ev[0].upper() + "=" + spec.get("pan", "?")
    if ev[0] == "removed":
        return "REMOVE"
    if ev[0] == "scan":
        return "SCAN=" + ev[1]
    return ev[1]


def run_sim(args):
    from posterm.errors import CliError

    out = sys.stdout
    err = sys.stderr
    stdin_mode = args.tokens == ["-"]
    events = [] if stdin_mode else _events(args.tokens)
    try:
        heap = parse_heap(args.heap) if args.heap else None
    except ValueError as e:
        raise CliError(str(e)) from None
    now = None
    if args.date:
        try:
            now = datetime.datetime.fromisoformat(args.date)
        except ValueError:
            raise CliError(f"--date: {args.date!r} is not YYYY-MM-DD[THH:MM]") from None
    try:
        board_sim = sim.Sim(
            board=args.board,
            heap=heap,
            romfs=args.romfs,
            host=args.host,
            workdir=args.data,
            now=now,
            realtime=stdin_mode,
            heap_report=args.heap_report,
            rename=not args.no_rename,
            lines=args.lines,
        )
        board_sim.start()
    except sim.SimError as e:
        raise CliError(str(e)) from None
    cap = board_sim.cap
    how = (
        "--heap"
        if heap
        else "%s, %d KB x %.2f"
        % (
            args.board,
            sim.BOARD_FREE_HEAP[args.board] // 1024,
            sim.X64_FACTOR,
        )
    )
    print(f"# board sim: {args.board}, heap cap {cap:,} B on the unix port ({how})", file=out)
    if stdin_mode:
        feeder = threading.Thread(target=_stdin_events, args=(board_sim, err), daemon=True)
    else:
        feeder = threading.Thread(target=sim._write_all, args=(board_sim, events), daemon=True)
    feeder.start()
    last_buf = None
    last_screen = None
    status = 0
    memory_errors = []
    least_free = None
    least_largest = None

    def text(line):
        if args.log:
            print("# fw: " + board_sim.translate(line), file=err)

    try:
        for rec in board_sim.records_iter(text):
            ev = rec["ev"]
            if ev == "settled":
                if rec.get("free") is not None:
                    least_free = min(least_free or rec["free"], rec["free"])
                    least_largest = min(least_largest or rec["largest"], rec["largest"])
                    print(
                        "# heap after %s: %d B free, largest block %d B"
                        % (_key_name(rec["key"]), rec["free"], rec["largest"]),
                        file=out,
                    )
                if rec.data:
                    last_buf = rec.data
                if rec["screen"] != last_screen and args.screen != "none":
                    last_screen = rec["screen"]
                    if args.screen == "text":
                        print("-" * 16 + "\n" + "\n".join(rec["screen"].split("|")), file=out)
                    elif last_buf is not None:
                        print(render.blocks(last_buf), file=out)
                out.flush()
            elif ev == "print":
                print("# receipt", file=out)
                print("\n".join(render.slip(rec.data)), file=out)
            elif ev == "memory_error":
                memory_errors.append(rec)
                print(
                    "posterm: MemoryError at key #%d (%s), in the %s, heap cap %d B"
                    % (rec["n_keys"], _key_name(rec["key"]), rec["where"], cap),
                    file=err,
                )
            elif ev == "log" and args.log:
                line = board_sim.translate(rec["text"].rstrip())
                print("# log %s: %s" % (rec["level"], line), file=err)
            elif ev == "booted":
                print(
                    "# booted: %d B free, largest block %d B" % (rec["free"], rec["largest"]),
                    file=out,
                )
            elif ev == "stuck":
                print(
                    "posterm: the firmware stopped answering keys after key #%d (%s)"
                    % (rec["n_keys"], _key_name(rec["key"])),
                    file=err,
                )
                status = 1
            elif ev == "sim_short":
                print(f"posterm: {rec['text']}; give it a larger --heap", file=err)
                status = 1
            elif ev in ("stopped", "fatal"):
                why = board_sim.translate(rec["text"])
                print(f"posterm: the firmware stopped: {why}", file=err)
                status = 1
            elif ev == "error":
                print(f"posterm: error: {rec['text']}", file=err)
                status = 2
    except KeyboardInterrupt:
        pass
    finally:
        board_sim.close()
    if args.png and last_buf is not None:
        with open(args.png, "wb") as f:
            f.write(render.png(last_buf))
    if args.heap_report and least_free is not None:
        print(f"# least free heap {least_free} B, smallest largest block {least_largest} B")
    if memory_errors:
        status = 1
    return status
