"""The back-office console: `posterm center` (also served to a browser by `posterm center
serve`).  A login screen first; nothing else is reachable without it.  Then the role's main
view, over the user's own merchants only:

- account manager: terminals with today's / this week's / this month's sales, the inactive
  and abnormal lists, the weekly tracking sheet (e: fill in a row, x: export CSV + XLSX),
  each terminal's daily sales chart (textual-plotext), its audit log;
- field agent: terminals with their state; s 停机 / r 复机 / f 冻结 with a reason code and a
  comment, b bind a new terminal (its TMK shown once), a audit log;
- risk: the 跳码 hits and the transactions behind each; f freezes the terminal of the
  selected transaction.
"""

import argparse
import os
import sys
from datetime import date

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
)
from textual_plotext import PlotextPlot

from posterm.center import db as cdb
from posterm.center import export, rules
from posterm.host.errors import HostError

LABELS = cdb.load_json("console.json")


def yuan(fen):
    return f"{fen // 100}.{fen % 100:02d}"


class Labels:
    def __init__(self, lang):
        self.lang = lang

    def __call__(self, key):
        entry = LABELS.get(key)
        return entry.get(self.lang) or entry["zh"] if entry else key


# -- dialogs -----------------------------------------------------------------------------------
class ActionDialog(ModalScreen):
    """Reason (from the fixed list for this action) and comment; dismisses with
    (reason, comment) or None.  The comment has the focus (the reason is preset)."""

    AUTO_FOCUS = "#comment"

    def __init__(self, action, tid, comment="", t=None, reason=None):
        super().__init__()
        self.action, self.tid, self.t = action, tid, t
        self.preset, self.reason = comment, reason

    def compose(self) -> ComposeResult:
        t = self.t
        choices = [(f"{code} {e[t.lang]}", code) for code, e in cdb.REASONS.items()
                   if self.action in e["actions"]]
        with Vertical(id="dialog"):
            yield Label(f"{t(self.action)} {self.tid}", id="dialog-title")
            yield Select(choices, prompt=t("reason"), id="reason",
                         value=self.reason or choices[0][1], allow_blank=False)
            yield Input(value=self.preset, placeholder=t("comment"), id="comment")
            yield Label("", id="dialog-error")
            with Horizontal():
                yield Button(t("ok"), id="ok", variant="primary")
                yield Button(t("cancel"), id="cancel")

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted, "#comment")
    def ok(self):
        comment = self.query_one("#comment", Input).value.strip()
        reason = self.query_one("#reason", Select).value
        if not comment:
            self.query_one("#dialog-error", Label).update(self.t("comment") + "?")
            return
        self.dismiss((reason, comment))

    @on(Button.Pressed, "#cancel")
    def cancel(self):
        self.dismiss(None)


class FormDialog(ModalScreen):
    """A few text fields; dismisses with {name: value} or None."""

    def __init__(self, title, fields, t):
        super().__init__()
        self.title_text, self.fields, self.t = title, fields, t

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="dialog-title")
            for name, label, value in self.fields:
                yield Input(value=value, placeholder=label, id=f"f-{name}")
            with Horizontal():
                yield Button(self.t("ok"), id="ok", variant="primary")
                yield Button(self.t("cancel"), id="cancel")

    @on(Button.Pressed, "#ok")
    def ok(self):
        self.dismiss({n: self.query_one(f"#f-{n}", Input).value.strip()
                      for n, _, _ in self.fields})

    @on(Button.Pressed, "#cancel")
    def cancel(self):
        self.dismiss(None)


class MessageDialog(ModalScreen):
    def __init__(self, text, t):
        super().__init__()
        self.text, self.t = text, t

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.text, id="message")
            yield Button(self.t("ok"), id="ok", variant="primary")

    @on(Button.Pressed, "#ok")
    def ok(self):
        self.dismiss(None)


