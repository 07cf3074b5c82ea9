# Helpers for core tests that run on CPython (pytest) and on MicroPython (tests/mp/run.mjs).
# MicroPython has no assertion rewriting: a bare `assert a == b` fails there with an empty
# AssertionError, so prefer eq()/ne()/true() when the values matter for the diagnosis.
# Only features both interpreters share are used here (see tests/core/README.md).

# Set by the MicroPython runners before any test module is imported: "micropython-wasm"
# (tests/mp/mpside.py, the WebAssembly build) or "micropython-unix" (tests/mp/unixside.py,
# the unix port); None under pytest on CPython.
RUNNER = None


def on_micropython():
    import sys

    return sys.implementation.name == "micropython"


def _show(value):
    text = repr(value)
    if len(text) > 300:
        text = text[:300] + f"...({len(text)} chars)"
    return text


def eq(got, expected, what=None):
    """Assert got == expected; the message shows both values (and `what` if given)."""
    if got != expected:
        head = (what + ": ") if what else ""
        raise AssertionError(f"{head}got {_show(got)}, expected {_show(expected)}")


def ne(got, unexpected, what=None):
    """Assert got != unexpected."""
    if got == unexpected:
        head = (what + ": ") if what else ""
        raise AssertionError(f"{head}got {_show(got)}, which it must not be")


def true(value, what=None):
    """Assert value is truthy; the message shows the value."""
    if not value:
        head = (what + ": ") if what else ""
        raise AssertionError(f"{head}expected a true value, got {_show(value)}")


def contains(container, item, what=None):
    """Assert item in container."""
    if item not in container:
        head = (what + ": ") if what else ""
        raise AssertionError(f"{head}{_show(item)} not found in {_show(container)}")


class raises:
    """Context manager: the block must raise exc_type (or a subclass).

        with raises(DecodeError) as caught:
            decode(b"")
        eq(caught.value.field, 2)

    Fails with AssertionError if nothing is raised; other exceptions pass through
    unchanged. `.value` is the exception instance after the block.
    """

    def __init__(self, exc_type, match=None):
        self.exc_type = exc_type
        self.match = match  # optional substring that str(exception) must contain
        self.value = None

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        name = getattr(self.exc_type, "__name__", str(self.exc_type))
        if kind is None:
            raise AssertionError(f"expected {name}, nothing was raised")
        if not issubclass(kind, self.exc_type):
            return False
        if value is None:  # MicroPython may pass the class when raised without arguments
            value = kind()
        self.value = value
        if self.match is not None and self.match not in str(value):
            raise AssertionError(
                f"{name} raised, but {_show(str(value))} does not contain {_show(self.match)}"
            )
        return True


def spy(obj, name, calls):
    """Replace obj.name by a wrapper that appends each call's args to `calls` and then calls
    it; -> the original, to put back (setattr(obj, name, original)) in a finally."""
    real = getattr(obj, name)

    def wrapper(*a):
        calls.append(a)
        return real(*a)

    setattr(obj, name, wrapper)
    return real
