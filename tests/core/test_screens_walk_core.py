# Every screen of a merchant's day, on every display profile and in both languages: no
# text the flow wanted to show is cut by the layout (an amount, a trace, a time, a prompt),
# and every frame has its title row (issue 11, items 12 and 13). The walk is
# tests/core/screenwalk.py; a frame records what did not fit in Frame.cut.
from mptest import eq, true
import screenwalk
from rig import Rig
from pos.screen import layout, PROFILES

PAN = screenwalk.PAN


def _walk(profile, lang):
    w = screenwalk.Walk(profile, lang).day()
    eq(w.missed, [], "checkpoints of the walk (it went astray)")
    found = screenwalk.problems(w)
    eq(found[:8], [], "%d frames cut or without a title on %s/%s" % (len(found), profile, lang))
    true(len(w.r.frames) > 700, "the walk showed %d frames" % len(w.r.frames))


def test_every_screen_of_the_day_fits_with_a_title_on_4x16_zh():
    _walk("lcd128x64", "zh")


def test_every_screen_of_the_day_fits_with_a_title_on_4x16_en():
    _walk("lcd128x64", "en")


def test_every_screen_of_the_day_fits_with_a_title_on_15x40_zh():
    _walk("lcd320x240", "zh")


def test_every_screen_of_the_day_fits_with_a_title_on_15x40_en():
    _walk("lcd320x240", "en")


def _flat(frame):
    return [row.strip() for row in frame.text()]


def test_a_frame_records_what_it_could_not_show():
    f = layout(4, 16, "消费", ["预授权完成撤销 -150.00"] * 3)
    true(f.cut, "a body taller than the screen is recorded as cut")
    f = layout(4, 16, "消费", "交易成功")
    eq(f.cut, None)
    true(f.is_inverse(0) and f.lines[0].strip() == "消费", "the title is kept")


def test_layout_keeps_the_title_and_fills_the_rows_when_text_is_long():
    # 4.2's seed prompt: four rows nicely wrapped, so it runs on densely under the title
    f = layout(4, 16, "终端手动签到", "按确认键将为您签到!\n确认继续,取消退出")
    eq(f.cut, None)
    eq(_flat(f)[0], "终端手动签到")
    eq("".join(_flat(f)[1:]).replace(" ", ""), "按确认键将为您签到!确认继续,取消退出")


def _query_rig():
    r = Rig(profile="lcd128x64").sign_in()
    r.press("MENU", "1", "6", "1", "20000", "ENTER", "CARD=" + PAN, "123456", "ENTER", "ENTER")
    r.press("CANCEL")
    pa = None
    for e in r.t.journal.entries():
        if e.get("type") == "preauth":
            pa = e
    r.press("MENU", "1", "6", "2", "123456", "ENTER", "CARD=" + PAN, pa["auth"], "ENTER")
    r.press("1123", "ENTER", "20000", "ENTER", "ENTER", "ENTER", "CANCEL")
    return r


def test_query_shows_the_amount_the_trace_and_the_time_whole_on_4x16():
    r = _query_rig()
    mark = r.mark()
    r.press("MENU", "3", "1", "DOWN", "DOWN")
    rows = []
    for f in r.frames[mark:]:
        eq(f.cut, None, "query frame " + repr(f.text()))
        rows.extend(_flat(f))
    void = None
    for e in r.t.journal.entries():
        if e.get("type") == "preauth_void":
            void = e
    true("预授权撤销" in rows, "the type on a row of its own: " + repr(rows))
    true("-200.00" in rows, "the amount whole: " + repr(rows))
    true("凭证号:" + void["trace"] in rows, "the trace whole")
    true(void["time"][0:2] + ":" + void["time"][2:4] in rows, "the time whole")
    true(void["rrn"] in rows, "the reference number whole")


def test_query_down_shows_the_rest_of_a_record_then_the_next_older_one():
    r = _query_rig()
    r.press("MENU", "3", "1")
    first = r.screen()
    true("1/2" in first and "预授权撤销" in first, first)
    seen = [r.screen()]
    for _i in range(8):
        r.press("DOWN")
        seen.append(r.screen())
        if "2/2" in r.screen():
            break
    true("2/2" in seen[-1], "DOWN reached the older record: " + repr(seen))
    true(len(seen) > 2, "the newest record took more than one page on 4x16")
    r.press("UP")
    true("1/2" in r.screen(), "UP goes back to the newer record")


