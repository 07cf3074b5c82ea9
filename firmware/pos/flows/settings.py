# Settings viewers: the terminal's parameters (商户号, 终端号, host ...).
from pos import ui
from pos import keys as K
from pos.screen import Frame


def param_lines(t):
    p = t.state.params
    st = t.state
    return [
        t.s("param_mid"), p.get("mid", ""),
        t.s("param_tid"), p.get("tid", ""),
        t.s("param_merchant"), p.get("merchant_name", ""),
        t.s("param_host"), t.link_address or p.get("host", ""),
        t.s("param_tpdu"), p.get("tpdu", ""),
        t.s("param_batch"), comm_z(st.batch),
        t.s("param_trace"), comm_z(st.trace),
        t.s("param_menu_version"), str(st.menu_version),
    ]


def comm_z(n):
    s = str(n)
    return "0" * (6 - len(s)) + s


def show_params(t):
    # one label/value pair per two rows; UP/DOWN page
    title = t.s("terminal_params")
    lines = param_lines(t)
    per = max(1, (t.rows - 1) // 2)
    pairs = len(lines) // 2
    pages = (pairs + per - 1) // per
    page = 0
    while True:
        f = Frame(t.rows, t.cols)
        f.put(0, title + " " + str(page + 1) + "/" + str(pages), "center", True)
        for j in range(per):
            i = (page * per + j) * 2
            if i < len(lines):
                f.put(1 + 2 * j, lines[i])
                f.put(2 + 2 * j, lines[i + 1], "right")
        t.show(f)
        k = yield from ui.wait_key(t, ui.IDLE_TIMEOUT)
        if k is None or k in (K.CANCEL, K.ENTER):
            return
        if k == K.DOWN:
            page = (page + 1) % pages
        elif k == K.UP:
            page = (page - 1) % pages
