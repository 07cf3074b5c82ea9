"""The emulator's widgets: the LCD, the keypad, the paper strip, the status line, the log
pane and the card reader."""

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Button, Input, Label, OptionList, RichLog, Static
from textual.widgets.option_list import Option

from posterm.emulator.keymap import PAD_KEYS


class Lcd(Widget):
    """The terminal's screen: the core's Frame drawn cell for cell, inverse rows inverse.

    The widget is exactly cols x rows cells (plus its border); nothing is wrapped or
    reflowed. Each row is cut or padded to `cols` cells as measured by Rich."""

    DEFAULT_CSS = """
    Lcd {
        width: auto;
        height: auto;
    }
    """

    def __init__(self, rows, cols, **kwargs):
        super().__init__(**kwargs)
        self.rows = rows
        self.cols = cols
        self.lines = [" " * cols] * rows
        self.inverse = 0

    def get_content_width(self, container, viewport):
        return self.cols

    def get_content_height(self, container, viewport, width):
        return self.rows

    def show(self, frame):
        self.lines = list(frame.lines)
        self.inverse = frame.inverse
        self.refresh()

    def row_strip(self, y):
        """Row `y` of the grid as a Strip exactly `cols` cells wide."""
        text = self.lines[y] if y < len(self.lines) else ""
        style = self.rich_style
        if self.inverse & (1 << y):
            style = style + Style(reverse=True)
        return Strip([Segment(text, style)]).adjust_cell_length(self.cols, style)

    def render_line(self, y):
        if y >= self.rows:
            return Strip.blank(self.cols, self.rich_style)
        return self.row_strip(y)

    def grid_text(self):
        """The grid as drawn: one string per row, `cols` cells each."""
        return [self.row_strip(y).text for y in range(self.rows)]


class PadButton(Button):
    """A keypad key: never takes focus, so Enter/arrows always reach the terminal."""

    can_focus = False

    def __init__(self, key, flash=True):
        super().__init__(key.label(), id=key.widget_id, classes="pad")
        self.key = key
        if not flash:
            self.active_effect_duration = 0

    def flash_press(self):
        """Show the press without posting Button.Pressed: keys typed on the PC keyboard are fed
        to the core directly, in order (each button has its own message queue, so Pressed
        messages from different buttons could reach the app out of order)."""
        if self.active_effect_duration > 0:
            self.add_class("-active")
            self.set_timer(self.active_effect_duration, lambda: self.remove_class("-active"))


class Keypad(Grid):
    """Every terminal key as a clickable button labelled with its PC key."""

    def __init__(self, flash=True, **kwargs):
        super().__init__(**kwargs)
        self.flash = flash

    def compose(self) -> ComposeResult:
        for key in PAD_KEYS:
            yield PadButton(key, self.flash)


