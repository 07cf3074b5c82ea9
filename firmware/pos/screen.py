# The screen model: a grid of rows x cells given by the display profile.
# A Frame is what one screen shows: its rows (each already fitted to the
# width) and which rows are drawn inverse (title bars, the selected item).
from pos import cells
from pos.compat import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any  # noqa: F401 - type comments only (no typing on the board)

# Display profiles: rows x cells of the character grid. 128x64 mono with an
# 8x16 / 16x16 font gives 4 rows of 16 cells; a 320x240 colour panel 15 x 40.
PROFILES = {
    "lcd128x64": (4, 16),
    "lcd320x240": (15, 40),
}
DEFAULT_PROFILE = "lcd128x64"


_BLANK = [None]  # a row of blanks, made once per width (" " * cols made a str per frame)


class Frame:
    def __init__(self, rows, cols):
        self.rows = rows
        self.cols = cols
        b = _BLANK[0]
        if b is None or len(b) != cols:
            b = " " * cols
            _BLANK[0] = b
        self.lines = [b] * rows
        self.inverse = 0  # bitmask of inverse rows
        self.cut = None  # texts the layout could not show whole (a list), for tests

    def _lost(self, text):
        if self.cut is None:
            self.cut = []
        self.cut.append(text)

    def put(self, row, text, align="left", inverse=False):
        # (7 locals, shallow expressions: 11 words of state, so that MicroPython keeps the
        # frame on the C stack; a bigger one is taken from the heap at each call, a search
        # of a fragmented heap: a screen puts a row 4 times)
        if row < 0 or row >= self.rows:
            if text.strip():
                self._lost(text)
            return
        line, w = cells.fit(text, self.cols)  # measured once (cells.fit: no str a character)
        if len(line) < len(text) and text[len(line) :].strip():
            self._lost(text)
        if w < self.cols:
            line = _padded(line, self.cols - w, align)
        self.lines[row] = line
        if inverse:
            self.inverse |= 1 << row
        else:
            self.inverse &= ~(1 << row)

    def copy(self):
        # a frame to change without changing this one (an input screen laid out once, its
        # field row put anew at each key)
        f = Frame(self.rows, self.cols)
        f.lines = list(self.lines)
        f.inverse = self.inverse
        f.cut = list(self.cut) if self.cut is not None else None
        return f

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


def _padded(line, room, align):
    # line padded with `room` blanks, by align: one format, one str made (the blanks and each
    # + were one each, every one looked for among the interned names on MicroPython: ~6,500
    # instructions a str on the unix port). The blanks are "" padded: MicroPython pads to a
    # width in bytes, CPython in characters
    if align == "center":
        left = room >> 1
        return "%*s%s%*s" % (left, "", line, room - left, "")
    if align == "right":
        return "%*s%s" % (room, "", line)
    return "%s%*s" % (line, room, "")


def _wrap_all(parts, cols, dense):
    # (while, not for: a for loop's iterator takes 4 words of the frame, over MicroPython's
    # 11 that keep it on the C stack; a bigger one is taken from the heap at every call)
    lines = []
    i = 0
    while i < len(parts):
        lines += cells.wrap(parts[i], cols, dense)
        i += 1
    return lines


def _merge(lines, cols):
    # short neighbouring lines share a row when they fit (the breaks stay where they were)
    out = []
    i = 0
    while i < len(lines):
        if out:
            joined = cells.run_on(out[-1], lines[i])
            if cells.width(joined) <= cols:
                out[-1] = joined
                i += 1
                continue
        out.append(lines[i])
        i += 1
    return out


def _fit(parts, footer, cols, room, dense):
    # -> (lines, footer lines) that fit in `room` rows, or None. Not dense: each part
    # wrapped at its breaks, then neighbouring short lines merged. Dense: rows filled (a
    # break between any two CJK characters), then all of it run on as one paragraph.
    foot = cells.wrap(footer, cols, dense) if footer else []
    lines = _wrap_all(parts, cols, dense)
    if len(lines) + len(foot) <= room:
        return lines, foot
    if not dense:
        lines = _merge(lines + foot, cols)
    else:
        flow = ""
        for part in parts + ([footer] if footer else []):
            for para in part.split("\n"):
                flow = cells.run_on(flow, para)
        lines = cells.wrap(flow, cols, True)
    if len(lines) <= room:
        return lines, []
    return None


# Screens laid out before, kept by a board's memory policy (pos.overlaycache.configure
# "screens"): a key whose screen was shown before (the idle screen, a purchase's prompts at
# every sale) gets a copy of it, not a new layout (each line a str made per cell width on
# MicroPython, every one looked for among the interned names). Two generations of at most
# MEMO[0] screens each (the older dropped when the newer is full); off (0) on a board
# without heap to spare, and given up when the heap is short (forget()).
MEMO = [0, None, None]  # type: Any  # cap, the newer screens, the older ones


def remember(cap):
    MEMO[0] = cap
    MEMO[1] = {} if cap else None
    MEMO[2] = {} if cap else None


def forget():
    # -> True when screens were kept (now given up)
    if MEMO[1] or MEMO[2]:
        MEMO[1] = {}
        MEMO[2] = {}
        return True
    return False


def layout(rows, cols, title=None, body=None, footer=None, title_inverse=True, reserve=0,
           footer_short=None):
    new = MEMO[1]
    if new is None:
        return _layout(rows, cols, title, body, footer, title_inverse, reserve, footer_short)
    key = (rows, cols, title, tuple(body) if isinstance(body, list) else body, footer,
           title_inverse, reserve, footer_short)
    f = new.get(key)
    if f is None:
        f = MEMO[2].get(key)
        if f is None:
            f = _layout(rows, cols, title, body, footer, title_inverse, reserve, footer_short)
        if len(new) >= MEMO[0]:
            MEMO[2] = new
            new = MEMO[1] = {}
        new[key] = f
    return f.copy()


def _layout(rows, cols, title=None, body=None, footer=None, title_inverse=True, reserve=0,
            footer_short=None):
    # The common screen: an inverse title bar, wrapped body text, and a footer pinned to
    # the last rows. The title is always there. When the text does not fit (see _fit), the
    # footer gives way to footer_short (a shorter key hint) before any row is filled
    # densely; what still does not fit is recorded in f.cut (a test fails on it: every
    # screen is laid out so that nothing is cut).
    # reserve: that many last rows are left blank for the caller (an input field).
    f = Frame(rows, cols)
    rows -= reserve
    parts = []
    if body:
        parts = list(body) if isinstance(body, (list, tuple)) else [body]
    room = rows - (1 if title is not None else 0)
    got = None
    footers = [footer] if footer_short is None else [footer, footer_short]
    for dense in (False, True):
        for foot in footers:
            if got is None:
                got = _fit(parts, foot, cols, room, dense)
    if got is None:
        lines = _wrap_all(parts, cols, True)
        foot = cells.wrap(footers[-1], cols, True) if footers[-1] else []
    else:
        lines, foot = got
    top = 0
    if title is not None:
        f.put(0, title, "center", title_inverse)
        top = 1
    bottom = max(top, rows - len(foot))
    r = top
    for line in lines:
        f.put(r if r < bottom else f.rows, line)  # a line below the room is lost (f.cut)
        r += 1
    r = bottom
    for line in foot:
        f.put(r, line)
        r += 1
    return f
