"""`posterm record FILE KEY...` and `posterm replay FILE [--runtime ...]` (FORMAT.md)."""

import contextlib
import datetime
import os
import shutil
import sys
import tempfile
from pathlib import Path

from posterm import paths



def check_recording_path(path):
    # a recording's file must be writable where it is to go: said before the session runs
    # (posterm record, posterm emulator --record), not when it is over and lost
    from posterm.errors import CliError

    where = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(where) or os.path.isdir(path):
        why = "is a directory" if os.path.isdir(path) else f"no directory {where}"
        raise CliError(f"cannot write the recording {path}: {why}")
    if not os.access(where, os.W_OK):
        raise CliError(f"cannot write the recording {path}: {where} is not writable")

def register(subs, common_options):
    r = subs.add_parser(
        "record",
        help="record a session (keys, cards, wire frames, screens, slips, clock) to a file",
        description="Run the terminal headless on the key tokens, as `posterm keys` does, "
        "against the embedded center (or --host), and write every input (keys, cards, the "
        "center's answers) and every output (screens, frames sent, slips with their ESC/POS "
        "bytes) to FILE as JSON lines (format: tools/posterm/replay/FORMAT.md). The clock is "
        "fixed (--date, default: now) and the terminal's random bytes come from --seed, so "
        "a replay gives the same bytes. `posterm replay FILE` reruns it. With --update FILE..., "
        "each recording is re-recorded from its own keys and settings (after a legitimate "
        "change to the firmware).",
    )
    common_options(r)
    r.add_argument("--paper", choices=("58mm", "80mm"), default="58mm", help="receipt width")
    r.add_argument("--seed", type=int, default=1, help="the terminal's random bytes (1)")
    r.add_argument(
        "--lose-reply",
        type=int,
        action="append",
        default=[],
        metavar="N",
        help="the center's Nth answer is lost on the way: the terminal times out (a "
        "reversal); may be repeated",
    )
    r.add_argument(
        "--center-forgets",
        action="append",
        default=[],
        metavar="TRACE",
        help="the embedded center drops the transaction with this trace number from its "
        "books before the settlement (0500): the batch does not balance and is uploaded",
    )
    r.add_argument(
        "--board",
        choices=("pico", "pico_w", "esp32"),
        default=None,
        help="record on the board firmware in the board sim (keys on the key matrix, the "
        "embedded center over the link UART) instead of the desktop driver",
    )
    r.add_argument(
        "--heap",
        metavar="BYTES",
        default=None,
        help="--board: the heap cap on the unix port instead of the board's (e.g. 400K)",
    )
    r.add_argument("--note", default="", help="a line saying what the session is, for the file")
    r.add_argument("--update", action="store_true", help="re-record the FILEs given (no KEYs)")
    r.add_argument("file", metavar="FILE", help="the recording to write")
    r.add_argument("tokens", nargs="*", metavar="KEY", help="key tokens (as posterm keys)")
    r.set_defaults(func=run_record)

    p = subs.add_parser(
        "replay",
        help="rerun a recorded session and show the first difference",
        description="Rerun a session written by `posterm record` (or the emulator's "
        "--record) and compare every output with the recording: the screens, the frames "
        "sent to the center, the slips and their ESC/POS bytes. Prints the first "
        "difference (exit 1), or that all matched (exit 0). Runtimes: cpython (this "
        "process), micropython (the WebAssembly build, node), micropython-unix (the unix "
        "port) and board (the board firmware in the board sim, keys on the key matrix).",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="recordings (FORMAT.md)")
    p.add_argument(
        "--runtime",
        choices=("cpython", "micropython", "micropython-unix", "board", "all"),
        default="cpython",
        help="where to rerun it (default cpython; all: every one in turn)",
    )
    p.add_argument(
        "--board",
        choices=("pico", "pico_w", "esp32"),
        default="pico",
        help="--runtime board: the board profile and its heap cap (default pico)",
    )
    p.add_argument(
        "--heap",
        metavar="BYTES",
        default=None,
        help="--runtime board: the heap cap on the unix port instead of the board's (e.g. 400K)",
    )
    p.set_defaults(func=run_replay)