class PaperStrip(VerticalScroll):
    """The printer's output: receipts one under another, the newest at the bottom."""

    can_focus = False

    def __init__(self, paper_cells, **kwargs):
        super().__init__(**kwargs)
        self.paper_cells = paper_cells
        self.receipts = []  # list of lists of text rows, as printed

    def add_receipt(self, rows):
        self.receipts.append(list(rows))
        text = Text("\n".join(rows), no_wrap=True, overflow="crop")
        slip = Static(text, classes="receipt")
        self.mount(slip)
        self.mount(Static("- " * (self.paper_cells // 2), classes="tear-line"))
        # Show the new slip from its head (the older ones stay above, scroll up to see them).
        self.call_after_refresh(self.scroll_to_widget, slip, animate=False, top=True)

    def tear_off(self):
        self.receipts = []
        self.remove_children()


class StatusLine(Static):
    """Signed in today, operator, batch, trace, host link and data dir."""


class LogPane(RichLog):
    """One line per message to and from the host (time, direction, MTI, the key fields,
    timings), never wrapped; the whole decode is in the full-screen log (LogScreen)."""

    can_focus = False


class LogScreen(ModalScreen):
    """The host log over the whole terminal: every message decoded field by field, one field
    a line, nothing wrapped (a long value runs on to the right: Left/Right scroll it into
    view). d shows or hides the fields (the one-line summaries alone), l or Esc closes."""

    BINDINGS = [
        Binding("escape,l", "close", "Close", id="log.close"),
        Binding("d", "details", "Fields on/off", id="log.details"),
        Binding("left", "scroll('left')", "Left", show=False, id="log.left"),
        Binding("right", "scroll('right')", "Right", show=False, id="log.right"),
    ]

    DEFAULT_CSS = """
    LogScreen {
        background: $surface;
    }
    LogScreen #log-full {
        height: 1fr;
        border: round $secondary;
        scrollbar-size-horizontal: 1;
    }
    LogScreen #log-help {
        height: 1;
        color: $text-muted;
    }
    """

    def __init__(self, entries, details=True):
        super().__init__()
        self.entries = entries  # the app's list: [(summary, [detail lines])], grows
        self.details = details
        self.shown = 0
        self.view = RichLog(id="log-full", wrap=False, markup=False, highlight=False)

    def compose(self) -> ComposeResult:
        self.view.border_title = "Host log (every message, decoded)"
        yield self.view
        yield Label("Up/Down PgUp/PgDn, Left/Right long values, d fields on/off, l/Esc close",
                    id="log-help")

    def on_mount(self):
        self.redraw()
        self.view.focus()

    def redraw(self):
        self.view.clear()
        self.shown = 0
        self.add_new()

    def add_new(self):
        # write the entries that came since the last call (the log grows while it is open)
        for summary, detail in self.entries[self.shown:]:
            self.view.write(summary)
            if self.details:
                for line in detail:
                    self.view.write("    " + line)
        self.shown = len(self.entries)

    def action_details(self):
        self.details = not self.details
        self.redraw()

    def action_scroll(self, where):
        # a long value (field 62, 63) moves 20 columns a press
        self.view.scroll_relative(x=-20 if where == "left" else 20, animate=False)

    def action_close(self):
        self.dismiss(None)


class ReaderButton(Button):
    """A button of the card reader: clicked, never focused (the list keeps the keys)."""

    can_focus = False


class CardPicker(ModalScreen):
    """The card reader and the scanner: pick a card of the deck and swipe it (s), insert it (i),
    tap it (t) or key it in (k), or pick a customer's payment code and scan it; or type a
    PAN[=YYMM] (a swipe), a payment code (a scan) or a script token (CARD=, CHIP=, TAP=, SCAN=).
    Enter does what a cashier does with the highlighted row: a chip card is inserted, a phone
    tapped, a stripe card swiped, a code scanned. The buttons do the same with the mouse.

    `rows` are the reader's rows: (value, kind, expiry, holder, status, balance_fen or None),
    kind as posterm.host.deck.kind / code_kind says ("stripe", "chip", "chip+tap", "phone",
    "chip (broken)", "QR WeChat" ...). `present(action, value)` turns a choice into the events
    to feed (it raises pos.keys.KeyTokenError when the card cannot be presented so: the reader
    says why and stays open). Dismisses with the events, ("keyed", pan, expiry) for a card
    keyed in by hand, or None."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Close", id="card.close"),
        Binding("s", "present('swipe')", "Swipe", id="card.swipe"),
        Binding("i", "present('insert')", "Insert", id="card.insert"),
        Binding("t", "present('tap')", "Tap", id="card.tap"),
        Binding("k", "key_in", "Key in", id="card.key_in"),
    ]

    # what Enter (or a click on the row) does with each kind of row; the rest are inserted
    DEFAULT_ACTION = {"stripe": "swipe", "phone": "tap"}

    def __init__(self, rows, present, note=""):
        super().__init__()
        self.rows = list(rows)
        self.present = present
        self.note = note
        self.width = max([19] + [len(r[0]) for r in self.rows])

    def line(self, value, kind, expiry, holder, status, balance):
        yuan = "" if balance is None else f"{balance // 100}.{balance % 100:02d}"
        return (f"{value:<{self.width}} {kind:<13} {expiry:<4} {holder[:10]:<10} "
                f"{status[:7]:<7}{yuan:>9}")

    def compose(self) -> ComposeResult:
        with Vertical(id="card-box"):
            yield Label("Card reader and scanner", id="card-title")
            head = self.line("PAN / code", "reads", "exp", "holder", "status", None)
            yield Label(head[:-9] + "  balance", id="card-head")
            options = [Option(self.line(*r), id=r[0]) for r in self.rows]
            yield OptionList(*options, id="card-list")
            if self.note:
                yield Label(self.note, id="card-note")
            with Horizontal(id="card-actions"):
                for action, text in (("swipe", "Swipe s"), ("insert", "Insert i"),
                                     ("tap", "Tap t"), ("key_in", "Key in k"),
                                     ("scan", "Scan")):
                    yield ReaderButton(text, id="card-do-" + action)
            yield Input(placeholder="or type a PAN[=YYMM], a payment code, CHIP=/TAP=<PAN>",
                        id="card-pan", select_on_focus=False)
            yield Label("Enter: insert a chip card, tap a phone, swipe a card, scan a code",
                        id="card-help")

    def on_mount(self):
        self.query_one("#card-list" if self.rows else "#card-pan").focus()

    # the one-key actions of the list (s i t k); any other character typed there is the
    # start of a PAN, a code or a token: it goes into the box, and so does the rest
    ROW_KEYS = ("s", "i", "t", "k")

    def on_key(self, event):
        box = self.query_one("#card-pan", Input)
        if self.focused is box or not event.is_printable or event.character is None:
            return
        if event.character in self.ROW_KEYS:
            return
        event.stop()
        event.prevent_default()
        box.focus()
        box.insert_text_at_cursor(event.character)

    def highlighted(self):
        deck = self.query_one("#card-list", OptionList)
        if not self.rows or deck.highlighted is None:
            return None
        return self.rows[deck.highlighted]

    def _say(self, text):
        self.query_one("#card-help", Label).update(text)

    def _do(self, action, value):
        from pos.keys import KeyTokenError

        try:
            events = self.present(action, value)
        except KeyTokenError as e:
            self._say(e.reason)
            return
        self.dismiss(events)

    @on(OptionList.OptionSelected)
    def _picked(self, event):
        for r in self.rows:
            if r[0] == event.option.id:
                if r[1].startswith("QR"):
                    self._do("scan", r[0])
                else:
                    self._do(self.DEFAULT_ACTION.get(r[1], "insert"), r[0])
                return

    def action_present(self, action):
        row = self.highlighted()
        if row is None:
            self._say("pick a card first")
        elif row[1].startswith("QR"):
            self._say("a payment code is scanned (Enter or Scan)")
        else:
            self._do(action, row[0])

    @on(Button.Pressed, "#card-actions Button")
    def _button(self, event):
        action = event.button.id[len("card-do-"):]
        if action == "key_in":
            self.action_key_in()
        elif action == "scan":
            row = self.highlighted()
            if row is None or not row[1].startswith("QR"):
                self._say("pick a payment code to scan (or type one)")
            else:
                self._do("scan", row[0])
        else:
            self.action_present(action)

    @on(Input.Submitted)
    def _typed(self, event):
        self._do("typed", event.value.strip())

    def action_key_in(self):
        # the highlighted deck card typed on the keypad (manual entry, 22 = 01x)
        row = self.highlighted()
        if row is None or row[1].startswith("QR"):
            self._say("pick a card to key in")
            return
        self.dismiss(("keyed", row[0], row[2]))

    def action_dismiss_none(self):
        self.dismiss(None)
        return True
