# The MicroPython half of the core-test runner. tests/mp/worker.mjs copies this file into the
# wasm VM's filesystem and calls load() once per test module and run() once per test function,
# each in its own top-level runPython() call: the wasm port only collects garbage when a
# top-level call returns, so one call per test keeps the heap figures honest.
# Results go back to JavaScript as JSON strings. CPython never imports this module.
import gc
import io
import json
import sys

RUNNER = "micropython-wasm"


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


def load(modname):
    """Import a test module; return JSON {"tests": [...]} or {"error": traceback}."""
    try:
        import mptest

        mptest.RUNNER = RUNNER
    except ImportError:
        pass
    try:
        mod = __import__(modname)
    except BaseException as exc:  # noqa: BLE001 - a broken module must not kill the VM
        return json.dumps({"error": _traceback(exc)})
    impl = sys.implementation
    return json.dumps(
        {
            "tests": _test_names(mod),
            "implementation": impl.name,
            "version": ".".join(str(v) for v in impl.version[:3]),
            "machine": getattr(impl, "_machine", ""),
        }
    )


def run(modname, name):
    """Run one test function; return JSON {"outcome", "message", "mem_before"}."""
    mem_before = gc.mem_alloc()
    mod = sys.modules.get(modname)
    fn = getattr(mod, name, None) if mod is not None else None
    if fn is None:
        outcome = "error"
        message = f"no test function {name} in module {modname} on MicroPython"
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
    gc.collect()  # only flags a collection: it happens when this top-level call returns
    return json.dumps({"outcome": outcome, "message": message, "mem_before": mem_before})


def mem():
    """Heap in use, read at the start of a fresh top-level call (after the last GC)."""
    return gc.mem_alloc()