# -- recording ----------------------------------------------------------------------------
@contextlib.contextmanager
def seeded_center(seed):
    """The embedded center's working keys (os.urandom) from the seed as well, so that a
    re-recording gives the same bytes as the last one when nothing changed."""
    from posterm.replay.player import Seeded

    import random

    src = Seeded(seed + 1000003)
    real = os.urandom, random._urandom  # secrets (auth codes, TMKs) draws from the latter
    os.urandom = random._urandom = src
    try:
        yield
    finally:
        os.urandom, random._urandom = real


def record(
    path,
    tokens,
    date=None,
    lang=None,
    profile="lcd128x64",
    paper="58mm",
    seed=1,
    lose=(),
    host=None,
    data=None,
    storage=None,
    note="",
    forget=(),
):
    """Run tokens on the desktop driver and write the recording to path. storage: files
    ({name: base64}) the terminal starts with (a recording's own snapshot)."""
    import base64

    from pos.keys import KeyTokenError

    from posterm.driver import Driver
    from posterm.errors import CliError
    from posterm.host.deck import Deck
    from posterm.replay import player, recorder

    parse_token = Deck().parse_token  # the test deck; its chips start from the deck's counts

    events = []
    for tok in tokens:
        try:
            events.extend(parse_token(tok))
        except KeyTokenError as e:
            raise CliError(str(e)) from None
    if date is None:
        n = datetime.datetime.now()
        date = (n.year, n.month, n.day, n.hour, n.minute, 0)
    tmp = tempfile.mkdtemp(prefix="posterm-record-")
    try:
        data_dir = data or tmp
        tdir = paths.terminal_dir(data_dir)
        if storage:
            os.makedirs(tdir, exist_ok=True)
            for name, b64 in storage.items():
                Path(tdir, name).write_bytes(base64.b64decode(b64))
        snap = storage if storage else (recorder.snapshot(tdir) if data else {})
        player.install_random(seed)
        with seeded_center(seed):
            driver = Driver(
                data_dir, host=host, lang=lang, date=date, profile=profile, paper=paper
            )
            try:
                header = recorder.header_for(
                    driver.terminal, "keys", tokens, seed, lose, snap, note
                )
                if forget:
                    header["center_forgets"] = list(forget)
                    _forget_before_settlement(driver, data_dir, forget)
                rec = recorder.Recorder(driver.terminal, header, lose)
                driver.start()
                for ev in events:
                    driver.feed(ev)
            finally:
                driver.close()
        header["link_address"] = driver.terminal.link_address
        rec.write(path)
        return rec
    finally:
        player.install_random(None)
        shutil.rmtree(tmp, ignore_errors=True)


def _forget_before_settlement(driver, data_dir, traces):
    # a fault at the center's books: it forgets these transactions just before the 0500
    from pos import iso8583

    from posterm.host.store import Store

    real = driver.exchange

    def exchange(data, timeout):
        try:
            mti = iso8583.decode(iso8583.unpack_frame(data)[2])["mti"]
        except Exception:  # noqa: BLE001 - not a frame the fault is about
            mti = ""
        if mti == "0500" and traces:
            store = Store(paths.host_db(data_dir))
            try:
                tid = driver.terminal.state.params.get("tid", "")
                for t in traces:
                    store.forget_transaction(tid, t)
            finally:
                store.close()
            del traces[:]
        return real(data, timeout)

    traces = list(traces)
    driver.exchange = exchange


def _record_on_board(path, tokens, date, board, seed, lose, heap, note):
    from posterm.replay.board import record_board

    return record_board(path, tokens, date, board, seed, lose, heap, note)


def rerecord(path):
    from posterm.errors import CliError
    from posterm.replay import fmt

    try:
        h = fmt.read_header(path)
    except fmt.RecordingError as e:
        raise CliError(str(e)) from None
    if h.get("source") == "board":
        return _record_on_board(
            path,
            h.get("keys") or [],
            tuple(h["clock"]),
            h.get("board", "pico"),
            h.get("seed", 1),
            h.get("lose_reply", ()),
            400 * 1024,
            h.get("note", ""),
        )
    if h.get("source") != "keys":
        raise CliError(
            f"{path}: recorded by {h.get('source')!r} (its clock ran): record it again there, "
            "or with `posterm record` from its keys"
        )
    tokens = h.get("keys")
    if not isinstance(tokens, list):
        raise CliError(f"{path}: the header has no key tokens to re-record from")
    return record(
        path,
        tokens,
        date=tuple(h["clock"]),
        lang=h.get("lang"),
        profile=h.get("profile", "lcd128x64"),
        paper=h.get("paper", "58mm"),
        seed=h.get("seed", 1),
        lose=h.get("lose_reply", ()),
        storage=h.get("storage") or None,
        note=h.get("note", ""),
        forget=h.get("center_forgets", ()),
    )


