# Settings viewers: the terminal's parameters (商户号, 终端号, host ...).
from pos import ui
from pos.request import z


def param_lines(t):
    p = t.state.params
    st = t.state
    return [
        t.s("param_mid"), p.get("mid", ""),
        t.s("param_tid"), p.get("tid", ""),
        t.s("param_merchant"), p.get("merchant_name", ""),
        t.s("param_host"), t.link_address or p.get("host", ""),
        t.s("param_tpdu"), p.get("tpdu", ""),
        t.s("param_batch"), z(st.batch, 6),
        t.s("param_trace"), z(st.trace, 6),
        t.s("param_menu_version"), str(st.menu_version),
    ]


def show_params(t):
    # one label/value pair per two rows; UP/DOWN page
    lines = param_lines(t)
    rows = []
    for i in range(0, len(lines) - 1, 2):
        rows.append((lines[i], "left"))
        rows.append((lines[i + 1], "right"))
    yield from ui.pager(t, t.s("terminal_params"), rows, group=2)
