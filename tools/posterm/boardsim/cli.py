"""posterm board sim [--board pico|pico_w|esp32] [--heap N] [--romfs] [--host H:P] KEY...|-"""

import datetime
import sys
import threading

from posterm.boardsim import render, sim

READY = "# ready"  # --ready: the firmware waits for the next key or card (as posterm keys)


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
            "board's free heap after boot, converted to the unix port's 64-bit objects. "
        )
        # prose (not code-like: its words do not keep firmware names from the renamer)
        + (
            "A file of tokens runs the tokens written in it, # to the end of a line a comment. "
            "Each key is pressed once the firmware has settled after the one before; a script "
            "stops at a MemoryError (the firmware shows 内存不足, exit status 1) unless "
            "--keep-going."
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
    s.add_argument(
        "--keep-going",
        action="store_true",
        help="a script carries on after a MemoryError (内存不足): its next keys are pressed "
        "on whatever screen the terminal shows then (default: the script stops there, "
        "exit status 1)",
    )
    s.add_argument(
        "--ready",
        action="store_true",
        help=f"with -: after the first screen and after what each line of input showed, print "
        f"the line {READY!r}: the firmware waits for the next key or card (a program reads up "
        "to it, then answers the screen before it; a line that showed nothing new shows the "
        "screen again)",
    )
    s.add_argument(
        "tokens",
        nargs="*",
        metavar="KEY",
        help="key tokens or files of them (# to the end of a line a comment), or - for stdin",
    )
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


def _events(tokens, keypad):
    # [(where, token, its events)] of the script's tokens, a file of them read in its place
    # (as `posterm keys walk.txt`, # to the end of a line a comment); a token that is none, or
    # a key the board's keypad does not have, stops the run before it starts.
    from pos.keys import KeyTokenError

    from posterm.errors import CliError
    from posterm.host.deck import parse_token
    from posterm.keyscmd import expand

    out = []
    for where, tok in expand(tokens, parse_token):
        try:
            evs = parse_token(tok)
        except KeyTokenError as e:
            raise CliError(where + str(e)) from None
        _check_keys(evs, keypad, where)
        out.append((where, tok, evs))
    return out


def _check_keys(evs, keypad, where=""):
    from posterm.errors import CliError

    for ev in evs:
        if ev[0] == "key" and ev[1] not in keypad:
            raise CliError(
                "%sthe board's keypad has no key %s (it has %s)"
                % (where, ev[1], " ".join(sorted(keypad, key=_KEY_ORDER)))
            )


def _KEY_ORDER(name):
    return (len(name) > 1, name)


class _Feeder(threading.Thread):
    # Presses the keys (and presents the cards) one at a time, each once the firmware has
    # settled after the one before, as a cashier or a test robot presses the next key when the
    # screen has answered the last one.
    #
    # After a MemoryError (the firmware shows 内存不足) a script stops: its next keys were
    # written for the screens a flow that worked would have shown, and at the idle screen the
    # terminal goes back to they would start what nobody asked for (digits typed into a sale's
    # amount, a card swiped into a purchase). --keep-going presses them anyway. From standard
    # input the rest of the line that was being pressed is dropped (typed before the 内存不足
    # screen was shown), and the next lines are pressed: they answer that screen.

    def __init__(self, board_sim, script, stdin_mode, keep_going, keypad, ready, say):
        super().__init__(daemon=True)
        self.sim = board_sim
        self.script = script
        self.stdin_mode = stdin_mode
        self.keep_going = keep_going
        self.keypad = keypad
        self.ready = ready  # --ready: print READY when the firmware waits for input
        self.say = say  # (text, to stderr?) -> printed under the front end's lock
        self.cond = threading.Condition()
        self.settled = 0  # settled records seen (the boot's, then one per event fed)
        self.fed = 0
        self.memory_error = None  # the memory_error record since the last settle
        self.last_screen = None
        self.shown = 0  # screens printed
        self.over = False  # the VM has ended
        self.stopped = None  # the message a script stopped with
        self.status = 0

    # -- the front end's reading thread ---------------------------------------------
    def on_memory_error(self, rec):
        with self.cond:
            self.memory_error = rec

    def on_settled(self, rec):
        with self.cond:
            self.settled += 1
            self.last_screen = rec
            self.cond.notify_all()

    def on_end(self):
        with self.cond:
            self.over = True
            self.cond.notify_all()

    # -- pressing ---------------------------------------------------------------------
    def _wait(self):
        # -> the memory_error record of what was pressed last (or None); False: the VM ended
        with self.cond:
            while self.settled <= self.fed and not self.over:
                self.cond.wait()
            if self.over:
                return False
            rec, self.memory_error = self.memory_error, None
            return rec

    def _press(self, ev):
        self.sim.feed(ev)
        self.fed += 1
        return self._wait()

    def run(self):
        try:
            if self._wait() is not False:  # the boot's idle screen
                self._ready()
                if self.stdin_mode:
                    self._stdin()
                else:
                    self._script()
        finally:
            self.sim.end_input()

    def _ready(self):
        if self.ready:
            self.say(READY, False)

    def _script(self):
        for i, (where, _tok, evs) in enumerate(self.script):
            for j, ev in enumerate(evs):
                err = self._press(ev)
                if err is False:
                    return
                if err and not self.keep_going:
                    rest = [e[1] for e in evs[j + 1 :]] + [t for _, t, _ in self.script[i + 1 :]]
                    self._stop(err, where, rest)
                    return

    def _stop(self, err, where, rest):
        screen = " ".join(r.strip() for r in self.last_screen["screen"].split("|") if r.strip())
        text = "posterm: %sthe script stopped at key #%d (%s): the terminal ran out of memory " % (
            where,
            err["n_keys"],
            _key_name(err["key"]),
        )
        text += "and shows %s" % screen
        if rest:
            shown = " ".join(rest[:12]) + (" ..." if len(rest) > 12 else "")
            text += "; %d %s after it not pressed (%s): written for the screens of a flow " % (
                len(rest),
                "key or card" if len(rest) == 1 else "keys and cards",
                shown,
            )
            text += "that worked, here they would land on another screen (--keep-going "
            text += "presses them anyway)"
        self.stopped = text
        self.say(text, True)

    def _stdin(self):
        from pos.keys import KeyTokenError

        from posterm.errors import CliError
        from posterm.host.deck import parse_token

        for line in sys.stdin:
            shown = self.shown
            todo = list(line.split("#", 1)[0].split())
            while todo:
                tok = todo.pop(0)
                try:
                    evs = parse_token(tok)
                    _check_keys(evs, self.keypad)
                except (KeyTokenError, CliError) as e:
                    self.say("posterm: error: %s" % e, True)
                    self.status = 2
                    continue
                for j, ev in enumerate(evs):
                    err = self._press(ev)
                    if err is False:
                        return
                    if err:
                        # typed ahead before the 内存不足 screen was shown: not pressed
                        rest = [e[1] for e in evs[j + 1 :]] + todo
                        if rest:
                            self.say(
                                "posterm: not pressed after the MemoryError at key #%d (%s): "
                                "%s (typed before the 内存不足 screen was shown)"
                                % (err["n_keys"], _key_name(err["key"]), " ".join(rest)),
                                True,
                            )
                        todo = []
                        break
            if self.ready and self.shown == shown:
                self.say(None, False)  # this line showed nothing new: the screen again
            self._ready()


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


class _Shown:
    # what is on show: the last framebuffer and the screen's text
    buf = None
    screen = None


def run_sim(args):
    from posterm.errors import CliError

    out = sys.stdout
    err = sys.stderr
    stdin_mode = args.tokens == ["-"]
    if args.ready and not stdin_mode:
        raise CliError(
            "--ready is for the interactive mode: posterm board sim --ready - "
            "(tokens on standard input)"
        )
    keypad = sim.keypad_positions(sim._profile(args.board))
    script = [] if stdin_mode else _events(args.tokens, keypad)
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
    lock = threading.Lock()
    state = _Shown()

    def show_screen(screen):
        if args.screen == "text":
            print("-" * 16 + "\n" + "\n".join(screen.split("|")), file=out)
        elif state.buf is not None:
            print(render.blocks(state.buf), file=out)

    def shown(rec):
        # a screen after an event (settled) or drawn by itself: printed when it is new
        if rec.data:
            state.buf = rec.data
        if rec["screen"] != state.screen and args.screen != "none":
            show_screen(rec["screen"])
            feeder.shown += 1
        state.screen = rec["screen"]
        out.flush()

    def say(text, to_err):
        # the feeder's lines (a stop, a dropped key, READY, the screen again) among the
        # front end's
        with lock:
            if text is None:
                if state.screen is not None and args.screen != "none":
                    show_screen(state.screen)
            else:
                print(text, file=err if to_err else out)
            (err if to_err else out).flush()

    print(f"# board sim: {args.board}, heap cap {cap:,} B on the unix port ({how})", file=out)
    feeder = _Feeder(board_sim, script, stdin_mode, args.keep_going, keypad, args.ready, say)
    feeder.start()
    status = 0
    memory_errors = []
    least_free = None
    least_largest = None

    said = []  # the VM's own lines (not records): the last ones say why it ended early
    seen = set()

    def text(line):
        said.append(line)
        del said[:-8]
        if args.log:
            print("# fw: " + board_sim.translate(line), file=err)

    try:
        for rec in board_sim.records_iter(text):
            ev = rec["ev"]
            seen.add(ev)
            lock.acquire()
            try:
                if ev == "settled":
                    if rec.get("free") is not None:
                        least_free = min(least_free or rec["free"], rec["free"])
                        least_largest = min(least_largest or rec["largest"], rec["largest"])
                        print(
                            "# heap after %s: %d B free, largest block %d B"
                            % (_key_name(rec["key"]), rec["free"], rec["largest"]),
                            file=out,
                        )
                    shown(rec)
                elif ev == "drawn":  # drawn by itself, on the real clock (-)
                    shown(rec)
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
                    err.flush()
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
            finally:
                lock.release()
            # after the screen is out: the feeder presses the next key
            if ev == "memory_error":
                feeder.on_memory_error(rec)
            elif ev == "settled":
                feeder.on_settled(rec)
    except KeyboardInterrupt:
        pass
    finally:
        feeder.on_end()
        board_sim.close()
    if "booted" not in seen and not seen & {"memory_error", "stopped", "fatal", "sim_short"}:
        # the VM ended before the firmware was up, without a record saying why
        last = " | ".join(line.strip() for line in said if line.strip())[-400:]
        print(f"posterm: the board sim ended before the firmware booted: {last or 'no output'}",
              file=err)
        status = 1
    if args.png and state.buf is not None:
        with open(args.png, "wb") as f:
            f.write(render.png(state.buf))
    if args.heap_report and least_free is not None:
        print(f"# least free heap {least_free} B, smallest largest block {least_largest} B")
    if memory_errors:
        status = 1
    return max(status, feeder.status)
