# The terminal: a sans-IO state machine. Drivers feed events and perform the
# effects it returns; nothing here touches a socket, a file handle, a clock or
# a screen directly (storage goes through the port object the driver passes).
#
# Events in:
#   ("key", name)                   a key press (pos.keys names)
#   ("card", pan, expiry)           a card presented (expiry "YYMM" or "")
#   ("reply", frame_bytes)          the host's answer to the last "send"
#   ("timeout",)                    no answer within the send's timeout
#   ("link_error", reason, sent)    the link failed; sent: whether the request left
#   ("tick", (Y, M, D, h, m, s))    the wall clock, at least once a second when idle
#   ("printer", "ok" | "paper_out") printer status changes
# With defer_work on (a board's loop), a flow's ("work",) step (a slip built and printed once
# the screen before it shows) waits for the driver's work() call, made as soon as the
# effects so far are performed; any other event runs it first. Off: it runs at once.
# Effects out:
#   ("show", frame)                 draw this Frame
#   ("send", frame_bytes, timeout_s) send to the host, answer with reply/timeout/link_error
#   ("print", lines)                print a receipt: list of (style, text)
#   ("beep", kind)                  "ok" | "error" | "key"
#   ("clock", now)                  the host's time from the sign-in reply (boards set RTC)
#   ("log", level, text)            a line for the driver's log (never on the screen)
from pos import clock
from pos.screen import PROFILES, DEFAULT_PROFILE, Frame
from pos.state import State
from pos.journal import Journal
from pos.text import Strings
from pos.compat import json, IS_MICROPYTHON, const

RECEIPT_WIDTHS = {"58mm": 32, "80mm": 48}
# Heap kept aside from boot for one thing: journalling an approval the center gave when the
# heap is short even after a collection (pos.flows.online.journal gives it up for that, then
# the terminal takes it again at idle). Bytes; an approval's record, sealed and written, with
# its reversal disarmed needs ~1.5 KB on the x64 unix port beyond what a collection frees.
_RESERVE = const(2048)