class AuditDialog(ModalScreen):
    BINDINGS = [Binding("escape", "dismiss_it", "close")]

    def __init__(self, center, tid, t):
        super().__init__()
        self.center, self.tid, self.t = center, tid, t

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog-wide"):
            yield Label(f"{self.t('audit')} {self.tid}", id="dialog-title")
            yield DataTable(id="audit-table", cursor_type="row")
            yield Button(self.t("ok"), id="ok")

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("at", "user", "role", "action", "reason", "comment", "detail")
        for r in self.center.audit(self.tid):
            table.add_row(r["at"], r["user"], r["role"], r["action"], r["reason"] or "",
                          r["comment"], r["detail"])

    @on(Button.Pressed, "#ok")
    def action_dismiss_it(self):
        self.dismiss(None)


# -- screens -----------------------------------------------------------------------------------
class LoginScreen(Screen):
    AUTO_FOCUS = "#user"

    def compose(self) -> ComposeResult:
        t = self.app.t
        yield Header()
        with Vertical(id="login"):
            yield Label(t("title"), id="login-title")
            yield Input(placeholder=t("user"), id="user")
            yield Input(placeholder=t("password"), password=True, id="password")
            yield Button(t("login"), id="login-button", variant="primary")
            yield Label("", id="login-error")
        yield Footer()

    def on_mount(self):
        if not self.app.center.list_users():
            self.query_one("#login-error", Label).update(self.app.t("no_users"))

    @on(Input.Submitted, "#user")
    def next_field(self):
        self.query_one("#password", Input).focus()

    @on(Button.Pressed, "#login-button")
    @on(Input.Submitted, "#password")
    def try_login(self):
        name = self.query_one("#user", Input).value.strip()
        pw = self.query_one("#password", Input).value
        user = self.app.center.login(name, pw)
        self.query_one("#password", Input).value = ""
        if user is None:
            self.query_one("#login-error", Label).update(self.app.t("bad_login"))
            return
        self.app.logged_in(user)


class RoleScreen(Screen):
    """Common parts: the user's terminals, the chart and audit of the selected one."""

    BINDINGS = [Binding("ctrl+l", "logout", "logout"), Binding("a", "audit", "audit")]

    def __init__(self, user):
        super().__init__()
        self.user = user
        self.center = None
        self.selected = None

    @property
    def t(self):
        return self.app.t

    def on_mount(self):
        self.center = self.app.center
        self.sub_title = f"{self.user['name']} · {cdb.ROLE_NAMES[self.user['role']][self.t.lang]}"
        self.refresh_data()
        self.query(DataTable).first().focus()

    def mids(self):
        return self.center.user_mids(self.user["name"])

    def my_terminals(self):
        return self.center.terminals(self.mids())

    def action_logout(self):
        self.app.logout()

    def action_audit(self):
        if self.selected is None:
            self.notify(self.t("no_terminal"))
            return
        self.app.push_screen(AuditDialog(self.center, self.selected, self.t))

    @on(DataTable.RowHighlighted)
    def highlighted(self, event):
        key = event.row_key.value if event.row_key is not None else None
        if key and len(key) == 8 and event.data_table.id in ("terminals", "inactive",
                                                              "abnormal", "sheet-table"):
            self.selected = key
            self.show_chart()

    def show_chart(self):
        for plot in self.query(PlotextPlot):
            series = rules.daily_counts(self.center, self.selected, self.app.today)
            plot.series = series
            plt = plot.plt
            plt.clear_data()
            plt.clear_figure()
            plt.title(f"{self.t('chart')} {self.selected}")
            plt.bar([d.strftime("%m-%d") for d, _ in series], [n for _, n in series])
            plot.refresh()

    def fill(self, table_id, columns, rows, key):
        table = self.query_one(f"#{table_id}", DataTable)
        table.clear(columns=True)
        table.add_columns(*columns)
        for r in rows:
            table.add_row(*r, key=key(r))
        return table