def test_totals_never_split_a_label_from_its_value():
    r = Rig(profile="lcd128x64").sign_in()
    for amount in ("100", "200", "300"):
        r.press("MENU", "1", "2", amount, "ENTER", "CARD=" + PAN, "ENTER", "ENTER", "CANCEL")
    r.press("MENU", "1", "6", "1", "5000", "ENTER", "CARD=" + PAN, "ENTER", "ENTER", "CANCEL")
    mark = r.mark()
    r.press("MENU", "3", "2", "DOWN", "DOWN", "DOWN")
    pages = [_flat(f) for f in r.frames[mark:] if "交易统计" in f.text()[0]]
    true(len(pages) >= 2, repr(pages))
    for page in pages:
        true(not page[-1].endswith("笔"), "a label ends a page: " + repr(page))
    joined = [row for page in pages for row in page]
    true("消费 3笔    6.00" in joined, repr(joined))
    true("借记合计 3笔" in joined and "6.00" in joined, repr(joined))


def test_paper_out_prints_only_after_enter_once_the_paper_is_back():
    r = Rig(profile="lcd128x64").sign_in()
    r.press("MENU", "1", "2", "100", "ENTER", "CARD=" + PAN, "ENTER", "ENTER", "ENTER", "CANCEL")
    n = len(r.receipts)
    r.event(("printer", "paper_out"))
    r.press("MENU", "2", "1")
    true("缺纸" in r.screen_flat(), r.screen())
    r.event(("printer", "ok"))
    eq(len(r.receipts), n, "paper back alone prints nothing")
    true("按确认打印" in r.screen_flat(), r.screen())
    true(r.t.frame.is_inverse(0), "the paper screen has its title")
    r.press("ENTER")
    eq(len(r.receipts), n + 1, "ENTER prints")


def test_paper_out_enter_while_still_out_does_not_print():
    r = Rig(profile="lcd128x64").sign_in()
    r.press("MENU", "1", "2", "100", "ENTER", "CARD=" + PAN, "ENTER", "ENTER", "ENTER", "CANCEL")
    n = len(r.receipts)
    r.event(("printer", "paper_out"))
    r.press("MENU", "2", "1", "ENTER")
    eq(len(r.receipts), n)
    true("缺纸" in r.screen_flat(), r.screen())


def test_a_swipe_while_a_menu_is_open_starts_the_sale():
    r = Rig(profile="lcd128x64").sign_in()
    r.press("MENU", "2")
    true("打印" in r.screen(), r.screen())
    r.press("CARD=" + PAN)
    true("请输入金额" in r.screen_flat(), "the sale asks for the amount: " + r.screen())
    r.press("100", "ENTER", "ENTER")
    true(r.seen("交易成功"), "the sale went through")


def test_enter_on_a_zero_amount_says_why():
    r = Rig(profile="lcd128x64").sign_in()
    r.press("MENU", "1", "2", "ENTER")
    true("金额不能为0" in r.screen_flat(), r.screen())
    r.press("CLEAR", "100", "ENTER")
    true("请插卡/刷卡/挥卡" in r.screen_flat(),
         "the entry goes on after the notice: " + r.screen())


def test_a_too_short_password_says_how_many_digits():
    r = Rig(profile="lcd128x64").sign_in()
    r.press("MENU", "1", "3", "123", "ENTER")
    true("密码为6位数字" in r.screen_flat(), r.screen())
    r.press("ENTER", "123456", "ENTER")
    true("原凭证号" in r.screen_flat(), "typed again from the start: " + r.screen())
    r.press("CANCEL", "MENU", "3", "3", "1", "ENTER")
    true("请输入2位数字" in r.screen_flat(), r.screen())


def test_every_profile_is_walked():
    eq(sorted(PROFILES.keys()), ["lcd128x64", "lcd320x240"], "a new profile needs its walk")


def test_the_english_slip_labels_the_remarks_remark_not_reference():
    r = Rig(profile="lcd128x64")
    r.t.strings.set_lang("en")
    r.sign_in()
    r.press("MENU", "1", "2", "100", "ENTER", "CARD=" + PAN, "ENTER", "ENTER", "ENTER")
    slip = r.receipt_text(0)
    true("REMARK:" in slip, slip)
    true("REFERENCE" not in slip, "备注 is a remark; the reference number is REFER NO:")


def test_every_response_code_text_fits_the_decline_screen_whole():
    # the walk meets a few codes; the decline screen of every code of the table, on every
    # profile and in both languages, under the longest transaction title
    from pos.compat import json

    for profile in sorted(PROFILES.keys()):
        r = Rig(profile=profile)
        t = r.t
        codes = sorted(json.loads(t.resources.read("respcodes.json")).keys())
        true(len(codes) > 50, "the CUP table")
        for lang in ("zh", "en"):
            t.strings.set_lang(lang)
            title = t.s("tx_completion_void")
            for code in codes:
                body = [t.s("resp_code", code), t.strings.response(code)]
                f = layout(t.rows, t.cols, title, body)
                eq(f.cut, None, "%s %s %s %r" % (profile, lang, code, f.text()))
