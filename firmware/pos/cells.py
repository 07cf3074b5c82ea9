# Display cells: a CJK (wide) character takes 2 cells, everything else 1.
# MicroPython has no unicodedata, so the core carries its own table of wide
# ranges (East Asian Wide + Fullwidth). East Asian *ambiguous* glyphs are kept
# off the screen by the strings themselves (see tests/test_cells.py).

_WIDE = (
    (0x1100, 0x115F),
    (0x2E80, 0x303E),
    (0x3041, 0x33FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xA000, 0xA4CF),
    (0xAC00, 0xD7A3),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFF60),
    (0xFFE0, 0xFFE6),
    (0x1F300, 0x1F64F),
    (0x20000, 0x2FFFD),
    (0x30000, 0x3FFFD),
)

# Characters that must not start a line (kinsoku): closing punctuation.
_NO_START = ",.!?;:)]}%，。！？；：）、」』"


# Every character below this one is narrow (kept for the display's CPython path).
_FIRST_WIDE = b"\xe1\x84\x80".decode()  # U+1100
_CJK_FIRST = b"\xe4\xb8\x80".decode()  # U+4E00
_CJK_LAST = b"\xe9\xbf\xbf".decode()  # U+9FFF

# The widths are measured on the text's UTF-8 bytes (str.encode(), in C), never by taking
# its characters out one by one: on MicroPython every str made, a one-character one too,
# is first looked for among the interned names (a scan of the firmware's ~1,500 names:
# ~1.4 us a character on the unix port, most of a key's screen; max(text) did it once a
# character as well). A byte is a small int: no object made.


def cp_width(cp):
    # cells of code point cp
    if cp < 0x1100:
        return 1
    if 0x4E00 <= cp <= 0x9FFF:  # CJK ideographs: most wide characters on the screens
        return 2
    lo = 0
    hi = len(_WIDE) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        a, b = _WIDE[mid]
        if cp < a:
            hi = mid - 1
        elif cp > b:
            lo = mid + 1
        else:
            return 2
    return 1


def char_width(ch):
    return cp_width(ord(ch))


def measure(b, cells, start=0):
    # b: UTF-8 bytes. -> (cells, characters) of its longest prefix (from byte `start`) that
    # fits in `cells` (cells < 0: all of it). (~4,000 instructions a CJK character on the unix
    # port before its lead byte alone said so: U+5000..U+9FFF are all wide.) Few locals and
    # shallow expressions: 11 words of state, so that MicroPython keeps its frame on the C
    # stack (a bigger one is taken from the heap at every call: a search of a fragmented
    # heap, ~3,700 instructions; a screen measures a dozen times). c is the lead byte, then
    # the character's width; start walks the bytes
    n = len(b)
    w = 0
    k = 0
    if cells < 0:
        cells = 1 << 30
    while start < n:
        c = b[start]
        if c < 0x80:
            c = 1
            start += 1
        elif c >= 0xE5 and c <= 0xE9:  # U+5000..U+9FFF: CJK ideographs, wide
            c = 2
            start += 3
        elif c < 0xE0:  # U+0080..U+07FF: narrow
            c = 1
            start += 2
        elif c < 0xF0:
            c = ((c & 0x0F) << 12) | ((b[start + 1] & 0x3F) << 6)
            c |= b[start + 2] & 0x3F
            c = cp_width(c)
            start += 3
        else:
            c = (c & 0x07) << 18
            c |= (b[start + 1] & 0x3F) << 12
            c |= (b[start + 2] & 0x3F) << 6
            c |= b[start + 3] & 0x3F
            c = cp_width(c)
            start += 4
        if w + c > cells:
            return w, k
        w += c
        k += 1
    return w, k


def width(text):
    b = text.encode()
    if len(b) == len(text):  # ASCII: a cell a character
        return len(b)
    return measure(b, -1)[0]


