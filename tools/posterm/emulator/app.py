"""The emulator app: the terminal on a desktop, driven by keyboard and mouse.

The core runs on the UI thread through an EmulatorDriver; only host exchanges leave it, in a
Textual thread worker whose result is fed back on the UI thread. Ticks keep flowing while a
send is outstanding, so the core's 正在连接中心... countdown moves and the UI never blocks."""

import datetime
import io
import os
import threading
import time
from functools import partial

from rich.console import Console
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static
from textual.worker import get_current_worker

from posterm import isotool, paths
from posterm.emulator.keymap import ACTIONS, BY_NAME, PAD_KEYS
from posterm.emulator.widgets import (
    CardPicker,
    Keypad,
    Lcd,
    LogPane,
    LogScreen,
    PaperStrip,
    PadButton,
    StatusLine,
)

# Terminals at least this wide get the roomy layout (taller keys) when it is tall enough for
# the profile's screen too.
LARGE_SIZE = (120, 34)
# The log goes beside the paper only when it gets this many columns there (else under it).
LOG_BESIDE = 60


def layout_for(width, height, rows, cols, paper_width):
    """The layout for a terminal of width x height and an LCD of rows x cols:
    -> (name, left column width, needed (width, height) of the smallest layout).

    "large": taller keys; "compact": the keypad in one-row keys (80x24 with 4x16);
    "nopad": the keypad hidden (the PC keys still work) when only the screen fits beside the
    paper (lcd320x240 at 80x24); "small": not even that (the app says what it needs)."""
    lcd_h = rows + 2
    need = {
        "large": (max(54, cols + 4) + paper_width, lcd_h + 25),
        "compact": (max(42, cols + 4) + paper_width, lcd_h + 18),
        "nopad": (max(38, cols + 2) + paper_width, lcd_h + 6),
    }
    lefts = {"large": max(54, cols + 4), "compact": max(42, cols + 4), "nopad": max(38, cols + 2)}
    smallest = need["nopad"]
    for name in ("large", "compact", "nopad"):
        w, h = need[name]
        if name == "large" and width < LARGE_SIZE[0]:
            continue
        if width >= w and height >= h:
            return name, lefts[name], smallest
    return "small", lefts["nopad"], smallest


def _bindings():
    out = []
    for key in PAD_KEYS:
        out.append(
            Binding(key.pc_keys, f"pad({key.name!r})", key.label(), show=False, id=key.binding_id)
        )
    for bid, (keys, description) in ACTIONS.items():
        out.append(Binding(keys, bid, description, id=bid))
    return out


def summarize(data, amount=True):
    """A short line for a frame (with its time and timing it fits the 80x24 log pane): MTI,
    trace (#), amount (requests), response code (rc)."""
    from pos import iso8583

    try:
        _tpdu, _header, body = iso8583.unpack_frame(data)
        msg = iso8583.decode(body)
    except Exception:  # noqa: BLE001 - a frame we cannot decode is said so
        return "(cannot decode)"
    parts = [msg["mti"]]
    if 11 in msg:
        parts.append("#" + msg[11])
    if 4 in msg and amount:
        fen = int(msg[4])
        parts.append(f"{fen // 100}.{fen % 100:02d}")
    if 39 in msg:
        parts.append("rc=" + msg[39])
    return " ".join(parts)


def _decoded(data):
    try:
        return isotool.describe(data).splitlines()
    except Exception as e:  # noqa: BLE001 - a frame we cannot decode is shown raw
        return [f"(cannot decode: {e})", data.hex().upper()]


def card_deck(data_dir):
    """The host's card deck as [(pan, expiry, holder, status, balance_fen)]: the embedded
    host's database in the data dir when there is one, else the seed deck."""
    from posterm.host.store import DEFAULT_CARDS, Store

    db = paths.host_db(data_dir)
    if os.path.exists(db):
        store = Store(db)
        try:
            return [
                (r["pan"], r["expiry"], r["holder"], r["status"], r["balance_fen"])
                for r in store.list_cards()
            ]
        finally:
            store.close()
    return [(pan, exp, holder, st, bal) for pan, _pin, bal, st, exp, holder in DEFAULT_CARDS]


def reader_rows(data_dir):
    """The card reader's rows: every card of the deck (how it reads, from deck.json; its
    balance and status from the center's books) and every payment code:
    [(value, kind, expiry, holder, status, balance_fen or None)]."""
    from posterm.host import deck

    rows = [
        (pan, deck.kind(deck.card(pan) or {}), exp, holder, status, balance)
        for pan, exp, holder, status, balance in card_deck(data_dir)
    ]
    for q in deck.CODES:
        word = {"yes": "confirm", "never": "never", "no": ""}[deck.confirm_word(q)]
        rows.append((q["code"], deck.code_kind(q), "-", q.get("holder", ""), word, None))
    return rows


