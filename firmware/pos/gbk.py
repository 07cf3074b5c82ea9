# GBK text from the center (63.2 the issuer's name, 22 of a parameter download the merchant
# name) as str. MicroPython decodes only UTF-8, so the GB2312 characters are looked up in
# the table menus/gbk.bin (2 bytes per character, read one at a time: nothing is loaded);
# a GBK character outside GB2312 shows as "?". The codec hands an ans field over as one
# character per byte when it is not UTF-8 (pos.isobase.as_text): raw() gets the bytes back.
TABLE = "gbk.bin"


# Characters are never taken out of a str here (a character taken from a str, or made by
# chr(), is interned as a name on MicroPython, never freed): the text's UTF-8 is read as
# bytes, and a str is made from UTF-8 bytes once.


def _latin1(b):
    # b: UTF-8 of a text -> its bytes when every character is below U+0100 (one per byte,
    # as the codec hands a non-UTF-8 field over), else None
    out = bytearray()
    i = 0
    n = len(b)
    while i < n:
        c = b[i]
        if c < 0x80:
            out.append(c)
            i += 1
        elif c < 0xC4:  # U+0080..U+00FF: two bytes
            out.append(((c & 0x03) << 6) | (b[i + 1] & 0x3F))
            i += 2
        else:
            return None
    return bytes(out)


def raw(text):
    # the bytes of a field the codec decoded one character per byte, else its UTF-8
    b = text.encode()
    if len(b) == len(text):
        return b
    got = _latin1(b)
    return b if got is None else got


def _put(out, cp):
    # cp as UTF-8 onto the bytearray out
    if cp < 0x80:
        out.append(cp)
    elif cp < 0x800:
        out.append(0xC0 | (cp >> 6))
        out.append(0x80 | (cp & 0x3F))
    else:
        out.append(0xE0 | (cp >> 12))
        out.append(0x80 | ((cp >> 6) & 0x3F))
        out.append(0x80 | (cp & 0x3F))


def decode(data, resources):
    # GBK bytes -> str (ASCII as it is)
    out = bytearray()
    n = len(data)
    i = 0
    while i < n:
        c = data[i]
        if c < 0x80:
            out.append(c)
            i += 1
            continue
        if i + 1 >= n:
            out.append(0x3F)  # ?
            break
        d = data[i + 1]
        cp = 0
        if 0xA1 <= c <= 0xFE and 0xA1 <= d <= 0xFE:
            b = resources.read_at(TABLE, ((c - 0xA1) * 94 + d - 0xA1) * 2, 2)
            if b and len(b) == 2:
                cp = (b[0] << 8) | b[1]
        _put(out, cp if cp else 0x3F)
        i += 2
    return str(out, "utf-8")


def text(value, resources):
    # A decoded ans field as the center meant it: UTF-8 and ASCII as they are, GBK read
    b = value.encode()
    if len(b) == len(value):
        return value  # ASCII
    data = _latin1(b)
    if data is None:
        return value  # it was UTF-8
    return decode(data, resources)
