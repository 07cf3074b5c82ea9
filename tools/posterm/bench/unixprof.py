# Where a key's time goes, on the MicroPython unix port (the unix port has no profiler:
# no sys.settrace): `python -m posterm.bench.keylatency --profile [ROUNDS]` runs the same
# day as the latency figures (unixkeys.py) with every plain function of the firmware's
# modules wrapped by a timer that charges its time to the module's phase, exclusive of the
# phases it calls (a strings lookup inside a screen layout counts as strings, not layout).
# What no wrapped function takes is "flow": the flows' own generator code (input handling,
# the decisions between screens). Imports are timed by a hook on builtins.__import__ (an
# overlay's .mpy loaded and its module body run; an import of a module already loaded is the
# phase's that ran it). The wrappers cost ~1-2 us a call, so the
# phases add up to more than the plain run's time: compare phases with each other, and
# take the latency itself from the plain run.
import builtins
import sys
import time

_ticks = time.ticks_us
_diff = time.ticks_diff

# module -> phase (the first prefix that matches); a (module, function) in _FUNCS wins
_MODULES = (
    ("pos.menu", "menu"),
    ("pos.text", "strings"),
    ("pos.screen", "layout"),
    ("pos.ui", "layout"),
    ("boards.display", "draw"),
    ("boards.ssd1306", "draw"),
    ("pos.storage", "storage"),
    ("pos.statefix", "state"),
    ("pos.state", "state"),
    ("pos.journalfix", "journal"),
    ("pos.journal", "journal"),
    ("pos.vault", "seal"),
    ("pos.panseal", "seal"),
    ("pos.des", "crypto"),
    ("pos.mac", "crypto"),
    ("pos.pinblock", "crypto"),
    ("pos.keyload", "crypto"),
    ("pos.sm4", "crypto"),
    ("pos.iso8583", "codec"),
    ("pos.isobase", "codec"),
    ("pos.cupspec", "codec"),
    ("pos.field48", "codec"),
    ("pos.request", "codec"),
    ("pos.receipt", "receipt"),
    ("pos.clock", "clock"),
    ("pos.catalog", "catalog"),
    ("pos.overlay", "overlay"),
)
_FUNCS = {
    ("pos.menu", "draw"): "layout",
    ("pos.flows.main", "idle_frame"): "layout",
    ("pos.terminal", "menu"): "menu",
}

PHASES = {}  # phase -> us charged in the current event
_stack = []  # [phase, start] of the wrapped calls running


def _charge(phase, us):
    PHASES[phase] = PHASES.get(phase, 0) + us


def _wrap(fn, phase):
    def timed(*a, **k):
        now = _ticks()
        if _stack:
            top = _stack[-1]
            _charge(top[0], _diff(now, top[1]))
        ent = [phase, now]
        _stack.append(ent)
        try:
            return fn(*a, **k)
        finally:
            now = _ticks()
            _charge(phase, _diff(now, ent[1]))
            _stack.pop()
            if _stack:
                _stack[-1][1] = now

    return timed  # a closure: never wrapped again (only plain functions are)


_FUNC = type(_charge)


def _phase_of(name):
    for prefix, phase in _MODULES:
        if name == prefix or name.startswith(prefix + "_"):
            return phase
    return None


def _patch(name, mod):
    if getattr(mod, "_prof_done", False):
        return
    try:
        mod._prof_done = True
    except AttributeError:
        return
    phase = _phase_of(name)
    d = mod.__dict__
    for attr in list(d):
        v = d[attr]
        p = _FUNCS.get((name, attr), phase)
        if p is None:
            continue
        if type(v) is _FUNC:
            setattr(mod, attr, _wrap(v, p))
        elif type(v) is type and getattr(v, "__module__", name) == name:
            for m in list(v.__dict__):
                f = v.__dict__[m]
                pm = _FUNCS.get((name, m), p)
                if type(f) is _FUNC:
                    setattr(v, m, _wrap(f, pm))
    # a class whose single method is mapped elsewhere (Terminal.menu)
    for (mname, fname), p in _FUNCS.items():
        if mname == name and phase is None:
            for attr in list(d):
                v = d[attr]
                if type(v) is type and fname in v.__dict__:
                    f = v.__dict__[fname]
                    if type(f) is _FUNC:
                        setattr(v, fname, _wrap(f, p))


def _patch_all():
    for name in list(sys.modules):
        if name.startswith("pos") or name.startswith("boards"):
            _patch(name, sys.modules[name])


_real_import = builtins.__import__
_depth = [0]  # imports running (one inside another)


def _import(name, *args):
    # an import statement: charged to "import" when it loaded a module (sys.modules grew:
    # an overlay's .mpy read and its body run), else to the phase that ran it (a module
    # already loaded, or a built-in one: gc, sys, micropython are never in sys.modules)
    n = len(sys.modules)
    now = _ticks()
    if _stack:
        top = _stack[-1]
        _charge(top[0], _diff(now, top[1]))
    ent = ["import", now]
    _stack.append(ent)
    _depth[0] += 1
    try:
        return _real_import(name, *args)
    finally:
        _depth[0] -= 1
        grown = len(sys.modules) > n
        if grown and not _depth[0]:
            _patch_all()  # the modules whole (not while one is half run, inside another)
        now = _ticks()
        _stack.pop()
        if grown:
            _charge("import", _diff(now, ent[1]))
        elif _stack:
            _charge(_stack[-1][0], _diff(now, ent[1]))
        # (else: the flow's own code, what no phase takes)
        if _stack:
            _stack[-1][1] = now


def install():
    builtins.__import__ = _import
    _patch_all()


def take():
    # -> the phases of the event just timed (and forget them)
    out = dict(PHASES)
    PHASES.clear()
    return out
