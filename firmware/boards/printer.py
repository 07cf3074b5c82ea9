# An ESC/POS thermal printer on a UART. Receipts come from the core as
# (style, text) lines (pos/receipt.py): "T" title (double size, bold,
# centred), "B" bold, "C" centred, "-" a rule, "" plain. Chinese goes out as
# GB2312 in the printer's Chinese mode (FS &). Paper status is read back with
# DLE EOT 4 where the printer answers it.
from pos import cells

ESC = b"\x1b"
GS = b"\x1d"
INIT = b"\x1b\x40"
CHINESE_ON = b"\x1c\x26"
BOLD_ON = b"\x1b\x45\x01"
BOLD_OFF = b"\x1b\x45\x00"
ALIGN_LEFT = b"\x1b\x61\x00"
ALIGN_CENTER = b"\x1b\x61\x01"
SIZE_DOUBLE = b"\x1d\x21\x11"
SIZE_NORMAL = b"\x1d\x21\x00"
FEED_AND_CUT = b"\x1b\x64\x04\x1d\x56\x42\x00"  # feed 4 lines, then a partial cut
STATUS_PAPER = b"\x10\x04\x04"  # DLE EOT 4: roll paper sensor


class EscPos:
    def __init__(self, uart, gb, width=32, cut=True):
        self.uart = uart
        # a gbtable.GbTable, or its file's path: then read for each slip (a board's 1.6 KB
        # table and boards.gbtable's code are not in the heap between slips, nor through
        # the exchanges)
        self.gb = gb
        self.width = width
        self.cut = cut

    def receipt_bytes(self, lines):
        return b"".join(self.receipt_parts(lines))

    def receipt_parts(self, lines):
        # the receipt's bytes, a few per line (generator: nothing holds the whole slip)
        w = self.width
        gb = self.gb
        if type(gb) is str:
            from boards import gbtable
            from pos import overlay

            gb = overlay.side(gbtable).GbTable.open(gb)
            del gbtable
        yield INIT + CHINESE_ON
        out = []
        for style, text in lines:
            if style == "T":
                text = cells.clip(text, w // 2)
                out.append(ALIGN_CENTER + SIZE_DOUBLE + BOLD_ON)
                out.append(gb.encode(text) + b"\n")
                out.append(BOLD_OFF + SIZE_NORMAL + ALIGN_LEFT)
            elif style == "B":
                out.append(BOLD_ON + gb.encode(cells.clip(text, w)) + b"\n" + BOLD_OFF)
            elif style == "C":
                out.append(ALIGN_CENTER + gb.encode(cells.clip(text, w)) + b"\n")
                out.append(ALIGN_LEFT)
            elif style == "-":
                out.append(b"-" * w + b"\n")
            else:
                out.append(gb.encode(cells.clip(text, w)) + b"\n")
            for part in out:
                yield part
            out = []
        if self.cut:
            yield FEED_AND_CUT

    def print_lines(self, lines):
        # line by line to the UART: the heap never holds the whole slip's bytes
        n = 0
        for part in self.receipt_parts(lines):
            self.uart.write(part)
            n += len(part)
        return n

    def status(self):
        # -> "ok", "paper_out", or None when the printer does not answer
        while self.uart.any():
            self.uart.read()
        self.uart.write(STATUS_PAPER)
        b = self.uart.read(1)
        if not b:
            return None
        # bits 5 and 6: paper end; fixed bits 1 and 4 are set, bit 7 clear
        if b[0] & 0x93 != 0x12:
            return None
        return "paper_out" if b[0] & 0x60 else "ok"
