"""posterm bridge --serial PORT --host HOST:PORT"""


def register(subparsers, common_options):
    p = subparsers.add_parser(
        "bridge",
        help="carry a board's serial host link to a host over TCP",
        description="Reads framed ISO 8583 requests from a board's UART (pyserial), sends "
        "each to the host over TCP and returns the reply, with ACK/NAK and retransmission. "
        "With --cards it also presents the test deck's cards and codes to the board: type "
        "CARD=<PAN> (swipe), CHIP=<PAN> (insert), TAP=<PAN> (tap), REMOVE or SCAN=<code>, "
        "one or more a line, on standard input.",
    )
    p.add_argument(
        "--serial",
        required=True,
        metavar="PORT",
        help="serial port of the board's link UART, or a pyserial URL",
    )
    p.add_argument("--host", required=True, metavar="HOST:PORT", help="the host (posterm host)")
    p.add_argument("--baud", type=int, default=115200)
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=30,
        metavar="S",
        help="seconds a board waits for an answer, when its firmware does not say (a board "
        "sends its own timeout parameter before each request, and the bridge follows it); "
        "the host is asked 1 s less, so that the answer or the timeout is back in time "
        "(default 30, the terminal's default)",
    )
    p.add_argument("--cards", action="store_true",
                   help="present cards and codes typed on standard input to the board "
                   "(posterm host cards list)")
    p.set_defaults(func=run)


def _seconds(text):
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 2 <= value <= 255:
        raise argparse.ArgumentTypeError("must be 2..255 seconds")
    return value


def _read_tokens(stream, queue, err):
    # a thread: each token typed -> the reader events it presents, onto the queue
    from pos.keys import KeyTokenError

    from posterm.host.deck import Deck

    deck = Deck()
    for line in stream:
        for tok in line.split():
            try:
                for ev in deck.parse_token(tok):
                    if ev[0] == "key":
                        raise KeyTokenError(tok, "the bridge presents cards and codes, the "
                                            "board's keypad types keys", "not a card token")
                    queue.put(ev)
            except KeyTokenError as e:
                print(f"posterm bridge: {e}", file=err, flush=True)


def run(args):
    import queue
    import sys
    import threading

    import serial

    from posterm.bridge.core import Bridge
    from posterm.cli import CliError
    from posterm.link import HostAddressError, TcpLink, parse_address

    try:
        address = parse_address(args.host)
    except HostAddressError as e:
        raise CliError(str(e)) from None
    try:
        port = serial.serial_for_url(args.serial, baudrate=args.baud, timeout=0.05)
    except (serial.SerialException, OSError) as e:
        raise CliError(
            f"cannot open {args.serial}: {e} (hint: python -m serial.tools."
            "list_ports lists the ports; a USB-serial adapter is /dev/ttyUSB0)"
        )
    link = TcpLink(address)
    write_lock = threading.Lock()

    def write(data):
        with write_lock:
            port.write(data)

    # the ACK at once; the host asked by a worker, the UART read meanwhile (core.py)
    bridge = Bridge(link.exchange, send=write, queued=True, timeout=args.timeout)

    def worker():
        while True:
            if bridge.wait(1.0):
                out = bridge.serve()
                if out:
                    try:
                        write(out)
                    except (serial.SerialException, OSError):
                        return

    threading.Thread(target=worker, name="posterm-bridge-host", daemon=True).start()
    print(f"bridge: {args.serial} <-> {address[0]}:{address[1]} (Ctrl-C stops)")
    cards = queue.Queue()
    if args.cards:
        threading.Thread(target=_read_tokens, args=(sys.stdin, cards, sys.stderr),
                         name="posterm-bridge-cards", daemon=True).start()
        print("bridge: type CARD= / CHIP= / TAP= <PAN>, REMOVE or SCAN=<code> to present them")
    try:
        while True:
            data = port.read(256)
            if data:
                out = bridge.feed(data)
                if out:
                    write(out)
            while not cards.empty():
                ev = cards.get()
                write(bridge.present(ev))
                print(f"bridge: presented {ev[0]}", flush=True)
    except serial.SerialException as e:
        raise CliError(f"lost {args.serial}: {e}") from None
    finally:
        port.close()
