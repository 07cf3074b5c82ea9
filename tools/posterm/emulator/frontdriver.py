"""The desktop driver as the emulator needs it: a "send" effect is handed to the front (which
runs the exchange in a worker thread) instead of blocking the caller, and the link state is
tracked for the status line."""

import time

from posterm.driver import Driver


class EmulatorDriver(Driver):
    """Driver whose host exchanges are asynchronous.

    `start_send(data, timeout)` is called for each "send" effect; the front runs
    ``self.link.exchange`` wherever it likes and calls :meth:`finish_send` with the resulting
    event on the thread that owns the terminal. Until then `pending` is ``(data, timeout,
    started)`` and the core waits; ticks and other events may be fed meanwhile."""

    def __init__(self, *args, start_send=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.start_send = start_send
        self.pending = None
        self.link_state = "idle"  # idle | connecting | up | timeout | down
        self.link_detail = ""

    def perform(self, effects):
        for eff in effects:
            if eff[0] == "send":
                self.pending = (eff[1], eff[2], time.monotonic())
                self.link_state = "connecting"
                self.link_detail = ""
                if self.start_send is None:
                    # No front attached (scripts): do it inline like the plain driver.
                    event = self.exchange(eff[1], eff[2])
                    self.pending = None
                    self._note(event)
                    self.perform(self.terminal.handle(event))
                else:
                    self.start_send(eff[1], eff[2])
            else:
                super().perform([eff])

    def seconds_left(self):
        """Seconds until the outstanding send times out, or None."""
        if self.pending is None:
            return None
        _data, timeout, started = self.pending
        return max(0, int(timeout - (time.monotonic() - started) + 0.999))

    def finish_send(self, data, event, ms):
        """The exchange for `data` ended with `event` after `ms` milliseconds."""
        self.pending = None
        self._note(event)
        for cb in self.send_listeners:
            cb(data, event, ms)
        self.feed(event)

    def _note(self, event):
        kind = event[0]
        if kind == "reply":
            self.link_state, self.link_detail = "up", ""
        elif kind == "timeout":
            self.link_state, self.link_detail = "timeout", "no answer"
        else:
            self.link_state, self.link_detail = "down", str(event[1])