class ManagerScreen(RoleScreen):
    BINDINGS = [Binding("e", "edit_sheet", "edit sheet"), Binding("x", "export", "export")]

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with TabbedContent(id="tabs"):
            with TabPane(t("terminals"), id="tab-terminals"):
                with Horizontal():
                    yield DataTable(id="terminals", cursor_type="row")
                    yield PlotextPlot(id="chart")
            with TabPane(t("inactive"), id="tab-inactive"):
                yield DataTable(id="inactive", cursor_type="row")
            with TabPane(t("abnormal"), id="tab-abnormal"):
                yield DataTable(id="abnormal", cursor_type="row")
            with TabPane(t("sheet"), id="tab-sheet"):
                yield Label("", id="sheet-week")
                yield DataTable(id="sheet-table", cursor_type="row")
        yield Footer()

    def refresh_data(self):
        c, today, t = self.center, self.app.today, self.t
        terms = self.my_terminals()
        use = rules.usage(c, terms, today)
        self.fill("terminals", ["TID", "MID", "state", t("today"), "¥", t("week"), "¥",
                                t("month"), "¥"],
                  [(u["tid"], u["mid"], u["state"], str(u["today_count"]), yuan(u["today_fen"]),
                    str(u["week_count"]), yuan(u["week_fen"]), str(u["month_count"]),
                    yuan(u["month_fen"])) for u in use], key=lambda r: r[0])
        idle = rules.inactive(c, terms, today)
        self.fill("inactive", ["TID", "MID", "last sign-in", "days", "last sale", "days", "why"],
                  [(r["tid"], r["mid"], r["last_signin"], str(r["days_signin"]), r["last_tx"],
                    str(r["days_tx"]), ",".join(r["why"])) for r in idle], key=lambda r: r[0])
        odd = rules.abnormal(c, terms, today)
        self.fill("abnormal", ["TID", "day", "pattern", "count", "day total", "what"],
                  [(r["tid"], r["day"], r["pattern"], str(r["count"]), str(r["day_count"]),
                    r["what"]) for r in odd], key=lambda r: f"{r[0]}")
        self.week = rules.week_of(today)
        self.sheet_rows = rules.sheet(c, terms, self.week, today)
        self.query_one("#sheet-week", Label).update(f"终端POS机使用问题跟踪表 {self.week}")
        self.fill("sheet-table", ["TID", "merchant", "week", "found", "problem", "action",
                                  "follow-up"],
                  [(r["tid"], r["merchant"], str(r["week_count"]), r["found"], r["problem"],
                    r["action"], r["follow_up"]) for r in self.sheet_rows], key=lambda r: r[0])
        if use and self.selected is None:
            self.selected = use[0]["tid"]
            self.call_after_refresh(self.show_chart)

    def action_edit_sheet(self):
        table = self.query_one("#sheet-table", DataTable)
        if self.query_one("#tabs", TabbedContent).active == "tab-sheet" and table.row_count:
            self.selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if self.selected is None:
            self.notify(self.t("no_terminal"))
            return
        tid = self.selected
        row = next((r for r in self.sheet_rows if r["tid"] == tid), {})
        t = self.t

        def done(values):
            if values is None:
                return
            try:
                self.center.edit_sheet(self.week, tid, self.user["name"], values["problem"],
                                       values["action"], values["follow_up"])
            except HostError as e:
                self.notify(str(e), severity="error")
                return
            self.refresh_data()

        self.app.push_screen(FormDialog(f"{t('edit_sheet')} {tid} {self.week}", [
            ("problem", t("problem"), row.get("problem", "")),
            ("action", t("action"), row.get("action", "")),
            ("follow_up", t("follow_up"), row.get("follow_up", "")),
        ], t), done)

    def action_export(self):
        from posterm.center.cli import SHEET_COLUMNS, SHEET_HEADERS

        base = os.path.join(self.app.export_dir, f"sheet-{self.user['name']}-{self.week}")
        with open(base + ".csv", "w", encoding="utf-8-sig", newline="") as f:
            f.write(export.to_csv(self.sheet_rows, SHEET_COLUMNS, SHEET_HEADERS))
        export.write_xlsx(base + ".xlsx", "跟踪表 " + self.week, self.sheet_rows, SHEET_COLUMNS,
                          SHEET_HEADERS)
        from posterm.center import htmlsheet

        with open(base + ".html", "w", encoding="utf-8") as f:
            f.write(htmlsheet.render(self.center, self.sheet_rows, self.week, self.app.today,
                                     SHEET_COLUMNS, SHEET_HEADERS))
        self.notify(f"{self.t('exported')} {base}.csv / .xlsx / .html")


