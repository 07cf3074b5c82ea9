"""`posterm keys`: drive the terminal headless with key tokens and print every
frame (rows as on the screen, frames separated by a line of dashes) and every
receipt (under a `# receipt` line). With `-` it reads tokens from standard
input and prints each frame as soon as it is shown, so another program can
read the screen and press the next key."""

import os
import sys

from pos.keys import KeyTokenError

from posterm import paths
from posterm.host.deck import Deck

RULE = "-" * 16
READY = "# ready"  # --ready: the terminal waits for input (stable: programs read it)


def register(subs, common_options):
    p = subs.add_parser(
        "keys",
        help="headless: feed keys, print every frame",
        description="Feed key tokens to the terminal and print every frame. Keys: 0-9, ., "
        "MENU, ENTER (确认), CANCEL (取消), CLEAR (退格), UP, DOWN, F1-F4; a run of digits "
        "such as 123 is those keys in order. Cards and codes as the cashier presents them: "
        "CARD=<PAN>[=YYMM] swipes a card, CHIP=<PAN> inserts it, TAP=<PAN> taps a card or "
        "phone, REMOVE pulls the inserted card out, SCAN=<code> scans a payment code (the "
        "test deck: posterm host cards list). A FILE of tokens (`posterm keys walk.txt`) runs the "
        "tokens written in it, # to the end of a line a comment. Use - to read tokens from "
        "standard input, one or more a line: each frame is printed as it is shown, and a line "
        "that changes nothing on the screen (a key refused, an unknown token) prints the "
        "screen again, the reason on standard error. A key the terminal refuses (it only "
        "beeps) is said on standard error in either mode. Options may come before or after the "
        "keys.",
    )
    common_options(p)
    p.add_argument("--paper", choices=("58mm", "80mm"), default="58mm", help="receipt width")
    p.add_argument("--ready", action="store_true",
                   help="with -: after the first screen and after what each line of input "
                   f"showed (an empty or comment line too), print the line {READY!r}: the "
                   "terminal now waits for the next key or card (a program reads up to it, "
                   "then answers the screen before it)")
    p.add_argument("tokens", nargs="*", metavar="KEY",
                   help="key tokens or files of them, or - for stdin")
    p.set_defaults(func=run)


class FramePrinter:
    def __init__(self, out, driver):
        self.out = out
        self.driver = driver
        self.count = 0
        self.last = None

    def frame(self, f):
        rows = f.text()
        if rows == self.last:
            return
        self.last = rows
        self._sep()
        self.out.write("\n".join(rows) + "\n")
        self.out.flush()

    def again(self):
        """The screen on show printed once more (a line of input that changed nothing)."""
        rows, self.last = self.last, None
        if rows is None and self.driver.terminal.frame is not None:
            rows = self.driver.terminal.frame.text()
        if rows is not None:
            self.frame(_Rows(rows))

    def receipt(self, lines):
        self._sep()
        self.out.write("# receipt\n")
        self.out.write("\n".join(self.driver.receipt_text(lines)) + "\n")
        self.out.flush()
        self.last = None

    def _sep(self):
        if self.count:
            self.out.write(RULE + "\n")
        self.count += 1


def expand(tokens, parse_token):
    """[(where, token)]: the tokens as given, a file of tokens (an argument that is no key
    token but a file: `posterm keys walk.txt`) read in its place, `#` to the end of its
    lines a comment; where is "FILE:LINE: " for a token read from a file, else ""."""
    out = []
    for tok in tokens:
        try:
            parse_token(tok)
        except KeyTokenError:
            if os.path.isfile(tok):
                out.extend(_read_tokens(tok))
                continue
            if os.path.isdir(tok):
                from posterm.errors import CliError

                raise CliError(f"{tok} is a directory, not a key token or a file of them")
        out.append(("", tok))
    return out


