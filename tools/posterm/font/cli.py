"""posterm font build [--font FILE] [--out DIR]: the board font and GB2312 table."""

import os

from posterm import paths

DEFAULT_OUT = os.path.join(paths.FIRMWARE_DIR, "boards", "data")


def register(subparsers, common_options):
    p = subparsers.add_parser("font", help="build the board's CJK bitmap font")
    subs = p.add_subparsers(dest="font_cmd", metavar="COMMAND", required=True)
    b = subs.add_parser(
        "build",
        help="render every character the menus, strings, lessons and firmware use",
        description="Writes font16.bin (8x16 / 16x16 glyphs, sorted code points) and "
        "gb2312.bin (the printer's Unicode -> GB2312 table) for the board.",
    )
    b.add_argument(
        "--font",
        metavar="FILE",
        default=None,
        help="a TTF/TTC/PCF font (default: WenQuanYi Zen Hei from fonts-wqy-zenhei)",
    )
    b.add_argument("--out", metavar="DIR", default=DEFAULT_OUT, help="output directory")
    b.set_defaults(func=run_build)


def build(font_path=None, out_dir=DEFAULT_OUT):
    """-> (characters, missing list, font bytes, gb bytes); writes both files."""
    from posterm.font.boards_loader import load

    fontmod = load("font")
    gbmod = load("gbtable")
    from posterm.font import charset, render

    chars = charset.used()
    r = render.Renderer(render.find_font(font_path))
    narrow, wide, missing = {}, {}, []
    for ch in chars:
        g = r.glyph(ch)
        if g is None:
            missing.append(ch)
            continue
        (wide if g[0] == 16 else narrow)[ord(ch)] = g[1]
    font = fontmod.pack(narrow, wide)
    pairs = []
    for ch in chars:
        if ord(ch) < 0x80:
            continue
        try:
            code = ch.encode("gb2312")
        except UnicodeEncodeError:
            continue
        pairs.append((ord(ch), (code[0] << 8) | code[1]))
    gb = gbmod.pack(pairs)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "font16.bin"), "wb") as f:
        f.write(font)
    with open(os.path.join(out_dir, "gb2312.bin"), "wb") as f:
        f.write(gb)
    return chars, missing, font, gb


def run_build(args):
    from posterm.cli import CliError
    from posterm.font.render import FontToolError

    try:
        chars, missing, font, gb = build(args.font, args.out)
    except FontToolError as e:
        raise CliError(str(e)) from None
    print(
        f"{len(chars)} characters, {len(font)} bytes -> {args.out}/font16.bin; "
        f"GB2312 table {len(gb)} bytes -> {args.out}/gb2312.bin"
    )
    if missing:
        raise CliError("the font lacks " + "".join(missing) + ": choose another with --font")
    return 0