class AgentScreen(RoleScreen):
    BINDINGS = [Binding("s", "change('suspend')", "停机"),
                Binding("r", "change('resume')", "复机"),
                Binding("f", "change('freeze')", "冻结"), Binding("b", "bind", "绑定")]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield DataTable(id="terminals", cursor_type="row")
            yield PlotextPlot(id="chart")
        yield Footer()

    def refresh_data(self):
        terms = self.my_terminals()
        merchants = self.center.merchants()
        rows = []
        for row in terms:
            m = merchants.get(row["mid"])
            rows.append((row["tid"], row["mid"], m["name"] if m else "",
                         self.center.state_of(row), row["reason"] or "", row["comment"] or "",
                         (row["last_seen"] or row["signed_in"] or "")[:16]))
        table = self.fill("terminals", ["TID", "MID", "merchant", "state", "reason", "comment",
                                        "last seen"], rows, key=lambda r: r[0])
        if rows and self.selected is None:
            self.selected = rows[0][0]
        if self.selected:
            try:
                table.move_cursor(row=table.get_row_index(self.selected))
            except Exception:  # noqa: BLE001 - the row is gone
                pass

    def action_change(self, action):
        tid = self.selected
        if tid is None:
            self.notify(self.t("no_terminal"))
            return

        def done(result):
            if result is None:
                return
            try:
                self.center.change_state(tid, action, result[0], result[1], self.user["name"])
            except HostError as e:
                self.notify(str(e), severity="error")
                return
            self.notify(f"{self.t(action)} {tid}: {self.t('done')}")
            self.refresh_data()

        self.app.push_screen(ActionDialog(action, tid, t=self.t), done)

    def action_bind(self):
        t = self.t
        mids = self.mids() or []

        def done(values):
            if values is None:
                return
            try:
                tmk, kcv = self.center.bind(values["tid"], values["mid"], self.user["name"])
            except HostError as e:
                self.notify(str(e), severity="error")
                return
            self.refresh_data()
            self.app.push_screen(MessageDialog(
                f"{values['tid']} → {values['mid']}\nTMK {tmk}\nKCV {kcv}\n{t('tmk_once')}", t))

        self.app.push_screen(FormDialog(t("bind"), [
            ("tid", "TID", ""), ("mid", "MID", mids[0] if mids else "")], t), done)


