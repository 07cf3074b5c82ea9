# The screen model: a grid of rows x cells given by the display profile.
# A Frame is what one screen shows: its rows (each already fitted to the
# width) and which rows are drawn inverse (title bars, the selected item).
from pos import cells

# Display profiles: rows x cells of the character grid. 128x64 mono with an
# 8x16 / 16x16 font gives 4 rows of 16 cells; a 320x240 colour panel 15 x 40.
PROFILES = {
    "lcd128x64": (4, 16),
    "lcd320x240": (15, 40),
}
DEFAULT_PROFILE = "lcd128x64"


class Frame:
    def __init__(self, rows, cols):
        self.rows = rows
        self.cols = cols
        self.lines = [" " * cols] * rows
        self.inverse = 0  # bitmask of inverse rows

    def put(self, row, text, align="left", inverse=False):
        if row < 0 or row >= self.rows:
            return
        if align == "center":
            line = cells.center(text, self.cols)
        elif align == "right":
            line = cells.right(text, self.cols)
        else:
            line = cells.pad(text, self.cols)
        self.lines[row] = line
        if inverse:
            self.inverse |= 1 << row
        else:
            self.inverse &= ~(1 << row)

    def is_inverse(self, row):
        return bool(self.inverse & (1 << row))

    def text(self):
        # Rows without trailing blanks, as `posterm keys` prints them.
        return [line.rstrip() for line in self.lines]

    def __eq__(self, other):
        return (
            isinstance(other, Frame)
            and self.lines == other.lines
            and self.inverse == other.inverse
        )

    def __repr__(self):
        return "Frame(%r)" % (self.text(),)


def layout(rows, cols, title=None, body=None, footer=None, title_inverse=True):
    # The common screen: an inverse title bar, wrapped body text, and a footer
    # pinned to the last rows. When everything does not fit, the title goes
    # first (the prompt matters more), then body lines from the end.
    f = Frame(rows, cols)
    foot = cells.wrap(footer, cols) if footer else []
    lines = []
    if body:
        for part in body if isinstance(body, (list, tuple)) else (body,):
            lines.extend(cells.wrap(part, cols))
    if title is not None and 1 + len(lines) + len(foot) > rows:
        title = None
    top = 0
    if title is not None:
        f.put(0, title, "center", title_inverse)
        top = 1
    bottom = rows - len(foot)
    if bottom < top:
        bottom = top
    r = top
    for line in lines:
        if r >= bottom:
            break
        f.put(r, line)
        r += 1
    r = bottom
    for line in foot:
        if r >= rows:
            break
        f.put(r, line)
        r += 1
    return f
