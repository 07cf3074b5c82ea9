"""The terminal's GB2312 -> Unicode table (menus/gbk.bin), built from Python's codec.

The core reads GBK text from the center (the issuer's name in 63.2, a merchant name in a
parameter download) through it, since MicroPython decodes only UTF-8: for the double byte
(hi, lo) with both in A1..FE, entry ((hi - A1) * 94 + lo - A1) is the code point as 2 bytes
big-endian, 0 where GB2312 has no character. `python -m posterm.gbkdata` rewrites the file;
a test checks that it is what this builds."""

import pathlib
import sys

from posterm import paths


def build():
    out = bytearray()
    for hi in range(0xA1, 0xFF):
        for lo in range(0xA1, 0xFF):
            try:
                cp = ord(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                cp = 0
            out += bytes((cp >> 8, cp & 0xFF))
    return bytes(out)


def main():
    path = pathlib.Path(paths.MENUS_DIR) / "gbk.bin"
    path.write_bytes(build())
    print(f"{path}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