class RiskScreen(RoleScreen):
    BINDINGS = [Binding("f", "freeze", "冻结")]

    def compose(self) -> ComposeResult:
        t = self.t
        yield Header()
        with Vertical():
            yield Label(t("hits"))
            yield DataTable(id="hits", cursor_type="row")
            yield Label(t("hit_txs"))
            yield DataTable(id="hit-txs", cursor_type="row")
        yield Footer()

    def refresh_data(self):
        self.hits = rules.risk(self.center, self.app.today, mids=self.mids())
        self.fill("hits", ["hit", "kind", "card", "terminals", "regions", "minutes"],
                  [(h["id"], h["kind"], rules.mask(h["pan"]), " ".join(h["tids"]),
                    " → ".join(cdb.region_name(r, self.t.lang) for r in h["regions"]),
                    "" if h["minutes"] is None else str(h["minutes"])) for h in self.hits],
                  key=lambda r: r[0])
        if self.hits:
            self.show_hit(self.hits[0]["id"])

    @on(DataTable.RowHighlighted, "#hits")
    def hit_highlighted(self, event):
        self.show_hit(event.row_key.value)

    def show_hit(self, hit_id):
        self.hit = next(h for h in self.hits if h["id"] == hit_id)
        self.fill("hit-txs", ["tx", "at", "TID", "MID sent", "bound MID", "region", "card", "¥"],
                  [(str(x["id"]), x["at"], x["tid"], x["mid"], x["bound_mid"],
                    cdb.region_name(x["region"], self.t.lang), rules.mask(x["pan"]),
                    yuan(x["amount_fen"])) for x in self.hit["txs"]], key=lambda r: r[0])
        self.selected = self.hit["txs"][0]["tid"]  # the cursor starts on the first

    @on(DataTable.RowHighlighted, "#hit-txs")
    def tx_highlighted(self, event):
        tx = next((x for x in self.hit["txs"] if str(x["id"]) == event.row_key.value), None)
        if tx:
            self.selected = tx["tid"]

    def action_freeze(self):
        tid, hit = self.selected, self.hit["id"] if getattr(self, "hit", None) else ""

        def done(result):
            if result is None:
                return
            try:
                self.center.change_state(tid, "freeze", result[0], result[1], self.user["name"])
            except HostError as e:
                self.notify(str(e), severity="error")
                return
            self.notify(f"{self.t('freeze')} {tid}: {self.t('done')}")

        if tid is None:
            self.notify(self.t("no_terminal"))
            return
        dialog = ActionDialog("freeze", tid, f"跳码 {hit}", t=self.t, reason="F01")
        self.app.push_screen(dialog, done)


SCREENS = {"manager": ManagerScreen, "agent": AgentScreen, "risk": RiskScreen}


class CenterApp(App):
    TITLE = "posterm center"
    CSS = """
    #login { width: 44; height: auto; margin: 4 0 0 0; border: round $accent; padding: 1 2; }
    LoginScreen { align: center top; }
    #login-title, #dialog-title { text-style: bold; margin-bottom: 1; }
    #login-error, #dialog-error { color: $error; }
    ModalScreen { align: center middle; }
    #dialog { width: 64; height: auto; border: thick $accent; background: $surface;
              padding: 1 2; }
    #dialog-wide { width: 90%; height: 80%; border: thick $accent; background: $surface;
                   padding: 1 2; }
    #dialog Horizontal { height: auto; margin-top: 1; }
    #terminals { width: 2fr; }
    #chart { width: 1fr; min-width: 30; }
    #hits, #hit-txs { height: 1fr; }
    """
    BINDINGS = [Binding("ctrl+q", "quit", "quit")]

    def __init__(self, db_path, today=None, lang="zh", export_dir=None):
        super().__init__()
        self.db_path = db_path
        self.today = today or date.today()
        self.t = Labels(lang)
        self.export_dir = export_dir or os.path.dirname(os.path.abspath(db_path))
        self.center = None
        self.user = None
        self.title = self.t("title")

    def on_mount(self):
        self.center = cdb.open_center(self.db_path)
        self.push_screen(LoginScreen())

    def on_unmount(self):
        if self.center is not None:
            self.center.close()

    def logged_in(self, user):
        self.user = user
        self.switch_screen(SCREENS[user["role"]](user))

    def logout(self):
        self.user = None
        self.switch_screen(LoginScreen())


def main(argv=None):
    p = argparse.ArgumentParser(prog="posterm-center-console")
    p.add_argument("--db", required=True)
    p.add_argument("--date", default=None)
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    args = p.parse_args(argv)
    today = rules.parse_day(args.date) if args.date else None
    CenterApp(args.db, today=today, lang=args.lang).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
