# The core tests' scripted center: tools/posterm/bench/scriptcenter.py (the one the bench's
# cashier's day uses too; tests/mp puts it on the MicroPython runners' path). The firmware
# modules it answers with are imported here, so that they are loaded as soon as a test
# imports this module, on every interpreter.
from pos import iso8583, mac, keyload, crc, des  # noqa: F401

try:
    from posterm.bench.scriptcenter import (  # noqa: F401
        Center,
        TMK,
        PIK,
        MAK,
        TDK,
        ICBC_GBK,
        PIK3,
        TDK3,
        MAK3,
    )
except ImportError:  # MicroPython
    from scriptcenter import Center, TMK, PIK, MAK, TDK, ICBC_GBK, PIK3, TDK3, MAK3  # noqa: F401