def _read_tokens(path):
    # [(where, token)] of a file of tokens; one that is not UTF-8 text (or cannot be read)
    # is said with its line, as a bad token is (posterm: error: ..., exit status 2)
    from posterm.errors import CliError

    out = []
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise CliError(f"{path}: {e.strerror or e}") from None
    for n, line in enumerate(raw.splitlines(), 1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise CliError(f"{path}:{n}: not UTF-8 text: a file of key tokens is text, one "
                           "or more tokens a line") from None
        for t in text.split("#", 1)[0].split():
            out.append((f"{path}:{n}: ", t))
    return out


class _Rows:
    def __init__(self, rows):
        self.rows = rows

    def text(self):
        return self.rows


def run(args):
    from posterm.errors import CliError
    from posterm.driver import failure_note, open_from_args

    stdin_mode = args.tokens == ["-"]
    if args.ready and not stdin_mode:
        raise CliError("--ready is for the interactive mode: posterm keys --ready - "
                       "(tokens on standard input)")
    data_dir = args.data or paths.default_data_dir()
    # the test deck: CARD= swipes its tracks, CHIP=/TAP= present its chips, whose counters
    # (ATC, PIN tries) carry on in the data dir from one run to the next
    deck = Deck(data_dir)
    parse_token = deck.parse_token
    events = []  # [(where, token, its events)]
    if not stdin_mode:
        for where, tok in expand(args.tokens, parse_token):
            try:
                events.append((where, tok, parse_token(tok)))
            except KeyTokenError as e:
                raise CliError(where + str(e)) from None
    driver = open_from_args(args)
    if deck.notice:  # a damaged chipcards.json: said (stderr and the log), kept, no ATC reused
        print(f"posterm: {deck.notice}", file=sys.stderr)
        driver.log("error", deck.notice)
    out = sys.stdout
    printer = FramePrinter(out, driver)
    driver.frame_listeners.append(printer.frame)
    driver.print_listeners.append(printer.receipt)
    status = 0
    # a key the terminal refuses (its error beep and no new screen: a digit no menu item
    # has) is said on standard error: a program reading the screens knows it was not taken
    refused = []
    driver.beep_listeners.append(lambda kind: kind == "error" and refused.append(1))

    def feed(where, tok, evs):
        for ev in evs:
            del refused[:]
            shown = printer.count
            driver.feed(ev)
            if refused and printer.count == shown:
                # an error beep and no new screen: refused (with a new screen, such as
                # 金额不能为0, the screen says it); a run of digits (123) names the key
                name = ev[1] if ev[0] == "key" and len(evs) > 1 else tok
                print(f"posterm: {where}key {name} refused on this screen", file=sys.stderr)
                sys.stderr.flush()

    def ready(on):
        if on:
            out.write(READY + "\n")
            out.flush()

    try:
        driver.start()
        if stdin_mode:
            ready(args.ready)
            for line in sys.stdin:
                # every line of tokens gets a screen: what it showed, or, when it showed
                # nothing new (a key refused, an unknown token), the screen again; from # on
                # a line is a comment; --ready: then the marker, the terminal waits
                tokens = line.split("#", 1)[0].split()
                if not tokens:
                    ready(args.ready)
                    continue
                shown = printer.count
                for tok in tokens:
                    try:
                        evs = parse_token(tok)
                    except KeyTokenError as e:
                        print(f"posterm: error: {e}", file=sys.stderr)
                        status = 2
                        continue
                    feed("", tok, evs)
                if printer.count == shown:
                    printer.again()
                ready(args.ready)
        else:
            for where, tok, evs in events:
                feed(where, tok, evs)
    except BrokenPipeError:
        sys.stderr.close()
    finally:
        driver.close()
        try:
            deck.save()
        except OSError as e:  # a full disk: said, the previous counts kept
            print(f"posterm: the chips' counts (ATC, PIN tries) could not be saved in "
                  f"{data_dir}: {e}", file=sys.stderr)  # fmt: skip
            status = 1
    note = failure_note(driver)
    if note:
        print(note, file=sys.stderr)
        status = 1
    return status
