# GBK text from the center (63.2 the issuer's name, 22 of a parameter download the merchant
# name) as str. MicroPython decodes only UTF-8, so the GB2312 characters are looked up in
# the table menus/gbk.bin (2 bytes per character, read one at a time: nothing is loaded);
# a GBK character outside GB2312 shows as "?". The codec hands an ans field over as one
# character per byte when it is not UTF-8 (pos.isobase.as_text): raw() gets the bytes back.
TABLE = "gbk.bin"


def raw(text):
    # the bytes of a field the codec decoded one character per byte, else its UTF-8
    for ch in text:
        if ord(ch) > 0xFF:
            return text.encode()
    return bytes([ord(ch) for ch in text])


def decode(data, resources):
    # GBK bytes -> str (ASCII as it is)
    out = []
    n = len(data)
    i = 0
    while i < n:
        c = data[i]
        if c < 0x80:
            out.append(chr(c))
            i += 1
            continue
        if i + 1 >= n:
            out.append("?")
            break
        d = data[i + 1]
        cp = 0
        if 0xA1 <= c <= 0xFE and 0xA1 <= d <= 0xFE:
            b = resources.read_at(TABLE, ((c - 0xA1) * 94 + d - 0xA1) * 2, 2)
            if b and len(b) == 2:
                cp = (b[0] << 8) | b[1]
        out.append(chr(cp) if cp else "?")
        i += 2
    return "".join(out)


def text(value, resources):
    # A decoded ans field as the center meant it: UTF-8 and ASCII as they are, GBK read
    for ch in value:
        if ord(ch) > 0xFF:
            return value  # it was UTF-8
    data = raw(value)
    for c in data:
        if c >= 0x80:
            return decode(data, resources)
    return value
