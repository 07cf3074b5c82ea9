# The catalog's entry column (pos.catalog) is the terminal's too, not only the center's:
# every transaction type's card prompt asks for the modes its row allows and no other, and a
# card presented in a mode the row does not allow is told on screen (该交易不支持挥卡) and
# the prompt asked again: nothing sent, nothing journalled. Every row is walked.
from mptest import contains, eq, true
from pos import catalog
from txhelp import PAN, SUPERVISOR, buy, last_of, rig

CHIP = {"pan": PAN, "seq": "01", "expiry": "3012", "pin": "123456",
        "imk_ac": "0123456789ABCDEFFEDCBA9876543210", "label": "UnionPay Debit"}  # fmt: skip
CODE = "134567890000000011"  # a WeChat Pay code of the deck
# how each mode is presented at a prompt
PRESENT = {
    "c": ("event", ("chip", CHIP)),
    "t": ("event", ("tap", CHIP)),
    "s": ("keys", ("CARD=" + PAN,)),
    "q": ("event", ("scan", CODE)),
}
# the keys from the idle screen to each card-reading type's card prompt (the day below has a
# purchase, a pre-authorisation and its completion in the journal)
PATHS = {
    "balance": ("MENU", "1", "5"),
    "purchase": ("MENU", "1", "2", "100", "ENTER"),
    "void": ("MENU", "1", "3", SUPERVISOR, "ENTER", "<purchase>", "ENTER", "ENTER"),
    "refund": ("MENU", "1", "4", SUPERVISOR, "ENTER"),
    "preauth": ("MENU", "1", "6", "1", "100", "ENTER"),
    "preauth_void": ("MENU", "1", "6", "2", SUPERVISOR, "ENTER"),
    "completion": ("MENU", "1", "6", "3"),
    "completion_void": ("MENU", "1", "6", "4", SUPERVISOR, "ENTER", "<completion>", "ENTER",
                        "ENTER"),
    "qr_sale": ("MENU", "1", "9", "100", "ENTER"),
}
# rows with no prompt of their own: a QR void asks no card (the original's code), a QR refund
# is the refund's prompt scanning a code, the result query is sent by the QR sale
SHARED = {"qr_void": None, "qr_refund": "refund", "qr_query": None}


def _day():
    r = rig()
    buy(r, "5000")
    r.press("MENU", "1", "6", "1", "50000", "ENTER", "CARD=" + PAN, "123456", "ENTER",
            "ENTER", "CANCEL")  # fmt: skip
    pa = last_of(r, "preauth")
    r.press("MENU", "1", "6", "3", "CARD=" + PAN, pa["auth"], "ENTER", "1123", "ENTER")
    r.press("45000", "ENTER", "123456", "ENTER", "CANCEL", "CANCEL")
    true(last_of(r, "completion") is not None, "the day has a completion")
    return r


def _to_prompt(r, kind):
    for key in PATHS[kind]:
        if key[0] == "<":
            key = last_of(r, key[1:-1])["trace"]
        r.press(key)


def _modes(kind):
    got = catalog.entry_modes(kind)
    for other in SHARED:
        if SHARED[other] == kind:
            got += catalog.entry_modes(other)
    return got


def _present(r, mode):
    how, what = PRESENT[mode]
    if how == "event":
        r.event(what)
    else:
        r.press(*what)


def _idle(r):
    for _ in range(6):
        if "欢迎使用" in r.screen_flat():
            return
        r.press("CANCEL")


def test_every_row_has_a_walk_or_shares_a_prompt():
    for name in catalog.names():
        true(name in PATHS or name in SHARED, name + ": no walk to its card prompt")


def test_each_type_prompts_for_its_rows_modes_and_refuses_the_others():
    r = _day()
    names = [n for n in catalog.names() if n in PATHS]
    for kind in names:
        modes = _modes(kind)
        want = r.t.s("entry_" + "".join(m for m in "cstkq" if m in modes)).split("\n")
        _to_prompt(r, kind)
        prompt = r.screen_flat()
        for line in want:
            contains(prompt, line, kind)
        if "c" not in modes:
            true("插卡" not in prompt, kind + ": asks for a chip it cannot read: " + prompt)
        if "t" not in modes:
            true("挥卡" not in prompt, kind + ": asks for a tap: " + prompt)
        for mode in "cstq":
            if mode in modes:
                continue
            sent = len(r.center.requests)
            kept = len(r.t.journal.entries())
            m = r.mark()
            _present(r, mode)
            said = r.t.s("entry_refused", r.t.s("entry_name_" + mode))
            true(r.seen(said, m), kind + " " + mode + ": " + r.screen())
            eq(len(r.center.requests), sent, kind + " " + mode + ": nothing sent")
            eq(len(r.t.journal.entries()), kept, kind + " " + mode + ": nothing journalled")
            r.press("ENTER")  # the notice read: the prompt again
            eq(r.screen_flat(), prompt, kind + " " + mode + ": the prompt again")
        _idle(r)


def test_each_allowed_mode_is_taken_at_the_prompt():
    r = _day()
    for kind in [n for n in catalog.names() if n in PATHS]:
        for mode in _modes(kind):
            if mode == "k":
                continue  # typed at every card prompt: the keyed tests
            _to_prompt(r, kind)
            prompt = r.screen_flat()
            m = r.mark()
            _present(r, mode)
            true(not r.seen(r.t.s("entry_refused", r.t.s("entry_name_" + mode)), m), kind)
            true(r.screen_flat() != prompt, kind + " " + mode + ": taken: " + r.screen())
            _idle(r)


def test_the_prompts_and_the_refusal_in_english():
    r = rig()
    r.t.strings.set_lang("en")
    r.press("MENU", "1", "5")
    contains(r.screen(), "Insert or swipe")
    r.event(("tap", CHIP))
    contains(r.screen_flat(), "Tap not allowed")
    r.press("ENTER", "CANCEL", "MENU", "1", "6", "2", SUPERVISOR, "ENTER")
    contains(r.screen(), "Swipe or key")
    r.event(("chip", CHIP))
    contains(r.screen_flat(), "Insert not")
    r.press("ENTER", "CANCEL", "MENU", "1", "2", "100", "ENTER")
    contains(r.screen_flat(), "Insert/swipe/tap")
    r.event(("scan", CODE))
    contains(r.screen_flat(), "Scan not allowed")
    for row in r.t.frame.text():
        true(len(row.rstrip()) <= 16, row)
