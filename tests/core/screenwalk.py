# A merchant's whole day on a Rig, walking every screen a cashier and a manager meet:
# sign-in, purchases (swiped, inserted, tapped, the fallback), QR payments (confirmed on the
# phone) and a QR refund, void, refund, preauth and its completion, balance, the query pages,
# the statistics pages, the reports, settings, paper out, cashiers, the lock, settlement.
# Used by test_screens_walk_core.py on every display profile and in both languages.
# Not a test module.
from rig import Rig
import fakecenter

PAN = "6212142000000000012"
SUP = "123456"
# the deck's chip cards as their virtual chips (pos.emv.card specs): a debit card that can be
# tapped too, one with two applications, one whose chip fails; a chip card's stripe says 220
CHIP_PAN = "6212142000000001036"
CHIP_TRACK = "CARD=" + CHIP_PAN + "=311222003579024"
_IMK = "0123456789ABCDEFFEDCBA9876543210"
QR_NOW = "134567890000000011"  # payment codes of the deck: paid at once / confirmed
QR_CONFIRM = "6288880000000000029"


def icc(**more):
    spec = {"pan": CHIP_PAN, "expiry": "3112", "pin": "123456", "seq": "01",
            "label": "UnionPay Debit", "imk_ac": _IMK, "track2": CHIP_TRACK[5:],
            "contactless": True}
    for k in more:
        spec[k] = more[k]
    return spec


def two_apps():
    return icc(apps=[{"aid": "A000000333010101", "label": "UnionPay Debit", "priority": 1},
                     {"aid": "A000000333010102", "label": "UnionPay Credit", "priority": 2}])
ADMIN = "12345678"


