"""The emulator's widgets: the LCD, the keypad, the paper strip, the status line, the log
pane and the card reader."""

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical, VerticalScroll
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


class CardPicker(ModalScreen):
    """The card reader: pick a card from the host's deck or type a PAN[=YYMM].

    Dismisses with (pan, expiry[, track 2, track 3]) for a swipe, ("keyed", pan, expiry) for
    the highlighted card keyed in by hand (k), or None."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Close", id="card.close"),
        Binding("k", "key_in", "Key in", id="card.key_in"),
    ]

    def __init__(self, cards, note=""):
        super().__init__()
        self.cards = cards  # [(pan, expiry, holder, status, balance_fen)]
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="card-box"):
            yield Label("Present a card (swipe)", id="card-title")
            options = []
            for pan, exp, holder, status, balance in self.cards:
                yuan = f"{balance // 100}.{balance % 100:02d}"
                text = f"{pan}  {exp}  {holder:<10} {status:<6} {yuan:>11}"
                options.append(Option(text, id=pan))
            yield OptionList(*options, id="card-list")
            if self.note:
                yield Label(self.note, id="card-note")
            yield Input(placeholder="or type a PAN[=YYMM] and press Enter", id="card-pan")
            yield Label("Enter swipes the card, k keys it in, Esc closes", id="card-help")

    def on_mount(self):
        self.query_one("#card-list" if self.cards else "#card-pan").focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event):
        for pan, exp, *_rest in self.cards:
            if pan == event.option.id:
                self.dismiss((pan, exp))
                return

    @on(Input.Submitted)
    def _typed(self, event):
        from pos.keys import KeyTokenError, parse_token

        text = event.value.strip()
        try:
            events = parse_token("CARD=" + text)
        except KeyTokenError as e:
            self.query_one("#card-help", Label).update(e.reason)
            return
        if events:
            # (pan, expiry, track 2, track 3): a swipe of that card
            self.dismiss(tuple(events[0][1:]))

    def action_key_in(self):
        # the highlighted deck card typed on the keypad (manual entry, 22 = 01x)
        deck = self.query_one("#card-list", OptionList)
        if self.cards and deck.has_focus and deck.highlighted is not None:
            pan, exp = self.cards[deck.highlighted][0], self.cards[deck.highlighted][1]
            self.dismiss(("keyed", pan, exp))

    def action_dismiss_none(self):
        self.dismiss(None)
