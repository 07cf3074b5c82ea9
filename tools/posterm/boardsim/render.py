"""What the board sim shows: the display's framebuffer as text blocks or PNG, the printer's
ESC/POS bytes as the slip."""

import struct
import zlib

WIDTH = 128
HEIGHT = 64


def pixels(buf, width=WIDTH, height=HEIGHT):
    """SSD1306 memory (pages of column bytes, bit 0 = top: framebuf MONO_VLSB) -> rows of
    0/1 lists."""
    rows = []
    for y in range(height):
        base = (y >> 3) * width
        bit = 1 << (y & 7)
        rows.append([1 if buf[base + x] & bit else 0 for x in range(width)])
    return rows


_HALF = {(0, 0): " ", (1, 0): "\u2580", (0, 1): "\u2584", (1, 1): "\u2588"}


def blocks(buf, width=WIDTH, height=HEIGHT):
    """The picture as text: one character per pixel column and two pixel rows (half blocks),
    in a frame."""
    px = pixels(buf, width, height)
    out = ["+" + "-" * width + "+"]
    for y in range(0, height, 2):
        top, bottom = px[y], px[y + 1]
        out.append("|" + "".join(_HALF[(top[x], bottom[x])] for x in range(width)) + "|")
    out.append("+" + "-" * width + "+")
    return "\n".join(out)


def png(buf, scale=4, width=WIDTH, height=HEIGHT):
    """The picture as a PNG (lit pixels light blue on dark, as an OLED), `scale` x size."""
    px = pixels(buf, width, height)
    on, off = b"\x9f\xd8\xff", b"\x08\x10\x18"
    raw = bytearray()
    for y in range(height * scale):
        row = px[y // scale]
        raw.append(0)
        for x in range(width * scale):
            raw += on if row[x // scale] else off
    w, h = width * scale, height * scale

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


def slip(data, width=32):
    """ESC/POS bytes -> the slip as text lines. Handles what the firmware's driver sends
    (ESC @, FS & / FS . Chinese mode with GB2312, ESC E bold, GS ! size, ESC a align,
    ESC d feed, GS V cut, DLE EOT status); other escapes are shown as <ESC x>."""
    lines = []
    cur = bytearray()
    state = {"chinese": False, "align": 0, "double": False}

    def flush():
        text = _decode(bytes(cur), state["chinese"])
        cells = _cells(text) * (2 if state["double"] else 1)
        pad = 0
        if state["align"] == 1 and cells < width:
            pad = (width - cells) // 2
        elif state["align"] == 2 and cells < width:
            pad = width - cells
        lines.append(" " * pad + text)
        cur.clear()

    i = 0
    n = len(data)
    while i < n:
        b = data[i]
        if b == 0x0A:
            flush()
            i += 1
        elif b == 0x1B and i + 1 < n:
            c = data[i + 1]
            if c == 0x40:  # ESC @
                state.update(chinese=False, align=0, double=False)
                i += 2
            elif c in (0x45, 0x61, 0x21, 0x2D, 0x74) and i + 2 < n:  # E a ! - t
                if c == 0x61:
                    state["align"] = data[i + 2]
                i += 3
            elif c == 0x64 and i + 2 < n:  # ESC d n: feed n lines
                lines.extend([""] * data[i + 2])
                i += 3
            else:
                cur.extend(b"<ESC %02x>" % c)
                i += 2
        elif b == 0x1C and i + 1 < n:
            state["chinese"] = data[i + 1] == 0x26
            i += 2
        elif b == 0x1D and i + 1 < n:
            c = data[i + 1]
            if c == 0x21 and i + 2 < n:  # GS ! n
                state["double"] = data[i + 2] & 0x0F > 0
                i += 3
            elif c == 0x56 and i + 2 < n:  # GS V m [n]: cut
                i += 4 if data[i + 2] in (0x41, 0x42, 65, 66) else 3
                if cur:
                    flush()
                lines.append("--- cut " + "-" * (width - 8))
            else:
                cur.extend(b"<GS %02x>" % c)
                i += 2
        elif b == 0x10 and i + 2 < n and data[i + 1] == 0x04:  # DLE EOT n
            i += 3
        else:
            cur.append(b)
            i += 1
    if cur:
        flush()
    return lines


def _decode(raw, chinese):
    if chinese:
        return raw.decode("gb2312", "replace")
    return raw.decode("ascii", "replace")


def _cells(text):
    from pos.cells import width

    return width(text)