def clip(text, cells):
    # Longest prefix of text that fits in cells.
    n = len(text)
    if n <= cells >> 1 or not text:
        return text  # fits even if every character is wide
    b = text.encode()
    if len(b) == n:
        return text[:cells] if n > cells else text
    k = measure(b, cells)[1]
    return text if k == n else text[:k]


def fit(text, cells):
    # -> (the longest prefix of text that fits in cells, its width)
    b = text.encode()
    n = len(text)
    if len(b) == n:
        if n > cells:
            return text[:cells], cells
        return text, n
    w, k = measure(b, cells)
    return (text if k == n else text[:k]), w


def pad(text, cells):
    text, w = fit(text, cells)
    return text + " " * (cells - w) if w < cells else text


def center(text, cells):
    text, w = fit(text, cells)
    room = cells - w
    left = room // 2
    return " " * left + text + " " * (room - left)


def right(text, cells):
    text, w = fit(text, cells)
    return " " * (cells - w) + text if w < cells else text


def wrap(text, cells, dense=False):
    # Wrap text into lines of at most `cells` cells. "\n" forces a break.
    # Lines break after a space or punctuation where possible, between any two
    # CJK characters otherwise, and never start with closing punctuation.
    # dense: fill each line (break between any two CJK characters), for a screen
    # that has no row to spare; ASCII words are still kept whole.
    # Joining the lines gives back the text (without the "\n" and the spaces
    # at which it broke).
    out = []
    if "\n" not in text:  # (a split makes a copy of the text: a str made)
        _wrap_para(text, cells, out, dense)
        return out
    # (while, not for: a for loop's iterator takes 4 words of the frame, over MicroPython's
    # 11 that keep it on the C stack; a bigger one is taken from the heap at every call)
    paras = text.split("\n")
    i = 0
    while i < len(paras):
        _wrap_para(paras[i], cells, out, dense)
        i += 1
    return out


# _NO_START's characters as the wrapping compares them in UTF-8: the ASCII ones as bytes, the
# others (all of U+3000..U+FFFF: three bytes each) as code points (tests/test_cells_rich.py)
_NO_START_ASCII = b",.!?;:)]}%"
_NO_START_CP = (0xFF0C, 0x3002, 0xFF01, 0xFF1F, 0xFF1B, 0xFF1A, 0xFF09, 0x3001, 0x300D, 0x300F)


def _offsets(b, nch):
    # -> the byte offset of each character of UTF-8 b, and len(b) after them (nch characters;
    # an ASCII text's are its indices: a range, nothing made)
    n = len(b)
    if n == nch:
        return range(n + 1)
    out = [n] * (nch + 1)  # one allocation (a list grown by append is reallocated)
    i = 0
    k = 0
    while k < nch:
        out[k] = i
        c = b[i]
        i += 1 if c < 0x80 else 2 if c < 0xE0 else 3 if c < 0xF0 else 4
        k += 1
    return out


def _word_at(b, o, i):
    # _is_word() of the i-th character (o: the offsets), read from its bytes
    a = o[i]
    k = o[i + 1] - a
    if k == 1:
        c = b[a]
        return 48 <= c <= 57 or 97 <= c <= 122 or 65 <= c <= 90 or c in b".-*"
    return k == 3 and b[a] == 0xEF and b[a + 1] == 0xBF and b[a + 2] == 0xA5  # U+FFE5


def _no_start_at(b, o, i):
    # the i-th character is one of _NO_START
    a = o[i]
    k = o[i + 1] - a
    if k == 1:
        return b[a] in _NO_START_ASCII
    if k != 3:
        return False
    cp = ((b[a] & 0x0F) << 12) | ((b[a + 1] & 0x3F) << 6) | (b[a + 2] & 0x3F)
    return cp in _NO_START_CP


