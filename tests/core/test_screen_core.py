from mptest import eq, true
from pos import cells
from pos.screen import Frame, layout, PROFILES


def test_cjk_takes_two_cells_ascii_one():
    eq(cells.width("签到"), 4)
    eq(cells.width("POS"), 3)
    eq(cells.width("应答码:00"), 9)
    eq(cells.width("\uffe5100.00"), 8)


def test_wrap_never_exceeds_the_width_and_keeps_the_text():
    for text in (
        "签到用时可能会长,请耐心等待",
        "按确认键将为您签到!",
        "Signing in may take a while",
    ):
        for w in (8, 12, 16, 40):
            lines = cells.wrap(text, w)
            for line in lines:
                true(cells.width(line) <= w, "%r fits %d" % (line, w))
            eq("".join(lines).replace(" ", ""), text.replace(" ", ""))


def test_wrap_breaks_where_it_did_when_it_took_the_characters_out_one_by_one():
    # the wrapping reads the text's UTF-8 bytes (pos.cells._wrap_para: no one-character strs
    # made); these are the lines the character-by-character wrapping gave
    for text, w, dense, want in (
        ("确认结算当前批次？确认继续，取消退出", 16, False,
         ["确认结算当前批", "次？确认继续，", "取消退出"]),
        ("确认结算当前批次？确认继续，取消退出", 16, True,
         ["确认结算当前批", "次？确认继续，取", "消退出"]),
        ("金额\uffe512.34已扣款，请核对", 8, False,
         ["金额", "\uffe512.34", "已扣款，", "请核对"]),
        ("key hex:0123456789ABCDEF wrong", 10, False,
         ["key hex:", "0123456789", "ABCDEF", "wrong"]),
        ("交易成功」请取卡", 6, False, ["交易成", "功」", "请取卡"]),
        ("签到用时可能会长,请耐心等待", 12, True, ["签到用时可能", "会长,请耐心", "等待"]),
        ("abc  def ghi", 4, False, ["abc", "def", "ghi"]),
        ("卡号6212142000000000012请核对", 10, False,
         ["卡号", "6212142000", "000000012", "请核对"]),
        ("一二三四五六七八九十", 8, False, ["一二三四", "五六七八", "九十"]),
    ):
        eq(cells.wrap(text, w, dense), want, "%r at %d" % (text, w))
    # the closing punctuation as the bytes compare it is _NO_START's
    eq([ord(c) for c in cells._NO_START if ord(c) >= 0x80], list(cells._NO_START_CP))
    eq(bytes([ord(c) for c in cells._NO_START if ord(c) < 0x80]), cells._NO_START_ASCII)


def test_no_line_starts_with_closing_punctuation():
    lines = cells.wrap("签到用时可能会长,请耐心等待", 16)
    for line in lines:
        true(line[0] not in ",.!", line)


def test_frame_rows_are_padded_to_the_profile_width():
    f = Frame(4, 16)
    f.put(0, "菜单", "center", True)
    eq(cells.width(f.lines[0]), 16)
    true(f.is_inverse(0))
    eq(f.text()[0], "      菜单")


def test_clip_cuts_before_a_wide_char_that_does_not_fit():
    eq(cells.clip("ab签到", 3), "ab")
    eq(cells.pad("签到签到签到签到签", 16), "签到签到签到签到")


def test_layout_keeps_the_title_and_runs_the_prompt_on():
    f = layout(4, 16, "终端手动签到", "按确认键将为您签到!\n确认继续,取消退出")
    eq(f.text()[0].strip(), "终端手动签到")
    eq("".join(f.text()[1:]).replace(" ", ""), "按确认键将为您签到!确认继续,取消退出")


def test_large_profile_keeps_title_and_one_line_prompt():
    rows, cols = PROFILES["lcd320x240"]
    f = layout(rows, cols, "终端手动签到", "按确认键将为您签到!\n确认继续,取消退出")
    eq(f.text()[0].strip(), "终端手动签到")
    eq(f.text()[1], "按确认键将为您签到!")
