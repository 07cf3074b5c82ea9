# Run by `python -m posterm.flash.minify --refresh` in the MicroPython unix port: prints every
# name its modules, their classes and the builtin objects have (dir()), for
# tools/posterm/flash/runtime_names.txt.
import sys

names = set()


def add(o, depth):
    try:
        ds = dir(o)
    except Exception:
        return
    for n in ds:
        names.add(n)
        if depth:
            try:
                v = getattr(o, n)
            except Exception:
                continue
            if isinstance(v, type):
                add(v, depth - 1)


mods = list(sys.modules) + [
    "array",
    "binascii",
    "builtins",
    "cmath",
    "collections",
    "deflate",
    "errno",
    "framebuf",
    "gc",
    "hashlib",
    "heapq",
    "io",
    "json",
    "machine",
    "math",
    "micropython",
    "os",
    "platform",
    "random",
    "re",
    "select",
    "socket",
    "ssl",
    "struct",
    "sys",
    "termios",
    "time",
    "uctypes",
    "vfs",
    "asyncio",
    "btree",
    "cryptolib",
    "ffi",
    "_thread",
    "tls",
    "marshal",
]
for m in mods:
    try:
        mod = __import__(m)
    except Exception:
        continue
    names.add(m)
    add(mod, 2)


def gen():
    yield 1


for o in (
    gen(),
    open("/dev/null"),
    "",
    b"",
    1,
    1.0,
    [],
    {},
    (),
    set(),
    bytearray(),
    memoryview(b""),
    OSError(1),
    StopIteration(1),
    lambda: 0,
    [].append,
    {}.keys(),
    iter([]),
):
    add(o, 1)
print(" ".join(sorted(names)))