def _wrap_para(text, cells, out, dense=False):
    # The text's characters are looked at in its UTF-8 bytes (a byte is a small int), never
    # as one-character strs: on MicroPython each str made, a slice too, is first looked for
    # among the interned names (~6,500 instructions with the firmware's ~1,000; a 4-row
    # confirmation screen, laid out up to four ways, made ~100 of them); only the lines are
    # made. s: the first character of what is left to wrap; the indices below count from it.
    if text == "":
        out.append("")
        return
    b = text.encode()
    nch = len(text)
    if len(b) == nch:
        cut = nch if nch <= cells else cells  # ASCII: a cell a character
    else:
        cut = measure(b, cells)[1]  # (its characters counted once: the fit and the cut)
    if cut == nch:  # it fits
        out.append(text)
        return
    o = _offsets(b, nch)
    s = 0
    while s < nch:
        n = nch - s  # characters left
        if s:
            cut = measure(b, cells, o[s])[1]
        if cut == n:  # the rest fits
            out.append(text if s == 0 else b[o[s] :].decode())
            return
        # prefer a break at a space or after punctuation in the second half
        best = -1
        i = 0 if dense else cut
        while i > cut // 2:
            c = s + i - 1
            x = b[o[c]]  # its first byte: 32 is a space; a closing mark is ASCII or led by
            # 0xE3 / 0xEF (U+3000.., U+FF00..): only then is it looked at closer (two calls
            # a character, and two more for a word around it, were made at every one)
            if x == 32:
                best = i
                break
            if (
                (x == 0xE3 or x == 0xEF or x in _NO_START_ASCII)
                and _no_start_at(b, o, c)
                and not (i < n and i > 1 and _word_at(b, o, c + 1) and _word_at(b, o, c - 1))
            ):
                best = i  # (not inside 12.34 or 1.2.3.4)
                break
            i -= 1
        # an ASCII word (digits, latin) is not split when it can move down whole
        if best < 0 and cut < n and _word_at(b, o, s + cut - 1) and _word_at(b, o, s + cut):
            j = cut - 1
            while j > 0 and _word_at(b, o, s + j - 1):
                j -= 1
            if j > 0:
                best = j
        if best < 0:
            best = cut
            # kinsoku: the next line must not start with closing punctuation
            while best > 1 and best < n and _no_start_at(b, o, s + best):
                best -= 1
            # ... and that must not split an ASCII word ("hex:" stays whole)
            j = best
            while j > 0 and j < n and _word_at(b, o, s + j - 1) and _word_at(b, o, s + j):
                j -= 1
            if 0 < j < best:
                best = j
            # no orphan: a last line of one character (plus punctuation) takes one more
            if not dense and best > 2 and n - best <= 2 and measure(b, -1, o[s + best])[0] <= 3:
                best -= 1
        a = o[s]
        z = o[s + best]
        if z > a and b[z - 1] == 32:  # the line's last space goes
            z -= 1
        s += best
        if s < nch and b[o[s]] == 32:  # the rest's first space too
            s += 1
        out.append(b[a:z].decode())


def _is_word(ch):
    # letters, digits and what an amount or a number is made of (12.34, -5.00, ￥12.34, 6212**12)
    return ("0" <= ch <= "9") or ("a" <= ch <= "z") or ("A" <= ch <= "Z") or ch in ".-*\uffe5"


def run_on(a, b):
    # a and b as one paragraph: nothing before a CJK character that follows CJK or
    # punctuation ("签到!确认"), or when either side is blank at the joint; else a space.
    # Read from their UTF-8 bytes: a character taken out of a str is a str made (and looked for
    # among the interned names on MicroPython, ~6,500 instructions each: two a joint were)
    if not a or not b:
        return a + b
    ea = a.encode()
    eb = b.encode()
    y = ea[-1]
    if y == 32 or eb[0] == 32:
        return a + b
    if measure(eb, 1)[1]:  # b's first character fits in one cell: narrow
        return a + " " + b
    if y < 0x80:
        return a + b if y in _NO_START_ASCII else a + " " + b
    i = len(ea) - 1
    while ea[i] & 0xC0 == 0x80:  # back to the last character's first byte
        i -= 1
    if not measure(ea, 1, i)[1]:  # wide (every non-ASCII closing mark is)
        return a + b
    return a + " " + b
