"""posterm bridge --serial PORT --host HOST:PORT"""


def register(subparsers, common_options):
    p = subparsers.add_parser(
        "bridge",
        help="carry a board's serial host link to a host over TCP",
        description="Reads framed ISO 8583 requests from a board's UART (pyserial), sends "
        "each to the host over TCP and returns the reply, with ACK/NAK and retransmission.",
    )
    p.add_argument(
        "--serial",
        required=True,
        metavar="PORT",
        help="serial port of the board's link UART, or a pyserial URL",
    )
    p.add_argument("--host", required=True, metavar="HOST:PORT", help="the host (posterm host)")
    p.add_argument("--baud", type=int, default=115200)
    p.set_defaults(func=run)


def run(args):
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
    bridge = Bridge(link.exchange)
    print(f"bridge: {args.serial} <-> {address[0]}:{address[1]} (Ctrl-C stops)")
    try:
        while True:
            data = port.read(256)
            if data:
                out = bridge.feed(data)
                if out:
                    port.write(out)
    except serial.SerialException as e:
        raise CliError(f"lost {args.serial}: {e}") from None
    finally:
        port.close()