def run_record(args):
    from posterm.errors import CliError
    from pos import clock

    if args.update:
        files = [args.file] + list(args.tokens)
        for f in files:
            rec = rerecord(f)
            print(f"{f}: re-recorded ({_counts(rec)})")
        return 0
    date = None
    if args.date:
        try:
            date = clock.parse(args.date)
        except ValueError as e:
            raise CliError(f"--date: {e}") from None
    if not args.tokens:
        raise CliError("no keys: give the session's key tokens (as posterm keys)")
    from posterm.host.deck import Deck
    from posterm.keyscmd import expand

    # a file of tokens as an argument, as for posterm keys (posterm record bug.jsonl walk.txt)
    args.tokens = [tok for _where, tok in expand(args.tokens, Deck().parse_token)]
    check_recording_path(args.file)
    if args.board:
        if args.center_forgets or args.data or args.host:
            raise CliError(
                "--board records against a fresh embedded center: "
                "no --center-forgets, --data or --host"
            )
        heap = None
        if args.heap:
            from posterm.boardsim.cli import parse_heap

            try:
                heap = parse_heap(args.heap)
            except ValueError as e:
                raise CliError(str(e)) from None
        if date is None:
            n = datetime.datetime.now()
            date = (n.year, n.month, n.day, n.hour, n.minute, 0)
        counts = _record_on_board(
            args.file, args.tokens, date, args.board, args.seed, args.lose_reply, heap, args.note
        )
        print(f"{args.file}: " + _counts_text(counts))
        return 0
    rec = record(
        args.file,
        args.tokens,
        date=date,
        lang=args.lang,
        profile=args.profile,
        paper=args.paper,
        seed=args.seed,
        lose=args.lose_reply,
        host=args.host,
        data=args.data,
        note=args.note,
        forget=args.center_forgets,
    )
    print(f"{args.file}: {_counts(rec)}")
    return 0


def _counts(rec):
    if isinstance(rec, dict):
        return _counts_text(rec)
    n = {"in": 0, "show": 0, "send": 0, "print": 0}
    for r in rec.records:
        for k in n:
            if k in r:
                n[k] += 1
    return _counts_text(n)


def _counts_text(n):
    return "%d inputs, %d screens, %d frames sent, %d slips" % (
        n["in"],
        n["show"],
        n["send"],
        n["print"],
    )


# -- replaying ----------------------------------------------------------------------------
def run_replay(args):
    from posterm.errors import CliError
    from posterm.replay import fmt, runtimes

    names = runtimes.RUNTIMES if args.runtime == "all" else (args.runtime,)
    heap = None
    if args.heap:
        from posterm.boardsim.cli import parse_heap

        try:
            heap = parse_heap(args.heap)
        except ValueError as e:
            raise CliError(str(e)) from None
    status = 0
    for path in args.files:
        try:
            fmt.read_header(path)
            fmt.check_lines(path)  # a line cut or mangled: said with its line, one line
        except fmt.RecordingError as e:
            raise CliError(str(e)) from None
        for rt in names:
            try:
                d = runtimes.replay(path, rt, board=args.board, heap=heap)
            except runtimes.RuntimeUnavailable as e:
                raise CliError(str(e)) from None
            if d is None:
                print(f"{path}: {rt}: every output matched")
            elif d["what"] == "format":  # not (whole) a recording: not a difference
                status = 2
                print(f"posterm: error: {path}: " + fmt.describe(d, path), file=sys.stderr)
                break
            else:
                status = max(status, 1)
                print(f"{path}: {rt}: " + fmt.describe(d, path))
    return status