class Terminal:
    def __init__(self, storage, resources, profile=DEFAULT_PROFILE, now=None, paper="58mm"):
        if profile not in PROFILES:
            raise ValueError("unknown display profile %r" % profile)
        self.storage = storage
        self.resources = resources
        self.profile = profile
        self.rows, self.cols = PROFILES[profile]
        self.paper_cells = RECEIPT_WIDTHS.get(paper, 32)
        self.now = now or (2026, 1, 1, 0, 0, 0)
        defaults = json.loads(resources.read("params.json") or b"{}")
        # card numbers at rest: sealed under the terminal's own key (pos.vault)
        self.state = State(storage, defaults, seal=True)
        self.journal = Journal(storage, seal=True)
        self.strings = Strings(resources, self.state.params.get("lang", "zh"))
        self.printer_ok = True
        self.link_address = ""  # what the driver connects to, for the settings screen
        # how the driver reaches the center, when 5.3's IP/port are not what it uses:
        # "embedded" (the emulator's own center: the IP is not used, it moves to the port),
        # "host_option" (--host: neither is used), "uart" (a board's serial bridge); "" = used
        self.link_kind = ""
        self.training = False
        self.frame = Frame(self.rows, self.cols)
        self._menu = None
        self._effects = []
        self._gen = None
        self._wait = None  # the request the flow is blocked on
        self._deadline = None
        # seconds the sign-in moved the clock by (the "clock" effect: a board sets its RTC
        # from 12/13), until the tick that shows it: the prompt's deadline moves with it
        self.clock_set = None
        self._sending = None  # (title, text, timeout) while a send is outstanding
        self.defer_work = False  # a flow's ("work",) steps wait for work() (a board's loop)
        self.last_talk = clock.to_seconds(self.now)  # when a request last went to the center
        self.oom_frame = None  # 内存不足, built at start: showing it reads and allocates nothing
        # the trace of a request whose answer came but could not be checked or journalled
        # short of heap (pos.center, pos.flows.online): its reversal's first try says 96
        # (reference §6.2: answered, not completed) instead of 98; kept in RAM only
        self.unfinished = None
        # the contact reader: a chip card inserted and not yet pulled out (a swipe is out of
        # the slot); kept from the reader's events, whether a flow waits for them or not
        self.card_in = False
        # a key while the terminal waits for the card to be pulled out (pos.flows.main.card_out)
        # is the card pulled out first, then that key on the next screen: scripts, lessons and
        # recordings that never say REMOVE. A front whose reader tells it (the emulator's
        # eject) sets it False: a key there only beeps.
        self.implicit_removal = True
        self._again = None  # that key, until the flow waits for input again
        # False only to replay a recording made before the terminal waited for the card
        # (its header has no card_removal): 请拔卡 then lasted until any key, 10 s at most
        self.removal_wait = True
        self.reserve = None  # the heap kept for an approval's journalling (take_reserve)
        # or, a driver's: what it can give back and make again (a board's display caches:
        # give_back() -> True when it freed something, take_again()); then no reserve of
        # its own is held (boards.runner sets it)
        self.spares = None

    # -- driver API ---------------------------------------------------------
    def start(self):
        from pos.flows.main import main_loop

        if not IS_MICROPYTHON:
            # desktop: every flow loaded up front, so no key waits for an import
            from pos import actions

            actions.preload()

        f = Frame(self.rows, self.cols)
        f.put(1, self.s("out_of_memory"), "center")
        f.put(2, self.s("out_of_memory_hint"), "center")
        self.oom_frame = f
        self.take_reserve()
        self._gen = main_loop(self)
        self._resume(None)
        return self._take()

    def out_of_memory(self, exc=None):
        # A flow ran out of heap: collect, show the ready-made 内存不足 frame (no strings file
        # read, no new frame), log it. The caller goes back to idle. On a board the traceback
        # goes to the console (printed as it is walked: no text is built in the heap).
        import gc

        gc.collect()
        if exc is not None and IS_MICROPYTHON:
            import sys

            sys.print_exception(exc)
        if self.oom_frame is not None:
            self.frame = self.oom_frame
            self._effects.append(("show", self.oom_frame))
        self._effects.append(("log", "error", "MemoryError"))

    def take_reserve(self):
        # (again) keep _RESERVE bytes aside for an approval's journalling -> True when kept.
        # Taken at start, low in the heap with the terminal's long-lived data; a board's
        # loop takes it again at idle once an approval used it (boards.runner). A driver
        # with spares (a board's display caches) is asked to make them again instead: the
        # heap they hold is the reserve, with no block held for nothing (a 2 KB block held
        # from boot raised the board sim's N by 3-4 KB)
        sp = self.spares
        if sp is not None:
            try:
                sp.take_again()
            except MemoryError:
                return False
            return True
        if self.reserve is None:
            try:
                self.reserve = bytearray(_RESERVE)
            except MemoryError:
                return False
        return True

    def give_reserve(self, why):
        # Give up the reserve (or the driver's spares), and collect, for an approval (why:
        # what it is for, logged) -> False when there was none to give (used already and
        # not taken again yet).
        freed = self.reserve is not None
        self.reserve = None
        sp = self.spares
        if sp is not None and sp.give_back():
            freed = True
        if not freed:
            return False
        import gc

        gc.collect()
        self._effects.append(("log", "warn", "heap short: the reserve given up (%s)" % why))
        return True

    def handle(self, event):
        w = self._wait
        if w is not None and w[0] == "work":
            self._resume(None)  # the pending work step first: the event waits its turn
        kind = event[0]
        if kind == "chip":
            self.card_in = True
        elif kind == "removed" or kind == "card":
            self.card_in = False
        if kind == "tick":
            new = tuple(event[1])
            d = self.clock_set
            if d is not None:
                # the first tick after a sign-in set the clock: when it jumped by what was
                # set (closer to it than to no jump: a front whose clock does not follow
                # the center's never jumps), an open prompt keeps the time it had left
                self.clock_set = None
                jump = clock.to_seconds(new) - clock.to_seconds(self.now)
                if self._deadline is not None and abs(jump - d) < abs(jump):
                    self._deadline += d
            self.now = new
            self._on_tick()
            w = self._wait
            if w is not None and w[0] == "input" and "tick" in w[1]:
                self._resume(event)
        elif kind == "printer":
            self.printer_ok = event[1] == "ok"
            w = self._wait
            if w is not None and w[0] == "input" and "printer" in w[1]:
                self._resume(event)
        elif self._wait is not None:
            w = self._wait
            if (kind == "key" and w[0] == "input" and w[1][0] == "removed" and self.card_in
                    and self.implicit_removal):
                self.card_in = False  # taken as the card pulled out, then the key
                self._again = event
                self._resume(("removed",))
            elif w[0] == "input" and kind in w[1]:
                self._resume(event)
            elif w[0] == "send" and kind in ("reply", "timeout", "link_error"):
                self._sending = None
                self._resume(event)
        if self._again is not None:
            self._redeliver()
        return self._take()

    def _redeliver(self):
        # the key of an implicit removal, at the flow's next wait for input (after any send)
        w = self._wait
        if w is None or w[0] != "input":
            return
        ev = self._again
        self._again = None
        if ev[0] in w[1]:
            self._resume(ev)

    def work(self):
        # the flow's pending ("work",) step (defer_work: after the driver drew the screen
        # before it) -> its effects
        w = self._wait
        if w is not None and w[0] == "work":
            self._resume(None)
        if self._again is not None:
            self._redeliver()
        return self._take()

    def waiting_for(self):
        # "input" (keys/card), "send" (a host reply), "work" (a step for work()) or None
        return self._wait[0] if self._wait is not None else None

    def lang(self):
        return self.strings.lang

    # -- used by flows --------------------------------------------------------
    def show(self, frame):
        self.frame = frame
        self._effects.append(("show", frame))

    def emit(self, ev):
        self._effects.append(ev)

    def s(self, key, *args):
        return self.strings.get(key, *args)

    def today(self):
        return clock.date8(self.now)

    def signed_in_today(self):
        return self.state.signin_date == self.today() and self.state.mak != ""

    def heartbeat_min(self):
        # the status upload's period in idle minutes (params "heartbeat_min"; 0 = off)
        try:
            return int(self.state.params.get("heartbeat_min", 0) or 0)
        except ValueError:
            return 0

    def heartbeat_due(self):
        # the idle terminal should report in now (pos.flows.heartbeat): signed in, and
        # heartbeat_min minutes since it last talked to the center
        n = self.heartbeat_min()
        if n <= 0 or not self.signed_in_today():
            return False
        return clock.to_seconds(self.now) - self.last_talk >= n * 60

    def menu(self):
        # the menu tree: a downloaded one (menu update) wins over the shipped one
        if self._menu is None:
            from pos import menu

            self._menu = menu.load(self.storage, self.resources)
        return self._menu

    def reload_menu(self):
        self._menu = None

    # -- engine -----------------------------------------------------------------
    def _take(self):
        out = self._effects
        self._effects = []
        return out

    def _resume(self, value):
        gen = self._gen
        self._wait = None
        self._deadline = None
        try:
            req = gen.send(value)
            while req[0] == "work" and not self.defer_work:
                req = gen.send(None)
        except StopIteration:
            self._gen = None
            return
        self._wait = req
        if req[0] == "send":
            self.last_talk = clock.to_seconds(self.now)
            self._effects.append(("send", req[1], req[2]))
            self._sending = (req[3], req[4], req[2], clock.to_seconds(self.now))
        elif req[0] == "input" and req[2]:
            self._deadline = clock.to_seconds(self.now) + req[2]

    def _on_tick(self):
        if self.state.extra.get("pw_fail"):  # a password lock counts down while it runs
            from pos import operators

            if operators.tick(self.state, clock.to_seconds(self.now)):
                self.state.save()
        if self._sending is not None:
            from pos import ui

            title, text, timeout, started = self._sending
            left = timeout - (clock.to_seconds(self.now) - started)
            if left >= 0:
                ui.show_progress(self, title, text, left)
        if self._deadline is not None and clock.to_seconds(self.now) >= self._deadline:
            self._resume(("timeout",))
