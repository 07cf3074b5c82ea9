"""Runs the MicroPython unix port (the pip package's extension module, micropython_run) with
a ROMFS image in memory OUTSIDE the VM's heap, as a board's ROM partition is flash:

    python unixrom.py IMAGE micropython-args...

The image is read into a buffer of this (CPython) process; the VM is started in the same
process with "romaddr=ADDRESS:LENGTH" appended to its arguments, and the script there maps it
with uctypes.bytearray_at (unixkeys.py). The VM's garbage collector then neither marks nor
sweeps the image's bytes: a collection costs what it costs on a board's heap, not that heap
plus a 200 KB image (in the heap, each collection scanned the image's words for pointers)."""

import ctypes
import sys


def main(argv):
    from micropython_run import run_main  # the unix port of the pip package (a test dep)

    with open(argv[1], "rb") as f:
        data = f.read()
    buf = ctypes.create_string_buffer(data, len(data))
    args = ["micropython"] + argv[2:] + ["romaddr=%d:%d" % (ctypes.addressof(buf), len(data))]
    rc = run_main(args)
    del buf  # (held until the VM has returned)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