class EmulatorApp(App):
    """The terminal in a Textual app.

    Args:
        driver: an EmulatorDriver (not started); the app starts it, the caller closes it.
        keymap: {binding id: "key,key"} overrides (see posterm.emulator.keymap).
        flash: flash keypad buttons when pressed (off in snapshot tests).
        tick_seconds: how often the terminal clock ticks; None for no ticks (tests).
        labels: {"host": ..., "data": ...} fixed texts for the status line (tests).
    """

    CSS_PATH = "emulator.tcss"
    TITLE = "posterm"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = _bindings()

    def __init__(self, driver, keymap=None, flash=True, tick_seconds=1.0, labels=None):
        super().__init__()
        self.driver = driver
        # the reader says when the card is pulled out (e, eject): at 请拔卡 a key only beeps
        driver.terminal.implicit_removal = False
        self.keymap_overrides = dict(keymap or {})
        self.flash = flash
        self.tick_seconds = tick_seconds
        self.labels = dict(labels or {})
        self.paper_out = False
        self.driver.start_send = self._start_send
        self.driver.frame_listeners.append(self._on_frame)
        self.driver.print_listeners.append(self._on_print)
        self.driver.send_listeners.append(self._on_exchanged)
        self.driver.beep_listeners.append(self._on_beep)
        self.beeped = False  # an error beep since the last key fed
        self.beep_note = ""  # what the status line says of it (a screen reader reads it)
        t = driver.terminal
        self.lcd = Lcd(t.rows, t.cols, id="lcd")
        self.paper = PaperStrip(driver.paper_cells, id="paper")
        self.log_pane = LogPane(id="log", wrap=False, markup=False, highlight=False)
        self.log_entries = []  # [(summary, [decoded lines])]: the pane and the full view
        self.log_mode = "off"  # l: off -> pane -> full screen -> off
        self.status = StatusLine(id="status")
        self.too_small = Static("", id="too-small")
        self.layout_name = ""
        from posterm.host.deck import Deck

        # the test deck as this reader presents it (a chip's ATC goes on in the data dir)
        self.deck = Deck(driver.data_dir)
        if self.deck.notice:  # a damaged chipcards.json: the status line and the log say it
            driver.log("error", self.deck.notice)
            self.beep_note = "Chip counts file damaged: kept, ATC moved on (see posterm.log)"
        self.inserted = None  # the PAN of the card in the contact reader

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            with Vertical(id="left"):
                with Center(id="lcd-row"):
                    with Vertical(id="lcd-box") as box:
                        box.border_title = "Screen"
                        yield self.lcd
                yield Keypad(self.flash, id="keypad")
                yield self.status
            with Horizontal(id="right"):
                yield self.paper
                yield self.log_pane
        yield self.too_small
        yield Footer()

    def on_mount(self):
        if self.keymap_overrides:
            self.set_keymap(self.keymap_overrides)
        width = "80mm" if self.driver.paper_cells >= 48 else "58mm"
        self.paper.border_title = f"Printer {width}"
        self.paper.styles.width = self.driver.paper_cells + 5  # border, padding, scrollbar
        self.log_pane.border_title = "Host log"
        self._apply_size(self.size.width, self.size.height)
        self.driver.start()
        self.refresh_status()
        if self.tick_seconds:
            self.set_interval(self.tick_seconds, self._tick)

    def on_resize(self, event):
        self._apply_size(event.size.width, event.size.height)

    def _apply_size(self, width, height):
        t = self.driver.terminal
        paper_width = self.driver.paper_cells + 5
        name, left, need = layout_for(width, height, t.rows, t.cols, paper_width)
        self.layout_name = name
        screen = self.screen if not isinstance(self.screen, ModalScreen) else self.screen_stack[0]
        for cls in ("large", "nopad", "small"):
            screen.set_class(name == cls, "-" + cls)
        self.query_one("#left").styles.width = left
        # the log beside the paper when it gets LOG_BESIDE columns there, else under it
        beside = width - left - paper_width >= LOG_BESIDE
        screen.set_class(beside, "-log-beside")
        self.refresh_status()
        if name == "small":
            self.too_small.update(
                f"The {t.profile} screen ({t.cols}x{t.rows} cells) needs a terminal of at "
                f"least {need[0]}x{need[1]}; this one is {width}x{height}.\n"
                "Make the window bigger, or run with --profile lcd128x64."
            )

    # -- the core's effects -----------------------------------------------------------------
    def _on_frame(self, frame):
        self.lcd.show(frame)

    def _on_print(self, lines):
        self.paper.add_receipt(self.driver.receipt_text(lines))

    def _lcd_rows(self):
        frame = self.driver.terminal.frame
        return frame.text() if frame is not None else None

    def _on_beep(self, kind):
        # the terminal's error beep (a key refused: 9 in a menu of five, ENTER on nothing;
        # a decline): the bell, and the status line says it until the next key, as the
        # terminal's own screen does not change
        if kind == "error":
            self.beeped = True
            if not self.beep_note.startswith("Chip counts"):  # that one matters more
                self.beep_note = "Beep"
            self.bell()

    def _tick(self):
        self.driver.tick()
        self.refresh_status()

    # -- keys -----------------------------------------------------------------------------
    def check_action(self, action, parameters):
        # Keypad keys and emulator actions belong to the main screen, not to the card picker.
        if isinstance(self.screen, ModalScreen) and action != "quit":
            return False
        return True

    def action_pad(self, name):
        """A PC key for a terminal key: feed it at once (keeps the typed order) and flash its
        button."""
        key = BY_NAME[name]
        self.query_one("#" + key.widget_id, PadButton).flash_press()
        self.feed(("key", key.name))

    @on(Button.Pressed, ".pad")
    def _pad_pressed(self, event):
        self.feed(("key", event.button.key.name))

    def feed(self, event):
        self.beeped = False
        self.beep_note = ""
        before = self._lcd_rows()
        self.driver.feed(event)
        if self.beeped and event[0] == "key" and self._lcd_rows() == before:
            # refused: the terminal beeped and its screen stayed (with a new screen, such
            # as 金额不能为0, the note is only "Beep": the screen says why)
            self.beep_note = f"Beep: key {event[1]} refused"
        self.save_deck()
        self.refresh_status()

    def save_deck(self):
        # what the chip counted (ATC, PIN tries) outlives the run; a disk that refuses it
        # (full) is said on the status line, tried again at the next key, never a crash
        try:
            self.deck.save()
        except OSError as e:
            self.beep_note = f"Chip counts not saved: {e.strerror or e}"

    # -- emulator actions -------------------------------------------------------------------
    def action_card(self):
        note = "" if self.driver.embedded else "deck: the seed cards (host is external)"
        self.push_screen(CardPicker(reader_rows(self.driver.data_dir), self.present, note),
                         self._card_presented)

    def present(self, action, value):
        """The reader's choice -> the events to feed (pos.keys.KeyTokenError when the card
        cannot be presented that way)."""
        from pos import paycode
        from pos.keys import KeyTokenError
        from pos.ui import luhn_ok

        from posterm.host import deck

        if action == "typed":
            text = deck.card_token(value)  # a number typed in its printed groups: digits
            up = text.upper()
            if not text:
                raise KeyTokenError("", "type a PAN[=YYMM] or a payment code", "nothing typed")
            if up.startswith(("CARD=", "CHIP=", "TAP=", "SCAN=")):
                return self.deck.parse_token(text)
            if "=" in up or not up.isdigit():
                token = "CARD=" + text
            elif deck.code(text) or (paycode.scheme(text) and not luhn_ok(text)):
                token = "SCAN=" + text
            elif deck.card(text) is not None and deck.STRIPE not in deck.interfaces(
                    deck.card(text)):
                token = "TAP=" + text  # a phone: it only taps
            else:
                token = "CARD=" + text
            return self.deck.parse_token(token)
        prefix = {"swipe": "CARD=", "insert": "CHIP=", "tap": "TAP=", "scan": "SCAN="}[action]
        return self.deck.parse_token(prefix + value)

    def _card_presented(self, card):
        if card is None:
            return
        if card[0] == "keyed":
            # typed on the keypad as a cashier keys a card in: PAN, ENTER, expiry, ENTER
            for ch in card[1]:
                self.feed(("key", ch))
            self.feed(("key", "ENTER"))
            for ch in card[2]:
                self.feed(("key", ch))
            self.feed(("key", "ENTER"))
            return
        for ev in card:  # reader events: a swipe, an insert, a tap or a scan
            if ev[0] in ("card", "chip", "tap") and self.inserted is not None:
                self.action_remove()  # a card in the slot comes out before another is read
            if ev[0] == "chip":
                self.inserted = ev[1].get("pan", "?")
            self.feed(ev)
        self.refresh_status()

    def action_remove(self):
        """Pull the inserted card out of the contact reader (拔卡)."""
        if self.inserted is None:
            return
        self.inserted = None
        self.feed(("removed",))

    def action_paper(self):
        self.paper_out = not self.paper_out
        self.feed(("printer", "paper_out" if self.paper_out else "ok"))
        self.paper.set_class(self.paper_out, "-paper-out")
        width = "80mm" if self.driver.paper_cells >= 48 else "58mm"
        self.paper.border_title = f"Printer {width}" + (" PAPER OUT" if self.paper_out else "")

    def action_tear(self):
        self.paper.tear_off()

    def action_log(self):
        # off -> the pane (one line a message) -> the full-screen log (every field) -> off
        if self.log_mode == "off":
            self.log_mode = "pane"
            self.screen.add_class("-show-log")
        elif self.log_mode == "pane":
            self.log_mode = "full"
            self.screen.remove_class("-show-log")
            self.push_screen(LogScreen(self.log_entries), self._log_closed)

    def _log_closed(self, _result):
        self.log_mode = "off"

    def _log(self, summary, detail=()):
        self.log_entries.append((summary, list(detail)))
        self.log_pane.write(summary)
        if isinstance(self.screen, LogScreen):
            self.screen.add_new()

    # -- the host link ----------------------------------------------------------------------
    def _start_send(self, data, timeout):
        self._log_request(data)
        self.run_worker(
            partial(self._exchange, data, timeout),
            name="host-exchange",
            group="link",
            thread=True,
            exit_on_error=False,
        )
        self.refresh_status()

    def _exchange(self, data, timeout):
        # Runs in a worker thread. The socket work itself runs in a daemon thread so that
        # quitting mid-exchange is immediate (the core has already persisted any reversal).
        worker = get_current_worker()
        box = []
        done = threading.Event()

        def run():
            started = time.monotonic()
            try:
                event = self.driver.link.exchange(data, timeout)
            except Exception as e:  # noqa: BLE001 - any link failure is a link error
                event = ("link_error", f"{type(e).__name__}: {e}", False)
            box.append((event, (time.monotonic() - started) * 1000))
            done.set()

        threading.Thread(target=run, name="posterm-link", daemon=True).start()
        while not done.wait(0.05):
            if worker.is_cancelled:
                return
        event, ms = box[0]
        try:
            self.call_from_thread(self.driver.finish_send, data, event, ms)
            self.call_from_thread(self.refresh_status)
        except RuntimeError:
            pass  # the app is closing

    def _log_request(self, data):
        stamp = datetime.datetime.now().strftime("%H:%M:%S")
        self._log(f"{stamp} > {summarize(data)}",
                  [f"to {self._address()}, {len(data)} bytes"] + _decoded(data))

    def _on_exchanged(self, data, event, ms):
        stamp = datetime.datetime.now().strftime("%H:%M:%S")
        kind = event[0]
        if kind == "reply":
            self._log(f"{stamp} < {summarize(event[1], amount=False)} {ms:.0f}ms",
                      [f"{len(event[1])} bytes in {ms:.0f} ms"] + _decoded(event[1]))
        elif kind == "timeout":
            self._log(f"{stamp} ! timeout {ms / 1000:.0f}s",
                      [f"no answer (timeout) after {ms:.0f} ms"])
        else:
            self._log(f"{stamp} ! link error", [f"link error after {ms:.0f} ms: {event[1]}"])

    # -- plain-text capture ---------------------------------------------------------------------
    def screen_text(self):
        """The whole screen as plain text, row by row (as export_screenshot draws it; used by
        tests and for the README capture)."""
        width, height = self.size
        console = Console(
            width=width,
            height=height,
            file=io.StringIO(),
            force_terminal=True,
            color_system="truecolor",
            record=True,
            legacy_windows=False,
            safe_box=False,
        )
        console.print(
            self.screen._compositor.render_update(full=True, screen_stack=self._background_screens)
        )
        return console.export_text(styles=False)

    # -- status line ------------------------------------------------------------------------
    def _address(self):
        return self.labels.get("host") or "%s:%s" % tuple(self.driver.address)

    def refresh_status(self):
        d = self.driver
        t = d.terminal
        st = t.state
        signed = "yes" if t.signed_in_today() else "NO"
        link = d.link_state
        left = d.seconds_left()
        if left is not None:
            link = f"waiting {left}s"
        elif d.link_state in ("down", "timeout"):
            link = d.link_state.upper()
        paper = "OUT" if self.paper_out else "ok"
        data = self.labels.get("data") or d.data_dir
        self.status.update(
            f"Signed in today: {signed:<3}  Operator {st.operator}\n"
            f"Batch {st.batch:06d}  Trace {st.trace:06d}  Paper {paper}\n"
            f"Host {link} {self._address()}\n"
            # a beep's note takes the data dir's row until the next key: a row every layout
            # shows (the status line is four rows high at 80x24)
            + (self.beep_note or f"Data {data}")
            + (f"\nIn the reader {self.inserted} (e)" if self.inserted else "")
            + ("\nKeypad hidden (small window): PC keys" if self.layout_name == "nopad" else "")
        )
