# The card reader of a dev board: the chip card is in the bridge's reader (`posterm bridge
# --cards`, the board sim), the deck's virtual card answering there, on the desktop. A card
# it presents (a C frame ["chip"] / ["tap"]: boards.uartlink) reaches the terminal as an
# insert or a tap whose icc is a BridgeCard: each reset() and apdu() the kernel makes goes to
# the bridge in an I frame over the link UART and the card's answer comes back in an R frame
# (boards/framing.py). The terminal's kernel sends and reads the same APDUs as with a card in
# its own heap; the card's code, keys and state are not in the board's heap, as a real
# reader's card is its own chip.
# Loaded for the card only (boards.uartlink forgets the module at once: it goes with the
# card's last reference, when the transaction ends).
from boards import framing, uartlink

_WAIT_MS = 1500  # for the R frame: a 256-byte answer takes ~25 ms at 115200 baud
_TRIES = 3  # I frames sent for one command (a lost or damaged frame is sent again)


class BridgeCard:
    def __init__(self, link):
        self.link = link  # boards.uartlink.UartLink: its UART, frame parser and sleep
        self.seq = 0

    def reset(self):
        return self._ask(b"")

    def apdu(self, command):
        return self._ask(bytes(command))

    def _ask(self, payload):
        # -> the R frame's payload; OSError when the bridge does not answer or has no card
        # (pos.emv.apdu.exchange: the chip read failed)
        link = self.link
        uart = link.uart
        self.seq = seq = (self.seq + 1) & 0xFF
        frame = framing.encode(framing.ICC, seq, payload)
        for _ in range(_TRIES):
            uart.write(frame)
            waited = 0
            while waited < _WAIT_MS:
                n = uart.any()
                if not n:
                    if link.sleep_ms is not None:
                        link.sleep_ms(1)
                    waited += 1
                    continue
                resend = False
                for kind, got, data in link.parser.feed(uart.read(n)):
                    if kind == framing.ICC_REPLY and got == seq:
                        if not data:
                            raise OSError("no card in the bridge's reader")
                        return data
                    if kind == framing.BAD:
                        resend = True  # perhaps our answer: asked again (the bridge repeats it)
                    elif kind == framing.CARD:  # pulled out meanwhile: read after this
                        uart.write(framing.encode(framing.ACK, got))
                        ev = uartlink.reader_event(data, link)
                        if ev is not None:
                            link.presented.append(ev)
                if resend:
                    break
        raise OSError("the bridge's reader does not answer")
