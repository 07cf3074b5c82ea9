"""A recording 128x64 display driver that redraws only what changed, for the
display_bytes_per_key_ratio figure.

The panel is a 128x64 monochrome one (SSD1306 class): 8 pages of 8 pixel rows, one byte
per column and page, so a full frame is 1024 bytes. The core's grid is 4 rows of 16
cells; a text row is 16 pixels tall (2 pages) and a cell 8 pixels wide (an ASCII glyph
8x16, a CJK glyph 16x16 over 2 cells). For each row that differs from what the panel
shows, the driver sets a column window over the changed cells and sends those columns of
the row's 2 pages: 16 bytes per changed cell. An inverse change redraws the whole row.
"""

from pos import cells

FULL_FRAME_BYTES = 128 * 64 // 8
_BYTES_PER_CELL = 8 * 16 // 8


def _cells_of(line):
    # The line as one entry per display cell (a wide glyph fills 2, the second is "").
    out = []
    for ch in line:
        out.append(ch)
        if cells.char_width(ch) == 2:
            out.append("")
    return out


class RowDiffDisplay:
    def __init__(self, rows=4, cols=16):
        self.rows = rows
        self.cols = cols
        self.shown = None  # (cells per row, inverse mask)
        self.bytes_sent = 0
        self.frames = 0

    def show(self, frame):
        self.frames += 1
        new = [_cells_of(line) for line in frame.lines]
        if self.shown is None:
            self.bytes_sent += FULL_FRAME_BYTES
        else:
            old, old_inv = self.shown
            for r in range(self.rows):
                a = old[r]
                b = new[r]
                if (old_inv ^ frame.inverse) & (1 << r):
                    self.bytes_sent += self.cols * _BYTES_PER_CELL
                    continue
                first = -1
                last = -1
                for c in range(max(len(a), len(b))):
                    x = a[c] if c < len(a) else " "
                    y = b[c] if c < len(b) else " "
                    if x != y:
                        if first < 0:
                            first = c
                        last = c
                if first >= 0:
                    # a wide glyph cut by the window is redrawn whole
                    if first > 0 and (a[first] == "" or (first < len(b) and b[first] == "")):
                        first -= 1
                    nxt = last + 1
                    if (nxt < len(a) and a[nxt] == "") or (nxt < len(b) and b[nxt] == ""):
                        last = nxt
                    self.bytes_sent += (last - first + 1) * _BYTES_PER_CELL
        self.shown = (new, frame.inverse)