class Walk:
    def __init__(self, profile, lang="zh"):
        self.r = Rig(profile=profile, center=fakecenter.Center())
        self.lang = lang
        self.steps = []  # (step name, first frame index) for the report
        self.missed = []  # checkpoints whose text never showed: the walk went astray

    def step(self, name, *tokens):
        # every step starts at the idle screen (CANCEL out of whatever the last one left)
        n = 0
        while not self.at_idle() and n < 6:
            self.r.press("CANCEL")
            n += 1
        self.steps.append((name, len(self.r.frames)))
        for tok in tokens:
            if isinstance(tok, tuple):
                self.r.event(tok)  # a card reader event: ("chip", spec), ("tap", spec) ...
            else:
                self.r.press(tok)

    def at_idle(self):
        from pos.flows.main import idle_frame

        return self.r.t.frame == idle_frame(self.r.t) and self.r.t.waiting_for() == "input"

    def expect(self, zh, en):
        # a checkpoint: the walk is where it thinks it is (else its frames prove nothing)
        want = zh if self.lang == "zh" else en
        since = self.steps[-1][1] if self.steps else 0
        if not self.r.seen(want, since):
            self.missed.append((self.steps[-1][0], want))

    def step_of(self, index):
        name = ""
        for n, at in self.steps:
            if at <= index:
                name = n
        return name

    def trace_of(self, kind):
        for e in reversed(self.r.t.journal.entries()):
            if e.get("type") == kind:
                return e
        return None

    def day(self):
        r = self.r
        E = "ENTER"
        if self.lang == "en":
            self.step("5.5 language", "MENU", "5", "5", ADMIN, E, "2", E)
            self.expect("设置成功", "Saved")
        self.step("refused unsigned", "CARD=" + PAN, E, "CANCEL")
        self.expect("请做终端签到", "Please sign in")
        self.step("4.2 manual sign-in", "MENU", "4", "2", E, E)
        self.expect("签到成功", "Signed in")
        self.step("1.1 sign-in", "MENU", "1", "1", E, E)
        self.expect("签到成功", "Signed in")
        self.step("4.1 menu update", "MENU", "4", "1", E)
        self.step("idle swipe purchase", "CARD=" + PAN, "28000", E, "123456", E, E, E)
        self.expect("交易成功", "Approved")
        self.step("1.2 purchase", "MENU", "1", "2", E, E, "9999999999", E, "CARD=" + PAN,
                  "123456", E, E, E)
        self.expect("999999.99", "999999.99")
        self.step("1.2 purchase no pin", "MENU", "1", "2", "1234", E, "CARD=" + PAN, E, E,
                  "CANCEL")
        small = self.trace_of("purchase")
        self.step("swipe in a menu", "MENU", "2", "CARD=" + PAN, "100", E, E, E, E)
        self.expect("交易成功", "Approved")
        self.step("chip purchase", "MENU", "1", "2", "100", E, ("chip", icc()), "123456", E,
                  ("removed",), E)
        self.expect("请勿拔卡", "Processing")
        self.step("idle insert", ("chip", icc()), "200", E, "123456", E, E, ("removed",))
        self.expect("交易成功", "Approved")
        self.step("tap no pin", "MENU", "1", "2", "300", E, ("tap", icc()), E)
        self.expect("请移开卡片", "Remove card")
        self.step("tap over the limit", "MENU", "1", "2", "150000", E, ("tap", icc()),
                  "123456", E, E)
        self.expect("请输入密码", "Enter PIN")
        self.step("two applications", "MENU", "1", "2", "400", E, ("chip", two_apps()), "1",
                  "123456", E, E, ("removed",))
        self.expect("请选择应用", "Select app")
        self.step("swiped chip card", "MENU", "1", "2", "500", E, CHIP_TRACK, "CANCEL")
        self.expect("请插卡", "Insert card")
        broken = icc(broken=True)
        self.step("chip fallback", "MENU", "1", "2", "600", E, ("chip", broken), ("chip", broken),
                  ("chip", broken), CHIP_TRACK, "123456", E, E)
        self.expect("IC卡读卡失败,请刷卡", "Chip failed")
        self.step("refund on a chip card's stripe", "MENU", "1", "4", SUP, E, CHIP_TRACK,
                  "CANCEL")
        self.expect("原参考号", "Original ref")
        self.step("1.9 qr sale", "MENU", "1", "9", "700", E, "SCAN=" + QR_NOW, E, E)
        self.expect("请扫描顾客付款码", "Scan the")
        qr = self.trace_of("qr_sale")
        r.center.then("code:09")
        self.step("1.9 qr sale confirmed on the phone", "MENU", "1", "9", "800", E,
                  "SCAN=" + QR_CONFIRM, E, E, E)
        self.expect("请顾客在手机上确认", "phone")
        self.step("idle scan", ("scan", QR_NOW), "600", E, E, E)
        self.expect("扫码支付", "QR payment")
        self.step("1.9 qr bad code", "MENU", "1", "9", "900", E, "1234567890", E, "CANCEL")
        self.step("qr refund", "MENU", "1", "4", SUP, E, "SCAN=" + QR_NOW, qr["rrn"], E,
                  "1123", E, "300", E, E, E)
        self.expect("交易成功", "Approved")
        self.step("1.3 void", "MENU", "1", "3", SUP, E, small["trace"], E, E, "CARD=" + PAN,
                  E, E, E)
        self.expect("交易成功", "Approved")
        big = r.t.journal.entries()[0]
        mmdd = "1123"
        self.step("1.3 void again", "MENU", "1", "3", SUP, E, small["trace"], E, E)
        self.step("1.4 refund", "MENU", "1", "4", SUP, E, "CARD=" + PAN, big["rrn"], E, mmdd,
                  E, "5000", E, E, E, E)
        self.expect("交易成功", "Approved")
        self.step("1.4 refund too much", "MENU", "1", "4", SUP, E, "CARD=" + PAN, big["rrn"], E,
                  mmdd, E, "9999999", E, E)
        self.step("1.5 balance", "MENU", "1", "5", "CARD=" + PAN, "123456", E, E)
        self.expect("1234.56", "1234.56")
        self.step("1.6.1 preauth", "MENU", "1", "6", "1", "20000", E, "CARD=" + PAN, "123456",
                  E, E, E)
        pa = self.trace_of("preauth")
        self.step("1.6.3 completion", "MENU", "1", "6", "3", "CARD=" + PAN, pa["auth"], E,
                  mmdd, E, "15000", E, "123456", E, E, E)
        self.expect("交易成功", "Approved")
        comp = self.trace_of("completion")
        self.step("1.6.4 completion void", "MENU", "1", "6", "4", SUP, E, comp["trace"], E, E,
                  "CARD=" + PAN, E, E, E)
        self.expect("交易成功", "Approved")
        self.step("1.6.1 preauth 2", "MENU", "1", "6", "1", "30000", E, "CARD=" + PAN,
                  "123456", E, E, E)
        pa = self.trace_of("preauth")
        self.step("1.6.2 preauth void", "MENU", "1", "6", "2", SUP, E, "CARD=" + PAN,
                  pa["auth"], E, mmdd, E, "30000", E, E, E, E)
        self.expect("交易成功", "Approved")
        r.center.then("code:51")
        self.step("decline 51", "MENU", "1", "2", "100", E, "CARD=" + PAN, E, E)
        self.expect("51", "51")
        r.center.then("code:97")
        self.step("decline 97", "MENU", "1", "2", "100", E, "CARD=" + PAN, E, E)
        r.center.then("link")
        self.step("link down", "MENU", "1", "2", "100", E, "CARD=" + PAN, E, E)
        r.event(("printer", "paper_out"))
        self.step("paper out in a sale", "MENU", "1", "2", "100", E, "CARD=" + PAN, E)
        self.expect("缺纸", "paper")
        r.event(("printer", "ok"))
        self.step("paper back", E, E, E)
        n = len(r.t.journal.entries())
        self.step("3.1 query", "MENU", "3", "1", *(["DOWN"] * (4 * n + 4)))
        self.step("3.1 query up", *(["UP"] * 8))
        self.step("3.1 query trace", E, small["trace"], E, E, "999999", E, E, "CANCEL",
                  "CANCEL")
        self.step("3.2 totals", "MENU", "3", "2", *(["DOWN"] * 12), "CANCEL")
        self.step("2.1 reprint last", "MENU", "2", "1", E, "CANCEL")
        self.step("2.2 reprint any", "MENU", "2", "2", small["trace"], E, E, "CANCEL")
        self.step("2.2 reprint none", "MENU", "2", "2", "999999", E, E, "CANCEL")
        self.step("2.3 detail", "MENU", "2", "3", "CANCEL")
        self.step("2.4 totals", "MENU", "2", "4", "CANCEL")
        r.event(("printer", "paper_out"))
        self.step("paper out", "MENU", "2", "1")
        self.expect("缺纸", "paper")
        r.event(("printer", "ok"))
        self.step("paper back 2", E, E, "CANCEL")
        self.step("3.3 operator sign-in", "MENU", "3", "3", "00", E, E, "42", E, E, "02", E, "1",
                  E, "1111", E, E, "0000", E, E)
        self.expect("柜员签到成功", "Operator signed")
        self.step("3.4.1 add", "MENU", "3", "4", "1", SUP, E, "02", E, E, "07", E, "1234", E,
                  "4321", E, E, "1234", E, "1234", E, E, "CANCEL", "CANCEL")
        self.step("3.4.2 delete", "MENU", "3", "4", "2", SUP, E, "02", E, E, "07", E, E, E,
                  "CANCEL", "CANCEL")
        self.step("3.4.3 password", "MENU", "3", "4", "3", E, "9999", E, E, "0000", E, "1111",
                  E, "1111", E, E, "CANCEL", "CANCEL")
        self.step("3.4.4 list", "MENU", "3", "4", "4", SUP, E, "DOWN", "DOWN", "CANCEL",
                  "CANCEL", "CANCEL")
        self.step("3.4.5 supervisor pw", "MENU", "3", "4", "5", SUP, E, "654321", E, "654321",
                  E, E, "CANCEL", "CANCEL")
        sup = "654321"
        self.step("3.5 lock", "MENU", "3", "5", E, "123", E, E, "12345", E, E, "9999", E, E,
                  "1111", E, E)
        self.expect("键盘已锁定", "Keypad locked")
        self.step("locked", "1", "MENU", "05", E, E, "02", E, "9999", E, E, "02", E, "1111", E,
                  E)
        self.step("5.1 params", "MENU", "5", "1", *(["DOWN"] * 10), "CANCEL", "CANCEL")
        self.step("5.2 merchant", "MENU", "5", "2", "1", E, E, "12345678", E, "2", "CLEAR", E,
                  E, "CLEAR", E, E, "8", E, E, "CANCEL")
        r.t.link_kind = "embedded"  # as the emulator's driver says: 5.3 tells what is not used
        self.step("5.3 comms", "MENU", "5", "3", ADMIN, E, E, ".", E, E, "CLEAR", E, "CLEAR",
                  "CLEAR", "CLEAR", "CLEAR", "0", E, E, "CLEAR", "5800", E, "F1", E, E, "CLEAR",
                  E, E, E, "CLEAR", "CLEAR", "CLEAR", "2", E, E, "CLEAR", "003", E, E, E,
                  "CANCEL")
        self.step("5.4 trade", "MENU", "5", "4", ADMIN, E, "CLEAR", "CLEAR", "CLEAR", "0", E, E,
                  "CLEAR", "300", E, E, "1", E, "CANCEL")
        self.step("5.6 tmk", "MENU", "5", "6", ADMIN, E, "123", E, E, "CLEAR", "CLEAR", "CLEAR",
                  "1111111111111111", E, "2222222222222222", E, "CANCEL", "CANCEL")
        self.step("5.7 clear unsettled", "MENU", "5", "7", ADMIN, E, E, "CANCEL")
        self.step("5.8 admin pw", "MENU", "5", "8", ADMIN, E, "1", E, "CANCEL", "CANCEL")
        self.step("5.9 status upload", "MENU", "5", "9", ADMIN, E, "2900", E, "CLEAR", "9999",
                  E, E, "CLEAR", "CLEAR", "CLEAR", "CLEAR", "0", E, E, "CANCEL")
        self.expect("设置成功", "Saved")
        self.step("3.6 no reversal", "MENU", "3", "6", E, "CANCEL")
        r.center.then("timeout")
        self.step("timeout", "MENU", "1", "2", "100", E, "CARD=" + PAN, E, E)
        self.expect("超时", "Timed out")
        self.step("3.6 delete reversal", "MENU", "3", "6", sup, E, E, E, "CANCEL")
        self.step("1.7 settle", "MENU", "1", "7", E, E, E, E, E)
        self.step("2.5 reprint settlement", "MENU", "2", "5", E, "CANCEL")
        self.step("5.7 clear", "MENU", "5", "7", ADMIN, E, E, E, "CANCEL")
        self.step("empty views", "MENU", "3", "2", "CANCEL", "1", E, "CANCEL", "CANCEL")
        self.step("1.8 sign-out", "MENU", "1", "8", E, E, E)
        return self


def title_row(frame):
    # the title is the first row, drawn inverse, not blank
    return frame.is_inverse(0) and frame.lines[0].strip() != ""


def problems(walk):
    # -> lines naming every frame of the walk that cut a text or has no title
    out = []
    for i in range(len(walk.r.frames)):
        f = walk.r.frames[i]
        where = walk.step_of(i) + " #" + str(i) + " " + repr(f.text())
        if f.cut:
            out.append("cut " + repr(f.cut) + " in " + where)
        if not title_row(f):
            out.append("no title in " + where)
    return out
