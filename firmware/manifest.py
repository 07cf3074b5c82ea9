# ruff: noqa: F821 - include/package are given by MicroPython's makemanifest.py
# Freeze posterm into a MicroPython firmware (the bytecode then runs from flash, as with
# `posterm flash --romfs`, on any MicroPython that can be rebuilt, with or without ROMFS):
#
#   cd micropython/ports/rp2 && make BOARD=RPI_PICO \
#        FROZEN_MANIFEST=/path/to/posterm/firmware/manifest.py
#   cd micropython/ports/esp32 && idf.py -D MICROPY_BOARD=ESP32_GENERIC \
#        -D MICROPY_FROZEN_MANIFEST=/path/to/posterm/firmware/manifest.py build
#
# Frozen modules are Python packages only: the data files (boards/data/font16.bin and
# gb2312.bin, menus/*.json) and main.py still go to the filesystem. A frozen `pos` or
# `boards` comes after the filesystem on sys.path ('', '.frozen', ...): flash the board
# without those directories (posterm flash, then remove /pos and /boards) or the files win.
include("$(PORT_DIR)/boards/manifest.py")  # the port's own frozen modules (asyncio, ...)
package("pos", opt=3)  # base_path: this file's directory (firmware/)
package("boards", opt=3)
