# Frames on the serial host link (board <-> `posterm bridge`):
#   STX 0x02 | kind u8 | seq u8 | length u16 | payload | CRC-16/CCITT-FALSE u16
# big-endian, the CRC over kind..payload. Kinds:
#   D  data: an ISO 8583 message (length-prefixed as on TCP); the receiver ACKs
#   A  ack of the frame with that seq        N  nak (bad CRC): send it again
#   E  the bridge could not get an answer: payload = b"T" (host timeout) or
#      b"0"/b"1" (request not sent / sent) + reason text; ACKed like D
#   C  the bridge presents a card or a code from its deck (`posterm bridge --cards`): payload
#      = the card reader's event as JSON (["chip"], ["scan", "1345..."]); ACKed. A chip
#      card presented as ["chip"] / ["tap"] stays in the bridge's reader (its deck's virtual
#      card): the board's kernel talks to it in I / R frames. (["chip", {spec}] from an
#      older bridge: the firmware has no virtual card to build from it; the read fails)
#   I  the board's card reader to the card at the bridge: payload = a command APDU, or
#      nothing: power the card on (reset)
#   R  the card's answer to the I frame of the same seq: its response APDU (data, SW1 SW2)
#      or its ATR; nothing when no card is in the bridge's reader. A repeated I frame
#      (the same seq and bytes: its R was lost) gets the same R, the card not asked again
#   W  (0x57) board -> bridge, before each D: payload = the terminal's timeout, 1 byte of
#      seconds; not ACKed (the bridge keeps the last one). The bridge asks the host that
#      long from the D's arrival (boards.uartlink writes it; the board never reads one)
# A receiver resynchronises on the next STX after garbage or a bad frame.
from pos.crc import crc16_ccitt

STX = 0x02
DATA = 0x44  # "D"
ACK = 0x41  # "A"
NAK = 0x4E  # "N"
ERROR = 0x45  # "E"
CARD = 0x43  # "C"
ICC = 0x49  # "I"
ICC_REPLY = 0x52  # "R"
BAD = -1  # what Parser.feed reports for a frame with a bad CRC
MAX_PAYLOAD = 4096


def encode(kind, seq, payload=b""):
    # -> the frame (bytes), made in one buffer and copied once
    n = len(payload)
    out = bytearray(7 + n)
    out[0] = STX
    out[1] = kind
    out[2] = seq & 0xFF
    out[3] = n >> 8
    out[4] = n & 0xFF
    out[5 : 5 + n] = payload
    c = crc16_ccitt(memoryview(out)[1 : 5 + n])
    out[5 + n] = c >> 8
    out[6 + n] = c & 0xFF
    return bytes(out)


class Parser:
    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        # -> list of (kind, seq, payload); kind BAD (seq of the damaged frame) on a CRC error.
        # The buffer is cut in place and the CRC read through a view: one copy a frame (its
        # payload), not four (a chip read's every answer came through here)
        if data:
            self.buf.extend(data)
        out = []
        buf = self.buf
        while True:
            i = buf.find(b"\x02")
            if i < 0:
                buf[:] = b""
                break
            if i:
                buf[:i] = b""
            if len(buf) < 5:
                break
            kind = buf[1]
            n = (buf[3] << 8) | buf[4]
            if kind not in (DATA, ACK, NAK, ERROR, CARD, ICC, ICC_REPLY) or n > MAX_PAYLOAD:
                buf[:1] = b""
                continue
            end = 5 + n + 2
            if len(buf) < end:
                break
            c = (buf[end - 2] << 8) | buf[end - 1]
            mv = memoryview(buf)
            if crc16_ccitt(mv[1 : end - 2]) != c:
                del mv
                out.append((BAD, buf[2], b""))
                buf[:1] = b""
                continue
            out.append((kind, buf[2], bytes(mv[5 : end - 2])))
            del mv  # (CPython: a bytearray with a view on it cannot be resized)
            buf[:end] = b""
        return out
