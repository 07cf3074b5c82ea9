# Settings viewers: the terminal's parameters (商户号, 终端号, host ...).
from pos import ui
from pos.request import z


def param_lines(t):
    p = t.state.params
    st = t.state
    lines = [
        t.s("param_mid"),
        p.get("mid", ""),
        t.s("param_tid"),
        p.get("tid", ""),
        t.s("param_merchant"),
        p.get("merchant_name", ""),
        t.s("param_host"),
        t.link_address or p.get("host", ""),
    ]
    if t.link_address and p.get("host", "") and p.get("host") != t.link_address:
        # 5.3's setting differs from what the link uses: both shown (5.3 says why)
        lines += [t.s("param_host_setting"), p.get("host", "")]
    return lines + [
        t.s("param_tpdu"),
        p.get("tpdu", ""),
        t.s("param_batch"),
        z(st.batch, 6),
        t.s("param_trace"),
        z(st.trace, 6),
        t.s("param_menu_version"),
        str(st.menu_version),
        t.s("param_key_layout"),
        key_layout_text(t, p.get("key_layout", "003")),
        t.s("param_location"),
        str(p.get("location", "") or "") or t.s("param_not_set"),
        t.s("param_heartbeat"),
        heartbeat_text(t),
    ]


def key_layout_text(t, layout):
    # "003 双倍长"; a value the terminal does not know is shown as it is
    layout = str(layout)
    if layout in ("001", "003", "004", "005", "006"):
        return t.s("key_layout_" + layout)
    return layout


def heartbeat_text(t):
    n = t.heartbeat_min()
    return t.s("param_minutes", n) if n > 0 else t.s("param_heartbeat_off")


def show_params(t):
    # each label on its row, its value right-aligned under it (wrapped when longer than a
    # row: a 40-cell merchant name on 4x16), never split across pages; UP/DOWN page
    from pos import cells

    lines = param_lines(t)
    blocks = []
    for i in range(0, len(lines) - 1, 2):
        block = [(lines[i], "left")]
        for part in cells.wrap(lines[i + 1], t.cols):
            block.append((part, "right"))
        blocks.append(block)
    yield from ui.pager(t, t.s("terminal_params"), blocks)
