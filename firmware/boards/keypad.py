# A key matrix scanned by polling: drive one row low at a time and read the
# columns (pulled up, so a pressed key reads 0). A key counts as pressed or
# released only after its raw state has been stable for `debounce_ms`; UP and
# DOWN repeat while held. scan(now_ms) returns the pos.keys names pressed.
from pos.compat import const

_DEBOUNCE_MS = const(20)
_LONG_MS = const(500)
_REPEAT_MS = const(150)


def _diff(a, b):
    # ticks_diff for the millisecond counter (wraps at 2**30 on the boards)
    d = (a - b) & 0x3FFFFFFF
    return d - 0x40000000 if d & 0x20000000 else d


class Keypad:
    def __init__(
        self,
        rows,
        cols,
        keymap,
        debounce_ms=_DEBOUNCE_MS,
        long_ms=_LONG_MS,
        repeat_ms=_REPEAT_MS,
        repeat=("UP", "DOWN"),
    ):
        # rows: output pins (Pin-like: value(v)); cols: input pins with pull-ups (value())
        self.rows = rows
        self.cols = cols
        self.keymap = keymap
        self.debounce_ms = debounce_ms
        self.long_ms = long_ms
        self.repeat_ms = repeat_ms
        self.repeat = repeat
        n = len(rows) * len(cols)
        self._raw = bytearray(n)  # last raw reading per key
        self._since = [0] * n  # when the raw reading last changed
        self._down = bytearray(n)  # debounced state
        self._next = [0] * n  # next repeat time of a held key
        for r in rows:
            r.value(1)

    def read_raw(self):
        # -> bytearray, 1 where a key is closed
        out = bytearray(len(self.rows) * len(self.cols))
        nc = len(self.cols)
        for i, r in enumerate(self.rows):
            r.value(0)
            for j, c in enumerate(self.cols):
                if not c.value():
                    out[i * nc + j] = 1
            r.value(1)
        return out

    def scan(self, now_ms):
        raw = self.read_raw()
        nc = len(self.cols)
        keys = []
        for k in range(len(raw)):
            if raw[k] != self._raw[k]:
                self._raw[k] = raw[k]
                self._since[k] = now_ms
                continue
            stable = _diff(now_ms, self._since[k]) >= self.debounce_ms
            name = self.keymap[k // nc][k % nc]
            if stable and raw[k] != self._down[k]:
                self._down[k] = raw[k]
                if raw[k]:
                    keys.append(name)
                    self._next[k] = now_ms + self.long_ms
            elif self._down[k] and name in self.repeat and _diff(now_ms, self._next[k]) >= 0:
                keys.append(name)
                self._next[k] = now_ms + self.repeat_ms
        return keys

    def held(self):
        # names of the keys down now (debounced), in matrix order
        nc = len(self.cols)
        return [self.keymap[k // nc][k % nc] for k in range(len(self._down)) if self._down[k]]
