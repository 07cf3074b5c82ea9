# Shims that let the core run unchanged on MicroPython and CPython.
try:
    from micropython import const  # noqa: F401
except ImportError:  # CPython

    def const(x):
        return x


try:
    import ujson as json  # noqa: F401
except ImportError:
    import json  # noqa: F401

TYPE_CHECKING = False

IS_MICROPYTHON = False
try:
    import sys as _sys

    IS_MICROPYTHON = _sys.implementation.name == "micropython"
except AttributeError:
    pass


def ljust(text, width, fill=" "):
    # str.ljust is missing on MicroPython; counts code points, not cells.
    n = width - len(text)
    return text + fill * n if n > 0 else text


def rjust(text, width, fill=" "):
    n = width - len(text)
    return fill * n + text if n > 0 else text


def zpad(number, width):
    # Zero-padded decimal, as "%06d" but safe for any int on both interpreters.
    return rjust(str(number), width, "0")
